// Where the problem is: the phone's position, a pin the citizen drags on the map, or the photo's GPS.
// Leaflet is loaded only when the map is opened, so a phone whose GPS works never downloads it.

import { el, settings, tileMap, toMap, wgs84ToGcj02 } from "../shared/page.js";
import { api } from "./phone.js";

const SOURCE_LABELS = { device: "手机定位", manual: "地图选点", exif: "照片拍摄位置" };
const status = document.getElementById("place");
const photoLine = document.getElementById("photo-place");
const usePhoto = document.getElementById("use-photo-place");
const adjust = document.getElementById("adjust-place");
const mapBox = document.getElementById("map");
const mapHint = document.getElementById("map-hint");

let place = null; // {source, lat, lon, crs, accuracy}; lat/lon in crs
let photoPoint = null; // WGS-84 GPS of the first photo that has one
let photoOutside = false; // that GPS lies outside the service area (a photo taken elsewhere)
let devicePlace = null; // the phone's own position, to fall back on when the photo's is no use
let area = null; // what /grid/locate said about the place: text, or an error
let map = null;
let pin = null;
let lookup = 0; // only the latest area lookup may draw
const listeners = []; // told whenever the place changes (the duplicate hint)

// The fields the report carries; with the photo's GPS the server reads it from the photo itself.
export function fields() {
  if (!place) return null;
  if (place.source === "exif") return {};
  const result = { lat: place.lat, lon: place.lon, crs: place.crs, location_source: place.source };
  if (place.accuracy != null) result.accuracy = Math.min(Math.round(place.accuracy), 100000);
  return result;
}

// The place as a point for the API ({lat, lon, crs}), whatever it came from; null while unknown.
export function point() {
  return place && { lat: place.lat, lon: place.lon, crs: place.crs };
}

export function onChange(listener) {
  listeners.push(listener);
}

export function describe() {
  return place ? `${SOURCE_LABELS[place.source]}${area && area.text ? `：${area.text}` : ""}` : "";
}

export function locate() {
  if (!navigator.geolocation) return fallBack("此浏览器不支持定位");
  navigator.geolocation.getCurrentPosition(
    (position) => {
      if (place && place.source === "manual") return; // the citizen already chose on the map
      const { latitude, longitude, accuracy } = position.coords;
      devicePlace = { source: "device", lat: latitude, lon: longitude, crs: "wgs84", accuracy };
      setPlace(devicePlace);
    },
    (error) => fallBack(error.code === error.PERMISSION_DENIED ? "未允许定位" : "暂时无法定位"),
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
  );
}

function fallBack(reason) {
  if (place) return;
  status.textContent = `${reason}，请在地图上标出问题位置。`;
  openMap();
}

// Called whenever the photos change: ``point`` is the first photo GPS (WGS-84) or null.
export function setPhotoPoint(point) {
  const same = point && photoPoint && point.lat === photoPoint.lat && point.lon === photoPoint.lon;
  photoPoint = point;
  if (!same) photoOutside = false;
  if (!point && place && place.source === "exif") place = null;
  if (point && !photoOutside && (!place || place.source === "exif")) {
    setPlace({ source: "exif", lat: point.lat, lon: point.lon, crs: "wgs84" });
  } else {
    render();
  }
  if (point && !same) checkPhotoPoint(point);
}

// A photo taken far away (another city, a wrong clock of the GPS) cannot place the report: say so,
// and go back to the phone's position or the map.
async function checkPhotoPoint(point) {
  try {
    await api(`/api/v1/grid/locate?lat=${point.lat}&lon=${point.lon}&crs=wgs84`);
  } catch (error) {
    const still = photoPoint && photoPoint.lat === point.lat && photoPoint.lon === point.lon;
    if (error.code !== "outside_service_area" || !still) return;
    photoOutside = true;
    if (place && place.source === "exif") {
      place = null;
      if (devicePlace) setPlace(devicePlace);
      else fallBack("照片位置不在服务范围内");
    }
    render();
  }
}

function setPlace(next) {
  place = next;
  area = null;
  render();
  if (pin) pin.setLatLng(mapPoint(place));
  describeArea(place);
  listeners.forEach((listener) => listener(place));
}

async function describeArea(target) {
  const mine = ++lookup;
  try {
    const found = await api(`/api/v1/grid/locate?lat=${target.lat}&lon=${target.lon}&crs=${target.crs}`);
    if (mine === lookup) area = { text: `${found.district.name} ${found.street.name} ${found.community.name}` };
  } catch (error) {
    if (mine === lookup) area = error.status ? { error: error.message } : null; // offline: say nothing
  }
  if (mine === lookup) render();
}

