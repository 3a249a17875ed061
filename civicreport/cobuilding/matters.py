"""联席会议 and the 实事清单: what a community and its partners agreed to do, and how it went.

Definitions (days are local dates in ``TIMEZONE``; the figures D's ranking reads are the last two)
    meeting         a 联席会议 of a community held on a day no later than today; every unit
                    present is a partner of the community on that day (``partners``).
    matter          one 实事清单 item: a problem, the partner unit taking it on (a partner of the
                    community on the day it is filed), the last day to do it (``due_on``, not
                    before that day), and the meeting it came from, if any.
    moves           the TRANSITIONS table below: open → in_progress → done (a ``result`` is
                    required), and any item still owed (open or in progress) → dropped, by the
                    office alone and with a note; a progress note (text or photos) while it is
                    owed. Community staff of its community and the office do the rest; staff of
                    the responsible partner unit (``PARTNER``) read their unit's items and add
                    progress notes (the practice: the partner reports its progress). Each
                    move or note is one ``MatterNote`` (never changed) with its photos.
    closed at       when a note moved the item to done or dropped; done on = local date of it.
    overdue         on day ``d``: filed before the end of ``d``, ``due_on < d``, and not closed
                    by the end of ``d``. Counted against the responsible partner unit
                    (``overdue_by_unit``); today's overdue items are those still owed now.
    on-time rate    of a community's month (``on_time_rate``): among its items whose ``due_on``
                    falls in the month and that are not dropped (the office takes them off the
                    list), the share done on or before ``due_on``; None when there is none. It
                    reads the items as they are now, so a month's rate is final once its last
                    day has passed and no item due in it is still owed (the ranking settles
                    months after they end).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from civicreport import registry
from civicreport.accounts.models import Unit
from civicreport.cobuilding import partners, photos
from civicreport.cobuilding.access import (
    OFFICE_ROLES,
    READER_ROLES,
    community_of,
    community_scope,
    covers_community,
    require_community,
)
from civicreport.cobuilding.models import Matter, MatterNote, Meeting, MeetingAttendee
from civicreport.cobuilding.status import MATTER_OPEN
from civicreport.db_types import utcnow
from civicreport.errors import Conflict, NotFound, ValidationFailed
from civicreport.extensions import db

WRITERS = ("community_staff", *OFFICE_ROLES)
PARTNER = "partner"  # pseudo-role: unit staff of the item's responsible partner unit
PARTNER_STAFF = "unit_staff"
CLOSED = ("done", "dropped")


@dataclass(frozen=True)
class Move:
    """A status an item may move to: from which states, by whom, with what."""

    sources: tuple
    roles: tuple
    needs: tuple = ()


# Moves by the status they lead to; NOTE is a progress note that leaves the status as it is.
TRANSITIONS = {
    "in_progress": Move(("open",), WRITERS),
    "done": Move(("in_progress",), WRITERS, needs=("result",)),
    "dropped": Move(MATTER_OPEN, OFFICE_ROLES, needs=("note",)),
}
NOTE = Move(MATTER_OPEN, (*WRITERS, PARTNER))


def roles_on(by, matter):
    """The roles ``by`` holds on ``matter``: his own where his communities cover it, and
    ``PARTNER`` for staff of the unit responsible for it."""
    roles = set()
    if by is None:
        return roles
    if by.role in READER_ROLES and covers_community(by, matter.community_code):
        roles.add(by.role)
    if by.role == PARTNER_STAFF and by.unit_id is not None and by.unit_id == matter.unit_id:
        roles.add(PARTNER)
    return roles


def _require_part(by, matter, roles):
    """401/403 unless ``by`` holds one of ``roles`` on ``matter`` (``roles_on``)."""
    if not roles_on(by, matter) & set(roles):
        require_community(by, matter.community_code, tuple(role for role in roles if role != PARTNER))


def end_of_day(day):
    """The UTC instant local ``day`` ends (the next local midnight)."""
    midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=registry.current().zone)
    return midnight.astimezone(UTC)


def _local_date(moment):
    return moment.astimezone(registry.current().zone).date()


def _community_for(by, community_code):
    """The community ``by`` writes for: community staff their own (403 for another), the office
    the one named (422 when none is)."""
    own = community_of(by)
    code = community_code or own
    if code is None:
        raise ValidationFailed("请指定社区", code="community_required")
    community = partners.known_community(code)
    require_community(by, community.code, WRITERS)
    return community


def _reading(by, community_code):
    """The community filter ``by`` reads with: community staff their own alone."""
    own = community_of(by)
    if own is not None or community_code:
        require_community(by, community_code or own, READER_ROLES)
    return community_code or own


# --- 联席会议 ---------------------------------------------------------------------------------


def hold_meeting(by, *, community_code, held_on, title, minutes="", partner_units=()):
    """Record a 联席会议; 422 ``future_date``, ``unknown_unit`` or ``not_a_partner``."""
    community = _community_for(by, community_code)
    if held_on > partners.today():
        raise ValidationFailed("会议日期不能晚于今天", code="future_date", details={"held_on": held_on.isoformat()})
    units = partners.check_partners(community.code, partner_units, held_on)
    meeting = Meeting(
        community_code=community.code,
        held_on=held_on,
        title=title,
        minutes=minutes,
        created_by_user_id=by.id,
        attendees=[MeetingAttendee(unit_id=unit.id) for unit in units],
    )
    db.session.add(meeting)
    db.session.commit()
    return meeting


def meetings(by, community_code=None, month=None):
    """Meetings, latest first; ``month`` (a date in it) keeps that month's."""
    query = (
        select(Meeting)
        .where(community_scope(by, Meeting.community_code))
        .order_by(Meeting.held_on.desc(), Meeting.id.desc())
    )
    community_code = _reading(by, community_code)
    if community_code:
        query = query.where(Meeting.community_code == community_code)
    if month:
        first, following = _month_span(month)
        query = query.where(Meeting.held_on >= first, Meeting.held_on < following)
    return db.session.scalars(query).all()


