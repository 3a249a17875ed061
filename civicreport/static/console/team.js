// 志愿服务 (a volunteer, on a phone): the orders dispatched to his team; he takes one (接单) or
// hands it back (退单) and, once served, completes it with the hours served and photos.
import { el } from "../shared/page.js";
import { showNotice, start } from "./staff.js";
import { loadOrders, orderItem } from "./orders.js";

async function refresh() {
  try {
    const orders = await loadOrders();
    const open = orders.filter((o) => o.status === "dispatched" || o.status === "accepted").length;
    document.getElementById("summary").textContent = `待办 ${open} 单，共 ${orders.length} 单`;
    const list = document.getElementById("orders");
    list.replaceChildren(...orders.map((order) => orderItem(order, refresh)));
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
