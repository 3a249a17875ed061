"""Demo data of the oversight layer (督查督办, issue 22).

``load_oversight`` (with ``load-demo``): a few fixed points of the demo communities with their
responsible units, and one listed problem under a demo district leader; added when missing, so
loading again changes nothing. ``load_oversight_history`` (with ``--history``): whistles,
inspections and joint operations of the past weeks, written once (a second run leaves them):

    whistles     one every ~10 days, raised by a community's staff, 2–3 units each; every unit
                 reports in, one in four after its deadline (late, escalated by the system at
                 the deadline); the older ones closed and rated 3–5, the last one still open
                 with a unit that has not reported in (late, escalated).
    inspections  each point at its rhythm (every_days, ± a day), unannounced, by a demo
                 monitor of its community; an item fails one time in eight, and the latest
                 inspection of every market fails its first item alone (so the leader page
                 shows failing points). Failed items of the history open no case.
    operations   the rhythm of 巴州: per street of the demo communities one a month, per
                 community one a week, mostly done with counts by category, some cancelled
                 and some periods left without one (shown as missed); this week's are planned.

Names, places and figures are DEMO values. Times are local working hours so the 2-hour 报到
limit falls on the same day (the history writes its deadlines as two clock hours).
"""

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from civicreport import registry
from civicreport.accounts.models import Unit, User
from civicreport.db_types import utcnow
from civicreport.extensions import db
from civicreport.oversight.models import (
    ChecklistItem,
    Inspection,
    InspectionItem,
    InspectionPoint,
    JointOperation,
    ListedProblem,
    ListedProblemEvent,
    ListedProblemUnit,
    OperationUnit,
    Whistle,
    WhistleEvent,
    WhistlePart,
)
from civicreport.reference.areas import Community, GridCellArea
from civicreport.reference.categories import Category

# (name, kind, community, responsible unit, every_days, which of the community's cells)
POINTS = [
    ("长乐农贸市场", "market", "500110001001", "qj-scjg", 7, 0),
    ("长乐社区公共厕所", "toilet", "500110001001", "qj-hws", 7, 3),
    ("沙溪路背街小巷", "back_street", "500110002002", "qj-st-500110002", 7, 1),
    ("百步梯路口", "junction", "500110002001", "qj-jxj", 3, 2),
    ("新街子农贸市场", "market", "500110007001", "qj-scjg", 7, 1),
]
LISTED = {
    "title": "长乐农贸市场周边脏乱差",
    "description": "市场周边占道经营、垃圾清运不及时，群众反映强烈（演示数据）。",
    "place": "长乐农贸市场及周边道路",
    "community": "500110001001",
    "categories": ["06010", "09006"],
    "leader": "demo-district-leader-1",
    "leader_office": "区政府分管副区长",
    "lead_unit": "qj-scjg",
    "co_units": ["qj-cgj", "qj-hws", "qj-st-500110001"],
    "measures": "市场监管局牵头规范经营秩序，城管局清理占道摊点，环卫所每日两次清运垃圾。",
    "days": 60,
}
WHISTLES = [
    ("500110001001", "长乐社区小区门口污水外溢", ["qj-szs", "qj-sw", "qj-st-500110001"]),
    ("500110002002", "沙溪社区背街占道经营反复", ["qj-cgj", "qj-scjg"]),
    ("500110002001", "百步梯社区路口积水影响通行", ["qj-szs", "qj-jxj", "qj-st-500110002"]),
    ("500110007001", "新街子社区菜市场垃圾堆积", ["qj-hws", "qj-scjg", "qj-cgj"]),
    ("500110006001", "新正社区废弃车辆占用消防通道", ["qj-jxj", "qj-st-500110006"]),
    ("500110001001", "长乐社区架空线路杂乱", ["qj-gd", "qj-cgj"]),
]
# Target behaviours of the joint operations (巴州: 摆摊设点、张贴广告、散发传单、晾晒吊挂).
OPERATION_CATEGORIES = ["09006", "07001", "L90005", "06007"]
HISTORY_DAYS = 60


