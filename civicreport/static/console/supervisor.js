// 值班台: the queue as clustered map markers and a list with the same filters; cases open in the drawer.
import { el, formatTime, settings, statusBadge, tileMap, toMap } from "../shared/page.js";
import { openCase } from "./case.js";
import { api, deadlineBadges, query, showNotice, start } from "./staff.js";

const filters = document.getElementById("filters");
const list = document.getElementById("cases");
const more = document.getElementById("more");
const summary = document.getElementById("summary");
const map = tileMap("map", 14, { maxZoom: 19 });
const clusters = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 }).addTo(map);
const cases = new Map(); // id → {item, row, marker}
const seen = { street: new Map(), unit: new Map() }; // filter choices gathered from the cases loaded
let nextCursor = null;
let ticket = 0; // only the latest load may draw

function itemOf(feature) {
  const [lon, lat] = feature.geometry.coordinates;
  return { ...feature.properties, lat, lon };
}

async function load(append = false) {
  const mine = ++ticket;
  const cursor = append ? nextCursor : null;
  const params = { ...Object.fromEntries(new FormData(filters)), format: "geojson", cursor };
  try {
    const page = await api(`/api/v1/queue?${query(params)}`);
    if (mine !== ticket) return;
    if (!append) clear();
    page.features.map(itemOf).forEach(add);
    nextCursor = page.next_cursor;
    afterLoad(append, page.totals);
  } catch (error) {
    showNotice(error.message);
  }
}

function clear() {
  cases.clear();
  clusters.clearLayers();
  list.replaceChildren();
}

function add(item) {
  const entry = { item, row: caseRow(item), marker: caseMarker(item) };
  cases.set(item.id, entry);
  list.append(entry.row);
  clusters.addLayer(entry.marker);
  remember(item);
}

// ``totals`` are the whole filter's (the server counts them), not the rows loaded so far.
function afterLoad(append, totals) {
  showNotice("");
  more.hidden = !nextCursor;
  summary.dataset.count = totals.count;
  summary.dataset.overdue = totals.overdue;
  summary.textContent = totals.count
    ? `共 ${totals.count} 件，其中超期 ${totals.overdue} 件${nextCursor ? `（已显示 ${cases.size} 件）` : ""}`
    : "没有符合条件的案件";
  fillChoices(filters.elements.street, seen.street);
  fillChoices(filters.elements.unit, seen.unit);
  if (!append && totals.bbox) fitTo(totals.bbox);
}

// The map shows every case of the filter, loaded or not: its extent comes with the totals.
function fitTo([west, south, east, north]) {
  const { crs } = settings.map;
  const bounds = L.latLngBounds([toMap(crs, south, west), toMap(crs, north, east)]);
  map.fitBounds(bounds.pad(0.2), { maxZoom: 17 });
}

function caseRow(item) {
  const place = `${item.street}${item.community}`;
  const when = [`上报 ${formatTime(item.created_at)}`, item.deadline_at && `时限 ${formatTime(item.deadline_at)}`,
    item.unit && item.unit.name].filter(Boolean).join(" · ");
  return el("li", {
    class: rowClass(item), tabindex: 0, dataset: { id: item.id, status: item.status },
    onclick: () => select(item.id), onkeydown: (event) => event.key === "Enter" && select(item.id),
  },
  item.thumb_url ? el("img", { src: item.thumb_url, alt: "", loading: "lazy" }) : el("span", { class: "nothumb" }),
  el("div", { class: "body" },
    el("div", {}, el("strong", {}, item.id), " ", statusBadge(item.status), ...deadlineBadges(item)),
    el("div", {}, item.category ? item.category.name : "未分类", ` · ${place}`),
    el("div", { class: "desc" }, item.description || "（无描述）"),
    el("div", { class: "muted" }, when)));
}

function rowClass(item) {
  return ["case", item.overdue && "overdue", item.warning && "warning"].filter(Boolean).join(" ");
}

function pinIcon(item) {
  return L.divIcon({
    className: `pin status-${item.status}${item.overdue ? " overdue" : ""}`,
    iconSize: [18, 18],
    html: el("span", { dataset: { id: item.id, status: item.status } }),
  });
}

function caseMarker(item) {
  const marker = L.marker(toMap(settings.map.crs, item.lat, item.lon), { icon: pinIcon(item), title: item.id });
  marker.bindTooltip(el("span", {}, item.id, " ", settings.statuses[item.status]));
  return marker.on("click", () => select(item.id));
}

function remember(item) {
  seen.street.set(item.grid.slice(0, 9), item.street); // a grid code starts with its street's code
  if (item.unit) seen.unit.set(item.unit.code, item.unit.name);
}

function fillChoices(select, choices) {
  const chosen = select.value;
  const options = [...choices].map(([code, name]) => el("option", { value: code, selected: code === chosen }, name));
  select.replaceChildren(select.options[0], ...options);
}

function select(id) {
  const entry = cases.get(id);
  list.querySelectorAll(".selected").forEach((row) => row.classList.remove("selected"));
  entry.row.classList.add("selected");
  entry.row.scrollIntoView({ block: "nearest" });
  clusters.zoomToShowLayer(entry.marker, () => entry.marker.openTooltip());
  openCase(id, { onReport: refresh, unitHints: () => [...seen.unit].map(([code, name]) => ({ code, name })) });
}

// The drawer loaded or changed a case: redraw its row and marker from the staff view.
function refresh(report) {
  const entry = cases.get(report.id);
  if (!entry) return;
  const pick = (value) => value && { code: value.code, name: value.name };
  entry.item = {
    ...entry.item, status: report.status, category: pick(report.category), unit: pick(report.unit),
    deadline_at: report.deadline_at, overdue: report.overdue, warning: report.warning,
  };
  const row = caseRow(entry.item);
  row.classList.toggle("selected", entry.row.classList.contains("selected"));
  entry.row.replaceWith(row);
  entry.row = row;
  entry.marker.setIcon(pinIcon(entry.item));
  entry.marker.setTooltipContent(el("span", {}, report.id, " ", settings.statuses[report.status]));
}

filters.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
filters.addEventListener("change", (event) => event.target.name !== "q" && load());
more.addEventListener("click", () => load(true));

start(() => {
  map.invalidateSize();
  load();
});
