// 红黑榜: a month's unit rankings, the red and black lists, and on-time rates as CSS bars; the
// community ranking (社区月度排名) with its 红灰旗 and cards, and the printable 月通报 it links to.
import { el } from "../shared/page.js";
import { loadExposureCounts } from "./exposure_counts.js";
import { api, openSigned, request, showNotice, start } from "./staff.js";
import { chosenMonth, fillMonths, monthTitle, rememberMonth } from "./month.js";

const form = document.getElementById("month-form");
const CARDS = { red: "红牌", yellow: "黄牌" };
const COLUMNS = [
  ["名次", (r) => r.rank ?? "—"], ["单位", (r) => r.name],
  ["派遣", (r) => r.received], ["结案", (r) => r.closed],
  ["按期结案率", (r) => percent(r.on_time_rate)], ["结案率", (r) => percent(r.closure_rate)],
  ["返工率", (r) => percent(r.rework_rate)], ["满意率", (r) => percent(r.satisfaction_rate)],
  ["当前超期", (r) => r.overdue_now], ["警示", (r) => cardBadge(r.card)],
  // 吹哨报到 beside the ranking (oversight.whistle_stats): 报到 punctuality and the 一体评议 mean.
  ["吹哨报到及时率", (r) => percent(r.whistle_checkin_rate)], ["一体评议均分", (r) => rating(r.whistle_mean_rating)],
];
const BOARD_COLUMNS = [COLUMNS[0], COLUMNS[1], COLUMNS[4], COLUMNS[7]];
const FLAGS = { red: "红旗", grey: "灰旗" };
let linked = []; // area codes of the signed-in leader's 联系点
// 社区月度排名: the score and each weighted part (0–100; — when the part had nothing to measure).
const PARTS = [["案件办理", "cases"], ["月度任务", "tasks"], ["实事清单", "matters"], ["点单服务", "orders"]];
const COMMUNITY_COLUMNS = [
  ["名次", (r) => r.rank ?? "—"], ["社区", (r) => r.name], ["街道", (r) => r.street_name || "—"],
  ["总分", (r) => score(r.score)],
  ...PARTS.map(([title, key]) => [title, (r) => score(r.parts[key])]),
  ["红灰旗", (r) => (r.flag ? el("span", { class: `badge flag-${r.flag}` }, FLAGS[r.flag] || r.flag) : "—")],
  ["警示", (r) => cardBadge(r.card)],
];

function percent(rate) {
  return rate == null ? "—" : `${(rate * 100).toFixed(1)}%`;
}

function rating(value) {
  return value == null ? "—" : Number(value).toFixed(1);
}

function score(value) {
  return value == null ? "—" : Number(value).toFixed(1);
}

function cardBadge(card) {
  return card ? el("span", { class: `badge card-${card}` }, CARDS[card] || card) : "—";
}

function fillTable(table, columns, rows) {
  const head = el("thead", {}, el("tr", {}, columns.map(([title]) => el("th", {}, title))));
  const lines = rows.length
    ? rows.map((row) => el("tr", { dataset: { unit: row.code } }, columns.map(([, cell]) => el("td", {}, cell(row)))))
    : [el("tr", {}, el("td", { colspan: columns.length, class: "muted" }, "暂无"))];
  table.replaceChildren(head, el("tbody", {}, lines));
}

// A unit with no case this month (none dispatched, closed or overdue) has no rate to draw.
function idle(row) {
  return !row.received && !row.closed && !row.overdue_now;
}

// The chart: units with cases, each bar coloured by the unit's card; the others folded away by name.
function drawBars(rows) {
  const idleRows = rows.filter(idle);
  document.getElementById("bars").replaceChildren(...rows.filter((row) => !idle(row)).map(bar));
  document.getElementById("idle-units").hidden = !idleRows.length;
  document.getElementById("idle-summary").textContent = `另有 ${idleRows.length} 个单位本月无案件`;
  document.getElementById("idle-names").textContent = idleRows.map((row) => row.name).join("、");
}

