"""挂牌整改: hard problems the campaign office lists under a district leader and a lead unit
until fixed and delisted (摘牌); reopened when they come back.

Definitions
    office          the campaign office: a ``supervisor`` or ``admin``. It lists problems and
                    verifies them; a supervisor with areas is kept to problems inside them (an
                    area covers a problem whose area code starts with it).
    lead unit       ``unit_staff`` of the problem's lead unit: progress updates and 申请摘牌.
    readers         the office, leaders (every problem; their own with ``leader=``) and unit
                    staff of the lead unit or a co-unit (their unit's problems only).
    moves           the TRANSITIONS table below. Each move is one ``ListedProblemEvent``
                    (never changed) with its photos; ``delist`` needs an after photo.
    place           a point (``lat``/``lon``: its grid cell is the area) or an area alone (a
                    street, community or grid code); only a problem with a point gets
                    suggested cases.
    suggested case  an open case in one of the problem's categories, near its point as the
                    duplicate hints find them (``cases.duplicates.nearby_open``: within
                    DUPLICATE_RADIUS_M, filed in the last DUPLICATE_WINDOW_DAYS, the
                    DUPLICATE_CANDIDATES_MAX nearest per major class), linked while the problem
                    is not delisted: at listing, then in every worker round
                    (``suggest_all``), so a later case is linked within a round of being filed.
    overdue         on day ``d`` (local): not delisted and ``target_on < d``.
    before / after  the photos of the listing step / of the delist step in force: what the
                    public list shows, blurred (``photo_claims.views``).
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from civicreport import registry
from civicreport.accounts.access import bounding_areas, require_roles
from civicreport.accounts.models import Unit, User
from civicreport.cases.duplicates import nearby_open
from civicreport.cases.models import Report
from civicreport.db_types import utcnow
from civicreport.errors import Conflict, Forbidden, NotFound, ValidationFailed, unknown_action
from civicreport.extensions import db
from civicreport.oversight import photos
from civicreport.oversight.models import (
    ListedProblem,
    ListedProblemCase,
    ListedProblemEvent,
    ListedProblemUnit,
    Photo,
)
from civicreport.reference.areas import Community, GridCellArea, Street
from civicreport.reference.categories import Category
from civicreport.reference.grid import locate

OFFICE_ROLES = ("supervisor", "admin")
LEAD_UNIT = ("unit_staff",)
READER_ROLES = (*OFFICE_ROLES, "leader", "unit_staff")
ACTIVE = ("listed", "delisting_requested")


@dataclass(frozen=True)
class Move:
    """A move of a listed problem: from which states, to which (None: stays), by whom, with what."""

    label: str
    sources: tuple
    target: str | None
    roles: tuple
    needs: tuple = ()


TRANSITIONS = {
    "update": Move("整改进展", ACTIVE, None, LEAD_UNIT, needs=("note_or_photo",)),
    "request_delisting": Move("申请摘牌", ("listed",), "delisting_requested", LEAD_UNIT),
    "refuse_delisting": Move("退回摘牌申请", ("delisting_requested",), "listed", OFFICE_ROLES, needs=("note",)),
    "delist": Move("摘牌", ("delisting_requested",), "delisted", OFFICE_ROLES, needs=("media_ids",)),
    "reopen": Move("重新挂牌", ("delisted",), "listed", OFFICE_ROLES, needs=("note",)),
}
EVENT_LABELS = {"list": "挂牌", **{name: move.label for name, move in TRANSITIONS.items()}}


def local_day(moment):
    return moment.astimezone(registry.current().zone).date()


def today():
    return local_day(utcnow())


# --- who may --------------------------------------------------------------------------------


def _covers(user, area_code):
    areas = bounding_areas(user)
    return not areas or any(area_code.startswith(code) for code in areas)


def _unit_ids(problem):
    return {problem.lead_unit_id, *(row.unit_id for row in problem.co_units)}


def may_read(user, problem):
    """The office inside its areas, leaders, and staff of the lead unit or a co-unit."""
    if user.role == "unit_staff":
        return user.unit_id in _unit_ids(problem)
    return user.role in READER_ROLES and _covers(user, problem.area_code)


def _require_read(user, problem):
    require_roles(user, READER_ROLES)
    if not may_read(user, problem):
        raise Forbidden("无权查看该挂牌问题", code="listing_not_yours", details={"id": problem.id})


def _require_move(user, problem, move):
    require_roles(user, move.roles)
    if user.role == "unit_staff" and user.unit_id != problem.lead_unit_id:
        raise Forbidden("只有牵头单位可以办理", code="not_lead_unit", details={"id": problem.id})
    if not _covers(user, problem.area_code):
        raise Forbidden("该挂牌问题不在您负责的片区内", code="outside_area", details={"id": problem.id})


# --- listing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    """What the office lists: see ``list_problem``."""

    title: str
    categories: list
    leader: str
    leader_office: str
    lead_unit: str
    target_on: date
    description: str = ""
    place: str = ""
    lat: float | None = None
    lon: float | None = None
    area: str | None = None
    co_units: tuple = ()
    measures: str = ""
    reports: tuple = ()
    media_ids: tuple = ()


def list_problem(by, listing):
    """List a problem (挂牌): 422 ``place_required``, ``unknown_area``, ``unknown_categories``,
    ``not_a_leader``, ``unknown_unit``, ``unknown_reports``, ``target_in_past``, or a photo's
    own error; 403 for a supervisor listing outside his areas."""
    require_roles(by, OFFICE_ROLES)
    area_code = _area_of(listing)
    if not _covers(by, area_code):
        raise Forbidden("该位置不在您负责的片区内", code="outside_area", details={"area_code": area_code})
    now = utcnow()
    problem = ListedProblem(
        public_id=_number(now),
        title=listing.title,
        description=listing.description,
        place=listing.place,
        lat=listing.lat,
        lon=listing.lon,
        area_code=area_code,
        categories=_categories(listing.categories),
        leader_user_id=_leader(listing.leader).id,
        leader_office=listing.leader_office,
        lead_unit_id=_units([listing.lead_unit])[0].id,
        measures=listing.measures,
        target_on=_target(listing.target_on),
        status="listed",
        listed_at=now,
        created_by_user_id=by.id,
    )
    problem.co_units = [
        ListedProblemUnit(unit_id=u.id) for u in _units(listing.co_units) if u.id != problem.lead_unit_id
    ]
    problem.cases = [
        ListedProblemCase(report_id=r.id, linked_by="manual", created_at=now) for r in _reports(listing.reports)
    ]
    step = ListedProblemEvent(
        actor_user_id=by.id, actor_role=by.role, action="list", to_status="listed", created_at=now
    )
    problem.events.append(step)
    db.session.add(problem)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("挂牌编号冲突，请重试", code="concurrent_update") from None
    photos.attach(listing.media_ids, uploader=by, subject="listing", step=step)
    _suggest(problem)
    db.session.commit()
    return problem


def _number(now):
    """``GP2026-007``: the year's listings in order (a clash of two at once is a 409 to retry)."""
    year = now.astimezone(registry.current().zone).year
    prefix = f"GP{year}-"
    taken = db.session.scalar(
        select(func.count()).select_from(ListedProblem).where(ListedProblem.public_id.startswith(prefix))
    )
    return f"{prefix}{taken + 1:03d}"


