// What the office and the community pages both show of a declaration: its state badge, the late
// mark, the evidence notes, its photos and its timeline.
import { el, formatTime, settings } from "../shared/page.js";
import { thumbs } from "./photos.js";

const ACTIONS = { submit: "申报", resubmit: "重新申报", return: "退回", accept: "通过" };
const EVIDENCE = {
  photo_outside_month: "照片不是本月拍摄",
  photo_far: "照片拍摄地点离社区较远",
  photo_unreadable: "照片无法读取拍摄信息",
};

// A declaration's state (``null``: not declared yet) as a badge.
export function declarationBadge(declaration) {
  const status = declaration ? declaration.status : "pending";
  return el("span", { class: `badge decl-${status}`, dataset: { status } }, settings.declarations[status] || status);
}

export function lateBadge(declaration) {
  return declaration && declaration.late ? el("span", { class: "badge late" }, "逾期") : null;
}

export function evidenceNotes(declaration) {
  const flags = declaration.evidence_flags || [];
  if (!flags.length) return null;
  return el("p", { class: "flags" }, "核实提示：", flags.map((flag) => EVIDENCE[flag] || flag).join("；"));
}

export function timeline(events) {
  if (!events || !events.length) return null;
  return el("ol", { class: "timeline" }, events.map((e) => el("li", {},
    el("time", {}, formatTime(e.at)), " ",
    ACTIONS[e.action] || e.action, e.actor ? ` · ${e.actor}` : "",
    e.note ? el("div", { class: "note" }, e.note) : null,
    thumbs(e.photos))));
}

// The photos of a declaration (with its timeline): those of its latest step that has any.
export function declarationPhotos(declaration) {
  const steps = (declaration.timeline || []).filter((e) => e.photos && e.photos.length);
  return steps.length ? steps[steps.length - 1].photos : [];
}
