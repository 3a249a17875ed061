"""Photo views: public ones carry derivative URLs only; staff ones add the original."""
from marshmallow import Schema, fields

from ..services.media_urls import object_url


class PhotoPublicSchema(Schema):
    id = fields.String()
    kind = fields.String()
    sha256 = fields.String()
    content_type = fields.String()
    width = fields.Integer()
    height = fields.Integer()
    taken_at = fields.DateTime()
    display_url = fields.Function(lambda m: object_url(m.display_key))
    thumb_url = fields.Function(lambda m: object_url(m.thumb_key))
    display_size = fields.Function(lambda m: [m.display_width, m.display_height])
    thumb_size = fields.Function(lambda m: [m.thumb_width, m.thumb_height])


class PhotoStaffSchema(PhotoPublicSchema):
    byte_size = fields.Integer()
    phash = fields.String()
    gps = fields.Function(
        lambda m: None if m.gps_lat is None else {"lat": m.gps_lat, "lon": m.gps_lon}
    )
    original_url = fields.Function(lambda m: object_url(m.original_key))


class UploadedPhotoSchema(PhotoStaffSchema):
    """What the uploader sees: its own photo including what was read from it."""

    class Meta:
        exclude = ("original_url",)
