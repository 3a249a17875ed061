"""Photos uploaded ahead (``POST /api/v1/media``) and claimed by the layers above the cases —
a co-building declaration, 实事清单 note or needs order, a whistle or listed-problem step, an
inspection item — which keep their own link rows; a report claims its photos in ``intake``.

A photo is claimed once, by its own uploader, with one UPDATE that also sets ``media.subject``,
so two steps sent at the same moment cannot both take it and no report can take it afterwards.
"""

from sqlalchemy import select, update

from civicreport.cases.evidence import PhotoFacts
from civicreport.cases.models import MAX_PHOTOS_PER_STEP, Media
from civicreport.cases.photo_urls import object_url, public_photos
from civicreport.errors import Conflict, ValidationFailed
from civicreport.extensions import db


def claim(media_ids, *, uploader, subject):
    """Claim ``media_ids`` (free uploads of ``uploader``) for ``subject``, in that order; 422 for
    too many or repeated ids, 409 when one is not the uploader's free upload."""
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


def views(media):
    """The public side of ``media``: blurred display and thumb URLs and the capture time; photos
    still awaiting the privacy pass are left out until it has run."""
    return [
        {
            "id": m.id,
            "url": object_url(m.display_key),
            "thumb_url": object_url(m.thumb_key),
            "taken_at": m.taken_at.isoformat() if m.taken_at else None,
        }
        for m in public_photos(media)
    ]
