// 社区工作台 (community staff, on a phone): this month's tasks with the community's declaration of
// each (declare, or re-declare after a return, with photos from the phone), the residents' needs
// orders to dispatch to a volunteer team, the community's 实事清单 (file an item for a partner,
// progress notes) and its 联席会议 (record one with the partners present).
import { el, formatTime, settings } from "../shared/page.js";
import { api, query, showNotice, start } from "./staff.js";
import { chosenMonth, monthTitle } from "./month.js";
import { declarationBadge, lateBadge } from "./declarations.js";
import { photoPicker, thumbs } from "./photos.js";
import { loadOrders, orderItem } from "./orders.js";

const month = chosenMonth();
let community = null;
let teams = [];

// ---- tasks and declarations ------------------------------------------------------------

async function loadTasks() {
  const [tasks, declarations] = await Promise.all([
    api(`/api/v1/tasks?${query({ month })}`),
    api(`/api/v1/declarations?${query({ month })}`),
  ]);
  const mine = new Map(declarations.declarations
    .filter((d) => d.community_code === community).map((d) => [d.task.id, d]));
  const list = document.getElementById("tasks");
  list.replaceChildren(...tasks.tasks.map((task) => taskItem(task, mine.get(task.id))));
  if (!tasks.tasks.length) list.append(el("li", { class: "muted" }, "本月暂无任务"));
  const open = tasks.tasks.filter((t) => !mine.get(t.id) || mine.get(t.id).status === "returned").length;
  document.getElementById("summary").textContent =
    `${monthTitle(month)}：任务 ${tasks.tasks.length} 项，待申报 ${open} 项`;
}

function taskItem(task, declaration) {
  const returned = declaration && declaration.status === "returned";
  return el("li", { class: "item task-item", dataset: { task: task.id, status: declaration ? declaration.status : "pending" } },
    el("header", {}, el("h3", {}, task.title), el("span", {}, declarationBadge(declaration), " ", lateBadge(declaration))),
    el("p", { class: "meta" }, `${task.points} 分 · 申报截止 ${formatTime(task.due_at)}`,
      task.indicator ? ` · 指标 ${task.indicator}` : ""),
    task.description ? el("p", {}, task.description) : null,
    declaration ? el("p", {}, "申报内容：", declaration.text) : null,
    returned ? el("p", { class: "returned-note" }, `退回意见：${declaration.review_note || "（无）"}`,
      declaration.resubmit_due_at ? `，请于 ${formatTime(declaration.resubmit_due_at)} 前重新申报` : "") : null,
    declaration && declaration.status === "accepted" && declaration.score != null
      ? el("p", { class: "meta" }, `得分 ${declaration.score} / ${task.points}`) : null,
    !declaration || returned ? declareForm(task, declaration) : null);
}

