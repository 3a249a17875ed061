"""Views of duplicate candidates and photo matches."""

from marshmallow import RAISE, Schema, fields, validate

from civicreport.cases.photo_urls import object_url, public_photos
from civicreport.cases.public_point import rounded_distance
from civicreport.schema_fields import LATITUDE, LONGITUDE


class DuplicateQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    lat = fields.Float(required=True, allow_nan=False, validate=LATITUDE)
    lon = fields.Float(required=True, allow_nan=False, validate=LONGITUDE)
    crs = fields.String(load_default="wgs84", validate=validate.OneOf(["wgs84", "gcj02", "bd09"]))
    category = fields.String(load_default=None, validate=validate.Length(max=8))


def _brief(report):
    photos = public_photos(report.media)  # the reporter sees these candidates too
    return {
        "id": report.public_id,
        "status": report.status,
        "category": report.category and {"code": report.category.code, "name": report.category.name},
        "description": report.description,
        "created_at": report.created_at.isoformat(),
        "support_count": report.support_count,
        "thumb_url": object_url(photos[0].thumb_key) if photos else None,
    }


def candidate_view(nearby):
    return {**_brief(nearby.report), **_distance(nearby)}


def photo_match_view(match):
    return {**_brief(match.report), "match": match.kind, **_distance(match), "suspicious": match.suspicious}


def _distance(found):
    """The distance as shown: to the decimetre, or to a behaviour report's cell rounded (cases.public_point)."""
    if not found.approximate:
        return {"distance_m": round(found.distance_m, 1), "approximate": False}
    return {"distance_m": rounded_distance(found.distance_m), "approximate": True}


class CandidateSchema(Schema):
    """What ``candidate_view`` returns: an open report near the point."""

    id = fields.String(required=True)
    status = fields.String(required=True)
    category = fields.Dict(metadata={"description": "{code, name}；未分类时为 null"})
    description = fields.String()
    created_at = fields.String(required=True, metadata={"format": "date-time"})
    support_count = fields.Integer(required=True)
    thumb_url = fields.String()
    distance_m = fields.Float(required=True)
    approximate = fields.Boolean(
        metadata={"description": "true：关于人的行为的上报，距离量到其约 50 米网格的中心并取整到 50 米（约 50 米）"}
    )


class PhotoMatchSchema(CandidateSchema):
    match = fields.String(required=True, metadata={"description": "identical（同一文件）或 similar（感知哈希相近）"})
    suspicious = fields.Boolean(required=True)


class CandidateListSchema(Schema):
    candidates = fields.List(fields.Nested(CandidateSchema), required=True)


class ReportDuplicatesSchema(CandidateListSchema):
    photo_matches = fields.List(fields.Nested(PhotoMatchSchema), required=True)


class SupportSchema(Schema):
    id = fields.String(required=True)
    support_count = fields.Integer(required=True)
    already_supported = fields.Boolean(
        required=True,
        metadata={"description": "此前已附议过（每人每件只计一次：登录账号、设备标识或网络地址），人数不变"},
    )
