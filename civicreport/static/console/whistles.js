// 吹哨报到: community or street staff and the office raise a whistle summoning a lead unit and
// co-units; each unit's staff 报到 (naming who answers for it) and close their own part with after
// photos, on a phone; the raiser sends a part back or verifies, then rates every part (一体评议);
// the office 督办 a unit. What each caller may do comes from the whistle's allowed_actions.
import { el, formatTime, settings } from "../shared/page.js";
import { api, query, showNotice, start } from "./staff.js";
import { photoPicker, thumbs } from "./photos.js";

const LABELS = {
  raise: "吹哨", check_in: "报到", resolve_part: "完成任务", return_part: "退回任务",
  verify: "核验办结", rate: "一体评议", escalate: "督办",
};
const units = new Map(settings.units.map(([code, name]) => [code, name]));
const unitKinds = new Map(settings.units.map(([code, , kind]) => [code, kind]));
const filters = document.getElementById("filters");
let me = null;

function badge(prefix, status, label) {
  return el("span", { class: `badge ${prefix}-${status}`, dataset: { status } }, label);
}

// ---- the list ------------------------------------------------------------------------------

async function loadList() {
  const { whistles } = await api(`/api/v1/whistles?${query({
    status: filters.elements.status.value, late: filters.elements.late.checked ? "true" : "",
  })}`);
  const list = document.getElementById("whistles");
  list.replaceChildren(...whistles.map(whistleItem));
  if (!whistles.length) list.append(el("li", { class: "muted" }, "暂无吹哨事项"));
  const late = whistles.filter((w) => w.late).length;
  document.getElementById("summary").textContent = `共 ${whistles.length} 件，其中有单位报到超时 ${late} 件`;
  const wanted = decodeURIComponent(location.hash.slice(1));
  if (wanted && whistles.some((w) => w.id === wanted)) await openWhistle(wanted);
}

function partBrief(part) {
  return el("span", { class: "part-brief" }, part.lead ? "牵头·" : "", part.unit.name, " ",
    badge("p", part.status, part.status_label), part.late ? el("span", { class: "badge late" }, "超时") : null);
}

function whistleItem(w) {
  const open = el("button", { type: "button", class: "link", onclick: () => openWhistle(w.id) }, w.title);
  return el("li", { class: "item whistle-item", id: `w-${w.id}`, dataset: { id: w.id, status: w.status } },
    el("header", {}, el("h3", {}, open),
      el("span", {}, badge("w", w.status, w.status_label), " ",
        w.late ? el("span", { class: "badge late" }, "报到超时") : null)),
    el("p", { class: "meta" }, `${w.id} · ${formatTime(w.created_at)} · ${w.raised_by.name}吹哨`,
      w.report ? ` · 关联案件 ${w.report}` : ""),
    el("p", { class: "parts-line" }, w.parts.map((p, n) => [n ? "；" : "", partBrief(p)])),
    el("div", { class: "detail" }));
}

// ---- one whistle ---------------------------------------------------------------------------

async function openWhistle(id) {
  const item = document.getElementById(`w-${id}`);
  if (!item) return;
  try {
    const whistle = await api(`/api/v1/whistles/${encodeURIComponent(id)}`);
    document.querySelectorAll(".whistle-item.selected").forEach((node) => node.classList.remove("selected"));
    item.classList.add("selected");
    item.dataset.status = whistle.status;
    item.querySelector(".detail").replaceChildren(detail(whistle));
    history.replaceState(null, "", `#${id}`);
  } catch (error) {
    showNotice(error.message);
  }
}

async function act(whistle, json, error) {
  try {
    await api(`/api/v1/whistles/${encodeURIComponent(whistle.id)}/transitions`, { method: "POST", json });
    await loadList();
    await openWhistle(whistle.id);
  } catch (failure) {
    error.textContent = failure.message;
  }
}

function detail(whistle) {
  const allowed = new Set(whistle.allowed_actions || []);
  const error = el("p", { class: "error", role: "alert" });
  return el("div", { class: "whistle-detail" },
    whistle.description ? el("p", {}, whistle.description) : null,
    el("ul", { class: "parts" }, whistle.parts.map((part) => partItem(whistle, part, allowed))),
    allowed.has("verify") ? el("div", { class: "buttons" }, el("button", {
      type: "button", class: "primary", dataset: { action: "verify" },
      onclick: () => act(whistle, { action: "verify" }, error),
    }, "核验办结")) : null,
    error,
    el("h4", {}, "时间线"),
    el("ol", { class: "timeline" }, whistle.events.map(eventLine)));
}

