// 我要上报: photos upload one by one as soon as they are chosen (each with its own progress bar),
// the place comes from the phone, the map or the photo, the category from a grouped picker with
// suggestions from the description; the final submit goes through the outbox. Open cases nearby of
// the same kind are offered for "我也遇到了", and the draft (uploaded photos, text, category) is kept
// in localStorage until it is submitted, so closing the browser loses nothing.

import { ApiError, el, settings, statusBadge } from "../shared/page.js";
import { api, deviceId, isTransient, newId, showBanner } from "./phone.js";
import * as location from "./location.js";
import * as outbox from "./outbox.js";
import { isPraise } from "./praise.js";
import { persistent } from "./store.js";

const MAX_UPLOAD_TRIES = 4;
const STALL_MS = 30000; // an upload with no progress for this long is restarted
const DRAFT_KEY = "civicreport.draft";
const DRAFT_DAYS = 3; // an older draft's photos may be gone from the server: start afresh

const form = document.getElementById("report-form");
const fieldset = document.getElementById("report-fields");
const list = document.getElementById("photos");
const description = document.getElementById("description");
const suggestions = document.getElementById("suggestions");
const groups = document.getElementById("groups");
const category = document.getElementById("category");
const anonymous = document.getElementById("anonymous");
const contact = document.getElementById("contact");
const formError = document.getElementById("form-error");
const submitButton = document.getElementById("submit");
const submitStatus = document.getElementById("submit-status");
const retryNow = document.getElementById("retry-now");
const duplicateBox = document.getElementById("duplicates");
const candidateList = document.getElementById("candidates");

const photos = []; // {file, key, state: uploading|done|failed, media, tries, node, preview}
const categoryNames = new Map(settings.groups.flatMap(([, items]) => items));
let current = null; // the pending submission this page is waiting for

// ---- photos -------------------------------------------------------------------------------

function addFiles(input) {
  formError.textContent = "";
  for (const file of input.files) {
    if (photos.length >= settings.max_photos) {
      formError.textContent = `每个上报最多 ${settings.max_photos} 张照片`;
      break;
    }
    if (file.size > settings.max_photo_bytes) {
      formError.textContent = `照片 ${file.name} 超过 ${Math.floor(settings.max_photo_bytes / 1048576)} MB`;
      continue;
    }
    const photo = { file, key: newId(), state: "uploading", tries: 0, preview: URL.createObjectURL(file) };
    photo.node = photoNode(photo);
    photos.push(photo);
    list.append(photo.node);
    upload(photo);
  }
  input.value = ""; // the same photo may be chosen again after removing it
  refresh();
}

function photoNode(photo) {
  const image = el("img", { src: photo.preview || null, alt: photo.file ? photo.file.name : "已上传的照片" });
  image.addEventListener("error", () => image.removeAttribute("src"), { once: true }); // e.g. HEIC before upload
  return el("li", { class: "photo", dataset: { state: "uploading" } },
    image,
    el("span", { class: "state" }, "等待上传"),
    el("progress", { max: "100", value: "0", "aria-label": "上传进度" }),
    el("button", { type: "button", class: "retry", hidden: true, onclick: () => upload(photo) }, "重试"),
    el("button", { type: "button", class: "remove", "aria-label": "删除这张照片", onclick: () => removePhoto(photo) }, "删除"));
}

function show(photo, state, text, percent) {
  photo.state = state;
  const node = photo.node;
  node.dataset.state = state;
  node.querySelector(".state").textContent = text;
  const bar = node.querySelector("progress");
  bar.hidden = state !== "uploading";
  if (percent != null) bar.value = percent;
  node.querySelector(".retry").hidden = state !== "failed";
  refresh();
}

function removePhoto(photo) {
  if (photo.xhr) photo.xhr.abort();
  photo.removed = true;
  photos.splice(photos.indexOf(photo), 1);
  photo.node.remove();
  if (photo.file) URL.revokeObjectURL(photo.preview);
  location.setPhotoPoint(firstPhotoPoint());
  refresh();
  saveDraft();
}

