"""Loading reference data into the database: categories, real grid files, calendar days."""

import csv
import json
from importlib import resources
from pathlib import Path

from civicreport import progress
from civicreport.errors import ValidationFailed
from civicreport.extensions import db
from civicreport.geo.crs import gcj02_to_wgs84
from civicreport.geo.distance import metres_per_degree
from civicreport.geo.geojson import parse_geometry, to_geojson_text, transform_geometry
from civicreport.reference.areas import Community, GridCellArea, Street
from civicreport.reference.calendar import CalendarDay
from civicreport.reference.categories import Category
from civicreport.reference.grid import invalidate_grid_index


def data_file(name):
    return resources.files("civicreport") / "data" / name


def load_categories(path=None):
    """Insert or update every category in the CSV; returns how many rows were read."""
    source = Path(path) if path else data_file("categories.csv")
    with source.open(encoding="utf-8") as lines:
        rows = list(csv.DictReader(lines))
    for row in rows:
        category = db.session.get(Category, row["code"]) or Category(code=row["code"])
        category.name = row["name"]
        category.name_en = row["name_en"]
        category.group = row["group"]
        category.major_code = row["major_code"]
        category.major_name = row["major_name"]
        category.standard = row["standard"] == "true"
        category.default_unit_kind = row["default_unit_kind"]
        category.urgency = row["urgency"]
        category.deadline_hours = int(row["deadline_hours"])
        category.keywords = row["keywords"]
        category.source = row["source"]
        category.active = True
        db.session.add(category)
    db.session.commit()
    return len(rows)


def import_grid(geojson_text, crs):
    """Import community (12-digit) and grid cell (15-digit) polygons from a FeatureCollection.

    Everything is validated before anything is written; raises ValidationFailed naming
    the first bad feature. Returns (communities, cells) counts.
    """
    if crs not in ("wgs84", "gcj02"):
        raise ValidationFailed("坐标系只能是 wgs84 或 gcj02", code="unsupported_crs")
    features = _features(geojson_text)
    with progress.stage("checking grid features", total=len(features), unit="features") as bar:
        parsed = []
        for index, feature in enumerate(features):
            parsed.append(_parse_feature(index, feature, crs))
            bar.advance()
    communities = sorted((p for p in parsed if len(p[0]) == 12), key=lambda p: p[0])
    cells = [p for p in parsed if len(p[0]) == 15]
    known = {c[0] for c in communities}
    with progress.stage("writing communities and grid cells", total=len(parsed), unit="features") as bar:
        for code, name, geom in communities:
            if db.session.get(Street, code[:9]) is None:
                raise ValidationFailed("社区所属街道不存在", code="unknown_street", details={"code": code})
            db.session.merge(
                Community(code=code, name=name or code, street_code=code[:9], boundary=to_geojson_text(geom))
            )
            bar.advance()
        for code, _, geom in cells:
            if code[:12] not in known and db.session.get(Community, code[:12]) is None:
                raise ValidationFailed("网格所属社区不存在", code="unknown_community", details={"code": code})
            db.session.merge(grid_row(code, code[:12], geom))
            bar.advance()
        db.session.commit()
    invalidate_grid_index()
    return len(communities), len(cells)


def _features(geojson_text):
    try:
        doc = json.loads(geojson_text)
    except ValueError as exc:
        raise ValidationFailed("GeoJSON 解析失败", code="invalid_geojson", details={"reason": str(exc)}) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise ValidationFailed("需要 GeoJSON FeatureCollection", code="invalid_geojson")
    return doc.get("features") or []


def _parse_feature(index, feature, crs):
    props = (feature or {}).get("properties") or {}
    code = str(props.get("code", ""))
    if not (code.isdigit() and len(code) in (12, 15)):
        raise ValidationFailed(
            "要素缺少 12 位社区或 15 位网格编码",
            code="invalid_area_code",
            details={"feature": index, "code": code},
        )
    try:
        geom = parse_geometry(feature.get("geometry"))
    except ValueError as exc:
        raise ValidationFailed(
            "几何图形无效", code="invalid_geometry", details={"feature": index, "code": code, "reason": str(exc)}
        ) from None
    if crs == "gcj02":
        geom = transform_geometry(geom, gcj02_to_wgs84)
    return code, props.get("name"), geom


def set_calendar_day(day, kind, name=None):
    """Override the working calendar for ``day``; ``official`` removes the override."""
    row = db.session.get(CalendarDay, day)
    if kind == "official":
        if row is not None:
            db.session.delete(row)
    else:
        row = row or CalendarDay(day=day)
        row.kind, row.name = kind, name
        db.session.add(row)
    db.session.commit()


def grid_row(code, community_code, geom):
    centre = geom.centroid
    m_lat, m_lon = metres_per_degree(centre.y)
    return GridCellArea(
        code=code,
        community_code=community_code,
        boundary=to_geojson_text(geom),
        centroid_lat=centre.y,
        centroid_lon=centre.x,
        area_m2=round(geom.area * m_lat * m_lon, 1),
    )
