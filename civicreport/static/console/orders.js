// Needs orders (点单→派单→接单→完成→评单) as the community staff and the volunteers see them:
// one card per order with its state, and the forms of the steps the viewer may take.
import { el, formatTime, settings } from "../shared/page.js";
import { api, showNotice } from "./staff.js";
import { photoPicker, thumbs } from "./photos.js";

export async function loadOrders(params = "") {
  const body = await api(`/api/v1/orders${params ? `?${params}` : ""}`);
  return body.orders || body.items || [];
}

export function orderBadge(order) {
  return el("span", { class: `badge order order-${order.status}`, dataset: { status: order.status } },
    settings.orders[order.status] || order.status);
}

function teamName(order) {
  const team = order.team;
  if (team) return typeof team === "string" ? team : team.name;
  return order.team_name || (order.unit && (order.unit.name || order.unit)) || null;
}

// An order's card; ``actions(order, refresh)`` gives the forms or buttons below it.
export function orderItem(order, actions, refresh) {
  const served = [
    order.service_hours != null ? `服务时长 ${order.service_hours} 小时` : null,
    order.rating != null ? `群众评价 ${"★".repeat(order.rating)}` : null,
  ].filter(Boolean).join(" · ");
  return el("li", { class: "item order-item", dataset: { id: order.id, status: order.status } },
    el("header", {}, el("h3", {}, `点单 ${order.id}`), orderBadge(order)),
    el("p", {}, order.description),
    el("p", { class: "meta" }, `点单时间 ${formatTime(order.created_at)}`,
      order.deadline_at ? ` · 办理时限 ${formatTime(order.deadline_at)}` : "",
      teamName(order) ? ` · 承接：${teamName(order)}` : ""),
    order.contact ? el("p", { class: "meta" }, `联系方式：${order.contact}`) : null,
    served ? el("p", { class: "meta" }, served) : null,
    thumbs(order.photos),
    actions(order, refresh));
}

// POST a transition; on success redraw, else show the message under the form.
export async function transition(order, json, errorNode, refresh) {
  try {
    await api(`/api/v1/orders/${encodeURIComponent(order.id)}/transitions`, { method: "POST", json });
    await refresh();
  } catch (error) {
    if (errorNode) errorNode.textContent = error.message;
    else showNotice(error.message);
  }
}

// 完成: the hours served, a note and photos of the service.
export function completeForm(order, refresh) {
  const error = el("p", { class: "error", role: "alert" });
  const form = el("form", { class: "complete-form" },
    el("label", {}, "服务时长（小时）", el("input", { name: "hours", type: "number", min: "0.5", step: "0.5", required: true })),
    el("label", {}, "服务情况", el("textarea", { name: "note", maxlength: "1000" })));
  const submit = el("button", { type: "submit", class: "primary" }, "完成服务");
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

// 拒单/退回 and similar steps that ask only for a reason.
export function noteButton(order, action, label, refresh) {
  const error = el("p", { class: "error", role: "alert" });
  const box = el("div", {});
  const open = el("button", { type: "button", dataset: { action } , onclick: () => {
    const form = el("form", {},
      el("label", {}, "原因", el("textarea", { name: "note", required: true, maxlength: "1000" })),
      el("div", { class: "buttons" }, el("button", { type: "submit" }, `确认${label}`)), error);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      transition(order, { action, note: form.elements.note.value.trim() }, error, refresh);
    });
    box.replaceChildren(form);
  } }, label);
  box.append(open);
  return box;
}