// POST /api/v1/media with XMLHttpRequest, whose upload events drive the progress bar.
function send(photo) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    let stall = null;
    const watch = () => {
      clearTimeout(stall);
      stall = setTimeout(() => xhr.abort(), STALL_MS);
    };
    photo.xhr = xhr;
    xhr.open("POST", "/api/v1/media");
    xhr.responseType = "json";
    xhr.setRequestHeader("Idempotency-Key", photo.key);
    xhr.setRequestHeader("X-Device-Id", deviceId());
    xhr.upload.addEventListener("progress", (event) => {
      watch();
      if (event.lengthComputable) show(photo, "uploading", "上传中", Math.round(event.loaded / event.total * 100));
    });
    xhr.addEventListener("loadend", () => {
      clearTimeout(stall);
      photo.xhr = null;
      if (xhr.status === 200 || xhr.status === 201) resolve(xhr.response);
      else if (xhr.status) reject(new ApiError(xhr.status, xhr.response));
      else reject(new TypeError("网络中断"));
    });
    const body = new FormData();
    body.append("photo", photo.file, photo.file.name || "photo.jpg");
    watch();
    xhr.send(body);
  });
}

async function upload(photo) {
  photo.tries = 0;
  show(photo, "uploading", "上传中", 0);
  while (!photo.removed) {
    photo.tries += 1;
    try {
      photo.media = await send(photo);
      break;
    } catch (error) {
      if (photo.removed) return;
      const transient = !(error instanceof ApiError) || isTransient(error.status);
      if (!transient || photo.tries >= MAX_UPLOAD_TRIES) {
        return show(photo, "failed", transient ? "网络不稳定，请重试" : error.message);
      }
      show(photo, "uploading", `网络不稳定，第 ${photo.tries + 1} 次尝试`);
      await new Promise((resolve) => setTimeout(resolve, 1000 * 2 ** photo.tries));
    }
  }
  if (photo.removed) return;
  // Upright, and HEIC shows too; a photo still awaiting the privacy pass has no URL: keep the local preview.
  if (photo.media.thumb_url) photo.node.querySelector("img").src = photo.media.thumb_url;
  show(photo, "done", photo.media.gps ? "已上传·含位置" : "已上传");
  location.setPhotoPoint(firstPhotoPoint());
  saveDraft();
}

function firstPhotoPoint() {
  const found = photos.find((p) => p.media && p.media.gps);
  return found ? found.media.gps : null;
}

// ---- category -----------------------------------------------------------------------------

function chooseGroup(name, code = "") {
  const items = (settings.groups.find(([group]) => group === name) || [null, []])[1];
  category.replaceChildren(
    el("option", { value: "" }, "请选择具体问题（可不选）"),
    ...items.map(([value, label]) => el("option", { value }, label)),
  );
  category.disabled = false;
  category.value = code;
  groups.querySelector(`input[value="${name}"]`).checked = true;
  markSuggestion();
  saveDraft();
  lookForDuplicates();
}

function markSuggestion() {
  for (const chip of suggestions.querySelectorAll("button")) {
    chip.setAttribute("aria-pressed", String(chip.dataset.code === category.value));
  }
}

let suggestTimer = null;
let suggestTicket = 0;

function suggestSoon() {
  clearTimeout(suggestTimer);
  suggestTimer = setTimeout(suggest, 400);
}

async function suggest() {
  const text = description.value.trim();
  const mine = ++suggestTicket;
  if (text.length < 2) return void (suggestions.hidden = true);
  try {
    const found = (await api(`/api/v1/categories/suggest?text=${encodeURIComponent(text)}`)).suggestions;
    if (mine !== suggestTicket) return;
    suggestions.replaceChildren(
      el("span", { class: "muted" }, "猜您要报："),
      ...found.map((s) => el("button", {
        type: "button", class: "chip", dataset: { code: s.code }, "aria-pressed": "false",
        onclick: () => chooseGroup(s.group, s.code),
      }, s.name)),
    );
    suggestions.hidden = found.length === 0;
    markSuggestion();
  } catch {
    // suggestions are a help only; a bad network just goes without them
  }
}

// ---- 我也遇到了: open cases nearby ---------------------------------------------------------

let duplicateTicket = 0;

async function lookForDuplicates() {
  const at = location.point();
  const mine = ++duplicateTicket;
  if (!at) return;
  const query = new URLSearchParams({ lat: at.lat, lon: at.lon, crs: at.crs });
  if (category.value) query.set("category", category.value);
  try {
    const { candidates } = await api(`/api/v1/duplicates?${query}`);
    if (mine !== duplicateTicket) return;
    candidateList.replaceChildren(...candidates.map(candidateNode));
    duplicateBox.hidden = candidates.length === 0;
  } catch {
    // a hint only: without the network the citizen simply reports
  }
}

