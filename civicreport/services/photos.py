"""Storing processed photos: objects first, rows second, nothing left behind on failure."""
import logging
import uuid

from sqlalchemy import select

from ..errors import AppError
from ..extensions import db
from ..media.images import process_photo
from ..media.storage import object_keys
from ..models import Media
from .backends import local_zone, photo_limits, storage

log = logging.getLogger(__name__)


class ObjectBatch:
    """Objects this request created, so a failed request can take them back."""

    def __init__(self, backend):
        self.backend = backend
        self.created = []

    def put(self, key, data, content_type):
        if self.backend.put(key, data, content_type):
            self.created.append(key)

    def discard(self):
        """Delete what this request created, unless a committed row now shares it."""
        shared = _keys_in_use(self.created)
        for key in self.created:
            if key in shared:
                continue
            try:
                self.backend.delete(key)
            except Exception:
                log.exception("could not delete object %s after a failed request", key)


def _keys_in_use(keys):
    if not keys:
        return set()
    try:
        db.session.rollback()
        rows = db.session.execute(
            select(Media.original_key, Media.display_key, Media.thumb_key).where(
                Media.original_key.in_(keys) | Media.display_key.in_(keys) | Media.thumb_key.in_(keys)
            )
        )
        return {key for row in rows for key in row}
    except Exception:
        log.exception("could not check object references; deleting what this request created")
        return set()


def process(data, index=None):
    """Run the image pipeline; errors carry the photo's position for multi-photo requests."""
    try:
        return process_photo(data, photo_limits(), default_tz=local_zone())
    except AppError as err:
        if index is not None:
            err.details = {**err.details, "photo_index": index}
        raise


def store(batch, data, photo, *, kind="evidence", uploader=None, position=0):
    """Put the original and both derivatives, and return an unsaved ``Media`` row."""
    keys = object_keys(photo.sha256, photo.format)
    batch.put(keys["original"], data, photo.content_type)
    batch.put(keys["display"], photo.display, "image/jpeg")
    batch.put(keys["thumb"], photo.thumb, "image/jpeg")
    meta = photo.meta
    return Media(
        id=uuid.uuid4().hex,
        sha256=photo.sha256,
        original_key=keys["original"],
        display_key=keys["display"],
        thumb_key=keys["thumb"],
        content_type=photo.content_type,
        byte_size=photo.byte_size,
        width=photo.width,
        height=photo.height,
        display_width=photo.display_size[0],
        display_height=photo.display_size[1],
        thumb_width=photo.thumb_size[0],
        thumb_height=photo.thumb_size[1],
        taken_at=meta.taken_at,
        gps_lat=meta.gps_lat,
        gps_lon=meta.gps_lon,
        phash=photo.phash,
        kind=kind,
        uploader_user_id=uploader.id if uploader else None,
        position=position,
    )


def new_batch():
    return ObjectBatch(storage())
