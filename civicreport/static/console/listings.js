// 挂牌整改: the office lists a hard problem under a district leader and a lead unit; the lead unit
// posts progress with photos and asks to delist (申请摘牌); the office refuses, or delists with an
// after photo, and reopens it if the problem returns. Each problem opens in place with its linked
// cases, its timeline and the printable 挂牌督办 sheet; what the caller may do comes from the
// problem's allowed_actions.
import { el, formatTime, settings } from "../shared/page.js";
import { api, openSigned, query, showNotice, start } from "./staff.js";
import { photoPicker, thumbs } from "./photos.js";

const OFFICE = ["supervisor", "admin"];
const categories = new Map(settings.categories);
const filters = document.getElementById("filters");
// What each action asks for: a note, photos (required for 摘牌), a new target date.
const ACTIONS = {
  update: { label: "记录整改进展", note: "进展情况", photos: true },
  request_delisting: { label: "申请摘牌", note: "整改完成情况" },
  refuse_delisting: { label: "退回摘牌申请", note: "退回理由", noteRequired: true },
  delist: { label: "摘牌", note: "核验意见", photos: true, photosRequired: true },
  reopen: { label: "重新挂牌", note: "问题复发情况", noteRequired: true, targetOn: true },
};

function badge(status, label) {
  return el("span", { class: `badge l-${status}`, dataset: { status } }, label);
}

async function loadList() {
  const { listed_problems: rows } = await api(`/api/v1/listed-problems?${query({
    status: filters.elements.status.value, overdue: filters.elements.overdue.checked ? "true" : "",
  })}`);
  const list = document.getElementById("problems");
  list.replaceChildren(...rows.map(problemItem));
  if (!rows.length) list.append(el("li", { class: "muted" }, "暂无挂牌问题"));
  const overdue = rows.filter((row) => row.overdue).length;
  document.getElementById("summary").textContent = `共 ${rows.length} 项，逾期 ${overdue} 项`;
  const wanted = location.hash.slice(1);
  if (wanted) showDetail(rows.find((row) => String(row.id) === wanted));
}

function problemItem(row) {
  const open = el("button", { type: "button", class: "link", onclick: () => openProblem(row.id) }, row.title);
  return el("li", { class: "item listed-item", id: `l-${row.id}`, dataset: { id: row.id, status: row.status } },
    el("header", {}, el("h3", {}, open),
      el("span", {}, badge(row.status, row.status_label), " ", row.overdue ? el("span", { class: "badge late" }, "逾期") : null)),
    el("p", { class: "meta" }, [row.number, row.area_name, row.place, `牵头 ${row.leader_office} · ${row.lead_unit.name}`,
      `整改期限 ${row.target_on}`].filter(Boolean).join(" · ")),
    el("div", { class: "detail" }));
}

async function openProblem(id) {
  try {
    showDetail(await api(`/api/v1/listed-problems/${id}`));
    history.replaceState(null, "", `#${id}`);
  } catch (error) {
    showNotice(error.message);
  }
}

function showDetail(problem) {
  const item = problem && document.getElementById(`l-${problem.id}`);
  if (!item) return;
  document.querySelectorAll(".listed-item.selected").forEach((node) => node.classList.remove("selected"));
  item.classList.add("selected");
  item.dataset.status = problem.status;
  item.querySelector(".detail").replaceChildren(detail(problem));
}

function detail(problem) {
  const sheet = el("a", { href: `/console/listed-problems/${problem.id}/sheet`, target: "_blank", rel: "noopener" }, "打印挂牌督办单");
  sheet.addEventListener("click", (event) => openSigned(event, sheet.getAttribute("href"), showNotice));
  return el("div", { class: "listing-detail" },
    problem.description ? el("p", {}, problem.description) : null,
    el("p", { class: "meta" }, `牵头领导 ${problem.leader.display_name}（${problem.leader_office}）`,
      problem.co_units.length ? ` · 配合单位 ${problem.co_units.map((u) => u.name).join("、")}` : "",
      ` · 类别 ${problem.categories.map((c) => categories.get(c) || c).join("、")}`,
      problem.reopened ? ` · 重新挂牌 ${problem.reopened} 次` : ""),
    problem.measures ? el("p", {}, "整改措施：", problem.measures) : null,
    problem.cases.length ? el("p", { class: "cases" }, "关联案件：", problem.cases.map((c, n) => [n ? "、" : "",
      el("span", { dataset: { linkedBy: c.linked_by } }, c.id, `（${c.status_label}${c.linked_by === "suggested" ? "，附近同类" : ""}）`)])) : null,
    el("p", { class: "links" }, sheet),
    (problem.allowed_actions || []).filter((a) => ACTIONS[a]).map((action) => actionForm(problem, action)),
    el("h4", {}, "办理记录"),
    el("ol", { class: "timeline" }, problem.events.map(eventLine)));
}