function candidateNode(candidate) {
  const button = el("button", { type: "button", class: "support" }, "我也遇到了");
  const count = el("span", { class: "muted" }, `${candidate.support_count} 人附议`);
  button.addEventListener("click", () => support(candidate, button, count));
  return el("li", { class: "candidate", dataset: { id: candidate.id } },
    candidate.thumb_url ? el("img", { src: candidate.thumb_url, alt: "" }) : el("span", { class: "nothumb" }),
    el("div", { class: "body" },
      el("div", {}, el("strong", {}, candidate.category ? candidate.category.name : "未分类"), " ",
        statusBadge(candidate.status)),
      el("div", { class: "desc" }, candidate.description || "（无描述）"),
      el("div", { class: "muted" }, `相距约 ${Math.round(candidate.distance_m)} 米 · `, count)),
    button);
}

async function support(candidate, button, count) {
  button.disabled = true;
  try {
    const answer = await api(`/api/v1/reports/${encodeURIComponent(candidate.id)}/support`, { method: "POST" });
    count.textContent = `${answer.support_count} 人附议`;
    button.textContent = answer.already_supported ? "您已附议过" : "已附议，谢谢！";
  } catch (error) {
    button.disabled = false;
    showBanner(error instanceof ApiError ? error.message : "网络中断，请稍后再试");
  }
}

// ---- the draft ------------------------------------------------------------------------------

function saveDraft() {
  const draft = {
    saved_at: Date.now(),
    photos: photos.filter((p) => p.state === "done").map((p) => ({ key: p.key, media: p.media })),
    description: description.value,
    group: (groups.querySelector("input:checked") || {}).value || "",
    category: category.value,
  };
  const empty = !draft.photos.length && !draft.description.trim() && !draft.group;
  try {
    if (empty) localStorage.removeItem(DRAFT_KEY);
    else localStorage.setItem(DRAFT_KEY, JSON.stringify(draft));
  } catch {
    // storage full or disabled: the page still works, only without the draft
  }
}

function dropDraft() {
  try {
    localStorage.removeItem(DRAFT_KEY);
  } catch {
    // nothing was kept
  }
}

function readDraft() {
  try {
    const draft = JSON.parse(localStorage.getItem(DRAFT_KEY));
    return draft && Date.now() - draft.saved_at < DRAFT_DAYS * 86400000 ? draft : null;
  } catch {
    return null;
  }
}

// The photos already uploaded come back as uploaded (their ids are what the report needs).
function restoreDraft() {
  const draft = readDraft();
  if (!draft) return dropDraft();
  for (const kept of draft.photos.slice(0, settings.max_photos)) {
    const photo = { key: kept.key, media: kept.media, state: "done", tries: 0, preview: kept.media.thumb_url || "" };
    photo.node = photoNode(photo);
    photos.push(photo);
    list.append(photo.node);
    show(photo, "done", kept.media.gps ? "已上传·含位置" : "已上传");
  }
  description.value = draft.description || "";
  if (draft.group && groups.querySelector(`input[value="${draft.group}"]`)) chooseGroup(draft.group, draft.category);
  location.setPhotoPoint(firstPhotoPoint());
  if (draft.photos.length || draft.description) showBanner("已恢复您上次未提交的内容。");
}

// ---- submit -------------------------------------------------------------------------------

function refresh() {
  const busy = photos.some((p) => p.state === "uploading");
  submitButton.disabled = Boolean(current) || busy;
  if (!current) submitStatus.textContent = busy ? "照片上传完成后即可提交" : "";
}

function problem() {
  if (!photos.some((p) => p.state === "done")) return "请至少拍摄或选择一张照片";
  if (photos.some((p) => p.state !== "done")) return "有照片未上传成功：请点“重试”或删除它";
  if (!location.fields()) return "还不知道问题在哪里：请在地图上标出位置";
  return null;
}

function payload() {
  const body = {
    media_ids: photos.map((p) => p.media.id),
    description: description.value.trim(),
    ...location.fields(),
  };
  if (isPraise()) body.kind = "praise"; // 文明点赞 names no category
  else if (category.value) body.category = category.value;
  if (!anonymous.checked && contact.value.trim()) body.contact = contact.value.trim();
  if (!anonymous.checked && document.getElementById("notify").checked) body.notify = true; // told as the case moves
  return body;
}

