"""Who may fetch a private photo object: an original, or an unchecked thumb left under pending/.

Derivatives are public (faces and plates blurred); an original is the case's private side,
with the same rule as its contact details (``access.require_private``). A photo uploaded
ahead and not yet attached to a report belongs to its uploader and, until a case takes
it, to the district-wide centre staff.
"""

from sqlalchemy import select

from civicreport.accounts.access import (
    PRIVATE_READERS,
    actor_for,
    bounding_areas,
    require_private,
)
from civicreport.cases.models import Media
from civicreport.errors import Forbidden, NotFound, Unauthorized
from civicreport.extensions import db
from civicreport.media.storage import media_key_sha256

PENDING_PREFIX = "pending/"


def check_readable(key, user):
    """Return when ``user`` may fetch the private object ``key``; 404 ``media_not_found``
    when no photo refers to it, 401/403 (the first refusal) when none may be shown."""
    rows = db.session.scalars(select(Media).where(_referring(key))).all()
    if not rows:
        raise NotFound("文件不存在", code="media_not_found")
    refusals = []
    for media in rows:
        try:
            return _check(media, user)
        except (Unauthorized, Forbidden) as refusal:
            refusals.append(refusal)
    raise refusals[0]


def _referring(key):
    if key.startswith(PENDING_PREFIX):  # no row names these keys since migration 0010: the hash does
        return Media.sha256 == (media_key_sha256(key) or "")
    return Media.original_key == key


def _check(media, user):
    if media.report is not None:
        return require_private(actor_for(user), media.report)
    if user is None:
        raise Unauthorized("请登录后查看", code="login_required")
    own = media.uploader_user_id == user.id
    if not own and (user.role not in PRIVATE_READERS or bounding_areas(user)):
        raise Forbidden("无权查看这张照片的原图", code="private_to_case_staff")