def get_meeting(by, meeting_id):
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound("会议不存在", code="meeting_not_found", details={"id": meeting_id})
    require_community(by, meeting.community_code)
    return meeting


def _month_span(day):
    first = day.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1)


# --- 实事清单 ---------------------------------------------------------------------------------


def file_matter(by, *, title, partner_unit, due_on, community_code=None, description="", meeting_id=None):
    """Put an item on a community's 实事清单, owed by a partner unit of the community today;
    422 ``not_a_partner``, ``due_in_past``, ``unknown_meeting``."""
    community = _community_for(by, community_code)
    now = utcnow()
    day = partners.today()
    (unit,) = partners.check_partners(community.code, [partner_unit], day)
    if due_on < day:
        raise ValidationFailed("办结期限不能早于今天", code="due_in_past", details={"due_on": due_on.isoformat()})
    _check_meeting(meeting_id, community.code)
    matter = Matter(
        community_code=community.code,
        meeting_id=meeting_id,
        unit_id=unit.id,
        title=title,
        description=description,
        due_on=due_on,
        status="open",
        created_by_user_id=by.id,
        created_at=now,
    )
    matter.notes.append(MatterNote(actor_user_id=by.id, to_status="open", note=description, created_at=now))
    db.session.add(matter)
    db.session.commit()
    return matter


def _check_meeting(meeting_id, community_code):
    if meeting_id is None:
        return
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or meeting.community_code != community_code:
        raise ValidationFailed("会议不存在或不属于该社区", code="unknown_meeting", details={"meeting_id": meeting_id})


def matters(by, *, community_code=None, status=None, unit_code=None, meeting_id=None, overdue=False):
    """实事清单 items, the nearest deadline first; ``overdue`` keeps those overdue today."""
    query = (
        select(Matter)
        .options(selectinload(Matter.unit), selectinload(Matter.notes).selectinload(MatterNote.photos))
        .where(_matter_scope(by))
        .order_by(Matter.due_on, Matter.id)
    )
    if by.role != PARTNER_STAFF:
        community_code = _reading(by, community_code)
    if community_code:
        query = query.where(Matter.community_code == community_code)
    if status:
        query = query.where(Matter.status == status)
    if unit_code:
        query = query.join(Matter.unit).where(Unit.code == unit_code)
    if meeting_id is not None:
        query = query.where(Matter.meeting_id == meeting_id)
    if overdue:
        query = query.where(Matter.status.in_(MATTER_OPEN), Matter.due_on < partners.today())
    return db.session.scalars(query).all()


def _matter_scope(by):
    """The items ``by`` may list: his unit's for partner staff, else his communities'."""
    if by.role == PARTNER_STAFF:
        return Matter.unit_id == by.unit_id
    return community_scope(by, Matter.community_code)


def get_matter(by, matter_id):
    """One item with its notes; 404 ``matter_not_found``, 403 outside ``by``'s community (or,
    for partner staff, another unit's item)."""
    matter = db.session.get(Matter, matter_id)
    if matter is None:
        raise NotFound("实事清单事项不存在", code="matter_not_found", details={"id": matter_id})
    _require_part(by, matter, (*READER_ROLES, PARTNER))
    return matter


def is_overdue(matter, day=None):
    """Whether an item is owed past its deadline on ``day`` (default today): the state as now."""
    return matter.status in MATTER_OPEN and matter.due_on < (day or partners.today())


