"""Publishing to the 曝光台 and 光荣榜: a supervisor looks at the preview (blurred photos, masked
text), then publishes with a note; anyone with the role may take it down again with a note.

The preview is recorded (an ``ExposureReview``): publishing needs the publisher's own review,
made after the case last changed, so what goes public is what someone saw. The public text is
fixed at publication (masked by ``masking.mask_personal``); photos are the blurred derivatives.
"""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from civicreport.accounts.access import Actor, case_scope, require_in_area
from civicreport.cases.lookup import get_report
from civicreport.cases.models import Report
from civicreport.cases.workflow import load_for_update
from civicreport.db_types import utcnow
from civicreport.errors import Conflict, NotFound, ValidationFailed
from civicreport.exposure.masking import mask_personal
from civicreport.exposure.models import ExposureReview, Publication, PublicationEvent
from civicreport.extensions import db

PUBLISHERS = ("supervisor", "admin")
FIGURE_READERS = ("leader", "supervisor", "admin")
PUBLISHABLE = ("verified", "closed", "rated")  # a praise report rests at verified (核实点赞)
REPORT_KIND = {"uncivil": "problem", "praise": "praise"}  # what each board shows
CANDIDATE_LIMIT = 50


@dataclass(frozen=True)
class Preview:
    """What a publication of ``report`` would show, as its reviewer saw it."""

    report: Report
    text: str
    review: ExposureReview
    published: Publication | None


def preview(user, public_id):
    """Record ``user``'s look at the case and return its ``Preview``; 409 when unpublishable."""
    report = get_report(public_id)
    require_in_area(Actor(user), report)
    _require_publishable(report)
    review = ExposureReview(report_id=report.id, user_id=user.id, created_at=utcnow())
    db.session.add(review)
    db.session.commit()
    return Preview(report, public_text(report), review, current_publication(report.id))


def publish(user, public_id, kind, note, reviewed):
    """Publish the case on the ``kind`` board; 422 without ``reviewed``, 409 for a case that is
    not verified/closed/rated, already published or not previewed since it last changed."""
    if reviewed is not True:
        raise ValidationFailed("发布前须查看预览并确认", code="review_required", details={"reviewed": reviewed})
    report = load_for_update(public_id)
    require_in_area(Actor(user), report)
    _require_publishable(report)
    if REPORT_KIND[kind] != report.kind:
        raise ValidationFailed(
            "文明点赞只能发布到光荣榜，问题案件只能发布到曝光台",
            code="kind_mismatch",
            details={"kind": kind, "report_kind": report.kind},
        )
    if current_publication(report.id):
        raise Conflict("该案件已公开发布", code="already_published", details={"id": public_id})
    review = _latest_review(report, user)
    now = utcnow()
    publication = Publication(
        report_id=report.id,
        kind=kind,
        text=public_text(report),
        note=note,
        review_id=review.id,
        published_by_user_id=user.id,
        published_at=now,
    )
    db.session.add(publication)
    db.session.flush()
    db.session.add(
        PublicationEvent(
            publication_id=publication.id, action="publish", actor_user_id=user.id, note=note, created_at=now
        )
    )
    db.session.commit()
    return publication


def withdraw(user, publication_id, note):
    """Take a publication down; its public URL then says so. 409 when it is down already."""
    publication = get_publication(publication_id)
    require_in_area(Actor(user), publication.report)
    if publication.withdrawn_at is not None:
        raise Conflict("该条已撤下", code="already_withdrawn", details={"id": publication_id})
    now = utcnow()
    publication.withdrawn_at, publication.withdrawn_by_user_id, publication.withdrawn_note = now, user.id, note
    db.session.add(
        PublicationEvent(
            publication_id=publication.id, action="withdraw", actor_user_id=user.id, note=note, created_at=now
        )
    )
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict("该条已被他人更新，请刷新后重试", code="concurrent_update") from None
    return publication


def public_text(report):
    """The description as the public reads it: numbers, e-mail and the reporter's contact masked."""
    return mask_personal(report.description, report.contact)


def get_publication(publication_id):
    publication = db.session.get(Publication, publication_id)
    if publication is None:
        raise NotFound("曝光记录不存在", code="publication_not_found", details={"id": publication_id})
    return publication


def current_publication(report_id):
    """The case's publication that is still up, if any."""
    return db.session.scalar(
        select(Publication).where(Publication.report_id == report_id, Publication.withdrawn_at.is_(None))
    )


def candidates(user, kind):
    """Cases ``user`` may publish on the ``kind`` board and that are not up now, latest first."""
    up = select(Publication.report_id).where(Publication.withdrawn_at.is_(None))
    query = (
        select(Report)
        .where(
            Report.kind == REPORT_KIND[kind], Report.status.in_(PUBLISHABLE), Report.id.not_in(up), *case_scope(user)
        )
        .order_by(Report.updated_at.desc(), Report.id.desc())
        .limit(CANDIDATE_LIMIT)
    )
    return db.session.scalars(query).all()


def publications(user, kind=None, withdrawn=None):
    """Publications of cases in ``user``'s areas, latest first, for the console."""
    query = select(Publication).join(Publication.report).where(*case_scope(user))
    if kind:
        query = query.where(Publication.kind == kind)
    if withdrawn is not None:
        query = query.where(Publication.withdrawn_at.is_not(None) if withdrawn else Publication.withdrawn_at.is_(None))
    return db.session.scalars(query.order_by(Publication.published_at.desc(), Publication.id.desc()).limit(200)).all()


def public_page(kind, start, end, page, per_page):
    """(publications up now, total) on ``kind`` (None: both) published in [start, end), paged."""
    conditions = [Publication.withdrawn_at.is_(None)]
    if kind:
        conditions.append(Publication.kind == kind)
    if start is not None:
        conditions += [Publication.published_at >= start, Publication.published_at < end]
    total = db.session.scalar(select(func.count()).select_from(Publication).where(*conditions))
    rows = db.session.scalars(
        select(Publication)
        .where(*conditions)
        .order_by(Publication.published_at.desc(), Publication.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return rows, total


def month_counts(start, end):
    """{kind: {"published": n, "withdrawn": m}} for publications and takedowns in [start, end)."""
    counts = {kind: {"published": 0, "withdrawn": 0} for kind in REPORT_KIND}
    for action, column in (("published", Publication.published_at), ("withdrawn", Publication.withdrawn_at)):
        query = select(Publication.kind, func.count()).where(column >= start, column < end).group_by(Publication.kind)
        for kind, number in db.session.execute(query):
            counts[kind][action] = number
    return counts


def _require_publishable(report):
    if report.status not in PUBLISHABLE:
        raise Conflict(
            "只有已核查、已结案或已评价的案件可以公开",
            code="not_publishable",
            details={"id": report.public_id, "status": report.status, "publishable": list(PUBLISHABLE)},
        )


def _latest_review(report, user):
    review = db.session.scalar(
        select(ExposureReview)
        .where(ExposureReview.report_id == report.id, ExposureReview.user_id == user.id)
        .order_by(ExposureReview.id.desc())
        .limit(1)
    )
    if review is None or review.created_at < report.updated_at:
        raise Conflict(
            "请先查看预览（遮挡后的照片与文字）再发布",
            code="preview_required",
            details={"id": report.public_id, "preview": review is not None},
        )
    return review
