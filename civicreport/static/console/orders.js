// Needs orders (点单→派单→接单→完成→评单) as the community staff and the volunteers see them:
// one card per order with its state, and the forms of the steps the viewer may take.
import { el, formatTime, settings } from "../shared/page.js";
import { api, showNotice } from "./staff.js";
import { photoPicker, thumbs } from "./photos.js";

// The caller's orders, newest first, each with the steps open to the caller and the resident's
// contact where the caller may see it: one request for the whole list.
export async function loadOrders() {
  return (await api("/api/v1/orders")).orders;
}

export function orderBadge(order) {
  return el("span", { class: `badge order order-${order.status}`, dataset: { status: order.status } },
    settings.orders[order.status] || order.status);
}

function servedBy(order) {
  return (order.team || order.unit || {}).name;
}

// The steps staff and volunteers take here (评单 is the resident's, on the phone page).
const ACTIONS = {
  dispatch: dispatchForm,
  accept: (order, refresh) => button(order, "accept", "接单", refresh),
  complete: completeForm,
  decline: (order, refresh) => noteForm(order, "decline", "退单", refresh),
  reject: (order, refresh) => noteForm(order, "reject", "不予受理", refresh),
  cancel: (order, refresh) => noteForm(order, "cancel", "取消", refresh),
};

// An order's card with a form or button for each step the viewer may take now; ``teams`` are
// the names a 派单 picks from (none: the name is typed).
export function orderItem(order, refresh, teams = []) {
  const served = [
    order.service_hours != null ? `服务时长 ${order.service_hours} 小时` : null,
    order.rating != null ? `群众评价 ${"★".repeat(order.rating)}` : null,
  ].filter(Boolean).join(" · ");
  const steps = (order.allowed_actions || []).filter((action) => ACTIONS[action]);
  return el("li", { class: "item order-item", dataset: { id: order.id, status: order.status } },
    el("header", {}, el("h3", {}, `点单 ${order.id}`), orderBadge(order)),
    el("p", {}, order.description),
    el("p", { class: "meta" }, `点单时间 ${formatTime(order.created_at)}`,
      order.deadline_at ? ` · 办理时限 ${formatTime(order.deadline_at)}` : "",
      servedBy(order) ? ` · 承接：${servedBy(order)}` : "",
      order.overdue ? el("span", { class: "badge late" }, "超时") : null),
    order.contact ? el("p", { class: "meta" }, `联系方式：${order.contact}`) : null,
    served ? el("p", { class: "meta" }, served) : null,
    thumbs(order.photos),
    steps.length ? el("div", { class: "steps" }, steps.map((action) => ACTIONS[action](order, refresh, teams))) : null);
}

// POST a transition; on success redraw, else show the message under the form.
async function transition(order, json, errorNode, refresh) {
  try {
    await api(`/api/v1/orders/${encodeURIComponent(order.id)}/transitions`, { method: "POST", json });
    await refresh();
  } catch (error) {
    if (errorNode) errorNode.textContent = error.message;
    else showNotice(error.message);
  }
}

function button(order, action, label, refresh) {
  const error = el("p", { class: "error", role: "alert" });
  return el("div", { class: "buttons" },
    el("button", {
      type: "button", class: "primary", dataset: { action },
      onclick: () => transition(order, { action }, error, refresh),
    }, label), error);
}

// 派单: to one of the community's volunteer teams.
function dispatchForm(order, refresh, teams) {
  const error = el("p", { class: "error", role: "alert" });
  const team = teams.length
    ? el("select", { name: "team", required: true }, el("option", { value: "" }, "选择志愿服务队"),
      teams.map((name) => el("option", { value: name }, name)))
    : el("input", { name: "team", required: true, maxlength: "64", placeholder: "志愿服务队名称" });
  const form = el("form", { class: "dispatch-form", dataset: { action: "dispatch" } },
    el("label", {}, "派单给", team), error,
    el("div", { class: "buttons" }, el("button", { type: "submit", class: "primary" }, "派单")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    transition(order, { action: "dispatch", team: form.elements.team.value }, error, refresh);
  });
  return form;
}

// 服务完成: the hours served, a note and photos of the service.
function completeForm(order, refresh) {
  const error = el("p", { class: "error", role: "alert" });
  const form = el("form", { class: "complete-form", dataset: { action: "complete" } },
    el("label", {}, "服务时长（小时）", el("input", { name: "hours", type: "number", min: "0.5", step: "0.5", required: true })),
    el("label", {}, "服务情况", el("textarea", { name: "note", maxlength: "1000" })));
  const submit = el("button", { type: "submit", class: "primary" }, "服务完成");
  const picker = photoPicker(() => { submit.disabled = picker.busy(); });
  form.append(picker.node, error, el("div", { class: "buttons" }, submit));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const note = form.elements.note.value.trim();
    transition(order, {
      action: "complete", hours: Number(form.elements.hours.value), media_ids: picker.ids(), ...(note ? { note } : {}),
    }, error, refresh);
  });
  return form;
}

// 退单, 不予受理, 取消: a step that asks only for a reason, behind a button.
function noteForm(order, action, label, refresh) {
  const error = el("p", { class: "error", role: "alert" });
  const form = el("form", { dataset: { action } },
    el("label", {}, "原因", el("textarea", { name: "note", required: true, maxlength: "1000" })),
    error, el("div", { class: "buttons" }, el("button", { type: "submit" }, `确认${label}`)));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    transition(order, { action, note: form.elements.note.value.trim() }, error, refresh);
  });
  return el("details", {}, el("summary", {}, label), form);
}
