"""吹哨报到: a community, a street office or the campaign office blows the whistle on a problem no
single unit can fix, summoning a lead unit and co-units, each with its task.

Each summoned unit must 报到 — name who answers for its part — within ``WHISTLE_CHECKIN_HOURS``
working hours (office hours on working days, as cases' deadlines); a unit that has not by then is
marked late and escalated (督办) by the worker (``escalate_late``). Each unit resolves its own part
with after photos; once every part is resolved the raiser verifies and the whistle closes, then
the raiser rates each unit's part 1–5 (一体评议; ``whistle_stats`` counts both in the unit figures).

Every step is one row of TRANSITIONS (who, from which states of the whistle and of the part, to
which, what it needs), applied in one transaction and recorded as an append-only
``whistle_event``. Who acts is decided per whistle, by pseudo-roles:

- ``raiser``: the user who raised it, or a colleague who could have raised it (same role,
  covering its place);
- ``office``: the campaign office (supervisor or admin) covering its place: escalates;
- ``unit``: unit staff of a summoned unit, on their own unit's part only;
- ``reader``: leaders, and community or street staff of its place, read it.

Who may raise: community staff for their community; staff of a street office (a unit of kind
``street_office``) for the streets whose 属地 unit it is (``Street.territorial_unit_id``);
supervisors for their areas (all without areas); admins everywhere.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from civicreport import registry
from civicreport.accounts.access import bounding_areas
from civicreport.cases import lookup
from civicreport.cases.deadlines import work_calendar
from civicreport.cobuilding.access import community_of
from civicreport.db_types import utcnow
from civicreport.delivery import outbox
from civicreport.errors import (
    AppError,
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
    role_not_allowed,
    unknown_action,
)
from civicreport.extensions import db
from civicreport.oversight import photos
from civicreport.oversight.models import Whistle, WhistleEvent, WhistlePart
from civicreport.oversight.status import WHISTLE_STATES
from civicreport.reference.areas import Street
from civicreport.reference.grid import locate, normalise_point
from civicreport.reference.lookup import require_unit

RAISER = "raiser"
OFFICE = "office"
UNIT = "unit"
READER = "reader"
OFFICE_ROLES = ("supervisor", "admin")
RAISING_ROLES = ("community_staff", "unit_staff", *OFFICE_ROLES)
STREET_OFFICE = "street_office"
MAX_UNITS = 20
SYSTEM = "system"


def raising_scope(user):
    """What ``user`` may raise whistles for: ``("community", code)``, ``("streets", codes)``,
    ``("areas", codes)`` (empty: everywhere) or None for a user who may raise none."""
    if user is None:
        return None
    if user.role == "community_staff":
        code = community_of(user)
        return ("community", code) if code else None
    if user.role == "unit_staff":
        if user.unit is None or user.unit.kind != STREET_OFFICE:
            return None
        return (
            "streets",
            set(db.session.scalars(select(Street.code).where(Street.territorial_unit_id == user.unit_id))),
        )
    if user.role in OFFICE_ROLES:
        return ("areas", bounding_areas(user))
    return None


def _scope_covers(scope, whistle):
    if scope is None:
        return False
    kind, codes = scope
    if kind == "community":
        return whistle.community_code == codes
    if kind == "streets":
        return whistle.street_code in codes
    place = whistle.grid_code or whistle.community_code
    return not codes or any(place.startswith(code) for code in codes)


@dataclass(frozen=True)
class WhistleActor:
    """Who acts on a whistle: a logged-in user (None for the worker's automatic steps)."""

    user: object = None

    @property
    def role(self):
        return self.user.role if self.user else SYSTEM

    def roles_for(self, whistle):
        """The pseudo-roles (module docstring) this actor has on ``whistle``."""
        user, roles = self.user, set()
        if user is None:
            return roles
        covers = _scope_covers(raising_scope(user), whistle)
        if user.id == whistle.raised_by_user_id or (covers and user.role == whistle.raised_role):
            roles.add(RAISER)
        if covers:
            roles.add(OFFICE if user.role in OFFICE_ROLES else READER)
        if self.own_part(whistle) is not None:
            roles.add(UNIT)
        if user.role == "leader":
            roles.add(READER)
        return roles

    def own_part(self, whistle):
        """The part of the user's unit, if it is summoned."""
        unit_id = self.user.unit_id if self.user is not None and self.user.role == "unit_staff" else None
        return next((p for p in whistle.parts if unit_id is not None and p.unit_id == unit_id), None)


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: frozenset  # states of the whistle it applies in
    roles: frozenset
    effect: Callable | None = None
    needs: tuple = ()  # fields the request must carry
    part_sources: frozenset | None = None  # None: a step of the whole whistle, not of one part
    part_target: str | None = None  # the part's state after it (None: unchanged)
    target: str | None = None  # the whistle's state after it (None: settled from its parts)
    notify: str | None = None  # outbox topic written with the change, to the part's unit
    asks: str = ""  # the input, for the API document
    part_open: Callable = lambda part: True  # beyond its state, whether a part still takes the step


@dataclass
class Step:
    """One transition being applied: who, to which whistle and part, with what input, at what time."""

    whistle: Whistle
    part: WhistlePart | None
    actor: WhistleActor
    data: dict
    now: object
    event_data: dict = field(default_factory=dict)
    media_ids: list = field(default_factory=list)


def _check_in(step):
    part = step.part
    part.person = step.data["person"].strip()
    part.checked_in_at = step.now
    part.late = part.late or step.now > part.checkin_due_at
    step.event_data.update(person=part.person, late=part.late)


def _resolve_part(step):
    step.part.resolved_at = step.now
    step.media_ids = list(step.data["media_ids"])


def _return_part(step):
    step.part.returns += 1
    step.part.resolved_at = None


def _verify(step):
    step.whistle.closed_at = step.now


def _rate(step):
    part = step.part
    if part.rating is not None:
        raise Conflict("该单位的任务已评议", code="already_rated", details={"unit": part.unit.code})
    part.rating = step.data["rating"]
    part.rating_note = (step.data.get("note") or "").strip() or None
    part.rated_at = step.now
    step.event_data["rating"] = part.rating


def _escalate(step):
    step.part.escalated_at = step.now
    step.event_data["checkin_due_at"] = step.part.checkin_due_at.isoformat()


OPEN = frozenset({"open"})
UNITS = frozenset({UNIT})
RAISERS = frozenset({RAISER})

TRANSITIONS = {
    t.action: t
    for t in (
        Transition(
            "check_in",
            "报到",
            OPEN,
            UNITS,
            _check_in,
            ("person",),
            frozenset({"summoned"}),
            "checked_in",
            asks="person（本单位责任人）",
        ),
        Transition(
            "resolve_part",
            "完成任务",
            OPEN,
            UNITS,
            _resolve_part,
            ("media_ids",),
            frozenset({"checked_in"}),
            "resolved",
            asks="media_ids（整改后照片）、note",
        ),
        Transition(
            "return_part",
            "退回任务",
            frozenset({"open", "verifying"}),
            RAISERS,
            _return_part,
            ("unit", "note"),
            frozenset({"resolved"}),
            "checked_in",
            notify="whistle_returned",
        ),
        Transition("verify", "核验办结", frozenset({"verifying"}), RAISERS, _verify, target="closed"),
        Transition(
            "rate",
            "一体评议",
            frozenset({"closed"}),
            RAISERS,
            _rate,
            ("unit", "rating"),
            frozenset({"resolved"}),
            asks="unit、rating（1–5）、note",
            part_open=lambda part: part.rating is None,
        ),
        Transition(
            "escalate",
            "督办",
            OPEN,
            frozenset({OFFICE}),
            _escalate,
            ("unit",),
            frozenset({"summoned", "checked_in"}),
            notify="escalation",
        ),
    )
}


def allowed_actions(whistle, actor):
    """Actions ``actor`` may take on ``whistle`` in its current state (a unit: on its own part)."""
    roles = actor.roles_for(whistle)
    own = actor.own_part(whistle)
    found = []
    for t in TRANSITIONS.values():
        if not t.roles & roles or whistle.status not in t.sources:
            continue
        parts = [own] if t.roles == UNITS else whistle.parts
        if t.part_sources is None or any(
            p is not None and p.status in t.part_sources and t.part_open(p) for p in parts
        ):
            found.append(t.action)
    return found


def event_label(action):
    """What the timeline shows for an event's ``action``."""
    return "吹哨" if action == "raise" else TRANSITIONS[action].label


def get(public_id, *, lock=False):
    """The whistle (locked for this transaction when ``lock``); 404 when absent."""
    query = select(Whistle).where(Whistle.public_id == public_id)
    whistle = db.session.scalar(query.with_for_update(of=Whistle) if lock else query)
    if whistle is None:
        raise NotFound("吹哨事项不存在", code="whistle_not_found", details={"id": public_id})
    return whistle


def require_reader(whistle, actor):
    """403 for a user with no part in ``whistle``."""
    if not actor.roles_for(whistle):
        raise Forbidden("无权查看该吹哨事项", code="whistle_not_covered", details={"id": whistle.public_id})


def apply(whistle, actor, data):
    """Apply ``data["action"]`` to a locked whistle and commit; raises 403/404/409/422.

    Role problems are 403 (a unit naming another unit's part too), a part the whistle does not
    summon 404, state problems 409 with the current states and the actions allowed now, missing
    or bad input 422. Of two concurrent changes the second gets 409 ``concurrent_update``.
    """
    transition = TRANSITIONS.get(data.get("action"))
    if transition is None:
        raise unknown_action(data.get("action"), TRANSITIONS)
    require_reader(whistle, actor)
    if not actor.roles_for(whistle) & transition.roles:
        raise role_not_allowed(transition.action, transition.roles)
    _check_state(whistle.status in transition.sources, transition, whistle, actor)
    _check_needs(transition, data)
    part = _part_for(transition, whistle, actor, data.get("unit"))
    _check_state(part is None or part.status in transition.part_sources, transition, whistle, actor, part)
    _run(transition, Step(whistle, part, actor, data, utcnow()))
    return whistle


def _check_state(ok, transition, whistle, actor, part=None):
    if ok:
        return
    details = {
        "action": transition.action,
        "status": whistle.status,
        "allowed_actions": allowed_actions(whistle, actor),
    }
    if part is not None:
        details.update(unit=part.unit.code, part_status=part.status)
    raise Conflict(f"当前状态不能执行“{transition.label}”", code="invalid_transition", details=details)


def _check_needs(transition, data):
    missing = [name for name in transition.needs if data.get(name) in (None, "", [])]
    if missing:
        raise ValidationFailed("缺少必填项", code="missing_fields", details={"fields": missing})


def _part_for(transition, whistle, actor, unit_code):
    """The part a step acts on: a unit's own (403 when ``unit`` names another unit), or the one
    ``unit`` names for the raiser and the office (404 when the whistle does not summon it)."""
    if transition.part_sources is None:
        return None
    if transition.roles == UNITS:
        part = actor.own_part(whistle)
        if unit_code is not None and unit_code != part.unit.code:
            raise Forbidden("只能处理本单位的任务", code="part_not_yours", details={"unit": unit_code})
        return part
    part = next((p for p in whistle.parts if p.unit.code == unit_code), None)
    if part is None:
        raise NotFound("该单位不在本次吹哨之列", code="part_not_found", details={"unit": unit_code})
    return part


def _run(transition, step):
    try:
        transition.effect(step)
        _record(transition, step)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict("吹哨事项已被他人更新，请刷新后重试", code="concurrent_update") from None
    except AppError:  # nothing of a refused step stays in the session, the flushed event included
        db.session.rollback()
        raise


def _record(transition, step):
    whistle, part, user = step.whistle, step.part, step.actor.user
    before = part.status if part is not None else whistle.status
    if part is not None and transition.part_target:
        part.status = transition.part_target
    settled = transition.target or _settled(whistle)
    if settled != whistle.status:
        step.event_data["whistle_status"] = settled
        whistle.status = settled
    after = part.status if part is not None else whistle.status
    whistle.updated_at = step.now
    note = (step.data.get("note") or "").strip() or None
    event = _event(whistle, part, user, transition.action, (before, after), note, step.event_data, step.now)
    db.session.flush()
    photos.attach(step.media_ids, uploader=user, subject="whistle", step=event)
    if transition.notify:
        _notify(transition.notify, whistle, part, event.note)


def _settled(whistle):
    """open while a part is being worked, verifying once every part is resolved; closed stays."""
    if whistle.status == "closed":
        return "closed"
    return "verifying" if all(p.status == "resolved" for p in whistle.parts) else "open"


def _event(whistle, part, user, action, states, note, data, now):
    """The timeline row of a step (``user`` None: the system), added to the session."""
    event = WhistleEvent(
        whistle_id=whistle.id,
        part_id=part.id if part is not None else None,
        actor_user_id=user.id if user else None,
        actor_role=user.role if user else SYSTEM,
        action=action,
        from_status=states[0],
        to_status=states[1],
        note=note,
        data=data or None,
        created_at=now,
    )
    db.session.add(event)
    return event


MESSAGES = {
    "whistle_summoned": "吹哨 {id}「{title}」请贵单位于 {due} 前报到（明确责任人）",
    "escalation": "督办：吹哨 {id}「{title}」贵单位未在 {due} 前报到，请立即报到处置",
    "whistle_returned": "吹哨 {id}「{title}」贵单位的任务被退回，请继续处置",
}


def _notify(topic, whistle, part, note=None):
    due = part.checkin_due_at.astimezone(registry.current().zone)
    text = MESSAGES[topic].format(id=whistle.public_id, title=whistle.title, due=f"{due:%Y-%m-%d %H:%M}")
    payload = {
        "whistle": whistle.public_id,
        "event": topic,
        "message": text,
        "task": part.task or None,
        "checkin_due_at": part.checkin_due_at,
        "note": note,
    }
    outbox.enqueue(topic, payload, unit=part.unit)


def raise_whistle(data, user):
    """Raise a whistle as ``WhistleRaiseSchema`` loads it and commit; returns it.

    The place is ``lat``/``lon`` when given, else the linked case's (``report``, 404 when
    unknown); 403 when ``user`` may not raise whistles there; units by code (404 unknown, 422
    inactive). Every summoned unit gets its 报到 deadline and a notification.
    """
    try:
        return _raise(data, user)
    except AppError:  # nothing of a refused whistle stays in the session, its flushed rows included
        db.session.rollback()
        raise


def _raise(data, user):
    scope = raising_scope(user)
    if scope is None:
        raise Forbidden("当前角色无权吹哨", code="role_not_allowed", details={"allowed_roles": list(RAISING_ROLES)})
    report = lookup.get_report(data["report"]) if data["report"] else None
    now = utcnow()
    whistle = Whistle(
        public_id=_new_public_id(now),
        title=data["title"].strip(),
        description=(data["description"] or "").strip(),
        report=report,
        status="open",
        raised_by=user,
        raised_role=user.role,
        created_at=now,
        updated_at=now,
        **_place(data, report),
    )
    if not _scope_covers(scope, whistle):
        raise Forbidden("只能在本辖区吹哨", code="area_not_covered", details={"community_code": whistle.community_code})
    due = work_calendar().add(now, registry.settings().WHISTLE_CHECKIN_HOURS * 60)
    tasks = data["tasks"] or {}
    whistle.parts = [
        WhistlePart(unit=unit, lead=lead, task=tasks.get(unit.code, ""), status="summoned", checkin_due_at=due)
        for unit, lead in _summoned(data["lead_unit"], data["units"], tasks)
    ]
    db.session.add(whistle)
    db.session.flush()
    units = [p.unit.code for p in whistle.parts]
    event = _event(whistle, None, user, "raise", (None, "open"), None, {"units": units}, now)
    db.session.flush()
    photos.attach(data["media_ids"], uploader=user, subject="whistle", step=event)
    for part in whistle.parts:
        _notify("whistle_summoned", whistle, part)
    db.session.commit()
    return whistle


def _place(data, report):
    if data["lat"] is not None:
        lat, lon = normalise_point(data["lat"], data["lon"], data["crs"])
        cell = locate(lat, lon)
        return {"lat": lat, "lon": lon, "grid_code": cell.code, **_codes(cell)}
    if report is None:
        raise ValidationFailed("请关联案件或提供位置（lat/lon）", code="location_required")
    return {"lat": report.lat, "lon": report.lon, "grid_code": report.grid_code, **_codes(report)}


def _codes(place):
    return {"community_code": place.community_code, "street_code": place.street_code}


def _summoned(lead_code, codes, tasks):
    """[(unit, lead)] — the lead first, each unit once; 404 unknown, 422 inactive or too many."""
    ordered = list(dict.fromkeys([lead_code, *codes]))
    if len(ordered) > MAX_UNITS:
        raise ValidationFailed(f"最多召集 {MAX_UNITS} 个单位", code="too_many_units", details={"max": MAX_UNITS})
    units = [require_unit(code) for code in ordered]
    stray = sorted(set(tasks) - set(ordered))
    if stray:
        raise ValidationFailed("任务所指单位不在召集之列", code="task_for_unknown_unit", details={"units": stray})
    inactive = [u.code for u in units if not u.active]
    if inactive:
        raise ValidationFailed("单位已停用", code="unit_inactive", details={"units": inactive})
    return [(unit, n == 0) for n, unit in enumerate(units)]


def _new_public_id(now):
    """``QJW20261207-4F2A9C``: the district prefix, W for 吹哨, the local date, six random hex digits."""
    today = now.astimezone(registry.current().zone).date()
    return f"{registry.settings().PUBLIC_ID_PREFIX}W{today:%Y%m%d}-{secrets.token_hex(3).upper()}"


def escalate_late(now=None):
    """督办 every part not checked in by its deadline (a worker job): marked late, an ``escalate``
    event by the system and a notification to the unit; each part once. Returns how many."""
    now = now or utcnow()
    query = (
        select(WhistlePart)
        .join(Whistle)
        .where(
            Whistle.status == "open",
            WhistlePart.status == "summoned",
            WhistlePart.late.is_(False),
            WhistlePart.checkin_due_at < now,
        )
        .with_for_update(skip_locked=True, of=WhistlePart)
    )
    count = 0
    for part in db.session.scalars(query):
        part.late = True
        part.escalated_at = now
        data = {"automatic": True, "late": True, "checkin_due_at": part.checkin_due_at.isoformat()}
        _event(part.whistle, part, None, "escalate", (part.status, part.status), None, data, now)
        _notify("escalation", part.whistle, part)
        count += 1
    db.session.commit()
    return count


def search(user, *, status=(), unit=None, late=None, limit=100):
    """The whistles ``user`` may list, newest first: community staff their community's, unit staff
    those summoning their unit (a street office also its streets'), supervisors their areas',
    admins and leaders all; 403 for any other role."""
    query = (
        select(Whistle)
        .where(*_list_scope(user))
        .options(selectinload(Whistle.raised_by), selectinload(Whistle.report))
        .order_by(Whistle.created_at.desc(), Whistle.id.desc())
    )
    if status:
        query = query.where(Whistle.status.in_(status))
    if unit:
        query = query.where(_has_part(WhistlePart.unit.has(code=unit)))
    if late is not None:
        late_part = _has_part(WhistlePart.late.is_(True))
        query = query.where(late_part if late else ~late_part)
    return db.session.scalars(query.limit(limit)).all()


def _has_part(condition):
    return exists().where(WhistlePart.whistle_id == Whistle.id, condition)


def _list_scope(user):
    if user.role in ("admin", "leader"):
        return []
    scope = raising_scope(user)
    if user.role == "unit_staff":
        own = _has_part(WhistlePart.unit_id == user.unit_id)
        return [or_(own, Whistle.street_code.in_(scope[1]))] if scope else [own]
    if scope is None:
        raise Forbidden("当前角色无权查看吹哨事项", code="role_not_allowed", details={"role": user.role})
    kind, codes = scope
    if kind == "community":
        return [Whistle.community_code == codes]
    return [or_(*(_in_area(code) for code in codes))] if codes else []


def _in_area(code):
    return Whistle.grid_code == code if len(code) == 15 else Whistle.community_code.startswith(code)


def of_report(report):
    """The whistles raised on ``report``, oldest first: what the case view shows its staff."""
    found = db.session.scalars(select(Whistle).where(Whistle.report_id == report.id).order_by(Whistle.id))
    return [
        {"id": w.public_id, "title": w.title, "status": w.status, "status_label": WHISTLE_STATES[w.status]}
        for w in found
    ]
