// 我的上报: the reports this phone sent (ids and receipt tokens kept in IndexedDB), fetched in one
// request by their receipts, with status, unit, before/after photos, timeline and the rating form.
// A case added by its number and short code (查询码) instead of the token is fetched by the code.
// Cases that moved since the list was last read are marked, and the unread badge cleared (badge.js).

import { ApiError, el, formatDayTime, settings, statusBadge } from "../shared/page.js";
import * as badge from "./badge.js";
import { api } from "./phone.js";
import * as outbox from "./outbox.js";
import * as store from "./store.js";

const AFTER_KINDS = new Set(["after", "verification"]);
const RATING_WORDS = ["", "很不满意", "不满意", "一般", "满意", "很满意"];
const pendingList = document.getElementById("pending");
const list = document.getElementById("reports");
const listStatus = document.getElementById("list-status");
const empty = document.getElementById("empty");
let highlighted = false;

async function showPending() {
  const items = await outbox.pending();
  pendingList.replaceChildren(...items.map((item) => el("li", { class: "card report pending", dataset: { key: item.key } },
    el("header", {}, el("span", {}, item.summary.category || "待分类"), statusBadge("pending", "待发送")),
    item.summary.description ? el("p", {}, item.summary.description) : null,
    el("p", { class: "muted" }, `${formatDayTime(item.created_at)} 保存在本机，联网后自动提交，不会重复。`),
    el("button", { type: "button", onclick: () => outbox.flush() }, "立即重试"))));
  return items.length;
}

async function refresh() {
  const waiting = await showPending();
  const receipts = (await store.all(store.RECEIPTS)).sort((a, b) => b.created_at.localeCompare(a.created_at));
  empty.hidden = receipts.length > 0 || waiting > 0;
  if (!receipts.length) return list.replaceChildren();
  try {
    const views = await lookup(receipts);
    for (const receipt of receipts) {
      if (views.has(receipt.id)) store.put(store.RECEIPTS, { ...receipt, view: views.get(receipt.id) });
    }
    draw(receipts.map((r) => ({ ...(views.get(r.id) || { id: r.id, ...r.view, unknown: true }), receipt_code: r.receipt_code })));
    listStatus.textContent = "";
    await markMoved();
  } catch (error) {
    draw(receipts.map((r) => r.view));
    listStatus.textContent = error instanceof ApiError ? error.message : "网络不可用，显示的是上次查到的进度。";
  }
}

// The views by id: the token-kept cases in one request, the code-kept ones each by their code.
async function lookup(receipts) {
  const byToken = receipts.filter((r) => r.receipt_token).map(({ id, receipt_token }) => ({ id, receipt_token }));
  const answers = await Promise.all([
    byToken.length ? api("/api/v1/receipts/lookup", { method: "POST", json: { receipts: byToken } }) : { reports: [] },
    ...receipts.filter((r) => !r.receipt_token && r.receipt_code).map(({ id, receipt_code }) =>
      api("/api/v1/receipts/lookup", { method: "POST", json: { id, receipt_code } }).then(readOnly)),
  ]);
  return new Map(answers.flatMap((answer) => answer.reports).map((view) => [view.id, view]));
}

// Rating and adding photos need the app's long token: a case kept by its code is followed only.
function readOnly(answer) {
  return { reports: answer.reports.map((view) => ({ ...view, allowed_actions: [] })) };
}

async function markMoved() {
  const moved = await badge.check();
  for (const update of moved) {
    const item = document.getElementById(`case-${update.id}`);
    if (item && !item.classList.contains("moved")) {
      item.classList.add("moved");
      item.querySelector("header").append(el("span", { class: "moved-tag" }, "新进展"));
    }
  }
  await badge.markSeen(moved);
}

function draw(views) {
  list.replaceChildren(...views.filter(Boolean).map(card));
  const wanted = decodeURIComponent(window.location.hash.slice(1));
  const target = wanted && document.getElementById(`case-${wanted}`);
  if (target && !highlighted) {
    highlighted = true;
    target.classList.add("highlight");
    target.scrollIntoView({ block: "start" });
  }
}

function card(view) {
  const photos = view.photos || [];
  return el("li", { class: "card report", id: `case-${view.id}`, dataset: { id: view.id, status: view.status } },
    el("header", {}, el("span", { class: "case-id" }, view.id), statusBadge(view.status)),
    el("dl", {},
      el("dt", {}, "问题"), el("dd", {}, view.category ? view.category.name : "待工作人员分类"),
      view.description ? [el("dt", {}, "描述"), el("dd", {}, view.description)] : null,
      el("dt", {}, "位置"), el("dd", {}, view.grid ? `${view.grid.street.name} ${view.grid.community.name}` : "—"),
      el("dt", {}, "处置单位"), el("dd", { class: "unit" }, view.unit ? view.unit.name : "待派遣"),
      el("dt", {}, "上报时间"), el("dd", {}, formatDayTime(view.created_at)),
      view.receipt_code ? [el("dt", {}, "查询码"), el("dd", { class: "code" }, view.receipt_code.replace(/^(.{4})/, "$1 "))] : null,
      view.closed_at ? [el("dt", {}, "办结时间"), el("dd", {}, formatDayTime(view.closed_at))] : null),
    thumbs("处置前", photos.filter((p) => !AFTER_KINDS.has(p.kind)), "before"),
    thumbs("处置后", photos.filter((p) => AFTER_KINDS.has(p.kind)), "after"),
    view.rating ? el("p", { class: "rating" }, "★".repeat(view.rating) + "☆".repeat(5 - view.rating),
      el("span", { class: "muted" }, ` 您的评价：${RATING_WORDS[view.rating]}`)) : null,
    (view.allowed_actions || []).includes("rate") ? ratingForm(view) : null,
    view.notify && view.notify.active ? stopNotices(view) : null,
    view.events && view.events.length ? timeline(view.events) : null,
    view.unknown ? el("p", { class: "error" }, "回执无效，无法查询这条上报") : null);
}

