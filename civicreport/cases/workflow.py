"""The closed loop: every state change is one row of TRANSITIONS, applied in one transaction.

受理 → 派遣 → 接单 → 处置 → 核查 → 结案 → 回访, with 回退, 延期, 挂账, 返工 and 督办 on the side.
A 文明点赞 (praise) report is no problem to fix: 核实点赞 takes it from submitted straight to
verified (or 不予受理 rejects it); 受理 and so the rest of the loop are for problems alone.
A transition names the roles that may make it, the states it leaves from, the fields it
needs, and its effect; illegal ones are 409 with the actions allowed now.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm.exc import StaleDataError

from civicreport import registry
from civicreport.accounts.access import REPORTER, require_in_area
from civicreport.accounts.models import Unit
from civicreport.cases import deadlines, notices
from civicreport.cases.models import MAX_PHOTOS_PER_STEP, Media, Report, ReportEvent
from civicreport.cases.routing import CategoryKey, route
from civicreport.cases.status import CLOCK_RUNNING, OPEN_STATES
from civicreport.db_types import utcnow
from civicreport.delivery import outbox
from civicreport.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    ValidationFailed,
    role_not_allowed,
    unknown_action,
)
from civicreport.extensions import db
from civicreport.reference.categories import PRIORITY
from civicreport.reference.grid import grid_index
from civicreport.reference.lookup import require_category

SUPERVISORS = frozenset({"supervisor", "admin"})
UNIT = frozenset({"unit_staff"})
CHECKERS = frozenset({"monitor", "supervisor", "admin"})


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: frozenset
    target: str | None  # None: the status stays (延期, 督办, 补充照片) or is computed (恢复)
    roles: frozenset
    effect: Callable | None = None
    needs: tuple = ()  # fields the request must carry
    unit_bound: bool = False  # unit staff may act only on their own unit's cases
    guard: Callable | None = None  # extra condition on the report, e.g. an extension is pending
    notify: str | None = None  # outbox topic written with the change


@dataclass
class Step:
    """One transition being applied: who, to which report, with what input, at what time."""

    report: Report
    actor: object
    data: dict
    now: object
    target: str | None = None
    event_data: dict = field(default_factory=dict)
    media: list = field(default_factory=list)


def _accept(step):
    code = step.data.get("category") or (step.report.category_code)
    if not code:
        raise ValidationFailed("受理时必须确定问题类别", code="category_required")
    category = require_category(code)
    if category.code != step.report.category_code:
        step.event_data["category"] = {"from": step.report.category_code, "to": category.code}
        step.report.category = category
        step.report.priority = PRIORITY[category.urgency]
        suggested = route(CategoryKey.of(category), grid_index().locate(step.report.lat, step.report.lon))
        step.report.unit, step.report.routing_rule, step.report.routed_by = (
            suggested.unit,
            suggested.rule,
            suggested.routed_by,
        )


def _reject(step):
    step.report.closed_at = step.now


def _mark_duplicate(step):
    original = db.session.scalar(select(Report).where(Report.public_id == step.data["duplicate_of"]))
    if original is None or original.id == step.report.id or original.status in ("duplicate", "rejected"):
        raise ValidationFailed(
            "重复案件的原案件无效", code="invalid_duplicate_of", details={"duplicate_of": step.data["duplicate_of"]}
        )
    require_in_area(step.actor, original)  # merging changes the original too: its support count
    step.report.duplicate_of_id = original.id
    original.support_count += 1 + step.report.support_count
    step.report.closed_at = step.now
    step.event_data["duplicate_of"] = original.public_id


def _dispatch(step):
    report = step.report
    code = step.data.get("unit")
    unit = db.session.scalar(select(Unit).where(Unit.code == code)) if code else report.unit
    if unit is None or not unit.active:
        raise ValidationFailed("请选择有效的处置单位", code="unknown_unit", details={"unit": code})
    if report.category is None:
        raise ValidationFailed("派遣前必须确定问题类别", code="category_required")
    report.unit = unit
    report.dispatched_at = step.now
    deadlines.start_clock(report, step.now, report.category.deadline_hours * 60)
    step.event_data.update(unit=unit.code, deadline_at=report.deadline_at.isoformat())


def _return(step):
    step.report.return_count += 1
    deadlines.stop_clock(step.report)


def _request_extension(step):
    hours = step.data["hours"]
    if not isinstance(hours, int) or not 1 <= hours <= 720:
        raise ValidationFailed("延期小时数须为 1–720 的整数", code="invalid_hours")
    step.report.extension_request_minutes = hours * 60
    step.event_data["hours"] = hours


def _approve_extension(step):
    minutes = step.report.extension_request_minutes
    deadlines.extend(step.report, step.now, minutes)
    step.report.extension_request_minutes = None
    step.event_data.update(hours=minutes // 60, deadline_at=step.report.deadline_at.isoformat())


def _deny_extension(step):
    step.report.extension_request_minutes = None


def _suspend(step):
    step.report.resume_status = step.report.status
    deadlines.pause(step.report, step.now)


def _resume(step):
    deadlines.resume(step.report, step.now)
    step.target = step.report.resume_status
    step.report.resume_status = None


def _resolve(step):
    step.media = _claim_media(step, "after")
    step.report.resolved_at = step.now


def _verify_pass(step):
    if step.data.get("media_ids"):
        step.media = _claim_media(step, "verification")


def _verify_fail(step):
    report = step.report
    report.rework_count += 1
    report.resolved_at = None
    deadlines.start_clock(report, step.now, report.category.deadline_hours * 60)
    step.event_data.update(rework_count=report.rework_count, deadline_at=report.deadline_at.isoformat())


def _close(step):
    step.report.closed_at = step.now


def _rate(step):
    rating = step.data["rating"]
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationFailed("评分须为 1–5 的整数", code="invalid_rating")
    step.report.rating = rating
    step.report.rating_comment = (step.data.get("comment") or "").strip() or None
    step.event_data["rating"] = rating


def _escalate(step):
    step.report.escalation_count += 1
    step.event_data["escalation_count"] = step.report.escalation_count


def _add_evidence(step):
    step.media = _claim_media(step, "evidence")


def _claim_media(step, kind):
    """Attach uploaded photos (``media_ids``) to the report as ``kind``; 422/409 when unusable."""
    ids = step.data.get("media_ids") or []
    if isinstance(ids, list) and len(ids) > MAX_PHOTOS_PER_STEP:  # before hashing or querying the ids
        raise ValidationFailed(
            f"每次最多 {MAX_PHOTOS_PER_STEP} 张照片",
            code="too_many_photos",
            details={"max": MAX_PHOTOS_PER_STEP, "count": len(ids)},
        )
    if not ids or not isinstance(ids, list) or len(set(ids)) != len(ids):
        raise ValidationFailed("请上传照片", code="photo_required", details={"kind": kind})
    position = len(step.report.media)
    claimed = db.session.execute(
        update(Media)
        .where(Media.id.in_(ids), ~Media.is_attached)
        .values(report_id=step.report.id, kind=kind)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != len(ids):
        raise Conflict("照片不存在或已被使用", code="media_unavailable", details={"media_ids": ids})
    media = db.session.scalars(select(Media).where(Media.id.in_(ids))).all()
    for offset, item in enumerate(sorted(media, key=lambda m: ids.index(m.id))):
        item.position = position + offset
    return media


def _pending_extension(report):
    return report.extension_request_minutes is not None


def _no_pending_extension(report):
    return report.extension_request_minutes is None


def _is_problem(report):
    return report.kind == "problem"


def _is_praise(report):
    return report.kind == "praise"


UNIT_STATES = frozenset(CLOCK_RUNNING)  # what the unit may act on: the cases whose clock runs

TRANSITIONS = {
    t.action: t
    for t in (
        Transition("accept", "受理", frozenset({"submitted"}), "accepted", SUPERVISORS, _accept, guard=_is_problem),
        # 文明点赞 skips the loop: a supervisor confirms what was seen (or rejects it), and a
        # confirmed praise report rests at verified, where the 光荣榜 (exposure) may publish it.
        Transition("confirm_praise", "核实点赞", frozenset({"submitted"}), "verified", SUPERVISORS, guard=_is_praise),
        Transition(
            "reject",
            "不予受理",
            frozenset({"submitted"}),
            "rejected",
            SUPERVISORS,
            _reject,
            needs=("note",),
            notify="rejected",
        ),
        Transition(
            "mark_duplicate",
            "合并重复",
            frozenset({"submitted", "accepted"}),
            "duplicate",
            SUPERVISORS,
            _mark_duplicate,
            needs=("duplicate_of",),
        ),
        Transition(
            "dispatch",
            "派遣",
            frozenset({"accepted", "returned"}),
            "dispatched",
            SUPERVISORS,
            _dispatch,
            notify="dispatch",
        ),
        Transition("claim", "接单", frozenset({"dispatched"}), "in_progress", UNIT, unit_bound=True),
        Transition(
            "return",
            "回退",
            frozenset({"dispatched", "in_progress"}),
            "returned",
            UNIT,
            _return,
            needs=("note",),
            unit_bound=True,
            notify="returned",
        ),
        Transition(
            "request_extension",
            "申请延期",
            UNIT_STATES,
            None,
            UNIT,
            _request_extension,
            needs=("hours", "note"),
            unit_bound=True,
            guard=_no_pending_extension,
        ),
        Transition(
            "approve_extension",
            "批准延期",
            UNIT_STATES,
            None,
            SUPERVISORS,
            _approve_extension,
            guard=_pending_extension,
            notify="extension_approved",
        ),
        Transition(
            "deny_extension",
            "驳回延期",
            UNIT_STATES,
            None,
            SUPERVISORS,
            _deny_extension,
            needs=("note",),
            guard=_pending_extension,
            notify="extension_denied",
        ),
        Transition(
            "suspend",
            "挂账",
            frozenset({"accepted"}) | UNIT_STATES,
            "suspended",
            SUPERVISORS,
            _suspend,
            needs=("note",),
        ),
        Transition("resume", "恢复办理", frozenset({"suspended"}), None, SUPERVISORS, _resume),
        Transition(
            "resolve",
            "处置完毕",
            frozenset({"in_progress", "rework"}),
            "resolved",
            UNIT,
            _resolve,
            needs=("media_ids",),
            unit_bound=True,
            notify="resolved",
        ),
        Transition("verify_pass", "核查通过", frozenset({"resolved"}), "verified", CHECKERS, _verify_pass),
        Transition(
            "verify_fail",
            "核查不通过（返工）",
            frozenset({"resolved"}),
            "rework",
            CHECKERS,
            _verify_fail,
            needs=("note",),
            notify="rework",
        ),
        Transition("close", "结案", frozenset({"verified"}), "closed", SUPERVISORS, _close, notify="closed"),
        Transition("rate", "评价", frozenset({"closed"}), "rated", frozenset({REPORTER}), _rate, needs=("rating",)),
        Transition(
            "escalate",
            "督办",
            UNIT_STATES,
            None,
            frozenset({"supervisor", "leader", "admin"}),
            _escalate,
            needs=("note",),
            notify="escalation",
        ),
        Transition(
            "add_evidence",
            "补充照片",
            OPEN_STATES,
            None,
            frozenset({REPORTER, "monitor"}),
            _add_evidence,
            needs=("media_ids",),
        ),
    )
}


def allowed_actions(report, actor):
    """Actions ``actor`` may take on ``report`` in its current state."""
    return [t.action for t in TRANSITIONS.values() if _may(t, report, actor) and _ready(t, report)]


def _may(transition, report, actor):
    roles = actor.roles_for(report)
    if not roles & transition.roles:
        return False
    return not (transition.unit_bound and not actor.in_unit(report.unit_id))


def _ready(transition, report):
    return report.status in transition.sources and (transition.guard is None or transition.guard(report))


def load_for_update(public_id):
    """The report, locked for this transaction (PostgreSQL row lock); 404 when absent."""
    report = db.session.scalar(select(Report).where(Report.public_id == public_id).with_for_update())
    if report is None:
        raise NotFound("上报不存在", code="report_not_found", details={"id": public_id})
    return report


def apply(report, actor, data):
    """Apply ``data["action"]`` to a locked report and commit; raises 403/409/422.

    Role problems are 403, state problems 409 (with the current state and the actions
    allowed now), missing or bad input 422. A concurrent change to the same case wins
    once: the other one gets 409 ``concurrent_update``.
    """
    transition = TRANSITIONS.get(data.get("action"))
    if transition is None:
        raise unknown_action(data.get("action"), TRANSITIONS)
    _authorise(transition, report, actor)
    if not _ready(transition, report):
        raise _state_conflict(transition, report, actor)
    missing = [name for name in transition.needs if not _present(data.get(name))]
    if missing:
        raise ValidationFailed("缺少必填项", code="missing_fields", details={"fields": missing})
    step = Step(report, actor, data, utcnow(), transition.target)
    try:
        if transition.effect:
            transition.effect(step)
        _record(transition, step)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict("案件已被他人更新，请刷新后重试", code="concurrent_update") from None
    return report


def _authorise(transition, report, actor):
    if actor.user is None and actor.receipt_report_id is None:
        raise Unauthorized("请登录后操作", code="login_required", details={"action": transition.action})
    if not actor.roles_for(report) & transition.roles:
        require_in_area(actor, report)
        raise role_not_allowed(transition.action, transition.roles)
    if transition.unit_bound and not actor.in_unit(report.unit_id):
        raise Forbidden("该案件不属于本单位", code="not_your_unit", details={"action": transition.action})


def _state_conflict(transition, report, actor):
    return Conflict(
        f"案件当前状态不能执行“{transition.label}”",
        code="invalid_transition",
        details={
            "action": transition.action,
            "status": report.status,
            "allowed_actions": allowed_actions(report, actor),
        },
    )


def _present(value):
    return value is not None and value != "" and value != []


def _record(transition, step):
    report = step.report
    from_status = report.status
    if step.target:
        report.status = step.target
    report.updated_at = step.now
    public_note = (step.data.get("public_note") or "").strip()
    if public_note:  # what the public reads about this step (Open311 status_notes and updates)
        step.event_data["public_note"] = public_note
    event = ReportEvent(
        report_id=report.id,
        actor_user_id=step.actor.user.id if step.actor.user else None,
        actor_role=step.actor.role if step.actor.user else REPORTER,
        action=transition.action,
        from_status=from_status,
        to_status=report.status,
        note=(step.data.get("note") or "").strip() or None,
        data=step.event_data or None,
        created_at=step.now,
    )
    db.session.add(event)
    db.session.flush()
    for item in step.media:
        item.event_id = event.id
    if transition.notify:
        outbox.enqueue(
            transition.notify,
            _notice(transition, report, event),
            report=report,
            unit=report.unit if transition.notify in UNIT_TOPICS else None,
        )
    notices.tell_reporter(transition.action, report)  # the reporter who asked, same transaction


UNIT_TOPICS = {"dispatch", "rework", "escalation", "extension_approved", "extension_denied"}


def _notice(transition, report, event):
    deadline = (
        report.deadline_at.astimezone(registry.current().zone).strftime("%Y-%m-%d %H:%M")
        if report.deadline_at
        else None
    )
    text = f"案件 {report.public_id}（{report.category.name if report.category else '未分类'}）{transition.label}"
    if deadline and transition.notify in UNIT_TOPICS:
        text += f"，处置时限 {deadline}"
    return {
        "report": report.public_id,
        "event": transition.notify,
        "status": report.status,
        "message": text,
        "note": event.note,
        "deadline_at": report.deadline_at and report.deadline_at.isoformat(),
    }
