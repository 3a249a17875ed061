// 红黑榜: a month's unit rankings, the red and black lists, and on-time rates as CSS bars.
import { el, settings } from "../shared/page.js";
import { api, request, showNotice, start } from "./staff.js";

const form = document.getElementById("month-form");
const CARDS = { red: "红牌", yellow: "黄牌" };
const COLUMNS = [
  ["名次", (r) => r.rank ?? "—"], ["单位", (r) => r.name],
  ["派遣", (r) => r.received], ["结案", (r) => r.closed],
  ["按期结案率", (r) => percent(r.on_time_rate)], ["结案率", (r) => percent(r.closure_rate)],
  ["返工率", (r) => percent(r.rework_rate)], ["满意率", (r) => percent(r.satisfaction_rate)],
  ["当前超期", (r) => r.overdue_now], ["警示", (r) => cardBadge(r.card)],
];
const BOARD_COLUMNS = [COLUMNS[0], COLUMNS[1], COLUMNS[4], COLUMNS[7]];

function percent(rate) {
  return rate == null ? "—" : `${(rate * 100).toFixed(1)}%`;
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

function bar(row) {
  const rate = row.on_time_rate;
  const fill = el("span", { class: "bar" });
  fill.style.width = `${(rate || 0) * 100}%`; // through CSSOM: the CSP refuses style attributes
  return el("div", { class: "bar-row", dataset: { unit: row.code } },
    el("span", { class: "bar-label", title: row.name }, row.name),
    el("span", { class: "bar-track" }, fill),
    el("span", { class: "bar-value" }, percent(rate)));
}

async function load() {
  try {
    const stats = await api(`/api/v1/stats/units?month=${form.elements.month.value}`);
    const [year, month] = form.elements.month.value.split("-");
    document.getElementById("title").textContent = `${year} 年 ${Number(month)} 月 · 月度通报`;
    const full = new Map(stats.rows.map((row) => [row.code, row])); // list entries carry rank, code and name only
    fillTable(document.getElementById("red-list"), BOARD_COLUMNS, stats.red_list.map((e) => full.get(e.code)));
    fillTable(document.getElementById("black-list"), BOARD_COLUMNS, stats.black_list.map((e) => full.get(e.code)));
    fillTable(document.getElementById("ranking"), COLUMNS, stats.rows);
    document.getElementById("bars").replaceChildren(...stats.rows.map(bar));
    showNotice("");
  } catch (error) {
    showNotice(error.message);
  }
}

async function exportCsv() {
  try {
    const month = form.elements.month.value;
    const blob = await (await request(`/api/v1/stats/units?month=${month}&format=csv`)).blob();
    const link = el("a", { href: URL.createObjectURL(blob), download: `单位排名-${month}.csv` });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  } catch (error) {
    showNotice(error.message);
  }
}

function thisMonth() {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: settings.timezone, year: "numeric", month: "2-digit" })
    .formatToParts(new Date());
  return `${parts.find((p) => p.type === "year").value}-${parts.find((p) => p.type === "month").value}`;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
document.getElementById("export").addEventListener("click", exportCsv);

start(() => {
  form.elements.month.value = form.elements.month.value || thisMonth();
  load();
});
