"""Month-end declarations (月底申报): a community shows with text and photos what it did for a
task; the campaign office accepts it with a score or returns it with a reason and a re-submit
deadline. Every step is one row of TRANSITIONS and one append-only ``DeclarationEvent``.

Lateness and evidence, recorded and never refused:
- ``late`` on the declaration: first submitted after the task's due time. A re-submission after
  its ``resubmit_due_at`` is late too: its event carries ``data.late``.
- ``evidence_flags`` of the latest submission: ``photo_outside_month`` when a photo's EXIF time
  falls outside the task's month (local calendar); ``photo_far`` when a photo's EXIF GPS lies
  further than ``COBUILD_DECLARATION_RADIUS_M`` from the community's boundary (none recorded: no
  such check). Like report evidence (``cases.evidence``), they make the reviewer look twice.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from shapely.geometry import Point
from shapely.ops import nearest_points
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from civicreport import registry
from civicreport.accounts.access import require_roles
from civicreport.accounts.models import User
from civicreport.cases.evidence import PHOTO_FAR
from civicreport.cases.models import Media
from civicreport.cobuilding import photos, tasks
from civicreport.cobuilding.access import (
    COMMUNITY_ROLES,
    OFFICE_ROLES,
    READER_ROLES,
    community_of,
    community_scope,
    covers_community,
    require_community,
)
from civicreport.cobuilding.models import Declaration, DeclarationEvent, Task
from civicreport.db_types import utcnow
from civicreport.delivery import outbox
from civicreport.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed, role_not_allowed
from civicreport.extensions import db
from civicreport.geo.distance import distance_m
from civicreport.geo.geojson import parse_geometry
from civicreport.reference.areas import Community

PHOTO_OUTSIDE_MONTH = "photo_outside_month"
EVIDENCE_FLAGS = (PHOTO_FAR, PHOTO_OUTSIDE_MONTH)
NEW = None  # the state of a task a community has not declared yet


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: frozenset  # states it leaves from; NEW: no declaration yet
    target: str
    roles: frozenset
    effect: Callable
    needs: tuple = ()  # fields the request must carry
    notify: str | None = None  # outbox topic written with the step


@dataclass
class Step:
    """One transition being applied: to which declaration, by whom, with what input, when."""

    declaration: Declaration
    actor: User
    data: dict
    now: object
    event_data: dict = field(default_factory=dict)
    media: list = field(default_factory=list)


def _submit(step):
    declaration = step.declaration
    declaration.late = step.now > declaration.task.due_at
    declaration.first_submitted_at = step.now
    _take_submission(step)
    if declaration.late:
        step.event_data["late"] = True


def _resubmit(step):
    due = step.declaration.resubmit_due_at
    _take_submission(step)
    if due is not None and step.now > due:
        step.event_data["late"] = True


def _take_submission(step):
    declaration = step.declaration
    declaration.text = step.data["text"].strip()
    declaration.submitted_at = step.now
    declaration.submitted_by_user_id = step.actor.id
    step.media = _own_media(step.data["media_ids"])
    flags, distance = evidence(declaration.task, declaration.community_code, step.media)
    declaration.evidence_flags = flags or None
    step.event_data.update(evidence_flags=flags or None, photo_distance_m=distance)


def _accept(step):
    score, points = step.data["score"], step.declaration.task.points
    if not 0 <= score <= points:
        raise ValidationFailed(
            f"得分须在 0–{points:g} 之间", code="invalid_score", details={"score": score, "points": points}
        )
    _reviewed(step)
    step.declaration.score = score
    step.event_data["score"] = score


def _return(step):
    days = registry.settings().COBUILD_RESUBMIT_DAYS
    due = step.data.get("resubmit_due") or step.now + timedelta(days=days)
    if due <= step.now:
        raise ValidationFailed(
            "重新申报期限须晚于现在", code="invalid_resubmit_due", details={"resubmit_due": due.isoformat()}
        )
    _reviewed(step)
    step.declaration.returns += 1
    step.declaration.resubmit_due_at = due
    step.event_data["resubmit_due_at"] = due.isoformat()


def _reviewed(step):
    step.declaration.reviewed_by_user_id = step.actor.id
    step.declaration.reviewed_at = step.now
    step.declaration.review_note = (step.data.get("note") or "").strip() or None


OFFICE = frozenset(OFFICE_ROLES)
COMMUNITY = frozenset(COMMUNITY_ROLES)

TRANSITIONS = {
    t.action: t
    for t in (
        Transition("submit", "申报", frozenset({NEW}), "submitted", COMMUNITY, _submit, ("text", "media_ids")),
        Transition(
            "resubmit", "重新申报", frozenset({"returned"}), "submitted", COMMUNITY, _resubmit, ("text", "media_ids")
        ),
        Transition("accept", "审核通过", frozenset({"submitted"}), "accepted", OFFICE, _accept, ("score",)),
        Transition(
            "return",
            "退回",
            frozenset({"submitted"}),
            "returned",
            OFFICE,
            _return,
            ("note",),
            notify="declaration_returned",
        ),
    )
}
DECISIONS = {"accept": "accept", "return": "return"}  # review decision → transition


def allowed_actions(user, community_code, declaration):
    """The actions ``user`` may take now on ``community_code``'s declaration (None: not yet declared)."""
    status = declaration.status if declaration else NEW
    return [
        t.action
        for t in TRANSITIONS.values()
        if status in t.sources and user.role in t.roles and covers_community(user, community_code)
    ]


