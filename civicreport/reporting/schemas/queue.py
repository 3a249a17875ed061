"""Queue query parameters and the list / GeoJSON views of queue items."""

from marshmallow import (
    RAISE,
    Schema,
    fields,
    validate,
)

from civicreport.cases.photo_urls import object_url, public_photos
from civicreport.cases.public_point import point_for
from civicreport.cases.status import STATUSES
from civicreport.schema_fields import Bbox, CommaList, Instant


class QueueQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    status = CommaList(max_items=len(STATUSES), choices=STATUSES, load_default=())
    category = fields.String(load_default=None, validate=validate.Length(max=8))
    group = fields.String(load_default=None, validate=validate.OneOf(["component", "event", "behaviour"]))
    grid = fields.String(load_default=None, validate=validate.Length(equal=15))
    community = fields.String(load_default=None, validate=validate.Length(equal=12))
    street = fields.String(load_default=None, validate=validate.Length(equal=9))
    unit = fields.String(load_default=None, validate=validate.Length(max=32))
    overdue = fields.Boolean(load_default=None)
    warning = fields.Boolean(load_default=None)
    evidence_flag = fields.Boolean(load_default=None)
    bbox = Bbox()
    since = Instant(load_default=None)
    until = Instant(load_default=None)
    q = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    sort = fields.String(load_default="created", validate=validate.OneOf(["created", "deadline", "priority"]))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=1000))
    cursor = fields.String(load_default=None, validate=validate.Length(max=500))
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "geojson"]))


def queue_item(report, now, actor):
    """One case, with the thumb of its first photo the privacy pass has rendered, placed where
    ``actor`` may see it (cases.public_point: a monitor sees a behaviour case's cell until its 核查)."""
    photos = public_photos(report.media)
    thumb = photos[0].thumb_key if photos else None
    shown = point_for(report, actor)
    return {
        "id": report.public_id,
        "status": report.status,
        "category": report.category and {"code": report.category.code, "name": report.category.name},
        "description": report.description,
        "lat": shown.lat,
        "lon": shown.lon,
        "approximate": shown.approximate,
        "grid": report.grid_code,
        "community": report.community.name,
        "street": report.street.name,
        "unit": report.unit and {"code": report.unit.code, "name": report.unit.name},
        "created_at": report.created_at.isoformat(),
        "deadline_at": report.deadline_at and report.deadline_at.isoformat(),
        "overdue": report.is_overdue(now),
        "warning": report.is_warning(now),
        "age_hours": round((now - report.created_at).total_seconds() / 3600, 1),
        "priority": report.priority,
        "support_count": report.support_count,
        "evidence_flags": report.evidence_flags or [],
        "thumb_url": thumb and object_url(thumb),
    }


def queue_page(page, fmt, actor):
    items = [queue_item(r, page.now, actor) for r in page.reports]
    next_cursor = page.next_cursor
    if fmt == "json":
        return {"items": items, "next_cursor": next_cursor}
    features = []
    for item in items:
        lon, lat = item.pop("lon"), item.pop("lat")
        features.append(
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": item}
        )
    return {"type": "FeatureCollection", "features": features, "next_cursor": next_cursor}


class QueueItemSchema(Schema):
    """What ``queue_item`` returns (in GeoJSON: the feature's properties, without lat/lon)."""

    id = fields.String(required=True)
    status = fields.String(required=True)
    category = fields.Dict()
    description = fields.String()
    lat = fields.Float()
    lon = fields.Float()
    approximate = fields.Boolean(
        metadata={"description": "true：关于人的行为的上报，调用者无权查看精确位置，坐标为约 50 米网格的中心"}
    )
    grid = fields.String()
    community = fields.String()
    street = fields.String()
    unit = fields.Dict()
    created_at = fields.String(metadata={"format": "date-time"})
    deadline_at = fields.String(metadata={"format": "date-time"})
    overdue = fields.Boolean()
    warning = fields.Boolean()
    age_hours = fields.Float()
    priority = fields.Integer()
    support_count = fields.Integer()
    thumb_url = fields.String()


def totals_view(totals):
    return {"count": totals.count, "overdue": totals.overdue, "bbox": list(totals.bbox) if totals.bbox else None}


class QueueTotalsSchema(Schema):
    """The whole filter, whatever the page: the console's count, overdue count and map extent."""

    count = fields.Integer(required=True, metadata={"description": "符合筛选条件的案件总数"})
    overdue = fields.Integer(required=True, metadata={"description": "其中当前超期的件数"})
    bbox = fields.List(
        fields.Float(), allow_none=True, metadata={"description": "这些案件的范围：最小经度,最小纬度,最大经度,最大纬度"}
    )


class QueuePageSchema(Schema):
    """``format=json``: items; ``format=geojson``: a FeatureCollection. Both carry next_cursor
    and the totals of the whole filter (counted once per QUEUE_TOTALS_SECONDS)."""

    items = fields.List(fields.Nested(QueueItemSchema))
    type = fields.String(metadata={"description": "FeatureCollection"})
    features = fields.List(fields.Dict())
    next_cursor = fields.String(metadata={"description": "下一页的 cursor；没有更多时为 null"})
    totals = fields.Nested(QueueTotalsSchema)