function bar(row) {
  const rate = row.on_time_rate;
  const fill = el("span", { class: row.card ? `bar card-${row.card}` : "bar" });
  fill.style.width = `${(rate || 0) * 100}%`; // through CSSOM: the CSP refuses style attributes
  return el("div", { class: "bar-row", dataset: { unit: row.code } },
    el("span", { class: "bar-label", title: row.name }, row.name),
    el("span", { class: "bar-track" }, fill),
    el("span", { class: "bar-value" }, percent(rate)));
}

async function load() {
  try {
    const stats = await api(`/api/v1/stats/units?month=${form.elements.month.value}`);
    document.getElementById("title").textContent = `${monthTitle(form.elements.month.value)} · 月度通报`;
    const full = new Map(stats.rows.map((row) => [row.code, row])); // list entries carry rank, code and name only
    fillTable(document.getElementById("red-list"), BOARD_COLUMNS, stats.red_list.map((e) => full.get(e.code)));
    fillTable(document.getElementById("black-list"), BOARD_COLUMNS, stats.black_list.map((e) => full.get(e.code)));
    fillTable(document.getElementById("ranking"), COLUMNS, stats.rows);
    drawBars(stats.rows);
    showNotice("");
  } catch (error) {
    showNotice(error.message);
  }
}

// A leader's 联系点 (streets or communities he answers for): their communities are shown first.
async function loadLinks(user) {
  if (user.role !== "leader") return;
  try {
    const body = await api(`/api/v1/leader-links?${new URLSearchParams({ user: user.name })}`);
    linked = body.leader_links.map((link) => link.area_code);
  } catch (error) {
    showNotice(error.message);
  }
}

async function loadCommunities() {
  const month = form.elements.month.value;
  document.getElementById("cobuild-report").href = `/console/cobuild/report?month=${month}`;
  try {
    const ranking = await api(`/api/v1/rankings/communities?month=${month}`);
    fillTable(document.getElementById("community-ranking"), COMMUNITY_COLUMNS, ranking.rows);
    const mine = ranking.rows.filter((row) => linked.some((area) => row.code.startsWith(area)));
    fillTable(document.getElementById("linked-ranking"), COMMUNITY_COLUMNS, mine);
    document.getElementById("linked-box").hidden = !mine.length;
    const names = (entries) => entries.map((e) => e.name).join("、") || "无";
    document.getElementById("community-flags").textContent =
      `红旗：${names(ranking.red_flags)}；灰旗：${names(ranking.grey_flags)}`;
    document.getElementById("ranking-state").textContent = ranking.settled ? "已结算" : "未结算，数据截至现在";
  } catch (error) {
    showNotice(error.message);
  }
}

async function download(path, name) {
  try {
    const blob = await (await request(path)).blob();
    const link = el("a", { href: URL.createObjectURL(blob), download: name });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  } catch (error) {
    showNotice(error.message);
  }
}

function exportCsv() {
  const month = form.elements.month.value;
  download(`/api/v1/stats/units?month=${month}&format=csv`, `单位排名-${month}.csv`);
}

async function loadAll() {
  await load();
  await loadCommunities(); // after: a failure here stays on the notice line
  await loadExposureCounts(form.elements.month.value).catch((error) => showNotice(error.message));
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  loadAll();
});
form.elements.month.addEventListener("change", () => {
  rememberMonth(form.elements.month.value); // a reload or a shared address shows the same month
  loadAll();
});
document.getElementById("export").addEventListener("click", exportCsv);
// The 月通报 opens in a new tab by a signed link (the tab cannot send the reader's token).
document.getElementById("cobuild-report").addEventListener("click", (event) => {
  openSigned(event, event.currentTarget.getAttribute("href"), showNotice);
});
document.getElementById("export-communities").addEventListener("click", () => {
  const month = form.elements.month.value;
  download(`/api/v1/rankings/communities?month=${month}&format=csv`, `社区排名-${month}.csv`);
});

start(async (user) => {
  fillMonths(form.elements.month, chosenMonth());
  await loadLinks(user);
  loadAll();
});