async function onSubmit(event) {
  event.preventDefault();
  formError.textContent = problem() || "";
  if (formError.textContent) return;
  const named = isPraise() ? "文明点赞" : categoryNames.get(category.value);
  const summary = { category: named || null, description: description.value.trim(),
    place: location.describe() };
  lock(true);
  current = await outbox.submit(payload(), summary);
  dropDraft(); // the outbox keeps the submission now, until the server answers
}

function lock(locked) {
  fieldset.disabled = locked;
  submitButton.textContent = locked ? "正在提交…" : "提交上报";
  refresh();
}

function onOutbox({ type, item, attempt, delay, body, error }) {
  if (!current || item.key !== current.key) {
    if (type === "sent") announceEarlier(body);
    if (type === "failed") showBanner(`之前保存在手机上的一条上报未能提交：${error.message}`);
    return;
  }
  if (type === "sending") {
    submitStatus.textContent = attempt > 1 ? `正在重新提交（第 ${attempt} 次）…` : "正在提交…";
    retryNow.hidden = true;
  } else if (type === "retry") {
    const why = error instanceof ApiError ? error.message : "网络中断";
    submitStatus.textContent = `${why}。上报已保存在手机上，${Math.ceil(delay / 1000)} 秒后自动重试，不会重复提交。`;
    retryNow.hidden = false;
  } else if (type === "sent") {
    showReceipt(body);
  } else if (type === "failed") {
    current = null;
    lock(false);
    retryNow.hidden = true;
    formError.textContent = error.message;
    saveDraft(); // back to the form: it is a draft again
  }
  form.dataset.attempts = String(attempt);
}

function showReceipt(report) {
  form.hidden = true;
  const receipt = document.getElementById("receipt");
  document.getElementById("receipt-id").textContent = report.id;
  document.getElementById("receipt-place").textContent =
    [report.grid.street.name, report.grid.community.name, report.unit && `转 ${report.unit.name}`].filter(Boolean).join(" · ");
  document.getElementById("receipt-token").textContent = report.receipt_token || "";
  document.getElementById("receipt-token-box").hidden = !report.receipt_token;
  document.getElementById("receipt-code").textContent = (report.receipt_code || "").replace(/^(.{4})/, "$1 ");
  const link = document.getElementById("receipt-link");
  link.href = `${link.pathname}#${encodeURIComponent(report.id)}`;
  receipt.hidden = false;
  window.scrollTo(0, 0);
}

// A submission left pending by an earlier visit went through now.
function announceEarlier(report) {
  const link = el("a", { href: `${document.getElementById("receipt-link").pathname}#${encodeURIComponent(report.id)}` }, "查看");
  showBanner(`您之前未发送成功的上报 ${report.id} 已提交。`, link);
}

async function copyToken(event) {
  const token = document.getElementById("receipt-token");
  try {
    await navigator.clipboard.writeText(token.textContent);
    event.target.textContent = "已复制";
  } catch {
    window.getSelection().selectAllChildren(token); // no clipboard API off https: let the citizen copy it
    event.target.textContent = "已选中，请长按复制";
  }
}

async function warnIfForgetful() {
  if (!(await persistent())) showBanner("此浏览器无法在本机保存上报记录：提交完成前请不要关闭页面。");
}

for (const input of [document.getElementById("camera"), document.getElementById("gallery")]) {
  input.addEventListener("change", () => addFiles(input));
}
description.addEventListener("input", () => {
  suggestSoon();
  saveDraft();
});
groups.addEventListener("change", (event) => chooseGroup(event.target.value));
category.addEventListener("change", () => {
  markSuggestion();
  saveDraft();
  lookForDuplicates();
});
location.onChange(lookForDuplicates);
anonymous.addEventListener("change", () => {
  document.getElementById("contact-field").hidden = anonymous.checked;
  document.getElementById("notify-field").hidden = anonymous.checked;
});
form.addEventListener("submit", onSubmit);
retryNow.addEventListener("click", () => outbox.flush());
document.getElementById("copy-token").addEventListener("click", copyToken);
outbox.subscribe(onOutbox);
outbox.flush();
restoreDraft();
location.locate();
warnIfForgetful();
refresh();