function actionForm(problem, action) {
  const spec = ACTIONS[action];
  const error = el("p", { class: "error", role: "alert" });
  const submit = el("button", { type: "submit", class: "primary" }, spec.label);
  const picker = spec.photos ? photoPicker(() => { submit.disabled = picker.busy(); }) : null;
  const form = el("form", { class: "action-form", dataset: { action } },
    el("label", {}, spec.note, el("textarea", { name: "note", maxlength: "2000", required: Boolean(spec.noteRequired) })),
    spec.targetOn ? el("label", {}, "新的整改期限", el("input", { type: "date", name: "target_on" })) : null,
    picker ? picker.node : null, error, el("div", { class: "buttons" }, submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (spec.photosRequired && !picker.ids().length) {
      error.textContent = "摘牌须附整改后照片";
      return;
    }
    const json = { action, note: form.elements.note.value.trim() };
    if (picker) json.media_ids = picker.ids();
    if (spec.targetOn && form.elements.target_on.value) json.target_on = form.elements.target_on.value;
    try {
      showDetail(await api(`/api/v1/listed-problems/${problem.id}/transitions`, { method: "POST", json }));
      await loadList();
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
  return el("details", { class: "action" }, el("summary", {}, spec.label), form);
}

function eventLine(step) {
  return el("li", { dataset: { action: step.action } },
    el("time", {}, formatTime(step.created_at)), " ", step.action_label,
    step.to_status && step.to_status !== step.from_status ? ` → ${settings.listings[step.to_status]}` : "",
    step.note ? el("div", { class: "note" }, step.note) : null, thumbs(step.photos));
}

// ---- listing a problem (the office) ------------------------------------------------------

const createForm = document.getElementById("create-form");
const createPicker = photoPicker();

function options(select, rows) {
  select.append(...rows.map(([code, name]) => el("option", { value: code }, name)));
}

async function create(event) {
  event.preventDefault();
  const form = createForm.elements;
  const error = document.getElementById("create-error");
  const chosen = (select) => [...select.selectedOptions].map((option) => option.value);
  const json = {
    title: form.title.value.trim(), description: form.description.value.trim(), place: form.place.value.trim(),
    area: form.area.value, categories: chosen(form.categories), leader: form.leader.value.trim(),
    leader_office: form.leader_office.value.trim(), lead_unit: form.lead_unit.value,
    co_units: chosen(form.co_units).filter((code) => code !== form.lead_unit.value),
    measures: form.measures.value.trim(), target_on: form.target_on.value,
    reports: form.reports.value.split(/[,，\s]+/).filter(Boolean), media_ids: createPicker.ids(),
  };
  try {
    const problem = await api("/api/v1/listed-problems", { method: "POST", json });
    createForm.reset();
    createPicker.clear();
    error.textContent = "";
    location.hash = String(problem.id);
    await loadList();
  } catch (failure) {
    error.textContent = failure.message;
  }
}

async function refresh() {
  try {
    await loadList();
    showNotice("");
  } catch (error) {
    showNotice(error.message);
  }
}

options(filters.elements.status, Object.entries(settings.listings));
options(createForm.elements.area, settings.areas);
options(createForm.elements.categories, settings.categories.map(([code, name]) => [code, `${code} ${name}`]));
options(createForm.elements.lead_unit, settings.units);
options(createForm.elements.co_units, settings.units);
document.getElementById("create-photos").append(createPicker.node);
filters.addEventListener("change", refresh);
filters.addEventListener("submit", (event) => event.preventDefault());
createForm.addEventListener("submit", create);
window.addEventListener("hashchange", () => openProblem(location.hash.slice(1)));

start((user) => {
  document.getElementById("create").hidden = !OFFICE.includes(user.role);
  refresh();
});