def _area_of(listing):
    if listing.lat is not None and listing.lon is not None:
        return locate(listing.lat, listing.lon).code
    code = listing.area
    if not code:
        raise ValidationFailed(
            "请给出地点坐标或所在区域", code="place_required", details={"fields": ["lat", "lon", "area"]}
        )
    if not _known_area(code):
        raise ValidationFailed("区域不存在", code="unknown_area", details={"area": code})
    return code


def _known_area(code):
    model = {9: Street, 12: Community, 15: GridCellArea}.get(len(code))
    return model is not None and db.session.get(model, code) is not None


def _categories(codes):
    codes = list(dict.fromkeys(codes))
    known = set(db.session.scalars(select(Category.code).where(Category.code.in_(codes), Category.active)))
    unknown = [code for code in codes if code not in known]
    if unknown or not codes:
        raise ValidationFailed("问题类别不存在", code="unknown_categories", details={"categories": unknown})
    return codes


def _leader(name):
    user = db.session.scalar(select(User).where(User.name == name))
    if user is None or user.role != "leader" or not user.active:
        raise ValidationFailed("牵头领导须为区级领导账号", code="not_a_leader", details={"leader": name})
    return user


def _units(codes):
    codes = list(dict.fromkeys(codes))
    found = {u.code: u for u in db.session.scalars(select(Unit).where(Unit.code.in_(codes)))} if codes else {}
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise ValidationFailed("单位不存在", code="unknown_unit", details={"units": unknown})
    return [found[code] for code in codes]


