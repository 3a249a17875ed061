"""Serves locally stored objects: derivatives to anyone; everything else (originals, and
unchecked thumbs left under pending/ from before migration 0010) to staff only."""
from flask import Blueprint, current_app

from ..errors import Forbidden, NotFound
from ..services.backends import storage
from . import PUBLIC, allow, current_user

bp = Blueprint("media_files", __name__, url_prefix="/media")

_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "heic": "image/heic"}
_PUBLIC_PREFIXES = ("display/", "thumb/")  # not pending/thumb/…: faces may still show there


@bp.get("/<path:key>", endpoint="object")
@allow(PUBLIC)  # derivatives; originals are checked below, staff only
def serve(key):
    public = key.startswith(_PUBLIC_PREFIXES)
    if not public:
        user = current_user()
        if user is None or not user.is_staff:
            raise Forbidden("原图仅供工作人员查看", code="original_staff_only")
    try:
        data = storage().get(key)
    except (KeyError, ValueError):
        raise NotFound("文件不存在", code="media_not_found")
    mimetype = _TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream")
    response = current_app.response_class(data, mimetype=mimetype)
    response.headers["Cache-Control"] = (
        "public, max-age=31536000, immutable" if public else "private, no-store"
    )
    return response
