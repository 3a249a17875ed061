"""Residents' needs orders (急难愁盼): 点单 → 派单 → 接单 → 完成 → 评单, with refuse, cancel and 退单.

A resident files an order anonymously and keeps its receipt (like a report's), or community
staff file it on the resident's behalf (代点单, the receipt is handed over). The community
dispatches a valid need to a volunteer team or a partner unit, which accepts, serves and records
its service hours with photos; the resident rates it with the receipt.

Every step is one row of TRANSITIONS (who, from which states, to which state, what it needs),
applied in one transaction and recorded as an append-only ``need_order_event``. Who acts is
decided per order, by pseudo-roles:

- ``resident``: the holder of the order's receipt;
- ``staff``: community staff of the order's community, or the office (创建办) covering it;
- ``server``: a volunteer of the team it is dispatched to, or unit staff of the unit;
- ``reader``: a leader, who reads every order and changes none.

Deadlines run in working time (office hours on working days, as cases' do): 派单 is owed within
``COBUILD_ORDER_DISPATCH_HOURS`` of 点单 (and again of a 退单), the service within
``COBUILD_ORDER_SERVICE_HOURS`` of 派单. An event that starts a clock records its
``deadline_at``; a step taken after it records ``late``: ``order_stats`` counts missed deadlines
from that timeline, and ``order_deadlines`` sends a warning and an overdue notice on each clock.
"""

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from civicreport import registry
from civicreport.abuse import throttle
from civicreport.accounts.auth import receipt_matches, receipt_token, token_hash
from civicreport.accounts.models import Unit
from civicreport.cases.models import IdempotencyRecord
from civicreport.cobuilding import order_deadlines, photos
from civicreport.cobuilding.access import (
    COMMUNITY_ROLES,
    OFFICE_ROLES,
    community_of,
    community_scope,
    covers_community,
)
from civicreport.cobuilding.models import NeedOrder, NeedOrderEvent, Partnership, VolunteerTeam
from civicreport.cobuilding.status import ORDER_OPEN
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
from civicreport.reference.areas import Community
from civicreport.reference.grid import locate, normalise_point
from civicreport.schema_fields import idempotency_key

RESIDENT = "resident"
STAFF = "staff"
SERVER = "server"
READER = "reader"
FILING_ROLES = (*COMMUNITY_ROLES, *OFFICE_ROLES)  # file on a resident's behalf, for their communities
MAX_SERVICE_HOURS = 24


@dataclass(frozen=True)
class OrderActor:
    """Who acts on an order: a logged-in user (or None) and whether the receipt matched."""

    user: object = None
    resident: bool = False

    @property
    def role(self):
        return self.user.role if self.user else "citizen"

    def roles_for(self, order):
        """The pseudo-roles (module docstring) this actor has on ``order``."""
        roles = {RESIDENT} if self.resident else set()
        user = self.user
        if user is None:
            return roles
        if user.role in FILING_ROLES and covers_community(user, order.community_code):
            roles.add(STAFF)
        if _serves(user, order):
            roles.add(SERVER)
        if user.role == "leader":
            roles.add(READER)
        return roles

    def sees_contact(self, order):
        """The resident's contact and place: the resident, the community's staff and the office."""
        return bool(self.roles_for(order) & {RESIDENT, STAFF})


def _serves(user, order):
    if user.role == "volunteer":
        return user.team_id is not None and user.team_id == order.team_id
    return user.role == "unit_staff" and user.unit_id is not None and user.unit_id == order.unit_id


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: frozenset
    target: str
    roles: frozenset
    effect: Callable | None = None
    needs: tuple = ()  # fields the request must carry
    notify: str | None = None  # outbox topic written with the change, to the team or unit
    asks: str = ""  # the input, for the API document, when ``needs`` cannot say it


@dataclass
class Step:
    """One transition being applied: who, to which order, with what input, at what time."""

    order: NeedOrder
    actor: OrderActor
    data: dict
    now: object
    event_data: dict = field(default_factory=dict)
    media_ids: list = field(default_factory=list)


@dataclass(frozen=True)
class Filed:
    """A filed order and its receipt (recomputed on a replay); ``replayed`` when a retry with the
    same ``Idempotency-Key`` got the order the first request filed."""

    order: NeedOrder
    receipt_token: str
    replayed: bool = False


