// Photos for a declaration, a 实事清单 note or a finished order: taken or chosen on the phone and
// uploaded at once to POST /api/v1/media with the staff token (a step may claim only its own
// user's uploads). HEIC is fine: the server converts it and sends back a blurred thumbnail.
import { ApiError, el, settings } from "../shared/page.js";
import { newId } from "../mobile/phone.js";
import { authHeaders } from "./staff.js";

// XMLHttpRequest rather than fetch: its upload events show progress on a slow phone network.
function send(photo) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    photo.xhr = xhr;
    xhr.open("POST", "/api/v1/media");
    xhr.responseType = "json";
    xhr.setRequestHeader("Idempotency-Key", photo.key);
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) photo.show("uploading", `上传中 ${Math.round(event.loaded / event.total * 100)}%`);
    });
    xhr.addEventListener("loadend", () => {
      photo.xhr = null;
      if (xhr.status === 200 || xhr.status === 201) resolve(xhr.response);
      else if (xhr.status) reject(new ApiError(xhr.status, xhr.response));
      else reject(new TypeError("网络中断，请重试"));
    });
    const body = new FormData();
    body.append("photo", photo.file, photo.file.name || "photo.jpg");
    xhr.send(body);
  });
}

// A photo picker: {node, ids(), busy(), clear()}; ``onChange`` runs whenever an upload settles.
export function photoPicker(onChange = () => {}) {
  const photos = [];
  const list = el("ul", { class: "uploads" });
  const error = el("p", { class: "error", role: "alert" });
  const input = el("input", { type: "file", accept: "image/*,.heic,.heif", multiple: true, name: "photos" });

  function add(file) {
    if (photos.length >= settings.max_photos) {
      error.textContent = `每次最多 ${settings.max_photos} 张照片`;
      return;
    }
    if (file.size > settings.max_photo_bytes) {
      error.textContent = `照片 ${file.name} 超过 ${Math.floor(settings.max_photo_bytes / 1048576)} MB`;
      return;
    }
    const preview = URL.createObjectURL(file);
    const image = el("img", { src: preview, alt: file.name });
    image.addEventListener("error", () => image.removeAttribute("src"), { once: true }); // HEIC before upload
    const state = el("span", { class: "state" }, "等待上传");
    const photo = { file, key: newId(), state: "uploading", media: null };
    photo.node = el("li", { class: "upload", dataset: { state: "uploading" } }, image, state,
      el("button", { type: "button", class: "remove", "aria-label": "删除这张照片", onclick: () => remove(photo) }, "删除"));
    photo.show = (name, text) => {
      photo.state = name;
      photo.node.dataset.state = name;
      state.textContent = text;
    };
    photos.push(photo);
    list.append(photo.node);
    upload(photo, image, preview);
  }

  async function upload(photo, image, preview) {
    try {
      photo.media = await send(photo);
      if (photo.media.thumb_url) image.src = photo.media.thumb_url; // upright, blurred, HEIC shown
      URL.revokeObjectURL(preview);
      photo.show("done", "已上传");
    } catch (failure) {
      photo.show("failed", failure.message);
    }
    onChange();
  }

  function remove(photo) {
    if (photo.xhr) photo.xhr.abort();
    photos.splice(photos.indexOf(photo), 1);
    photo.node.remove();
    onChange();
  }

  input.addEventListener("change", () => {
    error.textContent = "";
    [...input.files].forEach(add);
    input.value = "";
    onChange();
  });
  const node = el("div", { class: "picker" },
    el("label", { class: "file" }, "拍照或选择照片", input), list, error);
  return {
    node,
    ids: () => photos.filter((p) => p.state === "done").map((p) => p.media.id),
    busy: () => photos.some((p) => p.state === "uploading"),
    clear: () => photos.splice(0).forEach((p) => p.node.remove()),
  };
}

// Thumbnails of a record's photos (blurred views), each opening its larger image.
export function thumbs(photos) {
  if (!photos || !photos.length) return null;
  return el("div", { class: "thumbs" }, photos.map((p) =>
    el("a", { href: p.url || p.thumb_url, target: "_blank", rel: "noopener" },
      el("img", { src: p.thumb_url || p.url, alt: "照片", loading: "lazy" }))));
}
