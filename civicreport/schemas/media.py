"""Photo views: public ones carry derivative URLs only; staff ones add the original.

A photo the privacy pass has not checked yet (PRIVACY_MODE=worker) has ``pending: true``;
its derivatives may still show faces and plates, so public views give it no URLs (null)
and only the viewers who may see originals get them.
"""
from marshmallow import Schema, fields

from ..services.media_urls import object_url


class PhotoPublicSchema(Schema):
    shows_pending = False  # URLs of derivatives the privacy pass has yet to check

    id = fields.String()
    kind = fields.String()
    sha256 = fields.String()
    content_type = fields.String()
    width = fields.Integer()
    height = fields.Integer()
    taken_at = fields.DateTime()
    pending = fields.Boolean(attribute="privacy_pending", metadata={
        "description": "隐私处理（人脸、车牌遮挡）尚未完成：公开视图中此时没有图片地址"})
    display_url = fields.Method("_display_url")
    thumb_url = fields.Method("_thumb_url")
    display_size = fields.Function(lambda m: [m.display_width, m.display_height])
    thumb_size = fields.Function(lambda m: [m.thumb_width, m.thumb_height])

    def _display_url(self, media):
        return self._derivative_url(media, media.display_key)

    def _thumb_url(self, media):
        return self._derivative_url(media, media.thumb_key)

    def _derivative_url(self, media, key):
        return None if media.privacy_pending and not self.shows_pending else object_url(key)


class PhotoStaffSchema(PhotoPublicSchema):
    shows_pending = True

    byte_size = fields.Integer()
    phash = fields.String()
    gps = fields.Function(
        lambda m: None if m.gps_lat is None else {"lat": m.gps_lat, "lon": m.gps_lon}
    )
    original_url = fields.Function(lambda m: object_url(m.original_key))


class UploadedPhotoSchema(PhotoStaffSchema):
    """What the uploader sees: its own photo including what was read from it (as a citizen
    may be the uploader, no URLs while the privacy pass is pending)."""

    shows_pending = False

    class Meta:
        exclude = ("original_url",)
