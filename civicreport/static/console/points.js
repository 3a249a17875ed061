// 点位暗访: the registry of fixed points (农贸市场, 背街小巷 …) with their last inspection, pass rate
// and overdue flag; an inspector opens a point on his phone and answers every checklist item of its
// kind 合格 / 不合格, a failed item with a note and photos uploaded at once to POST /api/v1/media;
// each failed item opens a case routed as usual, listed in the answer. The office registers points.
import { el, formatTime, settings } from "../shared/page.js";
import { api, query, showNotice, start } from "./staff.js";
import { photoPicker, thumbs } from "./photos.js";

const OFFICE = ["supervisor", "admin"];
const INSPECTORS = ["monitor", "supervisor", "admin"];
const filters = document.getElementById("filters");
let me = null;

function rate(value) {
  return value == null ? "—" : `${Math.round(value * 100)}%`;
}

function unitName(point) {
  return point.unit ? point.unit.name : null;
}

async function loadList() {
  const body = await api(`/api/v1/points?${query({
    kind: filters.elements.kind.value, overdue: filters.elements.overdue.checked ? "true" : "",
  })}`);
  const points = body.points || [];
  const list = document.getElementById("points");
  list.replaceChildren(...points.map(pointItem));
  if (!points.length) list.append(el("li", { class: "muted" }, "暂无点位"));
  const overdue = points.filter((p) => p.overdue).length;
  document.getElementById("summary").textContent = `共 ${points.length} 个点位，检查逾期 ${overdue} 个`;
  const wanted = location.hash.slice(1);
  if (wanted) openPoint(points.find((p) => String(p.id) === wanted));
}

function pointItem(point) {
  const open = el("button", { type: "button", class: "link", onclick: () => openPoint(point) }, point.name);
  return el("li", { class: "item point-item", id: `p-${point.id}`, dataset: { id: point.id, kind: point.kind } },
    el("header", {}, el("h3", {}, open),
      el("span", {}, el("span", { class: "badge" }, settings.point_kinds[point.kind] || point.kind), " ",
        point.overdue ? el("span", { class: "badge late" }, "检查逾期") : null)),
    el("p", { class: "meta" }, [unitName(point) ? `责任单位 ${unitName(point)}` : null,
      `每 ${point.every_days} 天检查`, `上次检查 ${formatTime(point.last_inspected_at)}`,
      `检查 ${point.inspections ?? 0} 次`, `合格率 ${rate(point.pass_rate)}`].filter(Boolean).join(" · ")),
    el("div", { class: "detail" }));
}

async function openPoint(point) {
  const item = point && document.getElementById(`p-${point.id}`);
  if (!item) return;
  document.querySelectorAll(".point-item.selected").forEach((node) => node.classList.remove("selected"));
  item.classList.add("selected");
  history.replaceState(null, "", `#${point.id}`);
  const box = item.querySelector(".detail");
  box.replaceChildren(INSPECTORS.includes(me.role) ? inspectionForm(point, box) : null, el("div", { class: "history" }));
  await showHistory(point, box.querySelector(".history"));
}

async function showHistory(point, box) {
  try {
    const body = await api(`/api/v1/points/${point.id}/inspections`);
    const rows = body.inspections || [];
    box.replaceChildren(el("h4", {}, `检查记录（合格率 ${rate(body.point.pass_rate)}）`),
      rows.length ? el("ol", { class: "timeline" }, rows.map(inspectionLine))
        : el("p", { class: "muted" }, "尚无检查记录"));
  } catch (error) {
    box.replaceChildren(el("p", { class: "error" }, error.message));
  }
}

function inspectionLine(row) {
  const failed = row.items.filter((i) => !i.pass);
  return el("li", { dataset: { passed: String(row.passed) } },
    el("time", {}, formatTime(row.inspected_at)), " ",
    el("span", { class: `badge ${row.passed ? "pass" : "fail"}` }, row.passed ? "合格" : "不合格"),
    row.unannounced ? " · 暗访" : "",
    failed.map((i) => el("div", { class: "note" }, i.label, i.note ? `：${i.note}` : "",
      i.case ? `（案件 ${i.case.id}，${i.case.status_label}）` : "", thumbs(i.photos))));
}

// ---- the inspection form (on a phone) ------------------------------------------------------

