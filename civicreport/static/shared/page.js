// What the console and the phone pages both use: the page's settings, the API's error shape, the
// element builder, times, status badges, and the map with the shift its tiles may need.

// Every page carries its settings in <script id="page-settings" type="application/json">.
export const settings = JSON.parse(document.getElementById("page-settings").textContent);

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

// Times in the city's time zone: "2026-12-07 09:30" on the console, "12-07 09:30" on the narrower phone.
const CLOCK = { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false };
const withYear = new Intl.DateTimeFormat("zh-CN", { timeZone: settings.timezone, year: "numeric", ...CLOCK });
const withoutYear = new Intl.DateTimeFormat("zh-CN", { timeZone: settings.timezone, ...CLOCK });

function format(formatter, iso) {
  return iso ? formatter.format(new Date(iso)).replaceAll("/", "-") : "—";
}

export function formatTime(iso) {
  return format(withYear, iso);
}

export function formatDayTime(iso) {
  return format(withoutYear, iso);
}

// A case status as a badge; ``label`` for a state the server does not know (the phone's "待发送").
export function statusBadge(status, label) {
  return el("span", { class: `badge status-${status}`, dataset: { status } }, label || settings.statuses[status] || status);
}

// WGS-84 → GCJ-02 (the forward formula of civicreport/geo/crs.py), for maps whose tiles are GCJ-02.
const A = 6378245.0; // Krasovsky 1940 semi-major axis
const EE = 0.00669342162296594323; // its first eccentricity squared

function outsideChina(lat, lon) {
  return !(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271);
}

function waves(a, b) {
  const { sin, PI } = Math;
  return (20 * sin(6 * a * PI) + 20 * sin(2 * a * PI)) * 2 / 3
    + (20 * sin(b * PI) + 40 * sin(b / 3 * PI)) * 2 / 3;
}

function offsetLat(x, y) {
  const { sin, sqrt, abs, PI } = Math;
  return -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(abs(x)) + waves(x, y)
    + (160 * sin(y / 12 * PI) + 320 * sin(y * PI / 30)) * 2 / 3;
}

function offsetLon(x, y) {
  const { sin, sqrt, abs, PI } = Math;
  return 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(abs(x)) + waves(x, x)
    + (150 * sin(x / 12 * PI) + 300 * sin(x / 30 * PI)) * 2 / 3;
}

export function wgs84ToGcj02(lat, lon) {
  if (outsideChina(lat, lon)) return [lat, lon];
  const radLat = lat * Math.PI / 180;
  const magic = 1 - EE * Math.sin(radLat) ** 2;
  const sqrtMagic = Math.sqrt(magic);
  const dLat = offsetLat(lon - 105, lat - 35) * 180 / ((A * (1 - EE)) / (magic * sqrtMagic) * Math.PI);
  const dLon = offsetLon(lon - 105, lat - 35) * 180 / (A / sqrtMagic * Math.cos(radLat) * Math.PI);
  return [lat + dLat, lon + dLon];
}

// Where a stored WGS-84 point goes on the configured tiles.
export function toMap(crs, lat, lon) {
  return crs === "gcj02" ? wgs84ToGcj02(lat, lon) : [lat, lon];
}

// A Leaflet map (Leaflet already loaded) on the configured tiles, viewing ``start`` (a point on
// those tiles; the configured centre without one) at ``zoom``; ``options`` go to L.map.
// Without tiles (none configured, or the tile host unreachable) the map says so and stays usable:
// ``map.tilesMissing`` is set and a "notiles" event fired, for pages that explain more.
export function tileMap(element, zoom, { start, ...options } = {}) {
  const { tile_url: url, attribution, center, crs } = settings.map;
  const map = L.map(element, options).setView(start || toMap(crs, ...center), zoom);
  if (!url) {
    noTiles(map, "未配置地图底图");
    return map;
  }
  let loaded = false;
  let judging = null; // after a failed tile, a moment for the others before calling the tiles missing
  L.tileLayer(url, { attribution, maxZoom: 19 })
    .on("tileload", () => { loaded = true; })
    .on("tileerror", () => {
      judging ??= setTimeout(() => loaded || noTiles(map, "地图底图加载失败"), TILE_PATIENCE_MS);
    })
    .addTo(map);
  return map;
}

const TILE_PATIENCE_MS = 3000;

function noTiles(map, why) {
  map.tilesMissing = true;
  map.getContainer().classList.add("no-tiles");
  const note = L.control({ position: "bottomleft" });
  note.onAdd = () => el("p", { class: "no-tiles-note", role: "status" }, why);
  note.addTo(map);
  map.fire("notiles");
}
