"""Views of duplicate candidates and photo matches."""

from marshmallow import RAISE, Schema, fields, validate

from civicreport.cases.photo_urls import object_url, public_photos


class DuplicateQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    lat = fields.Float(required=True, allow_nan=False)
    lon = fields.Float(required=True, allow_nan=False)
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
    return {**_brief(nearby.report), "distance_m": round(nearby.distance_m, 1)}


def photo_match_view(match):
    return {**_brief(match.report), "match": match.kind, "distance_m": match.distance_m, "suspicious": match.suspicious}


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