def _reports(public_ids):
    public_ids = list(dict.fromkeys(public_ids))
    if not public_ids:
        return []
    found = {r.public_id: r for r in db.session.scalars(select(Report).where(Report.public_id.in_(public_ids)))}
    unknown = [pid for pid in public_ids if pid not in found]
    if unknown:
        raise ValidationFailed("案件不存在", code="unknown_reports", details={"reports": unknown})
    return [found[pid] for pid in public_ids]


def _target(day):
    if day < today():
        raise ValidationFailed("整改期限不能早于今天", code="target_in_past", details={"target_on": day.isoformat()})
    return day


# --- reading --------------------------------------------------------------------------------


def get(by, problem_id):
    """One problem; 404 ``listing_not_found``, 403 when ``by`` may not read it."""
    problem = db.session.get(ListedProblem, problem_id)
    if problem is None:
        raise NotFound("挂牌问题不存在", code="listing_not_found", details={"id": problem_id})
    _require_read(by, problem)
    return problem


def problems(by, *, status=None, unit_code=None, leader=None, area=None, overdue=False):
    """Problems ``by`` may read, the nearest target date first."""
    require_roles(by, READER_ROLES)
    query = _listing_query(status=status, overdue=overdue)
    if by.role == "unit_staff":
        query = query.where(_of_unit(by.unit_id))
    if unit_code:
        unit_id = db.session.scalar(select(Unit.id).where(Unit.code == unit_code))
        query = query.where(_of_unit(unit_id))
    if leader:
        query = query.join(ListedProblem.leader).where(User.name == leader)
    if area:
        query = query.where(ListedProblem.area_code.startswith(area))
    areas = bounding_areas(by)
    if areas:
        query = query.where(or_(*(ListedProblem.area_code.startswith(code) for code in areas)))
    return db.session.scalars(query).all()


def public_problems(status=None):
    """Every problem for the public list (公示), the nearest target date first."""
    return db.session.scalars(_listing_query(status=status)).all()


def _listing_query(*, status=None, overdue=False):
    query = (
        select(ListedProblem)
        .options(
            selectinload(ListedProblem.lead_unit),
            selectinload(ListedProblem.leader),
            selectinload(ListedProblem.events).selectinload(ListedProblemEvent.photos).selectinload(Photo.media),
        )
        .order_by(ListedProblem.target_on, ListedProblem.id)
    )
    if status:
        query = query.where(ListedProblem.status == status)
    if overdue:
        query = query.where(ListedProblem.status.in_(ACTIVE), ListedProblem.target_on < today())
    return query


def _of_unit(unit_id):
    co_unit = select(ListedProblemUnit.problem_id).where(ListedProblemUnit.unit_id == unit_id)
    return or_(ListedProblem.lead_unit_id == unit_id, ListedProblem.id.in_(co_unit))


def is_overdue(problem, day=None):
    """Not delisted and past its target date on ``day`` (default today)."""
    return problem.status in ACTIVE and problem.target_on < (day or today())


def linked_cases(problem):
    """``[(link, report)]`` in the order they were linked."""
    rows = db.session.execute(
        select(ListedProblemCase, Report)
        .join(Report, Report.id == ListedProblemCase.report_id)
        .where(ListedProblemCase.problem_id == problem.id)
        .order_by(ListedProblemCase.created_at, Report.id)
    ).all()
    return [tuple(row) for row in rows]


def before_photos(problem):
    return next((step.photos for step in problem.events if step.action == "list"), [])


def after_photos(problem):
    """The photos of the delist step in force: none while the problem is (again) listed."""
    if problem.status != "delisted":
        return []
    return next((step.photos for step in reversed(problem.events) if step.action == "delist"), [])


def category_names(codes):
    """``{code: name}`` of ``codes``, for views that show what a problem is about."""
    return dict(db.session.execute(select(Category.code, Category.name).where(Category.code.in_(codes))).all())


def area_name(code):
    """``古南街道 长乐社区``: the street and community of an area code, as far as it goes."""
    street = db.session.get(Street, code[:9])
    community = db.session.get(Community, code[:12]) if len(code) >= 12 else None
    return " ".join(area.name for area in (street, community) if area is not None)


def allowed_actions(by, problem):
    """The moves ``by`` may make on ``problem`` now."""
    return [name for name, move in TRANSITIONS.items() if problem.status in move.sources and _may(by, problem, move)]