function checkItem(code, label) {
  const note = el("label", { class: "fail-only", hidden: true }, "问题描述", el("textarea", { name: `note-${code}`, maxlength: "1000" }));
  const picker = photoPicker();
  const photos = el("div", { class: "fail-only", hidden: true }, picker.node);
  const card = el("fieldset", { class: "check-item", dataset: { item: code } },
    el("legend", {}, label),
    el("div", { class: "verdict" },
      el("label", {}, el("input", { type: "radio", name: `v-${code}`, value: "pass", required: true }), "合格"),
      el("label", {}, el("input", { type: "radio", name: `v-${code}`, value: "fail" }), "不合格")),
    note, photos);
  card.addEventListener("change", (event) => {
    if (!event.target.name || !event.target.name.startsWith("v-")) return;
    card.dataset.verdict = event.target.value;
    note.hidden = photos.hidden = event.target.value !== "fail";
  });
  return { code, card, picker };
}

function inspectionForm(point, box) {
  const items = (settings.checklists[point.kind] || []).map(([code, label]) => checkItem(code, label));
  const error = el("p", { class: "error", role: "alert" });
  const result = el("div", { class: "result" });
  const submit = el("button", { type: "submit", class: "primary" }, "提交检查结果");
  const form = el("form", { class: "inspection-form" },
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "unannounced", checked: true }), "暗访（未提前通知）"),
    items.map((item) => item.card),
    el("label", {}, "总体说明", el("textarea", { name: "note", maxlength: "2000" })),
    error, el("div", { class: "buttons" }, submit));
  if (!items.length) return el("p", { class: "muted" }, "该类点位尚无检查标准");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (items.some((item) => item.picker.busy())) {
      error.textContent = "照片仍在上传，请稍候";
      return;
    }
    const answers = items.map((item) => {
      const failed = form.elements[`v-${item.code}`].value === "fail";
      return {
        item: item.code, pass: !failed,
        note: failed ? form.elements[`note-${item.code}`].value.trim() : "",
        media_ids: failed ? item.picker.ids() : [],
      };
    });
    submit.disabled = true;
    try {
      const answer = await api(`/api/v1/points/${point.id}/inspections`, {
        method: "POST",
        json: { items: answers, unannounced: form.elements.unannounced.checked, note: form.elements.note.value.trim() },
      });
      const cases = answer.cases || [];
      result.replaceChildren(el("p", { class: "receipt" }, answer.passed ? "检查合格" : "检查不合格",
        cases.length ? `，已生成案件 ${cases.length} 件：${cases.map((c) => c.id).join("、")}` : ""));
      form.replaceWith(result);
      await loadList();
      showNotice(result.textContent);
    } catch (failure) {
      error.textContent = failure.message;
      submit.disabled = false;
    }
  });
  return el("details", { class: "panel inspect", open: true }, el("summary", {}, "开始检查"), form, result);
}

// ---- registering a point (the office) ------------------------------------------------------

const registerForm = document.getElementById("register-form");

function locate() {
  const where = document.getElementById("where");
  if (!navigator.geolocation) {
    where.textContent = "此设备不能定位";
    return;
  }
  navigator.geolocation.getCurrentPosition((position) => {
    registerForm.elements.lat.value = position.coords.latitude.toFixed(6);
    registerForm.elements.lon.value = position.coords.longitude.toFixed(6);
    where.textContent = "已定位";
  }, () => { where.textContent = "定位失败，请填写坐标"; }, { enableHighAccuracy: true, timeout: 10000 });
}

async function register(event) {
  event.preventDefault();
  const form = registerForm.elements;
  const error = document.getElementById("register-error");
  const json = {
    name: form.name.value.trim(), kind: form.kind.value, lat: Number(form.lat.value), lon: Number(form.lon.value),
    every_days: Number(form.every_days.value),
  };
  if (form.unit.value) json.unit = form.unit.value;
  try {
    await api("/api/v1/points", { method: "POST", json });
    registerForm.reset();
    error.textContent = "";
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

const kinds = Object.entries(settings.point_kinds).map(([code, label]) => el("option", { value: code }, label));
filters.elements.kind.append(...kinds);
registerForm.elements.kind.append(...kinds.map((option) => option.cloneNode(true)));
registerForm.elements.unit.append(...settings.units.map(([code, name]) => el("option", { value: code }, name)));
filters.addEventListener("change", refresh);
filters.addEventListener("submit", (event) => event.preventDefault());
registerForm.addEventListener("submit", register);
document.getElementById("locate").addEventListener("click", locate);

start((user) => {
  me = user;
  document.getElementById("register").hidden = !OFFICE.includes(user.role);
  refresh();
});
