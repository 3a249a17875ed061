"""Staff redaction: blur more areas of a photo's public derivatives by hand.

The original object is never touched. Each request appends a ``redact`` event whose data
lists the boxes it adds; the derivatives are rendered again from the original with every
box ever drawn on that photo plus what the detector finds, stored under new keys, and the
replaced derivative objects are deleted once no photo refers to them, so the unredacted
picture is no longer reachable under its old URL. A photo still waiting for the worker's
privacy pass (PRIVACY_MODE=worker) leaves that wait here: its redaction runs the detector too.
"""

import logging

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from civicreport.accounts.access import Actor, require_in_area
from civicreport.cases import duplicates, photos
from civicreport.cases.models import Media, ReportEvent
from civicreport.cases.workflow import load_for_update
from civicreport.db_types import utcnow
from civicreport.errors import Conflict, NotFound, ValidationFailed
from civicreport.extensions import db
from civicreport.media.privacy import Region

log = logging.getLogger(__name__)

ACTION = "redact"


def redact(public_id, media_id, request, user):
    """Add ``request["boxes"]`` to the photo's redactions and re-render its derivatives.

    Returns (media, event). Raises NotFound (report_not_found, media_not_found,
    original_missing), ValidationFailed(box_outside_image), Conflict(concurrent_update)
    when the case changed meanwhile, AppError(original_mismatch) when the stored original
    is not the uploaded one, and StorageUnavailable when storage fails; on failure no event
    remains, and derivatives it stored are left for gc-media. Forbidden(outside_area) for a
    supervisor whose areas leave the case out.
    """
    report = load_for_update(public_id)
    require_in_area(Actor(user), report)
    media = _photo_of(report, media_id)
    added = [_region(box, request["units"], media) for box in request["boxes"]]
    manual = (*_earlier_regions(report.id, media.id), *added)
    photo = photos.process(photos.original_bytes(media), manual=manual)
    old_keys = {media.display_key, media.thumb_key} - {None}
    now = utcnow()
    batch = photos.new_batch()
    try:
        columns = photos.store_derivatives(batch, photo)
        if media.phash is None:  # uploaded in worker mode: the pass would have hashed it
            duplicates.hashed_late(media, photo)
        for column, value in columns.items():
            setattr(media, column, value)
        media.privacy_pending = False  # the detector ran just now: the privacy pass is done too
        report.updated_at = now  # bumps the version: a concurrent change of the case loses
        event = ReportEvent(
            report_id=report.id,
            actor_user_id=user.id,
            actor_role=user.role,
            action=ACTION,
            from_status=report.status,
            to_status=report.status,
            note=_note(request["note"]),
            data={
                "media_id": media.id,
                "boxes": [r.as_list() for r in added],
                "detected": len(photo.regions) - len(manual),
            },
            created_at=now,
        )
        db.session.add(event)
        db.session.commit()
    except StaleDataError as exc:
        batch.discard()
        raise Conflict("案件已被他人更新，请刷新后重试", code="concurrent_update") from exc
    except BaseException:
        batch.discard()
        raise
    photos.delete_unreferenced(old_keys - {columns["display_key"], columns["thumb_key"]})
    log.info("report %s photo %s: %d area(s) redacted by %s", report.public_id, media.id, len(added), user.name)
    return media, event


def _photo_of(report, media_id):
    media = db.session.get(Media, media_id)
    if media is None or media.report_id != report.id:
        raise NotFound("该案件没有这张照片", code="media_not_found", details={"media_id": media_id})
    return media


def _region(box, units, media):
    """The box as a region of the upright original; 422 when it misses the image."""
    try:
        if units == "fraction":
            return Region.from_fractions(box["x"], box["y"], box["width"], box["height"])
        return Region.from_pixels(box["x"], box["y"], box["width"], box["height"], (media.width, media.height))
    except ValueError:
        raise ValidationFailed(
            "遮挡区域不在照片范围内",
            code="box_outside_image",
            details={"box": box, "image_size": [media.width, media.height], "units": units},
        ) from None


def _earlier_regions(report_id, media_id):
    """Every box staff drew on this photo before, from the timeline (the only record)."""
    events = db.session.scalars(
        select(ReportEvent)
        .where(ReportEvent.report_id == report_id, ReportEvent.action == ACTION)
        .order_by(ReportEvent.id)
    )
    return [
        Region(*box)
        for event in events
        if (event.data or {}).get("media_id") == media_id
        for box in event.data["boxes"]
    ]


def _note(text):
    return (text or "").strip() or None