function partItem(whistle, part, allowed) {
  const mine = me.role === "unit_staff" && me.unit === part.unit.code;
  const error = el("p", { class: "error", role: "alert" });
  const forms = [];
  if (mine && allowed.has("check_in") && part.status === "summoned") forms.push(checkInForm(whistle, error));
  if (mine && allowed.has("resolve_part") && part.status === "checked_in") forms.push(resolveForm(whistle, error));
  if (allowed.has("return_part") && part.status === "resolved") forms.push(returnForm(whistle, part, error));
  if (allowed.has("rate") && part.status === "resolved" && part.rating == null) forms.push(rateForm(whistle, part, error));
  if (allowed.has("escalate") && part.status !== "resolved") {
    forms.push(el("button", { type: "button", dataset: { action: "escalate" },
      onclick: () => act(whistle, { action: "escalate", unit: part.unit.code }, error) }, "督办"));
  }
  return el("li", { class: "part", dataset: { unit: part.unit.code, status: part.status } },
    el("header", {}, el("strong", {}, part.lead ? "牵头 · " : "配合 · ", part.unit.name),
      el("span", {}, badge("p", part.status, part.status_label), " ",
        part.late ? el("span", { class: "badge late" }, "报到超时") : null,
        part.escalated_at ? el("span", { class: "badge warning" }, "已督办") : null)),
    part.task ? el("p", {}, "任务：", part.task) : null,
    el("p", { class: "meta" }, `报到时限 ${formatTime(part.checkin_due_at)}`,
      part.checked_in_at ? ` · ${formatTime(part.checked_in_at)} 报到，责任人 ${part.person}` : " · 尚未报到",
      part.resolved_at ? ` · ${formatTime(part.resolved_at)} 完成` : "",
      part.returns ? ` · 退回 ${part.returns} 次` : ""),
    part.rating != null ? el("p", { class: "rating" }, `评议 ${"★".repeat(part.rating)}${"☆".repeat(5 - part.rating)}`,
      part.rating_note ? ` ${part.rating_note}` : "") : null,
    forms, error);
}

function checkInForm(whistle, error) {
  const form = el("form", { class: "checkin-form" },
    el("label", {}, "本单位责任人", el("input", { name: "person", required: true, maxlength: "64", placeholder: "姓名及职务" })),
    el("div", { class: "buttons" }, el("button", { type: "submit", class: "primary" }, "报到")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(whistle, { action: "check_in", person: form.elements.person.value.trim() }, error);
  });
  return form;
}

function resolveForm(whistle, error) {
  const submit = el("button", { type: "submit", class: "primary" }, "完成任务");
  const picker = photoPicker(() => { submit.disabled = picker.busy(); });
  const form = el("form", { class: "resolve-form" },
    el("label", {}, "完成情况", el("textarea", { name: "note", maxlength: "1000" })),
    picker.node, el("div", { class: "buttons" }, submit));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!picker.ids().length) {
      error.textContent = "请上传整改后照片";
      return;
    }
    act(whistle, { action: "resolve_part", note: form.elements.note.value.trim(), media_ids: picker.ids() }, error);
  });
  return el("details", { open: true }, el("summary", {}, "完成本单位任务"), form);
}

function returnForm(whistle, part, error) {
  const form = el("form", { class: "return-form" },
    el("label", {}, "退回理由", el("input", { name: "note", required: true, maxlength: "1000" })),
    el("div", { class: "buttons" }, el("button", { type: "submit" }, "退回任务")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(whistle, { action: "return_part", unit: part.unit.code, note: form.elements.note.value.trim() }, error);
  });
  return el("details", {}, el("summary", {}, "退回重办"), form);
}

function rateForm(whistle, part, error) {
  const stars = [5, 4, 3, 2, 1].map((n) => el("label", {},
    el("input", { type: "radio", name: "rating", value: String(n), required: true, checked: n === 5 }), `${n} 分`));
  const form = el("form", { class: "rate-form" },
    el("div", { class: "stars" }, stars),
    el("label", {}, "评议意见", el("input", { name: "note", maxlength: "1000" })),
    el("div", { class: "buttons" }, el("button", { type: "submit", class: "primary" }, "评议")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(whistle, {
      action: "rate", unit: part.unit.code, rating: Number(form.elements.rating.value),
      note: form.elements.note.value.trim(),
    }, error);
  });
  return form;
}