def load_oversight():
    """The demo's points and its listed problem, when missing (the caller commits)."""
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    known = set(db.session.scalars(select(InspectionPoint.name)))
    for name, kind, community, unit, every_days, cell in POINTS:
        if name not in known:
            lat, lon, grid = _cell(community, cell)
            db.session.add(
                InspectionPoint(
                    name=name,
                    kind=kind,
                    lat=lat,
                    lon=lon,
                    grid_code=grid,
                    community_code=community,
                    unit_id=units[unit].id,
                    every_days=every_days,
                )
            )
    if db.session.scalar(select(ListedProblem.id).where(ListedProblem.title == LISTED["title"])) is None:
        _listed_problem(units, utcnow())


def _cell(community, index):
    """The centre of one of ``community``'s grid cells (by code order): a point inside it."""
    cells = db.session.scalars(
        select(GridCellArea).where(GridCellArea.community_code == community).order_by(GridCellArea.code)
    ).all()
    cell = cells[index % len(cells)]
    return cell.centroid_lat, cell.centroid_lon, cell.code


def _listed_problem(units, now):
    spec = LISTED
    leader = db.session.scalar(select(User).where(User.name == spec["leader"]))
    lat, lon, _ = _cell(spec["community"], 0)
    year = now.astimezone(registry.current().zone).year
    taken = db.session.scalar(
        select(func.count()).select_from(ListedProblem).where(ListedProblem.public_id.startswith(f"GP{year}-"))
    )
    problem = ListedProblem(
        public_id=f"GP{year}-{taken + 1:03d}",
        title=spec["title"],
        description=spec["description"],
        place=spec["place"],
        lat=lat,
        lon=lon,
        area_code=spec["community"],
        categories=spec["categories"],
        leader_user_id=leader.id,
        leader_office=spec["leader_office"],
        lead_unit_id=units[spec["lead_unit"]].id,
        measures=spec["measures"],
        target_on=_local(now).date() + timedelta(days=spec["days"]),
        listed_at=now,
    )
    problem.co_units = [ListedProblemUnit(unit_id=units[code].id) for code in spec["co_units"]]
    db.session.add(problem)
    db.session.flush()
    db.session.add(
        ListedProblemEvent(
            problem_id=problem.id, actor_role="system", action="list", to_status="listed", created_at=now
        )
    )


def _local(moment):
    return moment.astimezone(registry.current().zone)


@dataclass
class OversightSummary:
    whistles: int = 0
    inspections: int = 0
    operations: int = 0


def load_oversight_history(seed, now):
    """Past whistles, inspections and operations, each kind once (the caller commits)."""
    load_oversight()
    db.session.flush()
    rng = random.Random(f"oversight-{seed}")
    summary = OversightSummary()
    if db.session.scalar(select(func.count()).select_from(Whistle)) == 0:
        summary.whistles = _whistles(rng, now)
    if db.session.scalar(select(func.count()).select_from(Inspection)) == 0:
        summary.inspections = _inspections(rng, now)
    if db.session.scalar(select(func.count()).select_from(JointOperation)) == 0:
        summary.operations = _operations(rng, now)
    return summary


def _at(now, days_ago, hour, minute=0):
    """Local ``hour:minute`` ``days_ago`` days before ``now``, as an aware time."""
    zone = registry.current().zone
    day = _local(now).date() - timedelta(days=days_ago)
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def _user(name):
    return db.session.scalar(select(User).where(User.name == name))


# ---- whistles --------------------------------------------------------------------------------


