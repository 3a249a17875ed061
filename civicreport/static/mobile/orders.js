// 我要点单: a resident's need filed from the phone (its place from the phone's location or a community
// picked from the list), and 我的点单 — the orders this phone filed, kept by their receipts in
// localStorage, with status, the service, the timeline and the rating form once served.

import { ApiError, el, formatDayTime, settings, statusBadge } from "../shared/page.js";
import { api, newId } from "./phone.js";

const KEPT = "civicreport.orders";
const RATING_WORDS = ["", "很不满意", "不满意", "一般", "满意", "很满意"];
const form = document.getElementById("order-form");
const picker = document.getElementById("order-community");
const located = document.getElementById("order-located");
const error = document.getElementById("order-error");
const list = document.getElementById("my-orders");
const listStatus = document.getElementById("orders-status");
let point = null; // the phone's WGS-84 position when it gave one

// The receipts of this phone's orders, newest first; memory only when storage is disabled.
let memory = [];
function kept() {
  try {
    return JSON.parse(localStorage.getItem(KEPT) || "[]");
  } catch {
    return memory;
  }
}

function keep(receipt) {
  const receipts = [receipt, ...kept().filter((r) => r.id !== receipt.id)];
  memory = receipts;
  try {
    localStorage.setItem(KEPT, JSON.stringify(receipts));
  } catch {
    // storage disabled: kept for this page view only
  }
}

function receiptOf(id) {
  return kept().find((r) => r.id === id);
}

function locate() {
  const fallBack = (text) => {
    located.textContent = text;
    located.dataset.state = "failed";
  };
  if (!navigator.geolocation) return fallBack("请选择所在社区");
  navigator.geolocation.getCurrentPosition(
    async ({ coords }) => {
      try {
        const found = await api(`/api/v1/grid/locate?lat=${coords.latitude}&lon=${coords.longitude}`);
        point = { lat: coords.latitude, lon: coords.longitude };
        located.value = "here";
        located.textContent = `手机定位：${found.street.name} ${found.community.name}`;
        located.dataset.state = "located";
        if (!picker.value) picker.value = "here";
      } catch (failure) {
        fallBack(failure instanceof ApiError ? `${failure.message}，请选择所在社区` : "请选择所在社区");
      }
    },
    () => fallBack("未能定位，请选择所在社区"),
    { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 },
  );
}

async function submit(event) {
  event.preventDefault();
  const description = form.elements.description.value.trim();
  if (!description) return void (error.textContent = "请描述您的需求");
  if (!picker.value) return void (error.textContent = "请选择所在社区");
  const contact = form.elements.contact.value.trim();
  const place = picker.value === "here" ? point : { community: picker.value };
  const button = document.getElementById("order-submit");
  button.disabled = true;
  form.dataset.key ??= newId(); // the same key on a retry: the server files the order once
  try {
    const order = await api("/api/v1/orders", {
      method: "POST",
      headers: { "Idempotency-Key": form.dataset.key },
      json: { description, ...place, ...(contact ? { contact } : {}) },
    });
    keep({ id: order.id, receipt_token: order.receipt_token, created_at: order.created_at });
    document.getElementById("order-receipt-id").textContent = order.id;
    document.getElementById("order-receipt-token").textContent = order.receipt_token;
    document.getElementById("order-receipt").hidden = false;
    error.textContent = "";
    form.reset();
    delete form.dataset.key;
    if (point) picker.value = "here";
    await refresh();
  } catch (failure) {
    error.textContent = failure instanceof ApiError ? failure.message : "网络不可用，请稍后重试（不会重复点单）";
  } finally {
    button.disabled = false;
  }
}

async function refresh() {
  const receipts = kept();
  document.getElementById("orders-empty").hidden = receipts.length > 0;
  const views = await Promise.all(receipts.map(async (receipt) => {
    try {
      return await api(`/api/v1/orders/${encodeURIComponent(receipt.id)}`, {
        headers: { "X-Receipt-Token": receipt.receipt_token },
      });
    } catch (failure) {
      return { id: receipt.id, failed: failure instanceof ApiError ? failure.message : "网络不可用，稍后再查" };
    }
  }));
  list.replaceChildren(...views.map(card));
  listStatus.textContent = "";
}

