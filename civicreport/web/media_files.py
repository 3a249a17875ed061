"""Serves locally stored objects: derivatives to anyone; originals (and unchecked thumbs left
under pending/ from before migration 0010) only to who may see the case's private side."""

from flask import Blueprint, current_app

from civicreport import registry
from civicreport.cases import private_media
from civicreport.errors import NotFound
from civicreport.media.storage import CONTENT_TYPES, media_key_sha256
from civicreport.web import PUBLIC, allow, current_user

bp = Blueprint("media_files", __name__, url_prefix="/media")

_PUBLIC_PREFIXES = ("display/", "thumb/")  # not pending/thumb/…: faces may still show there
# An original is the uploaded bytes, untouched: a JPEG may carry an HTML tail. Never let a
# browser treat it as anything but the image type it was accepted as, nor run what it holds.
_PRIVATE_HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


@bp.get("/<path:key>", endpoint="object")
@allow(PUBLIC)  # derivatives; private objects are checked per case below
def serve(key):
    """One stored photo object."""
    if media_key_sha256(key) is None:  # not a key the app makes: no storage call, whatever its length
        raise NotFound("文件不存在", code="media_not_found")
    public = key.startswith(_PUBLIC_PREFIXES)
    if not public:
        private_media.check_readable(key, current_user())
    try:
        data = registry.current().storage.get(key)
    except (KeyError, ValueError):
        raise NotFound("文件不存在", code="media_not_found") from None
    extension = key.rsplit(".", 1)[-1]
    response = current_app.response_class(data, mimetype=CONTENT_TYPES.get(extension, "application/octet-stream"))
    if public:
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response.headers.update(_PRIVATE_HEADERS)
        response.headers["Content-Disposition"] = f'inline; filename="original.{extension}"'
    return response
