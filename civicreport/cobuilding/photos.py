"""Photos of declarations, 实事清单 notes and needs orders: uploaded ahead through the media
pipeline (``POST /api/v1/media``: HEIC, EXIF GPS and time, the privacy blur), then claimed here.

A photo is claimed once, by its own uploader, with one UPDATE that also sets ``media.subject``,
so two steps sent at the same moment cannot both take it and no report can take it afterwards.
"""

from sqlalchemy import select, update

from civicreport.cases.evidence import PhotoFacts
from civicreport.cases.models import MAX_PHOTOS_PER_STEP, Media
from civicreport.cases.photo_urls import object_url, public_photos
from civicreport.cobuilding.models import Photo
from civicreport.errors import Conflict, ValidationFailed
from civicreport.extensions import db

SUBJECTS = {"declaration": "declaration_event", "matter": "matter_note", "order": "order_event"}


def attach(media_ids, *, uploader, subject, step):
    """Claim ``media_ids`` (uploaded by ``uploader``) for ``step`` — a DeclarationEvent, MatterNote
    or NeedOrderEvent, flushed — in that order; 422 for too many or repeated ids, 409 when one is
    not the uploader's free upload. Returns the claimed Media rows."""
    ids = list(media_ids or [])
    _check_ids(ids)
    if not ids:
        return []
    claimed = db.session.execute(
        update(Media)
        .where(Media.id.in_(ids), ~Media.is_attached, Media.uploader_user_id == getattr(uploader, "id", None))
        .values(subject=subject)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != len(ids):
        raise Conflict("照片不存在、不是本人上传或已被使用", code="media_unavailable", details={"media_ids": ids})
    link = f"{SUBJECTS[subject]}_id"
    db.session.add_all(Photo(media_id=i, position=n, **{link: step.id}) for n, i in enumerate(ids))
    media = {m.id: m for m in db.session.scalars(select(Media).where(Media.id.in_(ids)))}
    return [media[i] for i in ids]


def _check_ids(ids):
    if len(ids) > MAX_PHOTOS_PER_STEP:
        raise ValidationFailed(
            f"每次最多 {MAX_PHOTOS_PER_STEP} 张照片",
            code="too_many_photos",
            details={"max": MAX_PHOTOS_PER_STEP, "count": len(ids)},
        )
    if len(set(ids)) != len(ids):
        raise ValidationFailed("照片重复", code="duplicate_media_ids")


def facts(media):
    """What EXIF said of each photo, for ``cases.evidence.check``."""
    return [PhotoFacts(m.gps_lat, m.gps_lon, m.taken_at) for m in media]


def views(photos):
    """The public side of ``photos`` (cobuilding Photo rows): blurred display and thumb URLs, the
    capture time; photos still awaiting the privacy pass are left out until it has run."""
    media = public_photos(p.media for p in photos)
    return [
        {
            "id": m.id,
            "url": object_url(m.display_key),
            "thumb_url": object_url(m.thumb_key),
            "taken_at": m.taken_at.isoformat() if m.taken_at else None,
        }
        for m in media
    ]