function card(view) {
  if (view.failed) {
    return el("li", { class: "card report", dataset: { id: view.id } },
      el("header", {}, el("span", { class: "case-id" }, view.id)), el("p", { class: "error" }, view.failed));
  }
  const server = view.team ? view.team.name : view.unit ? view.unit.name : "待派单";
  return el("li", { class: "card report", dataset: { id: view.id, status: view.status } },
    el("header", {}, el("span", { class: "case-id" }, view.id), statusBadge(view.status)),
    el("dl", {},
      el("dt", {}, "需求"), el("dd", {}, view.description),
      el("dt", {}, "社区"), el("dd", {}, view.community.name),
      el("dt", {}, "服务方"), el("dd", { class: "server" }, server),
      el("dt", {}, "点单时间"), el("dd", {}, formatDayTime(view.created_at)),
      view.service_hours != null ? [el("dt", {}, "服务时长"), el("dd", {}, `${view.service_hours} 小时`)] : null),
    view.photos.length ? el("div", { class: "thumbs" }, view.photos.map((p) =>
      el("a", { href: p.url, target: "_blank", rel: "noopener" }, el("img", { src: p.thumb_url, alt: "服务照片", loading: "lazy" })))) : null,
    view.rating ? el("p", { class: "rating" }, "★".repeat(view.rating) + "☆".repeat(5 - view.rating),
      el("span", { class: "muted" }, ` 您的评价：${RATING_WORDS[view.rating]}`)) : null,
    view.allowed_actions.includes("rate") ? ratingForm(view) : null,
    view.allowed_actions.includes("cancel") ? cancelButton(view) : null,
    el("details", {}, el("summary", {}, "办理过程"), el("ol", { class: "timeline" }, view.events.map((event) =>
      el("li", {}, `${formatDayTime(event.created_at)} ${settings.events[event.action] || event.action}`,
        event.note ? `：${event.note}` : "")))));
}

function ratingForm(view) {
  const stars = [1, 2, 3, 4, 5].map((value) => el("label", { title: RATING_WORDS[value] },
    el("input", { type: "radio", name: "rating", value, required: true, "aria-label": `${value} 星 ${RATING_WORDS[value]}` }),
    el("span", {}, "★")));
  const word = el("span", { class: "muted" }, "请打分");
  const problem = el("p", { class: "error", role: "alert" });
  const rate = el("form", { class: "rate", dataset: { id: view.id } },
    el("h3", {}, "服务已完成，请您评价"),
    el("fieldset", { class: "stars" }, el("legend", { hidden: true }, "满意度"), stars), word,
    el("label", { class: "field" }, "评价（选填）", el("textarea", { name: "comment", maxlength: "500" })),
    problem,
    el("button", { type: "submit", class: "primary" }, "提交评价"));
  rate.addEventListener("change", () => {
    const chosen = Number(new FormData(rate).get("rating") || 0);
    stars.forEach((label, index) => label.classList.toggle("on", index < chosen));
    word.textContent = RATING_WORDS[chosen] || "请打分";
  });
  rate.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(rate);
    const rating = Number(data.get("rating"));
    if (!rating) return void (problem.textContent = "请先选择 1–5 星");
    const comment = data.get("comment").trim();
    act(view.id, { action: "rate", rating, ...(comment ? { comment } : {}) }, problem);
  });
  return rate;
}

function cancelButton(view) {
  const problem = el("p", { class: "error", role: "alert" });
  const box = el("div", {});
  const open = el("button", { type: "button", class: "link", dataset: { action: "cancel" }, onclick: () => {
    const reason = el("form", { class: "cancel" },
      el("label", { class: "field" }, "取消原因", el("textarea", { name: "note", maxlength: "1000", required: true })),
      problem, el("button", { type: "submit" }, "确认取消点单"));
    reason.addEventListener("submit", (event) => {
      event.preventDefault();
      const note = reason.elements.note.value.trim();
      if (!note) return void (problem.textContent = "请说明取消的原因");
      act(view.id, { action: "cancel", note }, problem);
    });
    box.replaceChildren(reason);
  } }, "取消点单");
  box.append(open);
  return box;
}

async function act(id, json, problem) {
  try {
    await api(`/api/v1/orders/${encodeURIComponent(id)}/transitions`, {
      method: "POST", headers: { "X-Receipt-Token": receiptOf(id).receipt_token }, json,
    });
    await refresh();
  } catch (failure) {
    problem.textContent = failure instanceof ApiError ? failure.message : "网络不可用，请稍后再试";
  }
}

form.addEventListener("submit", submit);
locate();
listStatus.textContent = kept().length ? "正在查询进度…" : "";
refresh();
