// 问题清单: a unit's open cases, overdue first, with deadlines and the 督办通知书 of escalated cases;
// for the unit's own staff, a line on the whistles (吹哨) waiting for its 报到 or its part.
import { el, formatTime, statusBadge } from "../shared/page.js";
import { api, deadlineBadges, openSigned, showNotice, start } from "./staff.js";
import { openCase } from "./case.js";

const form = document.getElementById("unit-form");
const body = document.querySelector("#worklist tbody");
let unitCode = null;

async function load() {
  try {
    const list = await api(`/api/v1/units/${encodeURIComponent(unitCode)}/worklist`);
    document.getElementById("title").textContent = `${list.unit.name} · 问题清单`;
    const { open, overdue } = list.counts;
    document.getElementById("summary").textContent =
      `未办结 ${open} 件，其中超期 ${overdue} 件（${formatTime(list.generated_at)} 生成）`;
    body.replaceChildren(...list.cases.map(caseRow));
    if (!list.cases.length) body.append(el("tr", {}, el("td", { colspan: 8, class: "muted" }, "暂无待办案件")));
    showNotice("");
  } catch (error) {
    body.replaceChildren();
    showNotice(error.message);
  }
}

// A unit's own staff also owe the whistles that summon it: how many wait for its 报到 or its part.
async function loadWhistles() {
  try {
    const { whistles } = await api(`/api/v1/whistles?status=open&unit=${encodeURIComponent(unitCode)}`);
    const parts = whistles.flatMap((w) => w.parts.filter((p) => p.unit.code === unitCode));
    const summoned = parts.filter((p) => p.status === "summoned").length;
    const working = parts.filter((p) => p.status === "checked_in").length;
    document.getElementById("whistle-count").textContent = `待报到 ${summoned} 件，办理中 ${working} 件`;
    document.getElementById("whistle-line").hidden = !(summoned || working);
  } catch {
    document.getElementById("whistle-line").hidden = true; // the worklist stays the page's point
  }
}

function caseRow(line) {
  const flag = line.overdue ? "overdue" : line.warning ? "warning" : null;
  return el("tr", { class: flag, dataset: { id: line.id, status: line.status } },
    el("td", {}, el("button", { type: "button", class: "link", onclick: () => openLine(line) }, line.id)),
    el("td", {}, statusBadge(line.status)),
    el("td", {}, line.category || "未分类"),
    el("td", { class: "desc" }, line.description || "（无）"),
    el("td", {}, line.place, el("div", { class: "muted" }, `网格 ${line.grid}`)),
    el("td", {}, formatTime(line.deadline_at), " ", ...deadlineBadges(line)),
    el("td", {}, line.escalation_count ? [`${line.escalation_count} 次 `, noticeLink(line.id)] : "—"),
    el("td", {}, line.rework_count ? `${line.rework_count} 次` : "—"));
}

function openLine(line) {
  openCase(line.id, { onReport: () => load() }); // the row shows status, deadline and 督办 counts: redraw all
}

function noticeLink(id) {
  const path = `/reports/${encodeURIComponent(id)}/notice`;
  return el("a", { href: path, class: "notice-link", onclick: (event) => openSigned(event, path, showNotice) },
    "督办通知书");
}

function choose(code) {
  unitCode = code;
  history.replaceState(null, "", code ? `?unit=${encodeURIComponent(code)}` : location.pathname);
  if (code) load();
}

form.addEventListener("submit", (event) => event.preventDefault());
form.elements.unit.addEventListener("change", () => choose(form.elements.unit.value));

start((user) => {
  unitCode = user.role === "unit_staff" ? user.unit : new URLSearchParams(location.search).get("unit");
  form.hidden = user.role === "unit_staff";
  form.elements.unit.value = unitCode || "";
  if (unitCode) load();
  if (user.role === "unit_staff") loadWhistles();
});
