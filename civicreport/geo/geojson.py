"""GeoJSON polygons in and out (shapely order is (lon, lat))."""

import json

import numpy as np
import shapely
from shapely.errors import ShapelyError
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from civicreport.geo.crs import Converter

_ACCEPTED = ("Polygon", "MultiPolygon")


def parse_geometry(obj: object) -> BaseGeometry:
    """Parse a GeoJSON Polygon/MultiPolygon dict or text; raises ValueError if not a valid one."""
    if isinstance(obj, (str, bytes)):
        try:
            obj = json.loads(obj)
        except ValueError as exc:
            raise ValueError(f"geometry is not valid JSON: {exc}") from None
    if not isinstance(obj, dict) or obj.get("type") not in _ACCEPTED:
        kind = obj.get("type") if isinstance(obj, dict) else type(obj).__name__
        raise ValueError(f"geometry must be a Polygon or MultiPolygon, got {kind!r}")
    try:
        geom = shape(obj)
    except (TypeError, ValueError, KeyError, IndexError, ShapelyError) as exc:
        raise ValueError(f"malformed {obj['type']} coordinates: {exc}") from None
    if geom.is_empty:
        raise ValueError("geometry is empty")
    if not geom.is_valid:
        raise ValueError(f"invalid geometry: {shapely.is_valid_reason(geom)}")
    west, south, east, north = geom.bounds
    if not (west >= -180 and east <= 180 and south >= -90 and north <= 90):
        raise ValueError("coordinates must be (lon, lat) degrees within range")
    return geom


def transform_geometry(geom: BaseGeometry, fn: Converter) -> BaseGeometry:
    """New 2-D geometry with every vertex mapped by fn(lat, lon) -> (lat, lon); fn's errors propagate."""

    def convert(coords: np.ndarray) -> np.ndarray:
        out = [fn(lat, lon)[::-1] for lon, lat in coords]
        return np.array(out, dtype=float).reshape(-1, 2)

    return shapely.transform(geom, convert)


def to_geojson_text(geom: BaseGeometry) -> str:
    """Compact GeoJSON text of geom, coordinates rounded to 7 decimals."""
    rounded = shapely.transform(geom, lambda coords: np.round(coords, 7))
    return json.dumps(mapping(rounded), separators=(",", ":"))