def _dispatch(step):
    order, team_ref, unit_code = step.order, step.data.get("team"), step.data.get("unit")
    if (team_ref is None) == (unit_code is None):
        raise ValidationFailed("请选择一支志愿服务队或一个共建单位（二选一）", code="team_or_unit_required")
    if team_ref is not None:
        order.team, order.unit = _team_for(order, str(team_ref)), None
        step.event_data.update(team_id=order.team.id, team=order.team.name)
    else:
        order.team, order.unit = None, _partner_unit(order, unit_code)
        step.event_data.update(unit_id=order.unit.id, unit=order.unit.code)
    _mark_late(step)
    order.dispatched_at = step.now
    order.accepted_at = None
    _start_clock(step, registry.settings().COBUILD_ORDER_SERVICE_HOURS)


def _team_for(order, ref):
    """An active team of the order's community, or of a unit building with it now; 422 otherwise."""
    by_id = ref.isascii() and ref.isdigit() and len(ref) <= 9  # an id the column can hold, else a name
    team = db.session.scalar(
        select(VolunteerTeam).where(VolunteerTeam.id == int(ref) if by_id else VolunteerTeam.name == ref)
    )
    if team is None or not team.active:
        raise ValidationFailed("志愿服务队不存在或已停用", code="unknown_team", details={"team": ref})
    if team.community_code != order.community_code and team.unit_id not in _partner_ids(order.community_code):
        raise ValidationFailed(
            "该服务队不属于本社区或其共建单位", code="team_not_of_community", details={"team": team.name}
        )
    return team


def _partner_unit(order, code):
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None or not unit.active:
        raise ValidationFailed("单位不存在或已停用", code="unknown_unit", details={"unit": code})
    if unit.id not in _partner_ids(order.community_code):
        raise ValidationFailed("该单位不是本社区当前的共建单位", code="not_a_partner", details={"unit": code})
    return unit


def _partner_ids(community_code):
    """Ids of the units building with the community today (dated partnerships)."""
    today = utcnow().astimezone(registry.current().zone).date()
    return set(
        db.session.scalars(
            select(Partnership.unit_id).where(
                Partnership.community_code == community_code,
                Partnership.starts_on <= today,
                or_(Partnership.ends_on.is_(None), Partnership.ends_on > today),
            )
        )
    )


def _accept(step):
    step.order.accepted_at = step.now


def _decline(step):
    """退单: the team cannot serve it; the community owes a new 派单, on a new dispatch clock."""
    order = step.order
    step.event_data.update(team_id=order.team_id, unit_id=order.unit_id)
    order.team = order.unit = None
    order.dispatched_at = order.accepted_at = None
    _start_clock(step, registry.settings().COBUILD_ORDER_DISPATCH_HOURS)


def _complete(step):
    hours = step.data["hours"]
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 < hours <= MAX_SERVICE_HOURS:
        raise ValidationFailed(
            f"服务时长须大于 0 且不超过 {MAX_SERVICE_HOURS} 小时", code="invalid_hours", details={"hours": hours}
        )
    _mark_late(step)
    step.order.service_hours = float(hours)
    step.order.completed_at = step.now
    order_deadlines.stop_clock(step.order)
    step.event_data["hours"] = float(hours)
    step.media_ids = list(step.data["media_ids"])


def _rate(step):
    rating = step.data["rating"]
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationFailed("评分须为 1–5 的整数", code="invalid_rating", details={"rating": rating})
    step.order.rating = rating
    step.order.rating_comment = (step.data.get("comment") or "").strip() or None
    step.event_data["rating"] = rating


def _stop_clock(step):
    order_deadlines.stop_clock(step.order)


def _start_clock(step, hours):
    order_deadlines.start_clock(step.order, step.now, hours)
    step.event_data["deadline_at"] = step.order.deadline_at.isoformat()


def _mark_late(step):
    """The step the running clock asked for came after its deadline."""
    if step.order.deadline_at is not None and step.now > step.order.deadline_at:
        step.event_data["late"] = True