def declare(task, user, data, now=None):
    """Community staff submit (or, after a return, re-submit) their community's declaration of
    ``task``; commits. 403 for another role or a community the task does not cover, 409 when the
    declaration is already awaiting review or accepted, 422 for bad input."""
    require_roles(user, COMMUNITY_ROLES)
    code = community_of(user)
    if not tasks.covers(task, code):
        raise Forbidden("该任务不涉及本社区", code="community_not_covered", details={"community_code": code})
    declaration = db.session.scalar(
        select(Declaration).where(Declaration.task_id == task.id, Declaration.community_code == code).with_for_update()
    )
    transition = TRANSITIONS["submit" if declaration is None else "resubmit"]
    if declaration is None:
        declaration = Declaration(task=task, community_code=code, text="", returns=0)
    return _apply(transition, declaration, user, data, now)


def review(declaration_id, user, data, now=None):
    """The office accepts (``score``) or returns (``note``, optional ``resubmit_due``) a submitted
    declaration; commits. 403 outside the reviewer's areas, 409 in another state, 422 bad input."""
    declaration = _get(declaration_id, lock=True)
    require_community(user, declaration.community_code, OFFICE_ROLES)
    return _apply(TRANSITIONS[DECISIONS[data["decision"]]], declaration, user, data, now)


def _apply(transition, declaration, user, data, now):
    if user.role not in transition.roles:
        raise role_not_allowed(transition.action, transition.roles)
    status = declaration.status if declaration.id else NEW
    if status not in transition.sources:
        raise Conflict(
            f"申报当前状态不能执行“{transition.label}”",
            code="invalid_transition",
            details={
                "action": transition.action,
                "status": status,
                "allowed_actions": allowed_actions(user, declaration.community_code, declaration),
            },
        )
    missing = [name for name in transition.needs if data.get(name) in (None, "", [])]
    if missing:
        raise ValidationFailed("缺少必填项", code="missing_fields", details={"fields": missing})
    step = Step(declaration, user, data, now or utcnow())
    try:
        transition.effect(step)
        _record(transition, step, status)
        db.session.commit()
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        raise Conflict("申报已被他人更新，请刷新后重试", code="concurrent_update") from None
    except AppError:
        db.session.rollback()  # a refused photo comes after the step's rows were flushed
        raise
    return declaration


def _record(transition, step, from_status):
    declaration = step.declaration
    declaration.status = transition.target
    if declaration.id is None:
        db.session.add(declaration)
    db.session.flush()
    event = DeclarationEvent(
        declaration_id=declaration.id,
        actor_user_id=step.actor.id,
        actor_role=step.actor.role,
        action=transition.action,
        from_status=from_status,
        to_status=declaration.status,
        note=(step.data.get("note") or step.data.get("text") or "").strip() or None,  # a (re)submission's text
        data={k: v for k, v in step.event_data.items() if v is not None} or None,
        created_at=step.now,
    )
    db.session.add(event)
    db.session.flush()
    if step.media:
        photos.attach([m.id for m in step.media], uploader=step.actor, subject="declaration", step=event)
    if transition.notify:
        outbox.enqueue(transition.notify, _notice(transition, declaration, event))