def _whistles(rng, now):
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    communities = {c.code: c for c in db.session.scalars(select(Community))}
    for n, (community, title, codes) in enumerate(WHISTLES):
        raised_at = _at(now, HISTORY_DAYS - 2 - n * 10, 9, rng.randrange(0, 50))
        raiser = _user(f"demo-community-{community}") or _user("demo-dispatcher-1")
        lat, lon, grid = _cell(community, n)
        whistle = Whistle(
            public_id=f"{registry.settings().PUBLIC_ID_PREFIX}W{_local(raised_at):%Y%m%d}-D{n:05X}",
            title=title,
            description="多部门职责交叉，单一部门难以解决，社区吹哨召集相关单位报到（演示数据）。",
            lat=lat,
            lon=lon,
            grid_code=grid,
            community_code=community,
            street_code=communities[community].street_code,
            raised_by_user_id=raiser.id,
            raised_role=raiser.role,
            created_at=raised_at,
            updated_at=raised_at,
        )
        due = raised_at + timedelta(hours=2)
        whistle.parts = [
            WhistlePart(
                unit_id=units[code].id, lead=i == 0, task=f"{units[code].name}负责其职责内的整改", checkin_due_at=due
            )
            for i, code in enumerate(codes)
        ]
        db.session.add(whistle)
        db.session.flush()
        events = [_step(whistle, None, raiser, "raise", None, "open", raised_at, data={"units": codes})]
        last = n == len(WHISTLES) - 1
        for i, part in enumerate(whistle.parts):
            events += _part_story(rng, whistle, part, raised_at, due, absent=last and i == len(codes) - 1)
        if last:
            whistle.updated_at = max(e.created_at for e in events)
        else:
            events += _close(rng, whistle, raiser)
        db.session.add_all(sorted(events, key=lambda e: e.created_at))
    return len(WHISTLES)


def _step(whistle, part, user, action, before, after, at, note=None, data=None):
    return WhistleEvent(
        whistle_id=whistle.id,
        part_id=part.id if part else None,
        actor_user_id=user.id if user else None,
        actor_role=user.role if user else "system",
        action=action,
        from_status=before,
        to_status=after,
        note=note,
        data=data,
        created_at=at,
    )


def _part_story(rng, whistle, part, raised_at, due, *, absent):
    """报到 (on time or late, escalated at the deadline when late), then the part resolved."""
    staff = _user(f"demo-staff-{db.session.get(Unit, part.unit_id).code}")
    events = []
    late = absent or rng.random() < 0.25
    if late:
        part.late, part.escalated_at = True, due
        events.append(_step(whistle, part, None, "escalate", "summoned", "summoned", due, data={"automatic": True}))
    if absent:
        return events
    part.checked_in_at = (
        due + timedelta(minutes=rng.randrange(10, 90))
        if late
        else raised_at + timedelta(minutes=rng.randrange(10, 110))
    )
    part.person = rng.choice(["科长 王强", "副所长 刘洋", "队长 陈明", "主任 赵丽"])
    part.status = "checked_in"
    data = {"person": part.person, "late": part.late}
    events.append(_step(whistle, part, staff, "check_in", "summoned", "checked_in", part.checked_in_at, data=data))
    part.resolved_at = part.checked_in_at + timedelta(days=rng.randrange(1, 5), hours=rng.randrange(0, 4))
    part.status = "resolved"
    events.append(
        _step(whistle, part, staff, "resolve_part", "checked_in", "resolved", part.resolved_at, "已按要求完成整改")
    )
    return events


def _close(rng, whistle, raiser):
    """The raiser verifies once every part is resolved, then rates each part."""
    closed_at = max(p.resolved_at for p in whistle.parts) + timedelta(hours=rng.randrange(2, 20))
    whistle.status, whistle.closed_at, whistle.updated_at = "closed", closed_at, closed_at
    events = [_step(whistle, None, raiser, "verify", "verifying", "closed", closed_at)]
    for part in whistle.parts:
        part.rating = rng.choice([3, 4, 4, 5, 5]) - (1 if part.late else 0)
        part.rating_note = "响应及时，整改到位" if part.rating >= 4 else "报到不够及时"
        part.rated_at = closed_at + timedelta(minutes=10)
        events.append(_step(whistle, part, raiser, "rate", None, None, part.rated_at, data={"rating": part.rating}))
    return events


# ---- inspections -----------------------------------------------------------------------------


