"""The worker's privacy pass (PRIVACY_MODE=worker): faces and plates found after the upload.

In worker mode an upload decodes its photo only at thumb scale (every byte still checked),
stores the original and an unchecked thumb under a pending/ key (never served to the
public; staff see it as the display meanwhile), marks the row ``privacy_pending`` and
answers; public views show no URL for it. The pass renders the public derivatives from
the original through the same pipeline as an inline upload — detector included, on the
upright display image — stores them under the keys inline mode gives, and switches the
row's keys and sizes and clears the flag in one UPDATE. Like redaction, it then deletes
the replaced pending objects once no row refers to them.

Nothing is half-done: until that UPDATE commits the row keeps its pending keys and flag,
so a pass that fails or dies is simply repeated in a later round; objects it stored
meanwhile are left for gc-media (the retry stores the same keys again). A photo the pass
itself fails on (its original missing or unreadable, the detector raising) is tried again
after doubling waits (PRIVACY_PASS_RETRY_SECONDS up to PRIVACY_PASS_RETRY_MAX_SECONDS),
so one broken photo neither costs every round a download nor floods the log.
"""
import logging

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from ..errors import ServiceUnavailable
from ..extensions import db
from ..models import Media
from ..models.types import utcnow
from . import photos
from .retry import backoff

log = logging.getLogger(__name__)


def clear_pending(limit=None):
    """Worker job: clear up to ``limit`` (PRIVACY_PASS_BATCH) pending photos, oldest first.

    Each photo is claimed, checked and committed on its own; on PostgreSQL the claim is
    ``FOR UPDATE SKIP LOCKED``, so several workers share a backlog and never check one
    photo twice at once (SQLite has no row locks: run one worker there). A photo that
    fails (original missing or unreadable, a detector error) stays pending, is logged and
    put off until its next try (see ``_put_off``). Returns the number cleared. Raises
    ServiceUnavailable and database errors after rolling back; photos cleared before
    stay cleared.
    """
    limit = current_app.config["PRIVACY_PASS_BATCH"] if limit is None else limit
    cleared, skipped, now = 0, set(), utcnow()
    while cleared < limit:
        media = _claim_next(skipped, now)
        if media is None:
            break
        media_id = media.id
        try:
            cleared += clear(media)
        except (ServiceUnavailable, SQLAlchemyError):
            db.session.rollback()
            raise
        except Exception:  # one photo the pipeline cannot handle must not hold up the others
            db.session.rollback()
            skipped.add(media_id)
            log.exception("privacy pass: photo %s stays pending", media_id)
            _put_off(media_id)
    if cleared:
        log.info("privacy pass: %d photo(s) cleared for public views", cleared)
    return cleared


def _claim_next(skipped, now):
    query = (
        select(Media)
        .where(Media.privacy_pending, Media.id.not_in(list(skipped)),
               or_(Media.privacy_retry_at.is_(None), Media.privacy_retry_at <= now))
        .order_by(Media.created_at)
        .limit(1)
        .with_for_update(skip_locked=True)  # SQLAlchemy leaves this out on SQLite
    )
    return db.session.scalars(query).first()


def _put_off(media_id):
    """Count a failed pass of the photo and set when it is tried again (doubling waits,
    from now: a round of many photos may outlast the first wait).

    A database error here is logged, not raised: the photo is then tried next round.
    """
    config = current_app.config
    try:
        media = db.session.get(Media, media_id)
        if media is None or not media.privacy_pending:
            return
        media.privacy_failures += 1
        media.privacy_retry_at = utcnow() + backoff(
            media.privacy_failures, config["PRIVACY_PASS_RETRY_SECONDS"], config["PRIVACY_PASS_RETRY_MAX_SECONDS"])
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("privacy pass: could not put photo %s off", media_id)
        return
    log.warning("privacy pass: photo %s failed %d time(s); next try at %s",
                media_id, media.privacy_failures, media.privacy_retry_at)


def clear(media):
    """Blur what the detector finds in a claimed pending photo and commit it as cleared.

    Returns 1, or 0 when someone else (a redaction) cleared the photo meanwhile, whose
    derivatives then stay. Raises NotFound(original_missing), AppError(original_mismatch),
    ValidationFailed (original unreadable) or ServiceUnavailable, committing nothing.
    """
    media_id = media.id
    photo = photos.process(photos.original_bytes(media))
    old_keys = {media.display_key, media.thumb_key}
    batch = photos.new_batch()
    try:
        columns = photos.store_derivatives(batch, photo)
        switched = _switch(media, columns)
        db.session.commit()
    except BaseException:
        batch.discard()
        raise
    if not switched:
        log.info("photo %s was cleared meanwhile (redacted); the pass changed nothing", media_id)
        batch.discard()
        return 0
    photos.delete_unreferenced(old_keys - {columns["display_key"], columns["thumb_key"]})
    if photo.regions:
        log.info("photo %s: %d area(s) blurred by the privacy pass", media_id, len(photo.regions))
    return 1


def _switch(media, columns):
    """Point the row at the public derivatives if it is still pending with the keys we read
    (without row locks, on SQLite, a redaction may have cleared it meanwhile); True if so."""
    result = db.session.execute(
        update(Media)
        .where(Media.id == media.id, Media.privacy_pending, Media.display_key == media.display_key)
        .values(**columns, privacy_pending=False)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