const CHANNEL_WORDS = { email: "邮件", sms: "短信" };

function stopNotices(view) {
  const error = el("p", { class: "error", role: "alert" });
  const button = el("button", { type: "button", class: "stop-notices" }, `不再接收${CHANNEL_WORDS[view.notify.channel] || ""}进度通知`);
  button.addEventListener("click", async () => {
    const receipt = (await store.all(store.RECEIPTS)).find((r) => r.id === view.id);
    const proof = receipt.receipt_token ? { receipt_token: receipt.receipt_token } : { receipt_code: receipt.receipt_code };
    button.disabled = true;
    try {
      await api("/api/v1/receipts/notices", { method: "POST", json: { id: view.id, ...proof, notify: false } });
      await refresh();
    } catch (failure) {
      error.textContent = failure instanceof ApiError ? failure.message : "网络不可用，请稍后再试";
      button.disabled = false;
    }
  });
  return el("div", { class: "notices" }, button, error);
}

function thumbs(title, photos, kind) {
  if (!photos.length) return null;
  return el("section", { class: `photos-${kind}` }, el("h3", {}, title), el("div", { class: "thumbs" },
    photos.map((p) => p.pending ? el("span", { class: "thumb-pending" }, "人脸车牌遮挡中")
      : el("a", { href: p.display_url, target: "_blank", rel: "noopener" },
        el("img", { src: p.thumb_url, alt: title, loading: "lazy", width: p.thumb_size[0], height: p.thumb_size[1] })))));
}

function timeline(events) {
  return el("details", {}, el("summary", {}, "办理过程"),
    el("ol", { class: "timeline" }, events.map((event) => el("li", {},
      `${formatDayTime(event.created_at)} ${settings.events[event.action] || event.action}`,
      event.note ? `：${event.note}` : ""))));
}

function ratingForm(view) {
  const stars = [1, 2, 3, 4, 5].map((value) => el("label", { title: RATING_WORDS[value] },
    el("input", { type: "radio", name: "rating", value, required: true, "aria-label": `${value} 星 ${RATING_WORDS[value]}` }),
    el("span", {}, "★")));
  const word = el("span", { class: "muted" }, "请打分");
  const error = el("p", { class: "error", role: "alert" });
  const form = el("form", { class: "rate", dataset: { id: view.id } },
    el("h3", {}, "已办结，请您评价处置结果"),
    el("fieldset", { class: "stars" }, el("legend", { hidden: true }, "满意度"), stars), word,
    el("label", { class: "field" }, "评价（选填）", el("textarea", { name: "comment", maxlength: "500" })),
    error,
    el("button", { type: "submit", class: "primary" }, "提交评价"));
  form.addEventListener("change", () => {
    const chosen = Number(new FormData(form).get("rating") || 0);
    stars.forEach((label, index) => label.classList.toggle("on", index < chosen));
    word.textContent = RATING_WORDS[chosen] || "请打分";
  });
  form.addEventListener("submit", (event) => rate(event, view.id, error));
  return form;
}

async function rate(event, id, error) {
  event.preventDefault();
  const data = new FormData(event.target);
  const rating = Number(data.get("rating"));
  if (!rating) return void (error.textContent = "请先选择 1–5 星");
  const receipt = (await store.all(store.RECEIPTS)).find((r) => r.id === id);
  event.target.querySelector("button[type=submit]").disabled = true;
  try {
    await api(`/api/v1/reports/${encodeURIComponent(id)}/transitions`, {
      method: "POST", headers: { "X-Receipt-Token": receipt.receipt_token },
      json: { action: "rate", rating, comment: data.get("comment").trim() || undefined },
    });
    await refresh();
  } catch (failure) {
    error.textContent = failure instanceof ApiError ? failure.message : "网络不可用，请稍后再试";
    event.target.querySelector("button[type=submit]").disabled = false;
  }
}

async function addReceipt(event) {
  event.preventDefault();
  const form = event.target;
  const error = document.getElementById("receipt-error");
  const id = form.elements.case_id.value.trim();
  const proof = form.elements.receipt_token.value.trim();
  if (!id || !proof) return void (error.textContent = "请填写案件编号和回执码（或 8 位查询码）");
  // The 8-character code a person noted down (spaces and dashes allowed), or the app's long token.
  const code = proof.replace(/[\s\-_.·]/g, "").toUpperCase();
  const wanted = code.length === 8 ? { id, receipt_code: code } : { id, receipt_token: proof };
  try {
    const answer = await api("/api/v1/receipts/lookup", {
      method: "POST", json: wanted.receipt_code ? wanted : { receipts: [wanted] },
    });
    if (!answer.reports.length) return void (error.textContent = "案件编号或回执码不正确");
    const view = answer.reports[0];
    await store.put(store.RECEIPTS, { ...wanted, created_at: view.created_at, summary: {}, view });
    error.textContent = "";
    form.reset();
    document.getElementById("add-receipt").open = false;
    await refresh();
  } catch (failure) {
    error.textContent = failure instanceof ApiError ? failure.message : "网络不可用，请稍后再试";
  }
}

badge.watch(() => refresh());
outbox.subscribe(({ type }) => {
  if (type === "sent" || type === "failed") refresh();
});
document.getElementById("receipt-form").addEventListener("submit", addReceipt);
refresh();
outbox.flush();
