// What every console page adds to shared/page.js: the staff login and its token, API calls that
// carry it, the notice line and the deadline badges.

import { ApiError, el, settings } from "../shared/page.js";

const TOKEN_KEY = "civicreport.token";

export function authHeaders() {
  const token = localStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

// fetch() with the bearer token; a 401 sends the user back to the login box.
export async function request(path, { method = "GET", json, form } = {}) {
  const headers = authHeaders();
  let body = form;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  const response = await fetch(path, { method, headers, body });
  if (response.status === 401 && localStorage.getItem(TOKEN_KEY)) {
    localStorage.removeItem(TOKEN_KEY);
    showLogin("登录已失效，请重新登录");
  }
  if (!response.ok) {
    throw new ApiError(response.status, await response.json().catch(() => null));
  }
  return response;
}

// A private file (an original photo) needs the bearer token: fetch it and show
// it in a new window from a blob. A presigned URL of the photo store opens as it is.
export async function openPrivate(event, url, onError) {
  if (new URL(url, location.href).origin !== location.origin) return;
  event.preventDefault();
  const win = window.open("", "_blank");
  try {
    win.location.href = URL.createObjectURL(await (await request(url)).blob());
  } catch (error) {
    win.close();
    onError(error.message);
  }
}

// A console page that opens in a new tab (督办通知书, 月通报, 挂牌督办单): the tab cannot send the
// token, so it opens a short-lived signed link of the page (POST /api/v1/signed-links), a real
// address that prints, reloads and survives being opened directly for a few minutes.
export async function openSigned(event, path, onError) {
  event.preventDefault();
  const win = window.open("", "_blank"); // at once, within the click: later it would be a blocked pop-up
  try {
    const { url } = await api("/api/v1/signed-links", { method: "POST", json: { path } });
    win.location.href = url;
  } catch (error) {
    win.close();
    onError(error.message);
  }
}

export async function api(path, options) {
  return (await request(path, options)).json();
}

export function query(params) {
  const pairs = Object.entries(params).filter(([, value]) => value !== "" && value != null && value !== false);
  return new URLSearchParams(pairs).toString();
}

export function deadlineBadges(item) {
  return [
    item.overdue ? el("span", { class: "badge overdue" }, "超期") : null,
    !item.overdue && item.warning ? el("span", { class: "badge warning" }, "预警") : null,
  ];
}

export function showNotice(message) {
  const notice = document.getElementById("notice");
  notice.textContent = message || "";
  notice.hidden = !message;
}

function showLogin(message) {
  document.getElementById("main").hidden = true;
  document.getElementById("who").hidden = true;
  document.getElementById("login").hidden = false;
  document.getElementById("login-error").textContent = message || "";
}

// The menu shows each role its own pages: a link's data-roles names them (base.html).
function showMenu(role) {
  for (const link of document.querySelectorAll("#menu a[data-roles], .subnav a[data-roles]")) {
    link.hidden = !link.dataset.roles.split(" ").includes(role);
  }
}

function enter(user, onReady) {
  showMenu(user.role);
  document.getElementById("login").hidden = true;
  document.getElementById("main").hidden = false;
  document.getElementById("who").hidden = false;
  const role = [settings.roles[user.role] || user.role, user.unit].filter(Boolean).join(" · ");
  document.getElementById("who-name").textContent = `${user.display_name}（${role}）`;
  onReady(user);
}

async function login(event, onReady) {
  event.preventDefault();
  const form = event.target;
  try {
    const body = await api("/api/v1/auth/login", {
      method: "POST", json: { login: form.login.value.trim(), password: form.password.value },
    });
    localStorage.setItem(TOKEN_KEY, body.token);
    form.reset();
    enter(body.user, onReady);
  } catch (error) {
    showLogin(error.message);
  }
}

async function logout() {
  await request("/api/v1/auth/logout", { method: "POST" }).catch(() => null);
  localStorage.removeItem(TOKEN_KEY);
  window.location.reload();
}

// Show the login box until there is a valid token, then call onReady(user) once per login.
export async function start(onReady) {
  document.getElementById("login-form").addEventListener("submit", (event) => login(event, onReady));
  document.getElementById("logout").addEventListener("click", logout);
  if (!localStorage.getItem(TOKEN_KEY)) return showLogin();
  try {
    enter((await api("/api/v1/auth/me")).user, onReady);
  } catch (error) {
    if (error.status !== 401) showLogin(error.message);
  }
}
