// 联合整治: a month's joint operations on a calendar (in the city's time zone), each opening its
// units, target behaviours and result (counts by category, photos, cases opened); the office plans
// operations and records results or cancels; the rhythm table shows per street (monthly) and per
// community (weekly) whether an operation was done in each period.
import { el, formatTime, settings } from "../shared/page.js";
import { api, showNotice, start } from "./staff.js";
import { chosenMonth, cityInstant, monthTitle, rememberMonth } from "./month.js";
import { photoPicker, thumbs } from "./photos.js";

const OFFICE = ["supervisor", "admin"];
const WEEKDAYS = ["一", "二", "三", "四", "五", "六", "日"];
const categories = new Map(settings.categories);
const areas = new Map(settings.areas);
const form = document.getElementById("month-form");
const dayOf = new Intl.DateTimeFormat("en-CA", { timeZone: settings.timezone, year: "numeric", month: "2-digit", day: "2-digit" });
let me = null;
let operations = [];

function badge(status) {
  return el("span", { class: `badge o-${status}`, dataset: { status } }, settings.operations[status] || status);
}

function areaName(op) {
  return op.area_name || areas.get(op.area_code) || op.area_code;
}

// ---- the calendar --------------------------------------------------------------------------

function drawCalendar(month) {
  const [year, number] = month.split("-").map(Number);
  const first = new Date(Date.UTC(year, number - 1, 1));
  const days = new Date(Date.UTC(year, number, 0)).getUTCDate();
  const lead = (first.getUTCDay() + 6) % 7; // Monday first
  const byDay = new Map();
  for (const op of operations) {
    const day = dayOf.format(new Date(op.starts_at));
    byDay.set(day, [...(byDay.get(day) || []), op]);
  }
  const cells = WEEKDAYS.map((name) => el("div", { class: "head" }, `周${name}`));
  for (let n = 0; n < lead; n += 1) cells.push(el("div", { class: "day other empty" }));
  for (let d = 1; d <= days; d += 1) {
    const key = `${month}-${String(d).padStart(2, "0")}`;
    const ops = byDay.get(key) || [];
    cells.push(el("div", { class: `day${ops.length ? "" : " empty"}`, dataset: { day: key } },
      el("span", { class: "date" }, `${d} 日`),
      ops.map((op) => el("button", {
        type: "button", class: "op", dataset: { id: op.id, status: op.status }, title: op.title,
        onclick: () => showOperation(op.id),
      }, op.title))));
  }
  document.getElementById("calendar").replaceChildren(...cells);
}

function drawRhythm(rhythm) {
  const table = document.getElementById("rhythm");
  if (!rhythm || !rhythm.length) {
    table.replaceChildren(el("tbody", {}, el("tr", {}, el("td", { class: "muted" }, "暂无节奏要求"))));
    return;
  }
  const periods = rhythm[0].periods || [];
  const marks = { done: "✓ 已开展", missed: "✗ 未开展", pending: "进行中" };
  table.replaceChildren(
    el("thead", {}, el("tr", {}, el("th", {}, "区域"), periods.map((p) => el("th", {}, p.label || p.period)))),
    el("tbody", {}, rhythm.map((row) => el("tr", { dataset: { area: row.area_code } },
      el("td", {}, row.area_name || areas.get(row.area_code) || row.area_code),
      (row.periods || []).map((p) => el("td", { class: p.status, dataset: { status: p.status } },
        marks[p.status] || p.status, p.count ? `（${p.count}）` : ""))))));
}

async function load() {
  const month = form.elements.month.value;
  rememberMonth(month);
  try {
    const body = await api(`/api/v1/operations/calendar?month=${month}`);
    operations = body.operations || [];
    drawCalendar(month);
    drawRhythm(body.rhythm);
    const done = operations.filter((op) => op.status === "done").length;
    document.getElementById("summary").textContent =
      `${monthTitle(month)}：安排 ${operations.length} 次，已开展 ${done} 次`;
    showNotice("");
  } catch (error) {
    showNotice(error.message);
  }
}

// ---- one operation -------------------------------------------------------------------------

async function showOperation(id) {
  try {
    const op = await api(`/api/v1/operations/${id}`);
    document.getElementById("operation").replaceChildren(operationCard(op));
  } catch (error) {
    showNotice(error.message);
  }
}

