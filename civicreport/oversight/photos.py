"""Photos of whistle steps, listed-problem steps, joint-operation results and inspection items:
uploaded ahead through the media pipeline (HEIC, EXIF GPS and time, the privacy blur), claimed
by ``cases.photo_claims`` and linked here to the row they came with."""

from civicreport.cases import photo_claims
from civicreport.extensions import db
from civicreport.oversight.models import Photo

SUBJECTS = {
    "whistle": "whistle_event",
    "listing": "listing_event",
    "operation": "operation",
    "inspection": "inspection_item",
}
facts = photo_claims.facts


def attach(media_ids, *, uploader, subject, step):
    """Claim ``media_ids`` (uploaded by ``uploader``) for ``step`` — a WhistleEvent,
    ListedProblemEvent, JointOperation or InspectionItem, flushed — in that order (see
    ``photo_claims.claim``). Returns the Media rows."""
    media = photo_claims.claim(media_ids, uploader=uploader, subject=subject)
    link = f"{SUBJECTS[subject]}_id"
    # Added to the session, not to ``step.photos``: a changed collection would mark an append-only
    # step dirty, and its before_update guard refuses that.
    db.session.add_all(Photo(media_id=m.id, position=n, **{link: step.id}) for n, m in enumerate(media))
    return media


def views(photos):
    """The public side of ``photos`` (oversight Photo rows), see ``photo_claims.views``."""
    return photo_claims.views(p.media for p in photos)