function eventLine(step) {
  const unit = step.unit ? ` · ${units.get(step.unit) || step.unit}` : "";
  const who = step.actor_role === "system" ? "（系统自动）" : "";
  const data = step.data || {};
  return el("li", {},
    el("time", {}, formatTime(step.created_at)), " ", LABELS[step.action] || step.action, unit, who,
    data.person ? ` · 责任人 ${data.person}` : "", data.late ? " · 超时" : "",
    data.rating ? ` · ${data.rating} 分` : "",
    step.note ? el("div", { class: "note" }, step.note) : null, thumbs(step.photos));
}

// ---- raising a whistle ---------------------------------------------------------------------

const raiseForm = document.getElementById("raise-form");
const picker = photoPicker();
let place = null;

function fillUnits() {
  const lead = raiseForm.elements.lead_unit;
  lead.replaceChildren(el("option", { value: "" }, "请选择"),
    ...settings.units.map(([code, name]) => el("option", { value: code }, name)));
  document.getElementById("co-units").replaceChildren(...settings.units.map(([code, name]) => {
    const task = el("input", { name: `task-${code}`, maxlength: "1000", placeholder: `${name}的任务`, hidden: true });
    const box = el("input", { type: "checkbox", name: "units", value: code });
    box.addEventListener("change", () => { task.hidden = !box.checked; });
    return el("div", { class: "co-unit" }, el("label", { class: "check" }, box, name), task);
  }));
}

function locate() {
  const where = document.getElementById("where");
  if (!navigator.geolocation) {
    where.textContent = "此设备不能定位，请填写关联案件";
    return;
  }
  where.textContent = "定位中…";
  navigator.geolocation.getCurrentPosition(
    (position) => {
      place = { lat: position.coords.latitude, lon: position.coords.longitude };
      where.textContent = `已定位 ${place.lat.toFixed(5)}, ${place.lon.toFixed(5)}`;
    },
    () => { where.textContent = "定位失败，请填写关联案件"; },
    { enableHighAccuracy: true, timeout: 10000 });
}

async function raise(event) {
  event.preventDefault();
  const form = raiseForm.elements;
  const error = document.getElementById("raise-error");
  const co = [...raiseForm.querySelectorAll("input[name=units]:checked")].map((box) => box.value)
    .filter((code) => code !== form.lead_unit.value);
  const tasks = {};
  if (form.lead_task.value.trim()) tasks[form.lead_unit.value] = form.lead_task.value.trim();
  for (const code of co) {
    const text = raiseForm.querySelector(`input[name="task-${code}"]`).value.trim();
    if (text) tasks[code] = text;
  }
  const json = {
    title: form.title.value.trim(), description: form.description.value.trim(),
    lead_unit: form.lead_unit.value, units: co, tasks, media_ids: picker.ids(),
  };
  if (form.report.value.trim()) json.report = form.report.value.trim();
  else if (place) Object.assign(json, place);
  else {
    error.textContent = "请填写关联案件编号，或使用当前位置";
    return;
  }
  try {
    const whistle = await api("/api/v1/whistles", { method: "POST", json });
    raiseForm.reset();
    picker.clear();
    error.textContent = "";
    location.hash = whistle.id;
    await loadList();
  } catch (failure) {
    error.textContent = failure.message;
  }
}

// ---- start ---------------------------------------------------------------------------------

// Who blows the whistle: community staff, a street office's staff (its streets) and the office.
function raisesWhistles(user) {
  return ["community_staff", "supervisor", "admin"].includes(user.role)
    || (user.role === "unit_staff" && unitKinds.get(user.unit) === "street_office");
}

async function refresh() {
  try {
    await loadList();
    showNotice("");
  } catch (error) {
    showNotice(error.message);
  }
}

filters.elements.status.append(...Object.entries(settings.whistles).map(([code, label]) => el("option", { value: code }, label)));
filters.addEventListener("change", refresh);
filters.addEventListener("submit", (event) => event.preventDefault());
document.getElementById("photos").append(picker.node);
document.getElementById("locate").addEventListener("click", locate);
raiseForm.addEventListener("submit", raise);
window.addEventListener("hashchange", () => openWhistle(decodeURIComponent(location.hash.slice(1))));

start((user) => {
  me = user;
  const raises = raisesWhistles(user);
  document.getElementById("raise").hidden = !raises;
  if (raises) fillUnits();
  refresh();
});
