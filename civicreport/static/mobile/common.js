// Shared by the citizen pages: settings, this phone's device id, API calls, small DOM helpers.

import { ApiError, el } from "../shared/common.js";
export const settings = JSON.parse(document.getElementById("page-settings").textContent);

const DEVICE_KEY = "civicreport.device";
let memoryDeviceId = null;

// A v4 UUID. crypto.randomUUID exists only on https or localhost; getRandomValues works everywhere.
export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// A random id kept on this phone; the server limits submissions per device with it.
export function deviceId() {
  try {
    let id = localStorage.getItem(DEVICE_KEY);
    if (!id) {
      id = newId();
      localStorage.setItem(DEVICE_KEY, id);
    }
    return id;
  } catch {
    memoryDeviceId ??= newId(); // storage disabled: one id for this page view
    return memoryDeviceId;
  }
}

export { ApiError };

// Server trouble or rate limits pass; anything else (422, 409 …) needs the citizen to change something.
export function isTransient(status) {
  return status >= 500 || status === 408 || status === 429;
}

// JSON API call with the device id; throws ApiError on an error answer, TypeError when the network fails.
export async function api(path, { method = "GET", json, headers = {}, timeout = 20000 } = {}) {
  const init = { method, headers: { "X-Device-Id": deviceId(), ...headers } };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  }
  init.signal = AbortSignal.timeout ? AbortSignal.timeout(timeout) : undefined;
  const response = await fetch(path, init);
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  if (body === null) throw new TypeError("响应不完整"); // the connection dropped mid-answer
  return body;
}

export { el };

const timeFormat = new Intl.DateTimeFormat("zh-CN", {
  timeZone: settings.timezone, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
});

export function formatTime(iso) {
  return iso ? timeFormat.format(new Date(iso)).replaceAll("/", "-") : "—";
}

export function statusBadge(status, label) {
  return el("span", { class: `badge status-${status}`, dataset: { status } }, label || settings.statuses[status] || status);
}

export function showBanner(...content) {
  const banner = document.getElementById("banner");
  banner.replaceChildren(...content);
  banner.hidden = content.length === 0;
}

// Great-circle distance in metres: enough to tell the citizen how far apart two points are.
export function distanceM(lat1, lon1, lat2, lon2) {
  const rad = Math.PI / 180;
  const a = Math.sin((lat2 - lat1) * rad / 2) ** 2
    + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin((lon2 - lon1) * rad / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(a));
}
