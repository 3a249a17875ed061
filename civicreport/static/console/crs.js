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