function render() {
  usePhoto.hidden = !photoPoint || photoOutside || !place || place.source === "exif";
  photoLine.hidden = !photoPoint;
  photoLine.classList.toggle("error", photoOutside);
  if (photoOutside) {
    photoLine.textContent = "照片位置不在服务范围内，请以手机定位或地图选点为准。";
  } else if (photoPoint) {
    const gap = place && place.source !== "exif" ? gapM(place, photoPoint) : null;
    photoLine.textContent = `照片带有拍摄位置（${photoPoint.lat.toFixed(5)}, ${photoPoint.lon.toFixed(5)}）`
      + (gap != null ? `，距所选位置${distanceText(gap)}` : "");
  }
  if (!place) return;
  const accuracy = place.accuracy != null ? `（精度约 ${Math.round(place.accuracy)} 米）` : "";
  status.replaceChildren(...[
    el("strong", {}, `${SOURCE_LABELS[place.source]}${accuracy}`),
    area && area.text ? area.text : `${place.lat.toFixed(5)}, ${place.lon.toFixed(5)}`,
    area && area.error ? el("span", { class: "error", role: "alert" }, ` ${area.error}`) : null,
  ].filter(Boolean));
}

function distanceText(metres) {
  return metres < 1000 ? `约 ${metres} 米` : `约 ${(metres / 1000).toFixed(1)} 公里`;
}

function gapM(from, photo) {
  const [lat, lon] = from.crs === "gcj02" ? wgs84ToGcj02(photo.lat, photo.lon) : [photo.lat, photo.lon];
  return Math.round(distanceM(from.lat, from.lon, lat, lon));
}

// Great-circle distance in metres: enough to tell the citizen how far apart two points are.
function distanceM(lat1, lon1, lat2, lon2) {
  const rad = Math.PI / 180;
  const a = Math.sin((lat2 - lat1) * rad / 2) ** 2
    + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin((lon2 - lon1) * rad / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(a));
}

// Where a place goes on the map's tiles (GCJ-02 tiles need WGS-84 points shifted).
function mapPoint(target) {
  return target.crs === "wgs84" ? toMap(settings.map.crs, target.lat, target.lon) : [target.lat, target.lon];
}

function chooseOnMap(latlng) {
  const crs = settings.map.crs === "gcj02" ? "gcj02" : "wgs84";
  setPlace({ source: "manual", lat: latlng.lat, lon: latlng.lng, crs });
}

function loadLeaflet() {
  const { js, css } = settings.leaflet;
  const sheet = new Promise((resolve, reject) => {
    document.head.append(el("link", { rel: "stylesheet", href: css, onload: resolve, onerror: reject }));
  });
  const script = new Promise((resolve, reject) => {
    document.head.append(el("script", { src: js, onload: resolve, onerror: reject }));
  });
  return Promise.all([sheet, script]);
}

export async function openMap() {
  mapBox.hidden = false;
  mapHint.hidden = false;
  adjust.hidden = true;
  if (map) return;
  try {
    await loadLeaflet();
  } catch {
    mapBox.hidden = true;
    adjust.hidden = false;
    status.textContent = "地图加载失败，请检查网络后重试。";
    return;
  }
  const { center, crs } = settings.map;
  const start = place ? mapPoint(place) : photoPoint ? mapPoint({ ...photoPoint, crs: "wgs84" }) : toMap(crs, ...center);
  map = tileMap(mapBox, 17, { start, zoomControl: true });
  if (map.tilesMissing) explainNoTiles();
  map.on("notiles", explainNoTiles);
  const icon = L.divIcon({ className: "pin", html: "<span></span>", iconSize: [0, 0] });
  pin = L.marker(start, { draggable: true, icon, keyboard: true, title: "问题位置" }).addTo(map);
  pin.on("dragend", () => chooseOnMap(pin.getLatLng()));
  map.on("click", (event) => {
    pin.setLatLng(event.latlng);
    chooseOnMap(event.latlng);
  });
}

// The map still works without its picture: a tap or the pin gives the point, the line above names the community.
function explainNoTiles() {
  mapHint.textContent = "地图底图未能加载，但仍可点按方框内或拖动红色图钉标出位置，上方会显示所在街道和社区。";
}

usePhoto.addEventListener("click", () => setPlace({ source: "exif", lat: photoPoint.lat, lon: photoPoint.lon, crs: "wgs84" }));
adjust.addEventListener("click", openMap);
