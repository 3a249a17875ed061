"""Storing processed photos: objects first, rows second; what a failed request stored goes to gc-media."""

import hashlib
import hmac
import logging
import uuid

from sqlalchemy import select

from civicreport import registry
from civicreport.cases.models import Media, PhashBand
from civicreport.errors import AppError, NotFound
from civicreport.extensions import db
from civicreport.media.errors import MediaError
from civicreport.media.images import inspect_photo, process_photo
from civicreport.media.privacy import regions_digest
from civicreport.media.storage import object_keys

log = logging.getLogger(__name__)


class ObjectBatch:
    """The objects one request stores.

    A failed request deletes none of them: keys are content-addressed, so another
    request that has not committed yet (the client's retry of the same photo, say) may
    rely on the very same object, and no committed row would show it. ``gc-media``
    removes objects no row references once they are older than MEDIA_GC_AGE_HOURS;
    storing an existing object renews it, so one in use by a request stays young.
    """

    def __init__(self, backend):
        self.backend = backend
        self.stored = []

    def put(self, key, data, content_type):
        self.backend.put(key, data, content_type)
        self.stored.append(key)

    def discard(self):
        """Give the batch up after a failed request; objects no row uses wait for gc-media."""
        if self.stored:
            log.info(
                "failed request stored %d object(s), left for gc-media unless a row uses them: %s",
                len(self.stored),
                " ".join(self.stored),
            )


def delete_unreferenced(keys):
    """Delete the objects among ``keys`` that no photo row refers to (replaced derivatives).

    Never raises: a failure is logged with the keys; such an object stays until gc-media
    finds no row referring to it.
    """
    if not keys:
        return
    try:
        rows = db.session.execute(
            select(Media.original_key, Media.display_key, Media.thumb_key).where(
                Media.original_key.in_(keys) | Media.display_key.in_(keys) | Media.thumb_key.in_(keys)
            )
        )
        in_use = {key for row in rows for key in row}
        for key in set(keys) - in_use:
            registry.current().storage.delete(key)
    except Exception:
        log.exception("could not delete replaced objects %s", sorted(keys))


def privacy_deferred():
    """Whether uploads leave face/plate detection to the worker's privacy pass (PRIVACY_MODE=worker)."""
    return registry.settings().PRIVACY_MODE == "worker"


def process(data, index=None, manual=(), pending=False):
    """Run the image pipeline, blurring ``manual`` regions and what the privacy detector
    finds; errors carry the photo's position for multi-photo requests.

    ``pending`` (PRIVACY_MODE=worker): the photo is only inspected (``inspect_photo``:
    limits, a complete file, metadata; no pixel decoded); the privacy pass renders the
    derivatives and the hash from the original later.
    """
    adapters = registry.current()
    try:
        if pending:
            return inspect_photo(data, adapters.limits, default_tz=adapters.zone)
        # One decode at a time per process (PHOTO_DECODES_PER_PROCESS): a 16 MP HEIC needs
        # ~90 MB while it is decoded (libheif's planes and buffer), and the other threads of
        # a gunicorn worker mostly wait on uploads, the database or the store. Worker
        # processes give the parallelism.
        with adapters.decode_gate:
            return process_photo(
                data,
                adapters.limits,
                default_tz=adapters.zone,
                detector=adapters.detector,
                manual=manual,
            )
    except MediaError as err:
        if index is not None:
            err.details = {**err.details, "photo_index": index}
        raise


def process_upload(data, index=None, pending=False):
    """An upload's photo: processed now, or only inspected when ``pending`` (worker mode) —
    and also when the privacy detector fails on it inline (a model error, a case it cannot
    handle): the photo then waits, never public, for the worker's privacy pass to try again,
    instead of failing the upload with a 500 or being published unblurred."""
    try:
        return process(data, index, pending=pending)
    except MediaError:
        raise
    except Exception:
        log.exception("privacy detection failed on an upload; it waits for the privacy pass")
        return process(data, index, pending=True)


def derivative_keys(photo):
    """Keys of the original and of the derivatives with exactly these blurred regions."""
    return object_keys(photo.sha256, photo.format, regions_digest(photo.regions), original_tag(photo.sha256))


def original_tag(sha256):
    """32 hex digits keyed by SECRET_KEY: the same bytes still share one original object,
    but nobody who only knows the public sha256 can name it."""
    key = registry.settings().SECRET_KEY.encode()
    return hmac.new(key, f"original:{sha256}".encode(), hashlib.sha256).hexdigest()[:32]


_DERIVED_COLUMNS = (
    "display_key",
    "thumb_key",
    "display_width",
    "display_height",
    "thumb_width",
    "thumb_height",
    "phash",
)


def store_derivatives(batch, photo):
    """Put ``photo``'s derivatives; returns the Media column values pointing at them and
    its hash (all None for a photo only inspected, which has neither yet)."""
    if photo.display is None:
        return dict.fromkeys(_DERIVED_COLUMNS)
    keys = derivative_keys(photo)
    batch.put(keys["display"], photo.display, "image/jpeg")
    batch.put(keys["thumb"], photo.thumb, "image/jpeg")
    return {
        "display_key": keys["display"],
        "thumb_key": keys["thumb"],
        "display_width": photo.display_size[0],
        "display_height": photo.display_size[1],
        "thumb_width": photo.thumb_size[0],
        "thumb_height": photo.thumb_size[1],
        "phash": photo.phash,
    }


def original_bytes(media):
    """The original bytes of a photo, checked against the sha256 recorded at upload.

    Raises NotFound(original_missing), AppError(original_mismatch) or StorageUnavailable.
    """
    try:
        data = registry.current().storage.get(media.original_key)
    except KeyError:
        raise NotFound("原图不存在，无法重新生成", code="original_missing") from None
    if hashlib.sha256(data).hexdigest() != media.sha256:
        log.error("original %s does not match its recorded sha256", media.original_key)
        raise AppError("原图校验失败", code="original_mismatch")
    return data


def store(batch, data, photo, *, kind="evidence", uploader=None, position=0):
    """Put the original and the derivatives (see ``store_derivatives``), and return an
    unsaved ``Media`` row."""
    original_key = derivative_keys(photo)["original"]
    batch.put(original_key, data, photo.content_type)
    derivatives = store_derivatives(batch, photo)
    if photo.regions:
        log.info("photo %s: %d area(s) blurred in public derivatives", photo.sha256[:12], len(photo.regions))
    meta = photo.meta
    return Media(
        id=uuid.uuid4().hex,
        sha256=photo.sha256,
        original_key=original_key,
        **derivatives,
        content_type=photo.content_type,
        byte_size=photo.byte_size,
        width=photo.width,
        height=photo.height,
        taken_at=meta.taken_at,
        gps_lat=meta.gps_lat,
        gps_lon=meta.gps_lon,
        bands=PhashBand.of(photo.phash) if photo.phash else [],
        kind=kind,
        uploader_user_id=uploader.id if uploader else None,
        position=position,
        privacy_pending=photo.display is None,
    )


def new_batch():
    return ObjectBatch(registry.current().storage)
