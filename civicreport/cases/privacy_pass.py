"""The worker's privacy pass (PRIVACY_MODE=worker): faces and plates found after the upload.

In worker mode an upload decodes no pixel: it checks the photo's type, limits, that the
file is complete, and reads its metadata (``images.inspect_photo``), stores the original,
marks the row ``privacy_pending`` with no derivatives and no hash, and answers; views show
the photo without derivative URLs (staff have the original). The pass decodes the
original once, through the same pipeline as an inline upload — detector included, on the
upright display image — stores the derivatives under the keys inline mode gives, and sets
the row's keys, sizes and hash and clears the flag in one UPDATE, with the hash's bands and
the report's photo-reuse flag (``duplicates.hashed_late``) in the same transaction.

Nothing is half-done: until that transaction commits the row keeps its flag, so a pass
that fails or dies is simply repeated in a later round; objects it stored meanwhile are
left for gc-media (the retry stores the same keys again). A photo whose pixels cannot be
decoded is marked ``unreadable`` and its report's evidence flagged (``photo_unreadable``);
it stays out of public views and is not tried again. A photo the pass fails on otherwise
(its original missing, the detector raising) is tried again after doubling waits
(PRIVACY_PASS_RETRY_SECONDS up to PRIVACY_PASS_RETRY_MAX_SECONDS), so one broken photo
neither costs every round a download nor floods the log.
"""

import logging

from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from civicreport import registry
from civicreport.cases import duplicates, evidence, photos
from civicreport.cases.lookup import set_flags
from civicreport.cases.models import Media
from civicreport.db_types import utcnow
from civicreport.delivery.retry import backoff
from civicreport.extensions import db
from civicreport.media.errors import InvalidPhoto, StorageUnavailable

log = logging.getLogger(__name__)


def clear_pending(limit=None):
    """Worker job: clear up to ``limit`` (PRIVACY_PASS_BATCH) pending photos, oldest first.

    Each photo is claimed, checked and committed on its own; on PostgreSQL the claim is
    ``FOR UPDATE SKIP LOCKED``, so several workers share a backlog and never check one
    photo twice at once (SQLite has no row locks: run one worker there). An unreadable
    photo is marked so (``_mark_unreadable``); one that fails otherwise (original missing,
    a detector error) stays pending, is logged and put off until its next try
    (``_put_off``). Returns the number cleared. Raises StorageUnavailable and database
    errors after rolling back; photos cleared before stay cleared.
    """
    limit = registry.settings().PRIVACY_PASS_BATCH if limit is None else limit
    cleared, skipped, now = 0, set(), utcnow()
    while cleared < limit:
        media = _claim_next(skipped, now)
        if media is None:
            break
        media_id = media.id
        try:
            cleared += clear(media)
        except (StorageUnavailable, SQLAlchemyError):
            db.session.rollback()
            raise
        except InvalidPhoto as err:  # the pixels, not the pass: trying again cannot help
            db.session.rollback()
            skipped.add(media_id)
            _mark_unreadable(media_id, err)
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
        .where(
            Media.privacy_pending,
            Media.unreadable.is_(False),
            Media.id.not_in(list(skipped)),
            or_(Media.privacy_retry_at.is_(None), Media.privacy_retry_at <= now),
        )
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
    config = registry.settings()
    try:
        media = db.session.get(Media, media_id)
        if media is None or not media.privacy_pending:
            return
        media.privacy_failures += 1
        media.privacy_retry_at = utcnow() + backoff(
            media.privacy_failures, config.PRIVACY_PASS_RETRY_SECONDS, config.PRIVACY_PASS_RETRY_MAX_SECONDS
        )
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("privacy pass: could not put photo %s off", media_id)
        return
    log.warning(
        "privacy pass: photo %s failed %d time(s); next try at %s",
        media_id,
        media.privacy_failures,
        media.privacy_retry_at,
    )


def clear(media):
    """Render a claimed pending photo's public derivatives, blurring what the detector
    finds, and commit it as cleared; a photo uploaded in worker mode also gets its hash
    now, and its report the photo-reuse flag if the hash matches another report's photo.

    Returns 1, or 0 when someone else (a redaction) cleared the photo meanwhile, whose
    derivatives then stay. Raises NotFound(original_missing), AppError(original_mismatch),
    InvalidPhoto (original unreadable) or StorageUnavailable, committing nothing.
    """
    media_id, hashed = media.id, media.phash is not None
    photo = photos.process(photos.original_bytes(media))
    old_keys = {media.display_key, media.thumb_key} - {None}
    batch = photos.new_batch()
    try:
        columns = photos.store_derivatives(batch, photo)
        switched = _switch(media, columns)
        if switched and not hashed:
            duplicates.hashed_late(media, photo)
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


def _mark_unreadable(media_id, error):
    """The original's pixels cannot be decoded although the upload looked complete: keep
    the photo out of public views for good, stop trying, and flag its report's evidence."""
    media = db.session.get(Media, media_id)
    if media is None or not media.privacy_pending:
        return
    media.unreadable = True
    if media.report_id is not None:
        set_flags(
            media.report_id, evidence_flagged=True, evidence_flags=_with_flag(media.report, evidence.PHOTO_UNREADABLE)
        )
    db.session.commit()
    log.warning("privacy pass: photo %s is unreadable (%s); kept out of public views", media_id, error.code)


def _with_flag(report, flag):
    flags = list(report.evidence_flags or [])
    return flags if flag in flags else [*flags, flag]


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
