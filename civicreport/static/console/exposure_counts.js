// 曝光台 · 光荣榜 in the leader's figures: how many cases went public and how many were taken down
// in the month, per board (GET /api/v1/stats/exposure).
import { el } from "../shared/page.js";
import { api } from "./staff.js";

const BOARDS = { uncivil: "曝光台", praise: "光荣榜" };

export async function loadExposureCounts(month) {
  const counts = await api(`/api/v1/stats/exposure?month=${month}`);
  const rows = Object.entries(BOARDS).map(([kind, label]) =>
    el("tr", { dataset: { kind } }, el("td", {}, label), el("td", {}, counts[kind].published), el("td", {}, counts[kind].withdrawn)));
  const head = el("thead", {}, el("tr", {}, ["榜单", "发布", "撤下"].map((title) => el("th", {}, title))));
  document.getElementById("exposure-counts").replaceChildren(head, el("tbody", {}, rows));
}