def _inspections(rng, now):
    items = {}
    for item in db.session.scalars(select(ChecklistItem).where(ChecklistItem.active.is_(True))):
        items.setdefault(item.point_kind, []).append(item)
    inspector = _user("demo-monitor-1") or _user("demo-dispatcher-1")
    count = 0
    for point in db.session.scalars(select(InspectionPoint).order_by(InspectionPoint.id)):
        point.created_at = min(point.created_at, _at(now, HISTORY_DAYS + 1, 9))  # registered before its first visit
        days_ago = HISTORY_DAYS
        while days_ago >= 0:
            latest = days_ago - point.every_days < 0
            at = _at(now, days_ago, rng.randrange(8, 17), rng.randrange(0, 60))
            if at < now:
                _inspect(
                    rng, point, items.get(point.kind, []), inspector, at, fail_first=latest and point.kind == "market"
                )
                count += 1
            days_ago -= max(1, point.every_days + rng.choice([-1, 0, 0, 1]))
    return count


def _inspect(rng, point, items, inspector, at, *, fail_first):
    # A market's latest visit fails its first item alone: the failure the leader page shows.
    verdicts = [i > 0 for i in range(len(items))] if fail_first else [rng.random() >= 1 / 8 for _ in items]
    inspection = Inspection(
        point_id=point.id, inspector_user_id=inspector.id, unannounced=True, inspected_at=at, passed=all(verdicts)
    )
    db.session.add(inspection)
    db.session.flush()
    db.session.add_all(
        InspectionItem(
            inspection_id=inspection.id,
            item_code=item.code,
            label=item.label,
            passed=passed,
            note=None if passed else f"{item.label}不达标（演示数据）",
        )
        for item, passed in zip(items, verdicts, strict=True)
    )
    point.last_inspected_at = max(point.last_inspected_at or at, at)


# ---- joint operations ------------------------------------------------------------------------


def _operations(rng, now):
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    office = _user("demo-dispatcher-1")
    communities = sorted({spec[0] for spec in WHISTLES})
    streets = sorted({code[:9] for code in communities})
    count = 0
    for street in streets:  # monthly: this month and the two before
        month = _local(now).date().replace(day=1)
        for back in range(3):
            start = (month - timedelta(days=28 * back)).replace(day=12)
            days_ago = (_local(now).date() - start).days
            if back and rng.random() < 0.2:
                continue  # a missed month
            count += _operation(rng, units, office, street, _at(now, days_ago, 9), now, "综合执法集中整治")
    for community in communities:  # weekly: the last eight weeks and this one
        for week in range(9):
            days_ago = week * 7 + rng.randrange(0, 3)
            if week and rng.random() < 0.15:
                continue  # a missed week
            count += _operation(rng, units, office, community, _at(now, days_ago, 14, 30), now, "社区联合整治")
    return count


def _operation(rng, units, office, area, starts_at, now, kind):
    street = area[:9]
    taking_part = ["qj-cgj", "qj-scjg", f"qj-st-{street}"]
    ends_at = starts_at + timedelta(hours=3)
    targets = rng.sample(OPERATION_CATEGORIES, 2)
    operation = JointOperation(
        title=f"{kind}（{'、'.join(_category_names(targets))}）",
        area_code=area,
        place="辖区主要街道及农贸市场周边",
        starts_at=starts_at,
        ends_at=ends_at,
        categories=targets,
        created_by_user_id=office.id,
        created_at=starts_at - timedelta(days=3),
    )
    operation.units = [OperationUnit(unit_id=units[code].id) for code in taking_part if code in units]
    if ends_at < now:
        if rng.random() < 0.1:
            operation.status = "cancelled"
            operation.result_note = "因天气原因取消"
        else:
            operation.status = "done"
            operation.result_counts = {code: rng.randrange(2, 30) for code in targets}
            operation.result_note = "集中清理整治，现场劝导规范（演示数据）"
            operation.recorded_at = ends_at + timedelta(hours=1)
            operation.recorded_by_user_id = office.id
    db.session.add(operation)
    return 1


def _category_names(codes):
    rows = db.session.execute(select(Category.code, Category.name).where(Category.code.in_(codes))).all()
    names = dict(rows)
    return [names.get(code, code) for code in codes]
