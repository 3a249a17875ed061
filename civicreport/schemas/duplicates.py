"""Views of duplicate candidates and photo matches."""
from marshmallow import RAISE, Schema, fields, validate

from ..services.media_urls import object_url


class DuplicateQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    lat = fields.Float(required=True, allow_nan=False)
    lon = fields.Float(required=True, allow_nan=False)
    crs = fields.String(load_default="wgs84", validate=validate.OneOf(["wgs84", "gcj02", "bd09"]))
    category = fields.String(load_default=None, validate=validate.Length(max=8))


def _brief(report):
    return {
        "id": report.public_id,
        "status": report.status,
        "category": report.category and {"code": report.category.code, "name": report.category.name},
        "description": report.description,
        "created_at": report.created_at.isoformat(),
        "support_count": report.support_count,
        "thumb_url": object_url(report.media[0].thumb_key) if report.media else None,
    }


def candidate_view(nearby):
    return {**_brief(nearby.report), "distance_m": round(nearby.distance_m, 1)}


def photo_match_view(match):
    return {**_brief(match.report), "match": match.kind, "distance_m": match.distance_m,
            "suspicious": match.suspicious}
