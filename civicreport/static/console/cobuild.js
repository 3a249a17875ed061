// 共建督导 (创建办): a month's tasks board (communities × tasks, each cell the declaration's state),
// the review queue (accept with a score, or return with a note and a re-submit deadline), the
// form that issues a task, the month's 红黄牌, its needs orders per community and the partners'
// overdue 实事.
import { el, formatTime, settings } from "../shared/page.js";
import { api, openSigned, query, showNotice, start } from "./staff.js";
import { chosenMonth, cityInstant, monthTitle, rememberMonth } from "./month.js";
import { declarationBadge, declarationPhotos, evidenceNotes, lateBadge, timeline } from "./declarations.js";
import { thumbs } from "./photos.js";

const form = document.getElementById("month-form");
const taskForm = document.getElementById("task-form");
const names = new Map(settings.communities);
let month = chosenMonth();

function communityName(code, given) {
  return given || names.get(code) || code;
}

function taskCommunities(task) {
  return task.communities === "all" ? settings.communities.map(([code]) => code) : task.communities;
}

async function load() {
  rememberMonth(month);
  form.elements.month.value = month;
  document.getElementById("title").textContent = `${monthTitle(month)} · 社区文明共建任务`;
  document.getElementById("report-link").href = `/console/cobuild/report?${query({ month })}`;
  try {
    const [tasks, declarations, cards, orders, overdue] = await Promise.all([
      api(`/api/v1/tasks?${query({ month })}`),
      api(`/api/v1/declarations?${query({ month })}`),
      api(`/api/v1/cards?${query({ month })}`),
      api(`/api/v1/stats/orders?${query({ month })}`),
      api("/api/v1/matters/overdue"),
    ]);
    drawBoard(tasks.tasks, declarations.declarations);
    drawQueue(declarations.declarations.filter((d) => d.status === "submitted"));
    drawTable("cards", CARD_COLUMNS, cards.cards, "本月暂无红黄牌（月底评定后显示）");
    drawTable("order-figures", ORDER_COLUMNS, orders.communities, "本月暂无点单");
    drawTable("overdue-matters", OVERDUE_COLUMNS, overdue.units, "没有逾期的实事");
    showNotice("");
  } catch (error) {
    showNotice(error.message);
  }
}

function drawBoard(tasks, declarations) {
  const byCell = new Map(declarations.map((d) => [`${d.task.id}/${d.community_code}`, d]));
  const codes = [...new Set(tasks.flatMap(taskCommunities))].sort();
  const accepted = declarations.filter((d) => d.status === "accepted").length;
  const cells = tasks.reduce((sum, task) => sum + taskCommunities(task).length, 0);
  document.getElementById("summary").textContent =
    `本月任务 ${tasks.length} 项，应申报 ${cells} 份，已申报 ${declarations.length} 份，已通过 ${accepted} 份`;
  const head = el("thead", {}, el("tr", {}, el("th", {}, "社区"), tasks.map((t) =>
    el("th", { title: `截止 ${formatTime(t.due_at)}` }, t.title, el("div", { class: "muted" }, `${t.points} 分`)))));
  const rows = codes.map((code) => el("tr", { dataset: { community: code } },
    el("th", {}, communityName(code)),
    tasks.map((task) => cell(task, code, byCell.get(`${task.id}/${code}`)))));
  const empty = el("tr", {}, el("td", { class: "muted" }, "本月尚未下达任务"));
  document.getElementById("board").replaceChildren(head, el("tbody", {}, rows.length ? rows : empty));
}

function cell(task, code, declaration) {
  if (!taskCommunities(task).includes(code)) return el("td", { class: "muted" }, "—");
  const overdue = !declaration && new Date(task.due_at) < new Date(); // 逾期未报: a yellow card to come
  return el("td", { class: declaration ? declaration.status : "pending", dataset: { task: task.id } },
    declarationBadge(declaration), " ", lateBadge(declaration),
    overdue ? el("span", { class: "badge late" }, "逾期未报") : null,
    declaration && declaration.score != null ? el("span", { class: "muted" }, ` ${declaration.score} 分`) : null);
}

function drawQueue(waiting) {
  document.getElementById("queue-count").textContent = waiting.length;
  const list = document.getElementById("queue");
  list.replaceChildren(...waiting.map(queueItem));
  if (!waiting.length) list.append(el("li", { class: "muted" }, "没有待审核的申报"));
  waiting.forEach((d) => fillDetail(d.id));
}

