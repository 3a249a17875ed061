"""Grid cells, a spatial index over them, and a ~100 m lattice generator."""

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from civicreport.geo.distance import distance_m, metres_per_degree


@dataclass(frozen=True)
class GridCell:
    """One grid cell with its administrative chain; geometry is WGS-84 in (lon, lat) order."""

    code: str
    community_code: str
    community_name: str
    street_code: str
    street_name: str
    district_code: str
    district_name: str
    geometry: BaseGeometry


class GridIndex:
    """Immutable STRtree index over grid cells; ties are broken by the smallest cell code."""

    def __init__(self, cells: Iterable[GridCell]) -> None:
        self._cells = tuple(sorted(cells, key=lambda cell: cell.code))
        self._tree = shapely.STRtree([cell.geometry for cell in self._cells])

    def __len__(self) -> int:
        return len(self._cells)

    @property
    def bounds(self) -> tuple[float, ...] | None:
        """(min lon, min lat, max lon, max lat), or None when the index is empty."""
        if not self._cells:
            return None
        return tuple(float(v) for v in shapely.total_bounds(self._tree.geometries))

    def locate(self, lat: float, lon: float) -> GridCell | None:
        """Cell containing the point (boundary included), or None when no cell covers it."""
        hits = self._tree.query(Point(lon, lat), predicate="intersects")
        return self._cells[int(hits.min())] if len(hits) else None

    def nearest(self, lat: float, lon: float) -> tuple[GridCell, float] | None:
        """(cell, geodesic metres to it; 0 inside), or None when the index is empty."""
        if not self._cells:
            return None
        point, geoms = Point(lon, lat), self._tree.geometries
        squash = _squash(lat)
        reach = shapely.distance(_squashed(geoms[self._tree.nearest(point)], lon, squash), point)
        # Squashing scales longitudes by `squash`, which exceeds 1 near the equator: any cell
        # within `reach` squashed lies within reach / min(squash, 1) in plain degrees.
        slack = reach / min(squash, 1.0) * (1 + 1e-9) + 1e-12  # keep the first cell despite rounding
        found = np.sort(self._tree.query(point, predicate="dwithin", distance=slack))
        local = _squashed(geoms[found], lon, squash)
        best = int(np.argmin(shapely.distance(local, point)))
        near, _ = nearest_points(local[best], point)
        return self._cells[found[best]], distance_m(lat, lon, near.y, lon + (near.x - lon) / squash)


def _squash(lat: float) -> float:
    """Longitude shrink factor that makes degrees locally isotropic around lat."""
    m_lat, m_lon = metres_per_degree(lat)
    return max(m_lon, 1.0) / m_lat


def _squashed(geoms: np.ndarray, lon: float, squash: float) -> np.ndarray:
    """Geometries with longitudes shrunk by squash about lon (a local equal-metre frame)."""
    return shapely.transform(geoms, lambda coords: coords * (squash, 1.0) + (lon * (1.0 - squash), 0.0))


def lattice(south: float, west: float, north: float, east: float, cell_m: float = 100.0) -> list[list[Polygon]]:
    """Rows (north to south) of ~cell_m square cells covering the box; raises ValueError on a bad box."""
    if not (south < north and west < east and cell_m > 0):
        raise ValueError("need south < north, west < east and cell_m > 0")
    m_lat, m_lon = metres_per_degree((south + north) / 2.0)
    lats = _edges(south, north, cell_m / m_lat)[::-1]
    lons = _edges(west, east, cell_m / m_lon)
    return [
        [box(lons[j], lats[i + 1], lons[j + 1], lats[i]) for j in range(len(lons) - 1)] for i in range(len(lats) - 1)
    ]


def _edges(start: float, stop: float, step: float) -> list[float]:
    """Edge coordinates from start in steps of step, the last one at or past stop."""
    count = max(1, math.ceil((stop - start) / step - 1e-9))
    return [start + step * i for i in range(count + 1)]
