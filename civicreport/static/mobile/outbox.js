// Final submissions: saved on the phone first, then sent with an Idempotency-Key made on the phone,
// and sent again with backoff until the server gives a final answer. A retry of a request the
// server already took gets the same report back (the key), so a flaky network neither loses a
// report nor makes two. Pending submissions are also sent when the phone comes back online, when
// the page becomes visible again, and on the next page load.

import { ApiError } from "../shared/page.js";
import { deviceId, isTransient, newId } from "./phone.js";
import * as store from "./store.js";

const BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 60000;
const REQUEST_TIMEOUT_MS = 30000;

const attempts = new Map(); // key → sends made by this page
const timers = new Map(); // key → timeout of the next retry
const sending = new Set();
const finished = new Set(); // keys answered for good; a flush that read the list earlier must not resend them
const listeners = new Set();

// listener({type: "sending" | "retry" | "sent" | "failed", item, attempt, delay, body, error})
export function subscribe(listener) {
  listeners.add(listener);
}

function emit(event) {
  for (const listener of listeners) listener(event);
}

// Save the submission, then send it; resolves with the saved item once it is safely stored.
export async function submit(payload, summary) {
  const item = { key: newId(), payload, summary, created_at: new Date().toISOString() };
  await store.put(store.PENDING, item);
  send(item);
  return item;
}

export async function pending() {
  return (await store.all(store.PENDING)).sort((a, b) => a.created_at.localeCompare(b.created_at));
}

// Send every pending submission now (page load, back online, "立即重试").
export async function flush() {
  for (const item of await pending()) {
    clearTimeout(timers.get(item.key));
    send(item);
  }
}

async function send(item) {
  if (sending.has(item.key) || finished.has(item.key)) return;
  sending.add(item.key);
  const attempt = (attempts.get(item.key) || 0) + 1;
  attempts.set(item.key, attempt);
  emit({ type: "sending", item, attempt });
  let response = null;
  let body = null;
  try {
    response = await fetch("/api/v1/reports", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": item.key, "X-Device-Id": deviceId() },
      body: JSON.stringify(item.payload),
      signal: AbortSignal.timeout ? AbortSignal.timeout(REQUEST_TIMEOUT_MS) : undefined,
    });
    body = await response.json();
  } catch (error) {
    // No answer, or the connection dropped mid-answer: the server may or may not have the report.
    return retry(item, attempt, null, error);
  } finally {
    sending.delete(item.key);
  }
  if (response.ok) return settle(item, body, attempt);
  if (isTransient(response.status)) return retry(item, attempt, response, new ApiError(response.status, body));
  finished.add(item.key);
  await store.remove(store.PENDING, item.key);
  emit({ type: "failed", item, attempt, error: new ApiError(response.status, body) });
}

async function settle(item, body, attempt) {
  const receipt = {
    id: body.id, receipt_token: body.receipt_token || null, receipt_code: body.receipt_code || null,
    created_at: body.created_at,
    summary: item.summary, view: body,
  };
  finished.add(item.key);
  await store.settle(item.key, receipt);
  emit({ type: "sent", item, attempt, body });
}

function retry(item, attempt, response, error) {
  const delay = retryAfterMs(response) ?? backoffMs(attempt);
  timers.set(item.key, setTimeout(() => send(item), delay));
  emit({ type: "retry", item, attempt, delay, error });
}

function retryAfterMs(response) {
  const seconds = response && Number(response.headers.get("Retry-After"));
  return seconds > 0 ? seconds * 1000 : null;
}

// 1 s, 2 s, 4 s … up to a minute, spread so that many phones coming back online do not retry in step.
function backoffMs(attempt) {
  return Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempt - 1)) * (0.75 + Math.random() / 2);
}

window.addEventListener("online", flush);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") flush();
});
