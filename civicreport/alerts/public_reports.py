"""Which reports anyone may see on the public map, its feeds and alert e-mails, and what of each.

One definition serves all three, so a feed never shows what the map hides:

- a problem report (not a 文明点赞 praise report: those are published, reviewed, on the 曝光台 alone)
  that a supervisor has accepted: a report still waiting for 受理 may be spam or abuse, and
  rejected or merged (duplicate) reports are not cases;
- its category, citizen group, status, street and community, dates, support count and the thumb of
  its first photo the privacy pass has blurred; never the description (people type names and phone
  numbers into it), the contact, the reporter or an original;
- its point as ``cases.public_point`` shows it to anyone: a report about what people do is placed
  at the centre of its ~50 m cell, so a map of 不文明行为 cannot pin a person's door, stall or
  parking place; a box or circle matches such a report by that centre, so asking again and again
  with smaller ones finds nothing finer.
"""

from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from civicreport import registry
from civicreport.cases.citizen import citizen_group
from civicreport.cases.models import Report
from civicreport.cases.photo_urls import object_url, public_photos
from civicreport.cases.public_point import COARSE_REACH_M, in_bbox, public_point, widened
from civicreport.cases.status import STATUS_LABELS, STATUSES
from civicreport.errors import NotFound
from civicreport.extensions import db
from civicreport.geo.distance import distance_m, metres_per_degree
from civicreport.reference.areas import Community, Street
from civicreport.reference.lookup import active_categories

HIDDEN_STATES = frozenset({"submitted", "rejected", "duplicate"})
PUBLIC_STATES = tuple(status for status in STATUSES if status not in HIDDEN_STATES)
CIRCLE_MAX_M = 2000.0  # the largest circle an alert or a feed may follow


@dataclass(frozen=True)
class Area:
    """A community or street (``code``), or a circle of ``radius_m`` metres around (lat, lon)."""

    kind: str
    name: str
    code: str | None = None
    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = None


@dataclass(frozen=True)
class Filters:
    bbox: tuple | None = None  # (min lon, min lat, max lon, max lat), WGS-84
    category: str | None = None
    group: str | None = None
    statuses: tuple = ()
    area: Area | None = None
    since: datetime | None = None  # created, or closed, after this instant
    until: datetime | None = None


def area_of_code(code):
    """The community (12 digits) or street (9 digits) with this code; 404 ``area_not_found`` otherwise."""
    model = {12: Community, 9: Street}.get(len(code))
    row = db.session.get(model, code) if model and code.isdigit() else None
    if row is None:
        raise NotFound("未找到该社区或街道", code="area_not_found", details={"code": code})
    return Area(kind="community" if model is Community else "street", name=row.name, code=row.code)


def circle(lat, lon, radius_m):
    """A circle area; its bounds were checked by the caller's schema (radius ≤ CIRCLE_MAX_M)."""
    return Area(kind="circle", name=f"{lat:.4f},{lon:.4f} 周边 {radius_m:g} 米", lat=lat, lon=lon, radius_m=radius_m)


def search(filters, limit):
    """(reports, truncated): the public reports matching ``filters``, newest first, at most ``limit``."""
    query = _query(filters).order_by(Report.created_at.desc(), Report.id.desc())
    circle = filters.area if filters.area is not None and filters.area.kind == "circle" else None
    if filters.bbox is None and circle is None:
        rows = db.session.scalars(query.limit(limit + 1)).all()
    else:  # a box widened to whole cells in SQL, the place itself here, on the point as shown
        with db.session.scalars(query.execution_options(yield_per=256)) as found:
            rows = list(islice((r for r in found if _placed(public_point(r), filters.bbox, circle)), limit + 1))
    return rows[:limit], len(rows) > limit


def _query(f):
    query = (
        select(Report)
        .where(Report.kind == "problem", Report.status.in_(f.statuses or PUBLIC_STATES))
        .options(*(selectinload(r) for r in (Report.media, Report.category, Report.community, Report.street)))
    )
    if f.bbox:
        west, south, east, north = widened(f.bbox)
        query = query.where(Report.lon.between(west, east), Report.lat.between(south, north))
    if f.category:
        query = query.where(Report.category_code == f.category)
    if f.group:
        query = query.where(Report.category_code.in_(codes_of_group(f.group)))
    if f.since is not None:
        query = query.where(or_(Report.created_at > f.since, Report.closed_at > f.since))
    if f.until is not None:
        query = query.where(Report.created_at <= f.until)
    return _in_area(query, f.area) if f.area else query


def _in_area(query, area):
    if area.kind == "community":
        return query.where(Report.community_code == area.code)
    if area.kind == "street":
        return query.where(Report.street_code == area.code)
    m_lat, m_lon = metres_per_degree(area.lat)
    dlat, dlon = (area.radius_m + COARSE_REACH_M) / m_lat, (area.radius_m + COARSE_REACH_M) / m_lon
    return query.where(
        Report.lat.between(area.lat - dlat, area.lat + dlat), Report.lon.between(area.lon - dlon, area.lon + dlon)
    )


def _placed(shown, bbox, circle):
    inside = bbox is None or in_bbox(shown, bbox)
    return inside and (circle is None or distance_m(shown.lat, shown.lon, circle.lat, circle.lon) <= circle.radius_m)


def codes_of_group(group):
    """The active category codes citizens find under ``group`` (cases.citizen.CITIZEN_GROUPS)."""
    return [c.code for c in active_categories() if citizen_group(c) == group]


def public_view(report):
    """What anyone may read of a public report (see the module's docstring)."""
    shown = public_point(report)
    photos = public_photos(report.media)
    return {
        "id": report.public_id,
        "category": report.category and {"code": report.category.code, "name": report.category.name},
        "group": report.category and citizen_group(report.category),
        "status": report.status,
        "status_label": STATUS_LABELS[report.status],
        "community": report.community.name,
        "street": report.street.name,
        "lat": shown.lat,
        "lon": shown.lon,
        "approximate": shown.approximate,
        "created_at": report.created_at.isoformat(),
        "closed_at": report.closed_at and report.closed_at.isoformat(),
        "support_count": report.support_count,
        "thumb_url": photos[0].thumb_key and object_url(photos[0].thumb_key) if photos else None,
    }


def map_limit(requested):
    """The page size asked for, held to PUBLIC_MAP_MAX."""
    ceiling = registry.settings().PUBLIC_MAP_MAX
    return min(requested or ceiling, ceiling)