SUBMITTED = frozenset({"submitted"})
STAFF_ONLY = frozenset({STAFF})
SERVERS = frozenset({SERVER})

TRANSITIONS = {
    t.action: t
    for t in (
        Transition(
            "dispatch",
            "派单",
            SUBMITTED,
            "dispatched",
            STAFF_ONLY,
            _dispatch,
            notify="order_dispatched",
            asks="team（服务队名称或编号）或 unit（本社区当前共建单位的编码）",
        ),
        Transition("accept", "接单", frozenset({"dispatched"}), "accepted", SERVERS, _accept),
        Transition("decline", "退单", frozenset({"dispatched", "accepted"}), "submitted", SERVERS, _decline, ("note",)),
        Transition(
            "complete", "服务完成", frozenset({"accepted"}), "completed", SERVERS, _complete, ("hours", "media_ids")
        ),
        Transition("rate", "评单", frozenset({"completed"}), "rated", frozenset({RESIDENT}), _rate, ("rating",)),
        Transition("reject", "不予受理", SUBMITTED, "rejected", STAFF_ONLY, _stop_clock, ("note",)),
        Transition(
            "cancel",
            "取消",
            frozenset(ORDER_OPEN),
            "cancelled",
            frozenset({RESIDENT, STAFF}),
            _stop_clock,
            ("note",),
            "order_cancelled",
        ),
    )
}


def allowed_actions(order, actor):
    """Actions ``actor`` may take on ``order`` in its current state."""
    roles = actor.roles_for(order)
    return [t.action for t in TRANSITIONS.values() if t.roles & roles and order.status in t.sources]


def resident_actor(user, order, receipt, address):
    """The actor, with the receipt a bearer secret that cannot be guessed at: while the client
    ``address`` is locked (abuse.throttle, the counter reports' receipts use) a receipt is 429
    ``too_many_attempts``; a wrong one counts a failure, a right one is given back."""
    if not receipt or order.receipt_token_hash is None:
        return OrderActor(user)
    held = throttle.reserve(throttle.keys(receipt_ip=throttle.address_key(address)))
    if not receipt_matches(order, receipt):
        return OrderActor(user)
    throttle.succeeded(held)
    return OrderActor(user, resident=True)


def require_reader(order, actor):
    """404 for an anonymous caller without the order's receipt (an unknown order and a wrong
    receipt look the same); 403 for a user with no part in the order."""
    if actor.roles_for(order):
        return
    if actor.user is None:
        raise _not_found(order.public_id)
    raise Forbidden("无权查看该点单", code="order_not_covered", details={"id": order.public_id})


def get(public_id, *, lock=False):
    """The order (locked for this transaction when ``lock``: PostgreSQL row lock); 404 when absent."""
    query = select(NeedOrder).where(NeedOrder.public_id == public_id)
    order = db.session.scalar(query.with_for_update() if lock else query)
    if order is None:
        raise _not_found(public_id)
    return order


def _not_found(public_id):
    return NotFound("点单不存在或回执码不正确", code="order_not_found", details={"id": public_id})


def apply(order, actor, data):
    """Apply ``data["action"]`` to a locked order and commit; raises 403/404/409/422.

    Role problems are 403 (404 for an anonymous caller without the receipt), state problems 409
    with the current state and the actions allowed now, missing or bad input 422. Of two
    concurrent changes to one order the second gets 409 ``concurrent_update``.
    """
    transition = TRANSITIONS.get(data.get("action"))
    if transition is None:
        raise unknown_action(data.get("action"), TRANSITIONS)
    require_reader(order, actor)
    if not actor.roles_for(order) & transition.roles:
        raise role_not_allowed(transition.action, transition.roles)
    if order.status not in transition.sources:
        raise Conflict(
            f"点单当前状态不能执行“{transition.label}”",
            code="invalid_transition",
            details={
                "action": transition.action,
                "status": order.status,
                "allowed_actions": allowed_actions(order, actor),
            },
        )
    _check_needs(transition, data)
    step = Step(order, actor, data, utcnow())
    try:
        transition.effect(step)
        _record(transition, step)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict("点单已被他人更新，请刷新后重试", code="concurrent_update") from None
    except AppError:  # nothing of a refused step stays in the session, the flushed event included
        db.session.rollback()
        raise
    return order