function operationCard(op) {
  const counts = Object.entries(op.result_counts || {});
  return el("article", { class: "item operation-card", dataset: { id: op.id, status: op.status } },
    el("header", {}, el("h3", {}, op.title), badge(op.status)),
    el("p", { class: "meta" }, `${areaName(op)}${op.place ? ` · ${op.place}` : ""} · ${formatTime(op.starts_at)} 至 ${formatTime(op.ends_at)}`),
    el("p", {}, "参加单位：", (op.units || []).map((u) => u.name || u).join("、")),
    el("p", {}, "整治对象：", (op.categories || []).map((c) => categories.get(c) || c).join("、")),
    counts.length ? el("p", { class: "counts" }, "成效：", counts.map(([c, n]) => `${categories.get(c) || c} ${n}`).join("，")) : null,
    op.result_note ? el("p", {}, op.result_note) : null,
    thumbs(op.photos),
    op.cases && op.cases.length ? el("p", {}, "转办案件：", op.cases.map((c) => c.id || c).join("、")) : null,
    op.status === "planned" && OFFICE.includes(me.role) ? [resultForm(op), cancelForm(op)] : null);
}

function resultForm(op) {
  const error = el("p", { class: "error", role: "alert" });
  const submit = el("button", { type: "submit", class: "primary" }, "记录成效");
  const picker = photoPicker(() => { submit.disabled = picker.busy(); });
  const counts = (op.categories || []).map((c) => el("label", {}, `${categories.get(c) || c}（处理数）`,
    el("input", { type: "number", min: "0", max: "100000", value: "0", name: `count-${c}`, dataset: { category: c } })));
  const resultForm = el("form", { class: "result-form" }, counts,
    el("label", {}, "情况说明", el("textarea", { name: "note", maxlength: "2000" })),
    el("label", {}, "转办案件编号（逗号分隔）", el("input", { name: "reports", maxlength: "600" })),
    picker.node, error, el("div", { class: "buttons" }, submit));
  resultForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = {};
    for (const input of resultForm.querySelectorAll("input[data-category]")) result[input.dataset.category] = Number(input.value);
    const json = {
      counts: result, note: resultForm.elements.note.value.trim(), media_ids: picker.ids(),
      reports: resultForm.elements.reports.value.split(/[,，\s]+/).filter(Boolean),
    };
    try {
      await api(`/api/v1/operations/${op.id}/result`, { method: "POST", json });
      await load();
      await showOperation(op.id);
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
  return el("details", { open: true }, el("summary", {}, "记录行动成效"), resultForm);
}

function cancelForm(op) {
  const error = el("p", { class: "error", role: "alert" });
  const cancel = el("form", { class: "cancel-form" },
    el("label", {}, "取消理由", el("input", { name: "note", maxlength: "1000", required: true })),
    error, el("div", { class: "buttons" }, el("button", { type: "submit" }, "取消行动")));
  cancel.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api(`/api/v1/operations/${op.id}/cancel`, { method: "POST", json: { note: cancel.elements.note.value.trim() } });
      await load();
      await showOperation(op.id);
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
  return el("details", {}, el("summary", {}, "取消行动"), cancel);
}

// ---- planning (the office) -----------------------------------------------------------------

const planForm = document.getElementById("plan-form");

async function plan(event) {
  event.preventDefault();
  const f = planForm.elements;
  const chosen = (select) => [...select.selectedOptions].map((option) => option.value);
  const json = {
    title: f.title.value.trim(), area: f.area.value, place: f.place.value.trim(),
    starts_at: cityInstant(f.starts_at.value), ends_at: cityInstant(f.ends_at.value),
    units: chosen(f.units), categories: chosen(f.categories),
  };
  const error = document.getElementById("plan-error");
  try {
    const op = await api("/api/v1/operations", { method: "POST", json });
    planForm.reset();
    error.textContent = "";
    await load();
    await showOperation(op.id);
  } catch (failure) {
    error.textContent = failure.message;
  }
}

function options(select, rows) {
  select.append(...rows.map(([code, name]) => el("option", { value: code }, name)));
}

options(planForm.elements.area, settings.areas);
options(planForm.elements.units, settings.units);
options(planForm.elements.categories, settings.categories.map(([code, name]) => [code, `${code} ${name}`]));
planForm.addEventListener("submit", plan);
form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});

start((user) => {
  me = user;
  document.getElementById("plan").hidden = !OFFICE.includes(user.role);
  form.elements.month.value = form.elements.month.value || chosenMonth();
  load();
});
