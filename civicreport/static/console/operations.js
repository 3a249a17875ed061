// 联合整治: a month's joint operations on a calendar (in the city's time zone), each opening its
// units, target behaviours and result (counts by category, photos, cases opened); the office,
// community staff and street offices plan operations and record results or cancel them; the rhythm
// tables show per street (monthly) and per community (weekly) whether the operations were done.
import { el, formatTime, settings } from "../shared/page.js";
import { api, query, showNotice, start } from "./staff.js";
import { chosenMonth, cityInstant, monthTitle, rememberMonth } from "./month.js";
import { photoPicker, thumbs } from "./photos.js";

const OFFICE = ["supervisor", "admin"];
const unitKinds = new Map(settings.units.map(([code, , kind]) => [code, kind]));
const WEEKDAYS = ["一", "二", "三", "四", "五", "六", "日"];
const categories = new Map(settings.categories);
const areas = new Map(settings.areas);
const form = document.getElementById("month-form");
let me = null;

function badge(status) {
  return el("span", { class: `badge o-${status}`, dataset: { status } }, settings.operations[status] || status);
}

function areaName(op) {
  return areas.get(op.area_code) || op.area_code;
}

// ---- the calendar and the rhythm ---------------------------------------------------------

function drawCalendar(month, days) {
  const [year, number] = month.split("-").map(Number);
  const first = new Date(Date.UTC(year, number - 1, 1));
  const count = new Date(Date.UTC(year, number, 0)).getUTCDate();
  const lead = (first.getUTCDay() + 6) % 7; // Monday first
  const byDay = new Map(days.map((day) => [day.date, day.operations]));
  const cells = WEEKDAYS.map((name) => el("div", { class: "head" }, `周${name}`));
  for (let n = 0; n < lead; n += 1) cells.push(el("div", { class: "day other empty" }));
  for (let d = 1; d <= count; d += 1) {
    const key = `${month}-${String(d).padStart(2, "0")}`;
    const ops = byDay.get(key) || [];
    cells.push(el("div", { class: `day${ops.length ? "" : " empty"}`, dataset: { day: key } },
      el("span", { class: "date" }, `${d} 日`),
      ops.map((op) => el("button", {
        type: "button", class: "op", dataset: { id: op.id, status: op.status }, title: op.title,
        onclick: () => showOperation(op.id),
      }, `${areaName(op).split(" ").pop()} · ${op.title}`))));
  }
  document.getElementById("calendar").replaceChildren(...cells);
}

const MARKS = { done: "✓ 已开展", missed: "✗ 未开展", open: "进行中" };

function periodCell(period) {
  return el("td", { class: period.status, dataset: { status: period.status } },
    MARKS[period.status] || period.status, ` ${period.done}/${period.required}`);
}

function fillRhythm(id, head, rows) {
  const table = document.getElementById(id);
  table.replaceChildren(el("thead", {}, el("tr", {}, head.map((title) => el("th", {}, title)))),
    el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { class: "muted", colspan: head.length }, "暂无"))));
}

function drawRhythm(rhythm) {
  fillRhythm("rhythm-streets", ["街道", "本月"], rhythm.streets.map((s) =>
    el("tr", { dataset: { area: s.code } }, el("td", {}, s.name), periodCell(s))));
  const weeks = rhythm.communities.length ? rhythm.communities[0].weeks : [];
  const day = (iso) => iso.slice(5).replace("-", "/");
  fillRhythm("rhythm-communities", ["社区", ...weeks.map((w) => `${day(w.starts_on)} 周`)],
    rhythm.communities.map((c) => el("tr", { dataset: { area: c.code } }, el("td", {}, c.name), c.weeks.map(periodCell))));
}

async function load() {
  const month = form.elements.month.value;
  rememberMonth(month);
  try {
    const [calendar, rhythm] = await Promise.all([
      api(`/api/v1/operations/calendar?month=${month}`),
      api(`/api/v1/operations/rhythm?${query({ month, street: form.elements.street.value })}`),
    ]);
    const operations = calendar.days.flatMap((day) => day.operations);
    drawCalendar(month, calendar.days);
    drawRhythm(rhythm);
    const done = operations.filter((op) => op.status === "done").length;
    const missed = [...rhythm.streets, ...rhythm.communities.flatMap((c) => c.weeks)]
      .filter((p) => p.status === "missed").length;
    document.getElementById("summary").textContent =
      `${monthTitle(month)}：安排 ${operations.length} 次，已开展 ${done} 次；未按节奏开展 ${missed} 个周期`;
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
    el("p", {}, "参加单位：", op.units.map((u) => u.name).join("、")),
    el("p", {}, "整治对象：", op.categories.map((c) => categories.get(c) || c).join("、")),
    counts.length ? el("p", { class: "counts" }, "成效：", counts.map(([c, n]) => `${categories.get(c) || c} ${n}`).join("，")) : null,
    op.result_note ? el("p", {}, op.result_note) : null,
    op.cancel_reason ? el("p", { class: "returned-note" }, "取消原因：", op.cancel_reason) : null,
    thumbs(op.photos),
    op.cases.length ? el("p", {}, "转办案件：", op.cases.map((c) => c.id).join("、")) : null,
    op.status === "planned" && organises(me) ? [resultForm(op), cancelForm(op)] : null);
}

function resultForm(op) {
  const error = el("p", { class: "error", role: "alert" });
  const submit = el("button", { type: "submit", class: "primary" }, "记录成效");
  const picker = photoPicker(() => { submit.disabled = picker.busy(); });
  const counts = op.categories.map((c) => el("label", {}, `${categories.get(c) || c}（处理数）`,
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
    el("label", {}, "取消原因", el("input", { name: "reason", maxlength: "1000", required: true })),
    error, el("div", { class: "buttons" }, el("button", { type: "submit" }, "取消行动")));
  cancel.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api(`/api/v1/operations/${op.id}/cancel`, { method: "POST", json: { reason: cancel.elements.reason.value.trim() } });
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

// Who plans and records operations: the office, community staff (their community) and a street
// office's staff (its streets); the API keeps each to its areas.
function organises(user) {
  return OFFICE.includes(user.role) || user.role === "community_staff"
    || (user.role === "unit_staff" && unitKinds.get(user.unit) === "street_office");
}

function options(select, rows) {
  select.append(...rows.map(([code, name]) => el("option", { value: code }, name)));
}

options(planForm.elements.area, settings.areas);
options(form.elements.street, settings.areas.filter(([code]) => code.length === 9));
form.elements.street.addEventListener("change", load);
options(planForm.elements.units, settings.units);
options(planForm.elements.categories, settings.categories.map(([code, name]) => [code, `${code} ${name}`]));
planForm.addEventListener("submit", plan);
form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});

start((user) => {
  me = user;
  document.getElementById("plan").hidden = !organises(user);
  const own = (user.areas || []).find((code) => code.length === 12);
  if (user.role === "community_staff" && own) planForm.elements.area.value = own;
  form.elements.month.value = form.elements.month.value || chosenMonth();
  load();
});
