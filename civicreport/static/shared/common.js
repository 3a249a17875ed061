// Shared by the console and the phone pages.

// An error answer of the API, in its one shape {"error": {"code", "message", "details"}}.
export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `请求失败（HTTP ${status}）`);
    this.status = status;
    this.code = error.code;
    this.details = error.details;
  }
}

// Element builder: el("li", {class: "x", dataset: {id: 1}, onclick: fn}, "text", child) — text is never parsed as HTML.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.flat(Infinity).filter((child) => child != null && child !== false));
  return node;
}