function queueItem(declaration) {
  const { task } = declaration;
  const points = task.points;
  const reviewForm = el("form", { dataset: { id: declaration.id } },
    el("label", {}, `评分（满分 ${points}）`,
      el("input", { name: "score", type: "number", min: "0", max: points, step: "0.5", value: points })),
    el("label", {}, "审核意见（退回时必填）", el("textarea", { name: "note", maxlength: "1000" })),
    el("label", {}, "重新申报截止（退回时，不填按规定天数）", el("input", { name: "resubmit_due", type: "datetime-local" })),
    el("div", { class: "buttons" },
      el("button", { type: "submit", class: "primary", name: "decision", value: "accept" }, "通过"),
      el("button", { type: "submit", name: "decision", value: "return" }, "退回")),
    el("p", { class: "error", role: "alert" }));
  reviewForm.addEventListener("submit", (event) => review(event, declaration));
  return el("li", { class: "item", dataset: { id: declaration.id, status: declaration.status } },
    el("header", {},
      el("h3", {}, communityName(declaration.community_code, declaration.community_name)),
      el("span", {}, declarationBadge(declaration), " ", lateBadge(declaration))),
    el("p", { class: "meta" }, task.title, " · ",
      `申报于 ${formatTime(declaration.submitted_at)}`, declaration.returns ? ` · 第 ${declaration.returns + 1} 次申报` : ""),
    el("p", {}, declaration.text),
    el("div", { class: "detail" }),
    reviewForm);
}

// The photos, evidence notes and timeline come with the declaration's own answer.
async function fillDetail(id) {
  try {
    const full = await api(`/api/v1/declarations/${id}`);
    const box = document.querySelector(`#queue li[data-id="${id}"] .detail`);
    if (!box) return;
    const photos = declarationPhotos(full);
    box.replaceChildren(thumbs(photos) || el("p", { class: "muted" }, "（无照片）"), evidenceNotes(full) || "",
      el("details", {}, el("summary", {}, "申报过程"), timeline(full.timeline) || ""));
  } catch (error) {
    showNotice(error.message);
  }
}

async function review(event, declaration) {
  event.preventDefault();
  const target = event.target;
  const decision = event.submitter ? event.submitter.value : "accept";
  const json = { decision, note: target.elements.note.value.trim() || undefined };
  if (decision === "accept") json.score = Number(target.elements.score.value);
  const due = target.elements.resubmit_due.value;
  if (decision === "return" && due) json.resubmit_due = cityInstant(due);
  try {
    await api(`/api/v1/declarations/${declaration.id}/review`, { method: "POST", json });
    await load();
  } catch (error) {
    target.querySelector(".error").textContent = error.message;
  }
}

const CARD_COLUMNS = [
  ["社区", (r) => communityName(r.community_code, r.community_name)],
  ["警示", (r) => el("span", { class: `badge card-${r.color}` }, r.color_label)],
  ["原因", (r) => r.reason_label], ["任务", (r) => r.task_title || "—"],
];
const ORDER_COLUMNS = [
  ["社区", (r) => r.name], ["点单", (r) => r.collected], ["有效派单", (r) => r.dispatched],
  ["完成", (r) => r.completed], ["满意率", (r) => (r.satisfaction_rate == null ? "—" : `${(r.satisfaction_rate * 100).toFixed(1)}%`)],
  ["服务时长（小时）", (r) => r.service_hours], ["超时", (r) => r.overdue],
];
const OVERDUE_COLUMNS = [["承办共建单位", (r) => r.name], ["逾期事项", (r) => r.overdue]];

function drawTable(id, columns, rows, emptyText) {
  const head = el("thead", {}, el("tr", {}, columns.map(([title]) => el("th", {}, title))));
  const lines = rows.map((row) => el("tr", {}, columns.map(([, value]) => el("td", {}, value(row)))));
  const empty = el("tr", {}, el("td", { colspan: columns.length, class: "muted" }, emptyText));
  document.getElementById(id).replaceChildren(head, el("tbody", {}, lines.length ? lines : empty));
}

async function issueTask(event) {
  event.preventDefault();
  const fields = taskForm.elements;
  const some = fields.scope.value === "some";
  const chosen = [...taskForm.querySelectorAll("input[name=community]:checked")].map((box) => box.value);
  const json = {
    month, title: fields.title.value.trim(), points: Number(fields.points.value), communities: some ? chosen : "all",
  };
  if (fields.due.value) json.due = cityInstant(fields.due.value);
  if (fields.indicator.value.trim()) json.indicator = fields.indicator.value.trim();
  if (fields.description.value.trim()) json.description = fields.description.value.trim();
  const error = document.getElementById("task-error");
  try {
    await api("/api/v1/tasks", { method: "POST", json });
    taskForm.reset();
    error.textContent = "";
    document.getElementById("task-communities").hidden = true;
    await load();
  } catch (failure) {
    error.textContent = failure.message;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  month = form.elements.month.value;
  load();
});
taskForm.addEventListener("submit", issueTask);
// The 月通报 opens in a new tab by a signed link (the tab cannot send the reader's token).
document.getElementById("report-link").addEventListener("click", (event) => {
  openSigned(event, event.currentTarget.getAttribute("href"), showNotice);
});
taskForm.addEventListener("change", () => {
  document.getElementById("task-communities").hidden = taskForm.elements.scope.value !== "some";
});

start(() => load());
