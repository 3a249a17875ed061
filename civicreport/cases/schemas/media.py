"""Photo views: public ones carry derivative URLs only; staff ones add the original.

A photo the privacy pass has not rendered yet (PRIVACY_MODE=worker) has ``pending: true``
and no derivatives: display and thumb URLs and sizes are null; staff views still carry
the original's URL.
"""

from marshmallow import Schema, fields

from civicreport.cases.photo_urls import object_url, original_url


class PhotoPublicSchema(Schema):
    id = fields.String()
    kind = fields.String()
    sha256 = fields.String()
    content_type = fields.String()
    width = fields.Integer()
    height = fields.Integer()
    taken_at = fields.DateTime()
    pending = fields.Boolean(
        attribute="privacy_pending",
        metadata={"description": "隐私处理（人脸、车牌遮挡）尚未完成：公开视图中此时没有图片地址"},
    )
    display_url = fields.Method("_display_url")
    thumb_url = fields.Method("_thumb_url")
    display_size = fields.Function(lambda m: None if m.display_key is None else [m.display_width, m.display_height])
    thumb_size = fields.Function(lambda m: None if m.thumb_key is None else [m.thumb_width, m.thumb_height])

    def _display_url(self, media):
        return self._derivative_url(media, media.display_key)

    def _thumb_url(self, media):
        return self._derivative_url(media, media.thumb_key)

    def _derivative_url(self, media, key):
        return None if media.privacy_pending or key is None else object_url(key)


class PhotoStaffSchema(PhotoPublicSchema):
    unreadable = fields.Boolean(metadata={"description": "隐私处理时发现图像数据损坏，无法生成公开图片"})
    byte_size = fields.Integer()
    phash = fields.String()
    gps = fields.Function(lambda m: None if m.gps_lat is None else {"lat": m.gps_lat, "lon": m.gps_lon})
    original_url = fields.Function(lambda m: original_url(m.original_key))


class UploadedPhotoSchema(PhotoStaffSchema):
    """What the uploader sees: its own photo including what was read from it."""

    class Meta:
        exclude = ("original_url",)
