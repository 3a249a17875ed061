"""What the photo pipeline and the object store raise: a stable code, a Chinese message and
details for whoever asked, and no HTTP status.

The pipeline is pure (no Flask, no models); which status a failure answers with is the web
side's business, in one table (``civicreport.errors.MEDIA_STATUS``).
"""

from typing import Any


class MediaError(Exception):
    code = "media_error"
    message = "图片处理失败"

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details or {}


class PhotoTooLarge(MediaError):
    """More bytes than one photo may have."""

    code = "photo_too_large"
    message = "照片过大"


class InvalidPhoto(MediaError):
    """The bytes are not a photo the pipeline can take: trying again cannot help."""

    code = "invalid_photo"
    message = "图片无法处理"


class UnsupportedFormat(InvalidPhoto):
    code = "unsupported_image_type"
    message = "不支持的图片格式，请上传 JPEG、PNG、WebP 或 HEIC 照片"


class TooManyPixels(InvalidPhoto):
    code = "image_too_many_pixels"
    message = "图片像素过多"


class UnreadablePhoto(InvalidPhoto):
    code = "image_unreadable"
    message = "图片已损坏或不完整，无法读取"


class StorageUnavailable(MediaError):
    """The object store did not answer; a retry later may succeed."""

    code = "storage_unavailable"
    message = "图片存储暂时不可用，请稍后重试"


class BucketMissing(StorageUnavailable):
    """The S3 bucket does not exist (yet): ``flask storage init`` creates it."""

    code = "bucket_missing"
    message = "对象存储桶不存在：请运行 flask storage init 创建"
