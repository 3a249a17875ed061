// The case drawer: details, before/after photos, the timeline, and the allowed actions as buttons.
import { el, formatTime, settings, statusBadge } from "../shared/page.js";
import { api, deadlineBadges, openPrivate, showNotice } from "./staff.js";

const drawer = document.getElementById("drawer");
const AFTER_KINDS = new Set(["after", "verification"]);
// Fields each action's form asks for beyond its required ones (the workflow table's `needs`).
// A rejection may carry a public reason: Open311 clients (FixMyStreet) show it, while 说明 stays inside.
const EXTRA_FIELDS = { accept: ["category"], dispatch: ["unit"], reject: ["note", "public_note"] };
const FIELD_LABELS = {
  note: "说明", public_note: "对外答复（公开显示）", category: "问题类别", unit: "处置单位",
  duplicate_of: "原案件编号",
  hours: "延期小时数", rating: "评分（1–5）", media_ids: "照片",
};

let current = null; // {report, onReport, unitHints}
let categories = null;

function closeCase() {
  drawer.hidden = true;
  current = null;
}

// Open report `id` in the drawer; onReport(report) runs when it is loaded and after every action.
export async function openCase(id, { onReport = () => {}, unitHints = () => [] } = {}) {
  const mine = { onReport, unitHints };
  current = mine;
  drawer.hidden = false;
  drawer.replaceChildren(el("p", { class: "muted" }, "加载中…"));
  try {
    const report = await api(`/api/v1/reports/${encodeURIComponent(id)}`);
    if (current === mine) render(report);
  } catch (error) {
    if (current === mine) drawer.replaceChildren(closeButton(), el("p", { class: "error" }, error.message));
  }
}

function closeButton() {
  const attrs = { type: "button", class: "close", title: "关闭", "aria-label": "关闭", onclick: closeCase };
  return el("button", attrs, "×");
}

function render(report) {
  current.report = report;
  drawer.dataset.id = report.id;
  drawer.dataset.status = report.status;
  const timeline = el("ol", { class: "timeline" }, el("li", { class: "muted" }, "加载中…"));
  drawer.replaceChildren(
    closeButton(),
    el("h2", {}, report.id, " ", statusBadge(report.status), ...deadlineBadges(report)),
    details(report),
    photoSection("处置前", report.photos.filter((p) => !AFTER_KINDS.has(p.kind))),
    photoSection("处置后", report.photos.filter((p) => AFTER_KINDS.has(p.kind))),
    actionBar(report),
    el("div", { class: "action-form", id: "action-form" }),
    el("h3", {}, "办理过程"),
    timeline,
  );
  loadTimeline(report.id, timeline);
  current.onReport(report);
}

function details(report) {
  const grid = report.grid;
  const rows = [
    ["问题类别", report.category ? `${report.category.name}（${report.category.code}）` : "未分类"],
    ["问题描述", report.description || "（无）"],
    ["发生地点", `${grid.street.name}${grid.community.name} · 网格 ${grid.code}`],
    ["责任单位", report.unit ? report.unit.name : "—"],
    ["处置时限", formatTime(report.deadline_at)],
    ["上报时间", formatTime(report.created_at)],
  ];
  const pending = report.extension_request_hours;
  if (pending) rows.push(["延期申请", `${pending} 小时，待审批`]);
  if (report.rework_count) rows.push(["返工次数", String(report.rework_count)]);
  if (report.escalation_count) rows.push(["督办次数", String(report.escalation_count)]);
  const notes = evidenceNotes(report);
  if (notes.length) rows.push(["核实提示", notes.join("；"), "flagged"]);
  if (report.whistles && report.whistles.length) rows.push(["吹哨报到", whistleLinks(report.whistles)]);
  return el("dl", { class: "details" }, rows.map(([term, value, mark]) => [
    el("dt", {}, term), el("dd", mark ? { class: mark } : {}, value),
  ]));
}

// The whistles blown on this case (staff view), each opening on the 吹哨报到 page.
function whistleLinks(whistles) {
  return whistles.map((w, n) => [n ? "；" : "",
    el("a", { href: `/console/whistles#${encodeURIComponent(w.id)}` }, w.title), `（${w.status_label}）`]);
}

// The figure behind a flag, where the report carries one.
const FLAG_FIGURES = {
  photo_far: (r) => r.photo_distance_m == null ? "" : `（约 ${Math.round(r.photo_distance_m)} 米）`,
  photo_old: (r) => r.photo_age_hours == null ? "" : `（${r.photo_age_hours} 小时）`,
};

// The evidence checks' flags and the photo reuse check, in the staff's words.
function evidenceNotes(report) {
  const notes = (report.evidence_flags || []).map((flag) =>
    (settings.evidence[flag] || flag) + (FLAG_FIGURES[flag] ? FLAG_FIGURES[flag](report) : ""));
  if (report.photo_reuse_flagged) notes.push(settings.evidence.photo_reuse);
  return notes;
}

// A photo the privacy pass has not rendered yet has no thumb: staff get its original.
function photoLink(title, p) {
  if (p.thumb_url) {
    return el("a", { href: p.display_url, target: "_blank", rel: "noopener" },
      el("img", { src: p.thumb_url, alt: `${title}照片`, loading: "lazy" }));
  }
  const text = p.unreadable ? "照片无法读取" : "照片处理中";
  return p.original_url
    ? el("a", { class: "processing", href: p.original_url, target: "_blank", rel: "noopener",
                onclick: (event) => openPrivate(event, p.original_url, showNotice) }, `${text}（看原图）`)
    : el("span", { class: "processing" }, text);
}

