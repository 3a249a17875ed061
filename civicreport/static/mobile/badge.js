// The unread badge on 我的上报, on every phone page: which cases kept on this phone took a step
// their reporter cares about (受理、派遣、处置、结案、不予受理) since 我的上报 was last opened.
// Polling is cheap: the answer carries an ETag, and while nothing moved the server answers 304
// with no body. Each receipt in IndexedDB remembers the last step seen (``seen_event``).

import { settings } from "../shared/page.js";
import * as store from "./store.js";

const MAX_IDS = 50;
const badge = document.getElementById("unread");
let etag = null;
let latest = [];

// The unread updates ({id, status, notice}) now, and the badge showing their number.
export async function check() {
  const receipts = await store.all(store.RECEIPTS);
  if (!receipts.length) return show([]);
  const ids = receipts.map((receipt) => receipt.id).slice(0, MAX_IDS).join(",");
  let response;
  try {
    response = await fetch(`/api/v1/receipts/updates?ids=${encodeURIComponent(ids)}`, {
      headers: etag ? { "If-None-Match": etag } : {}, cache: "no-store",
    });
  } catch {
    return []; // offline: the badge keeps what it showed
  }
  if (response.status === 200) {
    etag = response.headers.get("ETag");
    latest = (await response.json()).reports;
  } else if (response.status !== 304) {
    return [];
  }
  const seen = new Map(receipts.map((receipt) => [receipt.id, receipt.seen_event || 0]));
  return show(latest.filter((update) => update.notice && update.notice.event_id > seen.get(update.id)));
}

// 我的上报 was read: every step shown so far counts as seen.
export async function markSeen(updates) {
  const byId = new Map(updates.map((update) => [update.id, update.notice.event_id]));
  for (const receipt of await store.all(store.RECEIPTS)) {
    if (byId.has(receipt.id)) await store.put(store.RECEIPTS, { ...receipt, seen_event: byId.get(receipt.id) });
  }
  show([]);
}

function show(unread) {
  if (badge) {
    badge.textContent = unread.length ? String(unread.length) : "";
    badge.hidden = !unread.length;
    badge.setAttribute("aria-label", `${unread.length} 件上报有新进展`);
  }
  return unread;
}

// Ask now (except on 我的上报, which asks once its list is drawn), then every few minutes and
// whenever the page comes back into view; ``onUnread`` lets 我的上报 redraw instead.
let onUnread = null;

export function watch(callback) {
  onUnread = callback;
}

async function poll() {
  const unread = await check();
  if (unread.length && onUnread) onUnread(unread);
}

if (document.body.dataset.page !== "mine") check();
setInterval(poll, settings.notice_poll_seconds * 1000);
document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && poll());
