// What every phone page adds to shared/page.js: this phone's device id, API calls that carry it,
// and the banner.

import { ApiError } from "../shared/page.js";

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

export function showBanner(...content) {
  const banner = document.getElementById("banner");
  banner.replaceChildren(...content);
  banner.hidden = content.length === 0;
}
