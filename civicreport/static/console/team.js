// 志愿服务 (a volunteer, on a phone): the orders dispatched to his team; he takes one (接单) and,
// once served, completes it with the hours served and photos.
import { el } from "../shared/page.js";
import { showNotice, start } from "./staff.js";
import { completeForm, loadOrders, noteButton, orderItem, transition } from "./orders.js";

function actions(order, refresh) {
  if (order.status === "dispatched") {
    const error = el("p", { class: "error", role: "alert" });
    return el("div", {},
      el("div", { class: "buttons" },
        el("button", {
          type: "button", class: "primary", dataset: { action: "accept" },
          onclick: () => transition(order, { action: "accept" }, error, refresh),
        }, "接单")),
      error, noteButton(order, "reject", "拒单", refresh));
  }
  return order.status === "accepted" ? completeForm(order, refresh) : null;
}

async function refresh() {
  try {
    const orders = await loadOrders();
    const open = orders.filter((o) => o.status === "dispatched" || o.status === "accepted").length;
    document.getElementById("summary").textContent = `待办 ${open} 单，共 ${orders.length} 单`;
    const list = document.getElementById("orders");
    list.replaceChildren(...orders.map((order) => orderItem(order, actions, refresh)));
    if (!orders.length) list.append(el("li", { class: "muted" }, "本队暂无派单"));
    showNotice("");
  } catch (error) {
    showNotice(error.message);
  }
}

start((user) => {
  if (user.role !== "volunteer") showNotice("本页供志愿者使用。");
  refresh();
});