function photoSection(title, photos) {
  const body = photos.length
    ? photos.map((p) => photoLink(title, p))
    : [el("span", { class: "muted" }, "暂无照片")];
  return el("section", { class: "photos" }, el("h3", {}, title), el("div", { class: "thumbs" }, body));
}

function actionBar(report) {
  const actions = report.allowed_actions || [];
  if (!actions.length) return el("p", { class: "muted" }, "当前没有可执行的操作");
  return el("div", { class: "actions" }, actions.map((action) => el("button", {
    type: "button", dataset: { action }, onclick: () => showForm(action),
  }, settings.actions[action].label)));
}

async function loadTimeline(id, list) {
  try {
    const { events } = await api(`/api/v1/reports/${encodeURIComponent(id)}/events`);
    list.replaceChildren(...events.map(eventLine));
  } catch (error) {
    list.replaceChildren(el("li", { class: "error" }, error.message));
  }
}

function eventLine(event) {
  const label = (settings.actions[event.action] || {}).label || settings.events[event.action] || event.action;
  const moved = event.from_status && event.from_status !== event.to_status
    ? `：${settings.statuses[event.from_status]} → ${settings.statuses[event.to_status]}` : "";
  const who = event.actor_role ? `（${settings.roles[event.actor_role] || event.actor_role}）` : "";
  return el("li", {},
    el("time", {}, formatTime(event.created_at)), " ",
    el("strong", {}, label), who, moved,
    event.note ? el("div", { class: "note" }, event.note) : null,
    event.data && event.data.public_note
      ? el("div", { class: "note" }, `对外答复：${event.data.public_note}`) : null);
}

async function showForm(action) {
  const needs = settings.actions[action].needs;
  const names = [...new Set([...(EXTRA_FIELDS[action] || []), ...needs, "note"])];
  const fields = await Promise.all(names.map((name) => field(name, needs.includes(name))));
  const error = el("p", { class: "error", role: "alert" });
  const form = el("form", { dataset: { action }, onsubmit: (event) => submit(event, action, names, error) },
    el("h3", {}, settings.actions[action].label), fields, error,
    el("div", { class: "buttons" },
      el("button", { type: "submit", class: "primary" }, "确定"),
      el("button", { type: "button", onclick: () => form.remove() }, "取消")));
  document.getElementById("action-form").replaceChildren(form);
  form.querySelector("input, select, textarea").focus();
}

async function field(name, required) {
  const label = FIELD_LABELS[name] + (required ? "" : "（选填）");
  return el("label", {}, label, await input(name, required));
}

async function input(name, required) {
  if (name === "note") return el("textarea", { name, rows: 2, required, maxlength: 1000 });
  if (name === "public_note") return el("textarea", { name, rows: 2, required, maxlength: 500 });
  if (name === "category") return categorySelect(name);
  if (name === "unit") return unitSelect(name);
  if (name === "hours") return el("input", { name, type: "number", min: 1, max: 720, required });
  if (name === "rating") return el("input", { name, type: "number", min: 1, max: 5, required });
  if (name === "media_ids") return el("input", { name, type: "file", accept: "image/*", multiple: true, required });
  return el("input", { name, required });
}

async function categorySelect(name) {
  categories = categories || (await api("/api/v1/categories")).categories;
  const chosen = current.report.category && current.report.category.code;
  const option = (c) => el("option", { value: c.code, selected: c.code === chosen }, `${c.name}（${c.code}）`);
  const groups = Object.entries(settings.groups).map(([group, label]) => el("optgroup", { label },
    categories.filter((c) => c.group === group).map(option)));
  return el("select", { name, required: true }, el("option", { value: "" }, "请选择"), groups);
}

// Candidates: the routed unit, the units the grid would route each category group to, and the page's hints.
async function unitSelect(name) {
  const { location, unit } = current.report;
  const located = await api(`/api/v1/grid/locate?lat=${location.lat}&lon=${location.lon}`)
    .catch(() => ({ routes: {} }));
  const units = new Map();
  for (const candidate of [unit, ...Object.values(located.routes).map((r) => r.unit), ...current.unitHints()]) {
    if (candidate) units.set(candidate.code, candidate.name);
  }
  return el("select", { name, required: true }, [...units].map(([code, label]) => el("option", {
    value: code, selected: unit && unit.code === code,
  }, label)));
}

async function submit(event, action, names, error) {
  event.preventDefault();
  const mine = current;
  const form = event.target;
  form.querySelector("[type=submit]").disabled = true;
  try {
    const body = { action };
    for (const name of names) Object.assign(body, await value(form.elements[name]));
    const report = await api(`/api/v1/reports/${encodeURIComponent(mine.report.id)}/transitions`, {
      method: "POST", json: body,
    });
    if (current === mine) render(report);
  } catch (failure) {
    error.textContent = failure.message;
    form.querySelector("[type=submit]").disabled = false;
  }
}

// The request fields of one form control; photos are uploaded first and sent as media_ids.
async function value(control) {
  if (control.type === "file") return control.files.length ? { media_ids: await upload(control.files) } : {};
  if (control.value.trim() === "") return {};
  const number = control.type === "number";
  return { [control.name]: number ? Number.parseInt(control.value, 10) : control.value.trim() };
}

async function upload(files) {
  const ids = [];
  for (const file of files) {
    const form = new FormData();
    form.append("photo", file);
    ids.push((await api("/api/v1/media", { method: "POST", form })).id);
  }
  return ids;
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !drawer.hidden) closeCase();
});
