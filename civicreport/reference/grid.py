"""Point → grid cell → community → street → district, through the in-memory index."""

from sqlalchemy import select

from civicreport import registry
from civicreport.errors import ValidationFailed
from civicreport.extensions import db
from civicreport.geo.crs import SUPPORTED_CRS, to_wgs84
from civicreport.geo.geojson import parse_geometry
from civicreport.geo.grid import GridCell, GridIndex
from civicreport.reference.areas import Community, District, GridCellArea, Street


def grid_index():
    """The process's grid index, built from the database on first use."""
    slot = registry.current().grid
    if slot.index is None:
        with slot.lock:
            if slot.index is None:
                slot.index = GridIndex(_load_cells())
    return slot.index


def invalidate_grid_index():
    """Drop the cached index so the next lookup sees grid changes."""
    slot = registry.current().grid
    with slot.lock:
        slot.index = None


def _load_cells():
    rows = db.session.execute(
        select(GridCellArea, Community, Street, District)
        .join(Community, GridCellArea.community_code == Community.code)
        .join(Street, Community.street_code == Street.code)
        .join(District, Street.district_code == District.code)
    )
    return [
        GridCell(
            code=cell.code,
            community_code=community.code,
            community_name=community.name,
            street_code=street.code,
            street_name=street.name,
            district_code=district.code,
            district_name=district.name,
            geometry=parse_geometry(cell.boundary),
        )
        for cell, community, street, district in rows
    ]


def areas_of(cell):
    """(community, street, district) rows of ``cell``, in one query."""
    return db.session.execute(
        select(Community, Street, District)
        .join(Street, Community.street_code == Street.code)
        .join(District, Street.district_code == District.code)
        .where(Community.code == cell.community_code)
    ).one()


def normalise_point(lat, lon, crs):
    """Convert a client point to WGS-84; 422 for an unknown CRS or impossible coordinates."""
    crs = (crs or "wgs84").lower()
    if crs not in SUPPORTED_CRS:
        raise ValidationFailed(
            "不支持的坐标系",
            code="unsupported_crs",
            details={"crs": crs, "supported": list(SUPPORTED_CRS)},
        )
    try:
        lat, lon = to_wgs84(lat, lon, crs)
    except ValueError as exc:
        raise ValidationFailed("坐标超出范围", code="invalid_coordinates", details={"reason": str(exc)}) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # bd09 (-90, -180) lands past the pole: a 500 in nearest()
        raise ValidationFailed(
            "该位置不在本系统服务范围内", code="outside_service_area", details={"lat": lat, "lon": lon}
        )
    return lat, lon


def locate(lat, lon):
    """The grid cell holding a WGS-84 point; 422 ``outside_service_area`` naming the nearest area."""
    index = grid_index()
    cell = index.locate(lat, lon)
    if cell is not None:
        return cell
    nearest = index.nearest(lat, lon)
    details = {"lat": lat, "lon": lon}
    if nearest is not None:
        near_cell, distance = nearest
        details.update(
            nearest_area=f"{near_cell.district_name}{near_cell.street_name}{near_cell.community_name}",
            nearest_grid=near_cell.code,
            distance_m=round(distance, 1),
        )
    raise ValidationFailed("该位置不在本系统服务范围内", code="outside_service_area", details=details)
