// 曝光台 for supervisors: the cases that may go public on the chosen board, a preview of exactly
// what the public would read (blurred photos, masked text) that publishing requires, and what is
// up now with its takedown (撤下, with a note).
import { el, formatTime, settings, statusBadge } from "../shared/page.js";
import { api, showNotice, start } from "./staff.js";

const kindForm = document.getElementById("kind-form");
const preview = document.getElementById("preview");
const publishForm = document.getElementById("publish-form");
let previewed = null; // the case number the preview shows

function kind() {
  return kindForm.elements.kind.value;
}

function candidateItem(row) {
  return el("li", { dataset: { report: row.report } },
    el("div", { class: "line" }, el("strong", {}, row.category), statusBadge(row.status),
      el("span", { class: "muted" }, `${row.place} · ${row.reported_on} · ${row.report}`)),
    row.text ? el("p", { class: "text" }, row.text) : null,
    el("button", { type: "button", class: "primary", onclick: () => showPreview(row.report) }, "预览"));
}

function withdrawForm(item) {
  const form = el("form", {},
    el("input", { name: "note", required: true, maxlength: 500, placeholder: "撤下理由（不公开）", "aria-label": "撤下理由" }),
    el("button", { type: "submit" }, "撤下"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api(`/api/v1/exposure/${item.id}/withdraw`, { method: "POST", json: { note: form.elements.note.value.trim() } });
      showNotice("");
      refresh();
    } catch (error) {
      showNotice(error.message);
    }
  });
  return form;
}

function publicationItem(item) {
  const last = item.events[item.events.length - 1];
  return el("li", { class: item.withdrawn ? "withdrawn" : null, dataset: { publication: item.id } },
    el("div", { class: "line" }, el("strong", {}, item.category),
      el("span", { class: "badge" }, item.withdrawn ? "已撤下" : settings.kinds[item.kind]),
      el("a", { href: `/exposure/${item.id}`, target: "_blank", rel: "noopener" }, "公开链接"),
      el("span", { class: "muted" }, `${item.place} · ${item.report}`)),
    el("p", { class: "muted" }, `${item.withdrawn ? "撤下" : "发布"}于 ${formatTime(last.at)}：${last.note}`),
    item.withdrawn ? null : withdrawForm(item));
}

async function showPreview(report) {
  try {
    const view = await api(`/api/v1/exposure/preview?report=${encodeURIComponent(report)}`);
    previewed = view.report;
    document.getElementById("preview-case").textContent = view.report;
    const facts = [["榜单", settings.kinds[view.kind]], ["类别", view.category], ["地点", view.place],
      ["上报日期", view.reported_on], ["结果", view.outcome], ["联系方式", view.contact || "无"]];
    document.getElementById("preview-facts").replaceChildren(...facts.flatMap(([t, d]) => [el("dt", {}, t), el("dd", {}, d)]));
    document.getElementById("preview-text").textContent = view.text || "（无文字）";
    const photos = [...view.photos, ...view.after_photos];
    document.getElementById("preview-photos").replaceChildren(
      ...photos.map((p) => el("a", { href: p.url, target: "_blank", rel: "noopener" }, el("img", { src: p.thumb_url, alt: "遮挡后的照片" }))));
    publishForm.reset();
    preview.hidden = false;
    preview.scrollIntoView({ block: "nearest" });
    showNotice("");
  } catch (error) {
    showNotice(error.message);
  }
}

publishForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const body = { report: previewed, kind: kind(), note: publishForm.elements.note.value.trim(), reviewed: publishForm.elements.reviewed.checked };
    await api("/api/v1/exposure", { method: "POST", json: body });
    preview.hidden = true;
    showNotice("");
    refresh();
  } catch (error) {
    showNotice(error.message);
  }
});

document.getElementById("cancel-preview").addEventListener("click", () => { preview.hidden = true; });

async function refresh() {
  try {
    const [candidates, published] = await Promise.all([
      api(`/api/v1/exposure/candidates?kind=${kind()}`),
      api(`/api/v1/exposure?kind=${kind()}`),
    ]);
    const list = document.getElementById("candidates");
    list.replaceChildren(...candidates.candidates.map(candidateItem));
    if (!candidates.candidates.length) list.append(el("li", { class: "muted" }, "暂无可发布的案件"));
    const up = document.getElementById("publications");
    up.replaceChildren(...published.publications.map(publicationItem));
    if (!published.publications.length) up.append(el("li", { class: "muted" }, "暂无"));
  } catch (error) {
    showNotice(error.message);
  }
}

kindForm.addEventListener("change", () => { preview.hidden = true; refresh(); });

start((user) => {
  if (!["supervisor", "admin"].includes(user.role)) showNotice("本页供指挥中心值班长使用。");
  refresh();
});