def _check_needs(transition, data):
    missing = [name for name in transition.needs if data.get(name) in (None, "", [])]
    if missing:
        raise ValidationFailed("缺少必填项", code="missing_fields", details={"fields": missing})


def _record(transition, step):
    order, user = step.order, step.actor.user
    event = NeedOrderEvent(
        order_id=order.id,
        actor_user_id=user.id if user else None,
        actor_role=_acting_role(transition, step.actor, order),
        action=transition.action,
        from_status=order.status,
        to_status=transition.target,
        note=(step.data.get("note") or "").strip() or None,
        data=step.event_data or None,
        created_at=step.now,
    )
    notified = order.team, order.unit  # before a cancel, whoever was serving it
    order.status = transition.target
    order.updated_at = step.now
    db.session.add(event)
    db.session.flush()
    photos.attach(step.media_ids, uploader=user, subject="order", step=event)
    if transition.notify and any(notified):
        _notify(transition, order, event, *notified)


def _acting_role(transition, actor, order):
    """The user's role, or ``resident`` when the receipt alone allowed the step."""
    return actor.role if actor.roles_for(order) & transition.roles - {RESIDENT} else RESIDENT


def _notify(transition, order, event, team, unit):
    """To the unit (its delivery method), or to the team's contact phone in the log."""
    deadline = order.deadline_at and order.deadline_at.astimezone(registry.current().zone)
    text = f"点单 {order.public_id}（{order.community.name}）{transition.label}"
    if deadline:
        text += f"，服务时限 {deadline:%Y-%m-%d %H:%M}"
    payload = {
        "order": order.public_id,
        "event": transition.notify,
        "status": order.status,
        "message": text,
        "note": event.note,
        "team": team.name if team else None,
        "deadline_at": order.deadline_at,
    }
    receiver, target = order_deadlines.recipient(team, unit)
    outbox.enqueue(transition.notify, payload, unit=receiver, target=target)


def submit(data, user, idempotency_key=None, *, device_id=None):
    """File an order (点单) as ``OrderSubmitSchema`` loads it; returns ``Filed`` with the receipt.

    The place is the point's community (placed on the grid) or the ``community`` code given.
    Community staff and the office file on a resident's behalf, for communities they cover
    (403 otherwise); anyone else files as a resident. A retry with the same ``Idempotency-Key``
    (and the same request) gets the first order and the same receipt; another request with the
    key is 422 ``idempotency_key_reused``.
    """
    key = _scoped(user, idempotency_key)
    fingerprint = _fingerprint({**data, "user": user and user.id})
    nonce = idempotency_key or secrets.token_urlsafe(16)
    replayed = _replay(key, fingerprint)
    if replayed is None:
        try:
            return _file(data, user, key, fingerprint, nonce, device_id)
        except IntegrityError:  # a parallel retry with the same key filed it first
            db.session.rollback()
            replayed = _replay(key, fingerprint)
            if replayed is None:
                raise
    return Filed(replayed, receipt_token(nonce, replayed.public_id), replayed=True)


def _file(data, user, key, fingerprint, nonce, device_id):
    community_code = _community_of_place(data)
    on_behalf = user is not None and user.role in FILING_ROLES
    if on_behalf and not covers_community(user, community_code):
        raise Forbidden(
            "只能为本社区居民代点单", code="community_not_covered", details={"community_code": community_code}
        )
    now = utcnow()
    order = NeedOrder(
        public_id=_new_public_id(now),
        description=data["description"].strip(),
        lat=data["lat"],
        lon=data["lon"],
        community_code=community_code,
        status="submitted",
        contact=data["contact"],
        device_id=device_id,
        created_by_user_id=user.id if on_behalf else None,
        created_at=now,
        updated_at=now,
    )
    order_deadlines.start_clock(order, now, registry.settings().COBUILD_ORDER_DISPATCH_HOURS)
    token = receipt_token(nonce, order.public_id)
    order.receipt_token_hash = token_hash(token)
    db.session.add(order)
    db.session.flush()
    db.session.add(
        NeedOrderEvent(
            order_id=order.id,
            actor_user_id=user.id if user else None,
            actor_role=user.role if on_behalf else RESIDENT,
            action="submit",
            to_status="submitted",
            data={"deadline_at": order.deadline_at.isoformat(), "on_behalf": on_behalf},
            created_at=now,
        )
    )
    if key:
        db.session.add(
            IdempotencyRecord(
                key=key, fingerprint=fingerprint, status_code=201, resource_type="need_order", resource_id=str(order.id)
            )
        )
    db.session.commit()
    return Filed(order, token)


