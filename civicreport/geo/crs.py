"""WGS-84 / GCJ-02 / BD-09 conversions (all coordinates as (lat, lon) degrees)."""

import math
from collections.abc import Callable
from typing import SupportsFloat

LatLon = tuple[float, float]
Converter = Callable[[float, float], LatLon]

SUPPORTED_CRS = ("wgs84", "gcj02", "bd09")

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0
_TOLERANCE_DEG = 1e-9
_MAX_ITERATIONS = 30


def outside_china(lat: float, lon: float) -> bool:
    """True when the point is outside the rough mainland-China box GCJ-02 applies to."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _offset_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _offset_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _invert(forward: Converter, lat: float, lon: float) -> LatLon:
    """Solve forward(est) == (lat, lon) by fixed-point iteration; returns the last estimate at the cap."""
    est_lat, est_lon = lat, lon
    for _ in range(_MAX_ITERATIONS):
        f_lat, f_lon = forward(est_lat, est_lon)
        d_lat, d_lon = f_lat - lat, f_lon - lon
        if abs(d_lat) < _TOLERANCE_DEG and abs(d_lon) < _TOLERANCE_DEG:
            break
        est_lat, est_lon = est_lat - d_lat, est_lon - d_lon
    return est_lat, est_lon


def wgs84_to_gcj02(lat: float, lon: float) -> LatLon:
    """Forward GCJ-02 obfuscation; points outside China are returned unchanged."""
    if outside_china(lat, lon):
        return lat, lon
    d_lat = _offset_lat(lon - 105.0, lat - 35.0)
    d_lon = _offset_lon(lon - 105.0, lat - 35.0)
    rad_lat = math.radians(lat)
    magic = 1.0 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = d_lat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = d_lon * 180.0 / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lat + d_lat, lon + d_lon


def gcj02_to_wgs84(lat: float, lon: float) -> LatLon:
    """Iterative inverse of wgs84_to_gcj02; outside China the input is returned unchanged."""
    if outside_china(lat, lon):
        return lat, lon
    return _invert(wgs84_to_gcj02, lat, lon)


def gcj02_to_bd09(lat: float, lon: float) -> LatLon:
    """Forward BD-09 transform of a GCJ-02 point."""
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def bd09_to_gcj02(lat: float, lon: float) -> LatLon:
    """Iterative inverse of gcj02_to_bd09 (the usual closed form is only approximate)."""
    return _invert(gcj02_to_bd09, lat, lon)


def wgs84_to_bd09(lat: float, lon: float) -> LatLon:
    """WGS-84 -> GCJ-02 -> BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lon))


def bd09_to_wgs84(lat: float, lon: float) -> LatLon:
    """BD-09 -> GCJ-02 -> WGS-84, both steps iterative."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lat, lon))


_TO_WGS84: dict[str, Converter] = {"wgs84": lambda lat, lon: (lat, lon), "gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS84: dict[str, Converter] = {
    "wgs84": lambda lat, lon: (lat, lon),
    "gcj02": wgs84_to_gcj02,
    "bd09": wgs84_to_bd09,
}


def _checked(lat: SupportsFloat | str, lon: SupportsFloat | str, crs: object, table: dict[str, Converter]) -> LatLon:
    """Validate input and pick the converter; raises ValueError on bad crs or coordinates."""
    name = str(crs).strip().lower()
    if name not in table:
        raise ValueError(f"unknown crs {crs!r}; expected one of {', '.join(SUPPORTED_CRS)}")
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        raise ValueError(f"lat/lon must be numbers, got {lat!r}, {lon!r}") from None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise ValueError("lat/lon must be finite")
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError(f"lat/lon out of range: ({lat}, {lon})")
    return table[name](lat, lon)


def to_wgs84(lat: SupportsFloat | str, lon: SupportsFloat | str, crs: object) -> LatLon:
    """Convert (lat, lon) in crs to WGS-84; raises ValueError on bad crs or coordinates."""
    return _checked(lat, lon, crs, _TO_WGS84)


def from_wgs84(lat: SupportsFloat | str, lon: SupportsFloat | str, crs: object) -> LatLon:
    """Convert WGS-84 (lat, lon) to crs; raises ValueError on bad crs or coordinates."""
    return _checked(lat, lon, crs, _FROM_WGS84)