def move(by, matter_id, status=None, *, note="", result=None, media_ids=()):
    """Move an item to ``status`` (TRANSITIONS; None or its present status: a progress note), as
    one MatterNote with its photos.

    Checked in this order: 404 ``matter_not_found``, 422 ``unknown_status``, 403 (role or
    community), 409 ``matter_state`` (with the status and the moves open to ``by``), 422
    ``missing_fields`` or ``empty_note``; then 409 ``concurrent_update`` or a photo's own error."""
    matter = get_matter(by, matter_id)
    target = None if status == matter.status else status
    step = TRANSITIONS.get(target) if target else NOTE
    if step is None:
        raise ValidationFailed("目标状态无效", code="unknown_status", details={"statuses": list(TRANSITIONS)})
    _require_part(by, matter, step.roles)
    if matter.status not in step.sources:
        raise Conflict(
            "该事项当前状态不允许此操作",
            code="matter_state",
            details={"status": matter.status, "to": target, "allowed": allowed_moves(by, matter)},
        )
    _check_needs(step, target, note, result, media_ids)
    return _record(by, matter, target, note, result, media_ids)


def _check_needs(step, target, note, result, media_ids):
    given = {"note": note, "result": result}
    missing = [name for name in step.needs if not (given[name] or "").strip()]
    if missing:
        raise ValidationFailed("缺少必填项", code="missing_fields", details={"fields": missing, "to": target})
    if target is None and not (note or "").strip() and not media_ids:
        raise ValidationFailed("进展说明或照片至少填一项", code="empty_note")


def _record(by, matter, target, note, result, media_ids):
    now = utcnow()
    entry = MatterNote(
        actor_user_id=by.id, from_status=matter.status, to_status=target, note=note or "", created_at=now
    )
    matter.notes.append(entry)
    if target:
        matter.status = target
    if target == "done":
        matter.result = result
        matter.done_at = now
    try:
        db.session.flush()
        photos.attach(media_ids, uploader=by, subject="matter", step=entry)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict("该事项已被他人更新，请刷新后重试", code="concurrent_update") from None
    return matter


def allowed_moves(by, matter):
    """The statuses ``by`` may move ``matter`` to now (a progress note aside)."""
    return [
        target
        for target, step in TRANSITIONS.items()
        if matter.status in step.sources and roles_on(by, matter) & set(step.roles)
    ]


# --- figures ----------------------------------------------------------------------------------


class OverdueUnit(NamedTuple):
    unit_code: str
    unit_name: str
    matter_ids: list


def _closed_at():
    """Per item, when a note first moved it to done or dropped."""
    return (
        select(MatterNote.matter_id, func.min(MatterNote.created_at).label("closed_at"))
        .where(MatterNote.to_status.in_(CLOSED))
        .group_by(MatterNote.matter_id)
        .subquery()
    )


def overdue_by_unit(as_of=None, *, by=None):
    """Items overdue on ``as_of`` (default today; see the module's definitions) per responsible
    partner unit, the most first, then by unit code; of ``by``'s communities when given."""
    day = as_of or partners.today()
    end = end_of_day(day)
    closed = _closed_at()
    rows = db.session.execute(
        select(Unit.code, Unit.name, Matter.id)
        .join(Matter.unit)
        .outerjoin(closed, closed.c.matter_id == Matter.id)
        .where(*(() if by is None else (community_scope(by, Matter.community_code),)))
        .where(Matter.due_on < day, Matter.created_at < end)
        .where((closed.c.closed_at.is_(None)) | (closed.c.closed_at >= end))
        .order_by(Unit.code, Matter.id)
    ).all()
    units = {}
    for code, name, matter_id in rows:
        units.setdefault(code, OverdueUnit(code, name, [])).matter_ids.append(matter_id)
    return sorted(units.values(), key=lambda row: (-len(row.matter_ids), row.unit_code))


def on_time_counts(month, community_code=None):
    """``{community code: (done on time, due)}`` for the month holding the date ``month`` (see
    the on-time rate in the module's definitions); communities with nothing due are absent."""
    first, following = _month_span(month)
    query = select(Matter).where(Matter.due_on >= first, Matter.due_on < following, Matter.status != "dropped")
    if community_code:
        query = query.where(Matter.community_code == community_code)
    counts = {}
    for matter in db.session.scalars(query):
        on_time, due = counts.get(matter.community_code, (0, 0))
        kept = matter.status == "done" and _local_date(matter.done_at) <= matter.due_on
        counts[matter.community_code] = (on_time + kept, due + 1)
    return counts


def on_time_rate(community_code, month):
    """实事清单 on-time rate of a community's month (0–1), None when nothing fell due in it."""
    on_time, due = on_time_counts(month, community_code).get(community_code, (0, 0))
    return on_time / due if due else None