def _own_media(ids):
    """The uploads named by ``ids``, in order, read before they are claimed (their EXIF facts
    go into the step's event, which is never updated); ``photos.attach`` refuses foreign ones."""
    media = {m.id: m for m in db.session.scalars(select(Media).where(Media.id.in_(ids)))}
    if len(media) != len(set(ids)):
        raise Conflict("照片不存在、不是本人上传或已被使用", code="media_unavailable", details={"media_ids": ids})
    return [media[i] for i in ids]


def evidence(task, community_code, media):
    """(flags, largest photo distance from the community in metres or None) for ``media``."""
    zone = registry.current().zone
    flags = []
    if any(m.taken_at and m.taken_at.astimezone(zone).date().replace(day=1) != task.month for m in media):
        flags.append(PHOTO_OUTSIDE_MONTH)
    area = _boundary(community_code)
    gaps = [_metres_from(area, m.gps_lat, m.gps_lon) for m in media if m.gps_lat is not None] if area else []
    if gaps and max(gaps) > registry.settings().COBUILD_DECLARATION_RADIUS_M:
        flags.insert(0, PHOTO_FAR)
    return flags, round(max(gaps), 1) if gaps else None


def _boundary(community_code):
    text = db.session.scalar(select(Community.boundary).where(Community.code == community_code))
    if not text:
        return None
    try:
        return parse_geometry(text)
    except ValueError:  # reference data is checked at load; a bad boundary flags nothing
        return None


def _metres_from(area, lat, lon):
    point = Point(lon, lat)
    if area.covers(point):
        return 0.0
    nearest = nearest_points(area, point)[0]
    return distance_m(lat, lon, nearest.y, nearest.x)


def _notice(transition, declaration, event):
    task = declaration.task
    due = declaration.resubmit_due_at.astimezone(registry.current().zone)
    return {
        "declaration": declaration.id,
        "task": task.id,
        "community": declaration.community_code,
        "event": transition.notify,
        "message": f"共建任务“{task.title}”的申报被退回：{event.note}；请于 {due:%Y-%m-%d %H:%M} 前重新申报",
        "note": event.note,
        "resubmit_due_at": declaration.resubmit_due_at,
    }


def _get(declaration_id, lock=False):
    query = select(Declaration).where(Declaration.id == declaration_id)
    declaration = db.session.scalar(query.with_for_update() if lock else query)
    if declaration is None:
        raise NotFound("申报不存在", code="declaration_not_found", details={"id": declaration_id})
    return declaration


def readable(declaration_id, user):
    """The declaration for a reader covering its community (community staff: their own); 403/404."""
    declaration = _get(declaration_id)
    require_community(user, declaration.community_code, READER_ROLES)
    return declaration


def queue(user, *, month=None, status=None, community=None, limit=200):
    """The review queue: declarations oldest submission first, filtered; community staff and
    bounded supervisors see their communities' only (403 for another community asked by name)."""
    require_roles(user, READER_ROLES)
    if community is not None:
        require_community(user, community)
    elif user.role == "community_staff":
        community = community_of(user)
    query = (
        select(Declaration)
        .join(Task)
        .where(community_scope(user, Declaration.community_code))
        .order_by(Declaration.submitted_at, Declaration.id)
    )
    if month is not None:
        query = query.where(Task.month == month)
    if status is not None:
        query = query.where(Declaration.status == status)
    if community is not None:
        query = query.where(Declaration.community_code == community)
    return db.session.scalars(query.limit(limit)).all()


def of_task(task):
    """``{community code: declaration}`` of ``task``."""
    rows = db.session.scalars(select(Declaration).where(Declaration.task_id == task.id))
    return {d.community_code: d for d in rows}


def community_names(codes):
    """``{code: name}`` of the communities named."""
    rows = db.session.execute(select(Community.code, Community.name).where(Community.code.in_(set(codes))))
    return dict(rows.all())


def actor_names(declaration):
    """``{user id: display name}`` of the people on the declaration's timeline."""
    ids = {e.actor_user_id for e in declaration.events if e.actor_user_id is not None}
    rows = db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return dict(rows.all())