def _may(by, problem, move):
    own_unit = by.role != "unit_staff" or by.unit_id == problem.lead_unit_id
    return by.role in move.roles and own_unit and _covers(by, problem.area_code)


# --- moves ------------------------------------------------------------------------------------


def transition(by, problem_id, action, *, note="", media_ids=(), target_on=None):
    """Make ``action`` (TRANSITIONS) on a problem as one event with its photos.

    Checked in this order: 404 ``listing_not_found``, 422 ``unknown_action``, 403 (role, lead
    unit, area), 409 ``listing_state`` (with the status and the moves open to ``by``), 422
    ``missing_fields``; then 409 ``concurrent_update`` or a photo's own error. ``target_on``
    (reopen only) sets a new target date."""
    problem = db.session.get(ListedProblem, problem_id)
    if problem is None:
        raise NotFound("挂牌问题不存在", code="listing_not_found", details={"id": problem_id})
    move = TRANSITIONS.get(action)
    if move is None:
        raise unknown_action(action, TRANSITIONS)
    _require_move(by, problem, move)
    if problem.status not in move.sources:
        raise Conflict(
            "该挂牌问题当前状态不允许此操作",
            code="listing_state",
            details={"status": problem.status, "action": action, "allowed": allowed_actions(by, problem)},
        )
    _check_needs(move, action, note, media_ids, target_on)
    return _record(by, problem, action, move, note, media_ids, target_on)


def _check_needs(move, action, note, media_ids, target_on):
    given = {"note": (note or "").strip(), "media_ids": media_ids, "note_or_photo": (note or "").strip() or media_ids}
    missing = [name for name in move.needs if not given[name]]
    if missing:
        raise ValidationFailed("缺少必填项", code="missing_fields", details={"fields": missing, "action": action})
    if target_on is not None and action != "reopen":
        raise ValidationFailed("只有重新挂牌可以调整整改期限", code="target_not_allowed", details={"action": action})
    if target_on is not None:
        _target(target_on)


def _record(by, problem, action, move, note, media_ids, target_on):
    now = utcnow()
    step = ListedProblemEvent(
        actor_user_id=by.id,
        actor_role=by.role,
        action=action,
        from_status=problem.status,
        to_status=move.target,
        note=note or None,
        data={"target_on": target_on.isoformat()} if target_on else None,
        created_at=now,
    )
    problem.events.append(step)
    _apply(problem, action, move, now, target_on)
    try:
        db.session.flush()
        photos.attach(media_ids, uploader=by, subject="listing", step=step)
        if action == "reopen":
            _suggest(problem)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict("该挂牌问题已被他人更新，请刷新后重试", code="concurrent_update") from None
    return problem


def _apply(problem, action, move, now, target_on):
    if move.target:
        problem.status = move.target
    if action == "delist":
        problem.delisted_at = now
    if action == "reopen":
        problem.delisted_at = None
        problem.reopened += 1
        problem.target_on = target_on or problem.target_on
    problem.updated_at = now


# --- suggested cases ------------------------------------------------------------------------


def suggest_all():
    """Worker job: link the open cases nearby in their categories to every problem not
    delisted (see the module's definitions); returns how many links it added."""
    query = select(ListedProblem).where(ListedProblem.status.in_(ACTIVE), ListedProblem.lat.is_not(None))
    added = sum(_suggest(problem) for problem in db.session.scalars(query).all())
    db.session.commit()
    return {"listing_suggested": added}


def _suggest(problem):
    """Link the cases the duplicate hints find near ``problem`` in its categories; returns how many."""
    if problem.lat is None or problem.lon is None:
        return 0
    linked = set(
        db.session.scalars(select(ListedProblemCase.report_id).where(ListedProblemCase.problem_id == problem.id))
    )
    linked |= {row.report_id for row in problem.cases}
    found = {
        near.report.id
        for major in _majors(problem.categories)
        for near in nearby_open(problem.lat, problem.lon, major)
        if near.report.category_code in problem.categories
    } - linked
    now = utcnow()
    db.session.add_all(
        ListedProblemCase(problem_id=problem.id, report_id=report_id, linked_by="suggested", created_at=now)
        for report_id in sorted(found)
    )
    return len(found)


def _majors(codes):
    """One category per major class among ``codes``: ``nearby_open`` filters by major class."""
    rows = db.session.scalars(select(Category).where(Category.code.in_(codes)).order_by(Category.code))
    return list({category.major_code: category for category in rows}.values())
