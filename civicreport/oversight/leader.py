"""The leader's 督办 page on one screen: in the areas he answers for, the listed problems, the
whistles whose 报到 came late, and the points failing their inspections.

Definitions (days are local dates in ``TIMEZONE``; ``now`` is the time of the call)
    his areas       the streets and communities of his leader links in force today
                    (``cobuilding.partners.leader_links``); a listed problem he leads is his
                    wherever it lies. The office (supervisor/admin) reads one leader's view by
                    naming him, or without a name its own areas (a supervisor's areas; none:
                    the whole district).
    in an area      a row whose community (or, for a listed problem, its area code: street,
                    community or grid cell) starts with one of the area codes.
    listed problem  every problem not delisted, plus those delisted in the last RECENT_DAYS;
                    ``overdue`` when its ``target_on`` has passed and it is not delisted.
    late whistle    a whistle not closed with at least one part marked late (报到 after its
                    deadline or none by then), plus those closed in the last RECENT_DAYS.
    failing point   an active point whose latest inspection failed; ``pass_rate`` is passed /
                    inspections over the last RECENT_DAYS (None without any);
                    ``inspection_overdue`` when its last inspection (or, never inspected, its
                    registration) is more than ``every_days`` ago.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import case, false, func, or_, select
from sqlalchemy.orm import selectinload

from civicreport.accounts.access import bounding_areas, require_roles
from civicreport.accounts.auth import user_named
from civicreport.cobuilding.partners import leader_links, today
from civicreport.db_types import utcnow
from civicreport.errors import Forbidden, ValidationFailed
from civicreport.extensions import db
from civicreport.oversight.models import (
    Inspection,
    InspectionItem,
    InspectionPoint,
    ListedProblem,
    Whistle,
    WhistlePart,
)
from civicreport.reference.areas import Community, Street

READERS = ("leader", "supervisor", "admin")
RECENT_DAYS = 30


@dataclass
class Overview:
    leader: object  # the leader's User, None for the office's whole-district view
    areas: list
    as_of: object
    listed_problems: list = field(default_factory=list)
    late_whistles: list = field(default_factory=list)
    failing_points: list = field(default_factory=list)


def overview(by, leader_name=None):
    """The 督办 view of ``by`` (a leader: his own) or, for the office, of the leader named
    (the whole district without one). 403 for other roles or a leader naming another;
    422 ``not_a_leader`` for a name that is not a leader's account."""
    require_roles(by, READERS)
    leader = _leader(by, leader_name)
    areas = [link.area_code for link in leader_links(leader.name)] if leader else []
    # The rows read: a leader's areas; the office's own areas (none: the whole district).
    scope = areas if leader else (bounding_areas(by) or None)
    now = utcnow()
    view = Overview(leader=leader, areas=_named(areas), as_of=today())
    view.listed_problems = _listed_problems(leader, scope, now, view.as_of)
    view.late_whistles = _late_whistles(scope, now)
    view.failing_points = _failing_points(scope, now)
    return view


def _leader(by, name):
    if by.role == "leader":
        if name and name != by.name:
            raise Forbidden("只能查看本人的督办总览", code="not_your_overview", details={"leader": name})
        return by
    if not name:
        return None
    leader = user_named(name)
    if leader.role != "leader":
        raise ValidationFailed("该账号不是领导账号", code="not_a_leader", details={"leader": name})
    return leader


def _named(codes):
    """``[{"code", "name"}]`` of street and community codes."""
    names = dict(db.session.execute(select(Street.code, Street.name).where(Street.code.in_(codes))).all())
    names.update(db.session.execute(select(Community.code, Community.name).where(Community.code.in_(codes))).all())
    return [{"code": code, "name": names.get(code, code)} for code in codes]


def _within(column, areas):
    """SQL: ``column`` lies in one of ``areas`` (prefix match on area codes)."""
    return or_(*(column.startswith(code) for code in areas)) if areas else false()


def _listed_problems(leader, scope, now, day):
    query = select(ListedProblem).where(
        or_(ListedProblem.status != "delisted", ListedProblem.delisted_at >= now - timedelta(days=RECENT_DAYS))
    )
    if scope is not None:
        his = ListedProblem.leader_user_id == leader.id if leader else false()
        query = query.where(or_(his, _within(ListedProblem.area_code, scope)))
    rows = db.session.scalars(query.order_by(ListedProblem.target_on, ListedProblem.id)).all()
    for row in rows:
        row.overdue = row.status != "delisted" and row.target_on < day
        row.mine = leader is not None and row.leader_user_id == leader.id
    return rows


def _late_whistles(scope, now):
    late = select(WhistlePart.whistle_id).where(WhistlePart.late.is_(True))
    query = select(Whistle).where(
        Whistle.id.in_(late),
        or_(Whistle.status != "closed", Whistle.closed_at >= now - timedelta(days=RECENT_DAYS)),
    )
    if scope is not None:
        query = query.where(_within(Whistle.community_code, scope))
    return db.session.scalars(query.order_by(Whistle.created_at.desc(), Whistle.id.desc())).all()


def _failing_points(scope, now):
    """Active points whose latest inspection failed: the latest inspections in one query, the
    recent counts in another (no query per point)."""
    newest = (
        select(Inspection.point_id, func.max(Inspection.inspected_at).label("at"))
        .group_by(Inspection.point_id)
        .subquery()
    )
    query = (
        select(InspectionPoint, Inspection)
        .join(newest, newest.c.point_id == InspectionPoint.id)
        .join(Inspection, (Inspection.point_id == newest.c.point_id) & (Inspection.inspected_at == newest.c.at))
        .where(InspectionPoint.active.is_(True), Inspection.passed.is_(False))
        .options(selectinload(Inspection.items).selectinload(InspectionItem.report))
        .order_by(InspectionPoint.id, Inspection.id)
    )
    if scope is not None:
        query = query.where(_within(InspectionPoint.community_code, scope))
    latest = {point: inspection for point, inspection in db.session.execute(query)}  # the last of a tie wins
    rates = _recent_pass_rates([point.id for point in latest], now - timedelta(days=RECENT_DAYS))
    for point, inspection in latest.items():
        point.pass_rate = rates.get(point.id)
        point.inspection_overdue = (point.last_inspected_at or point.created_at) < now - timedelta(
            days=point.every_days
        )
        point.failed_items = [
            {"item": i.item_code, "label": i.label, "case": i.report.public_id if i.report else None}
            for i in inspection.items
            if not i.passed
        ]
    return list(latest)


def _recent_pass_rates(point_ids, since):
    """``{point id: passed / inspections since ``since``}`` for points inspected since then."""
    query = (
        select(Inspection.point_id, func.count(), func.sum(case((Inspection.passed, 1), else_=0)))
        .where(Inspection.point_id.in_(point_ids), Inspection.inspected_at >= since)
        .group_by(Inspection.point_id)
    )
    return {point_id: passed / count for point_id, count, passed in db.session.execute(query)}