def _community_of_place(data):
    """The community of the point (WGS-84 after conversion) or of the code; 422 without either."""
    if data["lat"] is not None:
        data["lat"], data["lon"] = normalise_point(data["lat"], data["lon"], data["crs"])
        return locate(data["lat"], data["lon"]).community_code
    code = data["community"]
    if code is None:
        raise ValidationFailed("请开启定位或选择所在社区", code="location_required")
    if db.session.get(Community, code) is None:
        raise ValidationFailed("社区不存在", code="unknown_community", details={"community": code})
    return code


def _new_public_id(now):
    """``QJD20261207-4F2A9C``: the district prefix, D for 点单, the local date, six random hex digits
    (the case numbers' daily counter stays the cases' own)."""
    today = now.astimezone(registry.current().zone).date()
    return f"{registry.settings().PUBLIC_ID_PREFIX}D{today:%Y%m%d}-{secrets.token_hex(3).upper()}"


def _scoped(user, key):
    if not idempotency_key(key):
        return None
    return f"order:{user.id if user else 'anon'}:{key}"


def _fingerprint(payload):
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(key, fingerprint):
    record = db.session.get(IdempotencyRecord, key) if key else None
    if record is None:
        return None
    if record.fingerprint != fingerprint or record.resource_type != "need_order":
        raise ValidationFailed("Idempotency-Key 已用于另一个不同的请求", code="idempotency_key_reused")
    return db.session.get(NeedOrder, int(record.resource_id))


def search(user, *, status=None, community=None, month=None, limit=100):
    """The orders ``user`` may list, newest first: community staff their community's, a volunteer
    his team's, unit staff their unit's, the office those of the communities it covers, a leader
    all; ``month`` is a Period (local dates). 403 for any other role."""
    query = (
        select(NeedOrder)
        .where(*_scope(user))
        .options(*LIST_LOADS)
        .order_by(NeedOrder.created_at.desc(), NeedOrder.id.desc())
    )
    if status:
        query = query.where(NeedOrder.status.in_(status))
    if community:
        query = query.where(NeedOrder.community_code == community)
    if month is not None:
        start, end = month.instants(registry.current().zone)
        query = query.where(NeedOrder.created_at >= start, NeedOrder.created_at < end)
    return db.session.scalars(query.limit(limit)).all()


# What a list row shows of each order, loaded in a few queries rather than some per order.
LIST_LOADS = (
    selectinload(NeedOrder.events).selectinload(NeedOrderEvent.photos),
    selectinload(NeedOrder.community),
    selectinload(NeedOrder.team),
    selectinload(NeedOrder.unit),
)


def _scope(user):
    if user.role == "community_staff":
        return [NeedOrder.community_code == community_of(user)]
    if user.role == "volunteer":
        return [NeedOrder.team_id == user.team_id] if user.team_id else [NeedOrder.id.is_(None)]
    if user.role == "unit_staff":
        return [NeedOrder.unit_id == user.unit_id] if user.unit_id else [NeedOrder.id.is_(None)]
    if user.role in OFFICE_ROLES:
        return [community_scope(user, NeedOrder.community_code)]
    if user.role == "leader":
        return []
    raise Forbidden("当前角色无权查看点单", code="role_not_allowed", details={"role": user.role})


def community_choices():
    """[(code, name)] of every community, for the phone page's picker when it cannot locate."""
    return [tuple(row) for row in db.session.execute(select(Community.code, Community.name).order_by(Community.code))]


def is_overdue(order, now=None):
    """Whether the clock now running on ``order`` (派单 or service) has passed its deadline."""
    return order.status in ORDER_OPEN and order.deadline_at is not None and order.deadline_at < (now or utcnow())
