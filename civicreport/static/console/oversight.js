// 督办总览: on one page, in the areas a leader answers for, his listed problems (overdue first to the
// eye), the whistles whose 报到 came late and the points whose latest inspection failed. The office
// (supervisor/admin) sees the whole district, or one leader's page by his account name.
import { el, formatTime } from "../shared/page.js";
import { api, query, showNotice, start } from "./staff.js";

const form = document.getElementById("leader-form");

function badge(prefix, status, label) {
  return el("span", { class: `badge ${prefix}-${status}`, dataset: { status } }, label);
}

function listedItem(row) {
  return el("li", { class: "item listed-item", dataset: { id: row.id, status: row.status } },
    el("header", {},
      el("h3", {}, el("a", { href: `/console/listed-problems#${row.id}` }, row.title)),
      el("span", {}, badge("l", row.status, row.status_label), " ",
        row.overdue ? el("span", { class: "badge late" }, "逾期") : null,
        row.mine ? el("span", { class: "badge order" }, "本人牵头") : null)),
    el("p", { class: "meta" }, [row.place, row.lead_unit ? `牵头单位 ${row.lead_unit.name}` : null,
      `整改期限 ${row.target_on}`].filter(Boolean).join(" · ")));
}

function lateLine(part) {
  const when = part.checked_in_at ? `${formatTime(part.checked_in_at)} 报到` : "至今未报到";
  return el("li", {}, `${part.unit.name}：应于 ${formatTime(part.checkin_due_at)} 前报到，${when} `,
    part.escalated_at ? el("span", { class: "badge late" }, "已督办") : null);
}

function whistleItem(row) {
  return el("li", { class: "item whistle-item", dataset: { id: row.id, status: row.status } },
    el("header", {},
      el("h3", {}, el("a", { href: `/console/whistles#${row.public_id}` }, row.title)),
      badge("w", row.status, row.status_label)),
    el("p", { class: "meta" }, `${formatTime(row.created_at)} 吹哨 · 召集 ${row.units} 个单位`),
    el("ul", { class: "late-parts" }, row.late_parts.map(lateLine)));
}

function pointItem(row) {
  const rate = row.pass_rate == null ? "—" : `${Math.round(row.pass_rate * 100)}%`;
  return el("li", { class: "item point-item", dataset: { id: row.id } },
    el("header", {},
      el("h3", {}, el("a", { href: `/console/points#${row.id}` }, row.name)),
      el("span", {}, el("span", { class: "badge fail" }, "不合格"), " ",
        row.inspection_overdue ? el("span", { class: "badge late" }, "检查逾期") : null)),
    el("p", { class: "meta" }, [row.kind_label, row.unit ? `责任单位 ${row.unit.name}` : null,
      `上次检查 ${formatTime(row.last_inspected_at)}`, `近 30 天合格率 ${rate}`].filter(Boolean).join(" · ")),
    el("p", {}, "不合格项：", row.failed_items.map((item, n) => [n ? "、" : "", item.label,
      item.case ? ` (${item.case})` : ""])));
}

function fill(id, countId, rows, item, empty) {
  const list = document.getElementById(id);
  list.replaceChildren(...rows.map(item));
  if (!rows.length) list.append(el("li", { class: "muted" }, empty));
  document.getElementById(countId).textContent = rows.length ? `（${rows.length}）` : "";
}

async function load(leader) {
  try {
    const view = await api(`/api/v1/leader/overview?${query({ leader })}`);
    const who = view.leader ? `${view.leader.display_name || view.leader.name}` : "全区";
    const areas = view.areas.map((a) => a.name).join("、");
    document.getElementById("title").textContent = `督办总览 · ${who}`;
    const overdue = view.listed_problems.filter((row) => row.overdue).length;
    document.getElementById("summary").textContent = [
      view.leader ? `联系点：${areas || "未设置"}` : null,
      `挂牌 ${view.listed_problems.length} 项（逾期 ${overdue}）`,
      `报到迟到的吹哨 ${view.late_whistles.length} 件`,
      `不合格点位 ${view.failing_points.length} 个`,
      `截至 ${view.as_of}`,
    ].filter(Boolean).join("；");
    fill("listed", "listed-count", view.listed_problems, listedItem, "暂无挂牌问题");
    fill("late-whistles", "whistle-count", view.late_whistles, whistleItem, "暂无报到迟到的吹哨");
    fill("failing-points", "point-count", view.failing_points, pointItem, "暂无不合格点位");
    showNotice("");
  } catch (error) {
    showNotice(error.message);
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  load(form.elements.leader.value.trim());
});

// The 督查督办 link of the top bar lands here: a role without this page goes to its own one.
const LANDING = { monitor: "/console/points", unit_staff: "/console/whistles", community_staff: "/console/whistles" };

start((user) => {
  if (LANDING[user.role]) {
    location.replace(LANDING[user.role]);
    return;
  }
  form.hidden = user.role === "leader";
  load("");
});