function declareForm(task, declaration) {
  const error = el("p", { class: "error", role: "alert" });
  const submit = el("button", { type: "submit", class: "primary" }, declaration ? "重新申报" : "提交申报");
  const picker = photoPicker(() => { submit.disabled = picker.busy(); });
  const form = el("form", { class: "declare-form" },
    el("label", {}, "完成情况", el("textarea", {
      name: "text", required: true, maxlength: "2000", placeholder: "本月做了什么、效果如何",
    }, declaration ? declaration.text : "")),
    picker.node, error, el("div", { class: "buttons" }, submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!picker.ids().length) {
      error.textContent = "请至少上传一张照片";
      return;
    }
    try {
      await api(`/api/v1/tasks/${task.id}/declarations`, {
        method: "POST", json: { text: form.elements.text.value.trim(), media_ids: picker.ids() },
      });
      await loadTasks();
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
  return form;
}

// ---- needs orders ------------------------------------------------------------------------

async function loadTeams() {
  try {
    const body = await api(`/api/v1/teams?${query({ community })}`);
    teams = (body.teams || []).filter((team) => team.active !== false).map((team) => team.name);
  } catch {
    teams = []; // no list to pick from: the team's name is typed
  }
}

async function refreshOrders() {
  const orders = await loadOrders();
  const list = document.getElementById("orders");
  list.replaceChildren(...orders.map((order) => orderItem(order, refreshOrders, teams)));
  if (!orders.length) list.append(el("li", { class: "muted" }, "暂无群众点单"));
}

// 代点单: staff file a resident's need; the receipt goes to the resident, who rates with it.
async function fileOrder(event) {
  event.preventDefault();
  const form = event.target;
  const error = document.getElementById("order-error");
  const receipt = document.getElementById("order-receipt");
  const contact = form.elements.contact.value.trim();
  try {
    const order = await api("/api/v1/orders", {
      method: "POST",
      json: { description: form.elements.description.value.trim(), community, ...(contact ? { contact } : {}) },
    });
    form.reset();
    error.textContent = "";
    receipt.textContent = `已点单 ${order.id}，回执码 ${order.receipt_token}（请交给群众，凭它查看和评价）`;
    receipt.hidden = false;
    await refreshOrders();
  } catch (failure) {
    error.textContent = failure.message;
  }
}

// ---- 实事清单 ----------------------------------------------------------------------------

async function loadMatters() {
  const { matters } = await api(`/api/v1/matters?${query({ community })}`);
  const list = document.getElementById("matters");
  list.replaceChildren(...matters.map(matterItem));
  if (!matters.length) list.append(el("li", { class: "muted" }, "实事清单暂无事项"));
}

function matterItem(matter) {
  const owed = matter.status === "open" || matter.status === "in_progress";
  return el("li", { class: "item matter-item", dataset: { id: matter.id, status: matter.status } },
    el("header", {}, el("h3", {}, matter.title),
      el("span", {}, el("span", { class: "badge" }, settings.matters[matter.status]),
        matter.overdue ? el("span", { class: "badge late" }, "逾期") : null)),
    el("p", { class: "meta" }, `承办：${matter.unit.name} · 办结期限 ${matter.due_on}`),
    matter.description ? el("p", {}, matter.description) : null,
    matter.result ? el("p", {}, "办结结果：", matter.result) : null,
    matter.notes.length ? el("ol", { class: "timeline" }, matter.notes.map(noteLine)) : null,
    owed ? noteForm(matter) : null);
}

function noteTitle(note) {
  if (!note.from_status) return "列入实事清单";
  return note.to_status ? `转为${settings.matters[note.to_status]}` : "进展";
}

function noteLine(note) {
  return el("li", {},
    el("time", {}, formatTime(note.created_at)), " ",
    noteTitle(note), note.actor ? ` · ${note.actor.display_name}` : "",
    note.note ? el("div", { class: "note" }, note.note) : null, thumbs(note.photos));
}

// A progress note, or a move on (open → in progress → done with its result), with photos.
function noteForm(matter) {
  const error = el("p", { class: "error", role: "alert" });
  const submit = el("button", { type: "submit" }, "提交");
  const picker = photoPicker(() => { submit.disabled = picker.busy(); });
  const next = matter.status === "open" ? "in_progress" : "done";
  const result = el("label", { hidden: true }, "办结结果", el("textarea", { name: "result", maxlength: "4000" }));
  const status = el("select", { name: "status" },
    el("option", { value: "" }, "只记录进展"), el("option", { value: next }, `转为${settings.matters[next]}`));
  status.addEventListener("change", () => { result.hidden = status.value !== "done"; });
  const form = el("form", { class: "note-form" },
    el("label", {}, "进展情况", el("textarea", { name: "note", maxlength: "2000" })),
    el("label", {}, "状态", status), result, picker.node, error, el("div", { class: "buttons" }, submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const json = { note: form.elements.note.value.trim(), media_ids: picker.ids() };
    if (status.value) json.status = status.value;
    if (status.value === "done") json.result = form.elements.result.value.trim();
    try {
      await api(`/api/v1/matters/${matter.id}/notes`, { method: "POST", json });
      await loadMatters();
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
  return el("details", {}, el("summary", {}, "记录进展"), form);
}

// The community's partners today: the 实事清单 form's choice and the meeting's attendance.
async function loadPartners() {
  const { partnerships } = await api(`/api/v1/partnerships?${query({ community })}`);
  const units = partnerships.map((row) => [row.unit.code, `${row.unit.name}（${row.role_label}）`]);
  document.getElementById("matter-partner").replaceChildren(
    el("option", { value: "" }, "选择共建单位"), ...units.map(([code, name]) => el("option", { value: code }, name)));
  document.getElementById("meeting-partners").replaceChildren(el("legend", {}, "到会共建单位"),
    ...units.map(([code, name]) => el("label", { class: "check" },
      el("input", { type: "checkbox", name: "partners", value: code }), name)));
}

async function fileMatter(event) {
  event.preventDefault();
  const form = event.target;
  const error = document.getElementById("matter-error");
  const meeting = form.elements.meeting_id.value;
  try {
    await api("/api/v1/matters", {
      method: "POST",
      json: {
        community,
        title: form.elements.title.value.trim(),
        description: form.elements.description.value.trim(),
        partner: form.elements.partner.value,
        due_on: form.elements.due_on.value,
        ...(meeting ? { meeting_id: Number(meeting) } : {}),
      },
    });
    form.reset();
    error.textContent = "";
    await loadMatters();
  } catch (failure) {
    error.textContent = failure.message;
  }
}

// ---- 联席会议 ----------------------------------------------------------------------------

async function loadMeetings() {
  const { meetings } = await api(`/api/v1/meetings?${query({ community })}`);
  const list = document.getElementById("meetings");
  list.replaceChildren(...meetings.map(meetingItem));
  if (!meetings.length) list.append(el("li", { class: "muted" }, "暂无联席会议记录"));
  document.getElementById("matter-meeting").replaceChildren(el("option", { value: "" }, "（无）"),
    ...meetings.map((m) => el("option", { value: m.id }, `${m.held_on} ${m.title}`)));
}

function meetingItem(meeting) {
  const present = meeting.partners.map((unit) => unit.name).join("、");
  return el("li", { class: "item meeting-item", dataset: { id: meeting.id } },
    el("header", {}, el("h3", {}, meeting.title), el("span", { class: "meta" }, meeting.held_on)),
    el("p", { class: "meta" }, `到会共建单位：${present || "（未记录）"}`),
    meeting.minutes ? el("p", { class: "note" }, meeting.minutes) : null);
}

async function holdMeeting(event) {
  event.preventDefault();
  const form = event.target;
  const error = document.getElementById("meeting-error");
  const partners = [...form.querySelectorAll('input[name="partners"]:checked')].map((box) => box.value);
  try {
    await api("/api/v1/meetings", {
      method: "POST",
      json: {
        community,
        held_on: form.elements.held_on.value,
        title: form.elements.title.value.trim(),
        minutes: form.elements.minutes.value.trim(),
        partners,
      },
    });
    form.reset();
    error.textContent = "";
    await loadMeetings();
  } catch (failure) {
    error.textContent = failure.message;
  }
}

// ---- start ---------------------------------------------------------------------------------

async function section(load) {
  try {
    await load();
  } catch (error) {
    showNotice(error.message);
  }
}

document.getElementById("order-form").addEventListener("submit", fileOrder);
document.getElementById("matter-form").addEventListener("submit", fileMatter);
document.getElementById("meeting-form").addEventListener("submit", holdMeeting);

start(async (user) => {
  community = (user.areas || []).find((code) => code.length === 12) || null;
  const name = new Map(settings.communities).get(community);
  document.getElementById("title").textContent = name ? `${name} · 社区工作台` : "社区工作台";
  if (user.role !== "community_staff") showNotice("本页供社区工作人员使用；创建办请到“共建督导”。");
  await loadTeams();
  await Promise.all([
    section(loadTasks), section(refreshOrders), section(loadMatters), section(loadPartners), section(loadMeetings),
  ]);
});
