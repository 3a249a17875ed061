// 公开地图 (templates/public/map.html): the public reports of the visible area on a Leaflet map and
// as a list, filtered by group and status; subscribe to the map centre's circle by e-mail.
import { el, formatTime, settings, tileMap, toMap } from "../shared/page.js";

const { crs } = settings.map;
const filters = document.getElementById("filters");
const list = document.getElementById("reports");
const summary = document.getElementById("summary");
const markers = new Map(); // report id → circle marker
let pending = null; // the fetch in flight, aborted by a newer one
let timer = null;

const map = tileMap("map", 15, { zoomControl: true });
const layer = L.layerGroup().addTo(map);
watchTiles();
map.on("moveend", schedule);
filters.addEventListener("change", schedule);
document.getElementById("subscribe-form").addEventListener("submit", subscribe);
load();

// A point on the tiles back to WGS-84: one step of the inverse of toMap, good to a metre or so.
function fromMap(lat, lon) {
  const [mlat, mlon] = toMap(crs, lat, lon);
  return [lat - (mlat - lat), lon - (mlon - lon)];
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(load, 250);
  updateFeedLink();
}

function query() {
  const bounds = map.getBounds();
  const [south, west] = fromMap(bounds.getSouth(), bounds.getWest());
  const [north, east] = fromMap(bounds.getNorth(), bounds.getEast());
  const params = new URLSearchParams({ format: "geojson", bbox: [west, south, east, north].map((v) => v.toFixed(6)).join(",") });
  for (const [name, value] of new FormData(filters)) if (value) params.set(name, value);
  return params;
}

async function load() {
  pending?.abort();
  pending = new AbortController();
  try {
    const response = await fetch(`${settings.reports_url}?${query()}`, { signal: pending.signal });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error?.message || "加载失败");
    show(body);
  } catch (err) {
    if (err.name !== "AbortError") summary.textContent = `案件加载失败：${err.message}`;
  }
}

function show(collection) {
  layer.clearLayers();
  markers.clear();
  list.replaceChildren(...collection.features.map(item));
  const count = collection.features.length;
  summary.textContent = count
    ? `本区域 ${count} 件公开案件${collection.truncated ? `（只显示最新 ${collection.limit} 件，请放大地图）` : ""}`
    : "本区域暂无公开案件";
  openFromHash();
}

function item(feature) {
  const report = feature.properties;
  const [lon, lat] = feature.geometry.coordinates;
  const closed = ["closed", "rated"].includes(report.status);
  const marker = L.circleMarker(toMap(crs, lat, lon), {
    radius: report.approximate ? 12 : 8,
    color: closed ? "#2e7d32" : "#b71c1c",
    fillOpacity: report.approximate ? 0.25 : 0.7,
  }).addTo(layer);
  marker.bindPopup(() => card(report, "popup"));
  markers.set(report.id, marker);
  const entry = el("li", { id: `report-${report.id}`, class: closed ? "closed" : "open" }, card(report, "row"));
  entry.addEventListener("click", () => {
    map.setView(marker.getLatLng(), Math.max(map.getZoom(), 16));
    marker.openPopup();
  });
  return entry;
}

function card(report, kind) {
  const category = report.category ? report.category.name : "未分类";
  return el(
    "article",
    { class: `card ${kind}` },
    report.thumb_url ? el("img", { src: report.thumb_url, alt: `${category}现场照片（已遮挡）`, loading: "lazy" }) : null,
    el(
      "div",
      {},
      el("h2", {}, category),
      el("p", {}, el("span", { class: `badge status-${report.status}` }, report.status_label), ` ${report.street} ${report.community}`),
      el("p", { class: "meta" }, `${report.id} · ${formatTime(report.created_at)}`, report.approximate ? " · 位置约 50 米" : ""),
    ),
  );
}

function openFromHash() {
  const id = new URLSearchParams(location.hash.slice(1)).get("report");
  const marker = id && markers.get(id);
  if (marker) marker.openPopup();
}

// Tiles that never load (offline, blocked host, none configured) leave the list usable and say so.
function watchTiles() {
  const note = document.getElementById("tiles-note");
  let loaded = false;
  map.eachLayer((tiles) => {
    if (!(tiles instanceof L.TileLayer)) return;
    tiles.on("tileload", () => { loaded = true; note.hidden = true; });
    tiles.on("tileerror", () => { if (!loaded) note.hidden = false; });
  });
  if (!settings.map.tile_url) note.hidden = false;
}

function centre() {
  const { lat, lng } = map.getCenter();
  return fromMap(lat, lng).map((v) => Number(v.toFixed(5)));
}

function updateFeedLink() {
  const form = document.getElementById("subscribe-form");
  const [lat, lon] = centre();
  const r = form.elements.radius.value;
  const link = document.getElementById("feed-link");
  link.href = `${settings.circle_feed_url}?${new URLSearchParams({ lat, lon, r })}`;
  link.textContent = `Atom 订阅源（地图中心 ${r >= 1000 ? `${r / 1000} 公里` : `${r} 米`}）`;
}

async function subscribe(event) {
  event.preventDefault();
  const form = event.target;
  const answer = document.getElementById("subscribe-answer");
  const [lat, lon] = centre();
  const body = { email: form.elements.email.value, area: "circle", lat, lon, radius: Number(form.elements.radius.value) };
  answer.textContent = "正在提交……";
  try {
    const response = await fetch(settings.subscribe_url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const reply = await response.json();
    answer.textContent = response.ok ? reply.message : reply.error?.message || "订阅失败";
    answer.className = response.ok ? "answer ok" : "answer failed";
  } catch {
    answer.textContent = "网络不可用，请稍后再试";
    answer.className = "answer failed";
  }
}

document.getElementById("subscribe-form").elements.radius.addEventListener("change", updateFeedLink);
updateFeedLink();
