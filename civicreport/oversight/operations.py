"""联合整治行动: operations where several units act together at a place or over an area, against
behaviours named by category (摆摊设点、张贴广告、散发传单、晾晒吊挂 …), their results, the calendar,
and the rhythm each area keeps (办事处每月一次、社区每周一次).

Definitions (days, weeks and months are local, in ``TIMEZONE``)
    area            the street (9 digits) or community (12 digits) an operation serves; its
                    rhythm is the one the operation counts for. A point, if given, lies in it.
    organisers      who schedule, record and cancel: the office (supervisor, admin; a
                    supervisor with areas inside them), community staff for their community,
                    staff of a street office (a unit of kind ``street_office``) for the streets
                    whose 属地 unit it is (``Street.territorial_unit_id``) and their communities.
    readers         organisers for their scope, leaders (all), unit staff of a unit taking part.
    moves           planned → done (the result: counts by category, a note, photos, the cases
                    opened from it; not before it starts) and planned → cancelled (a reason);
                    anything else is 409 ``operation_state``.
    rhythm          per street and month, per community and week (Monday to Sunday, the weeks
                    whose Monday falls in the month): operations done of that area starting in
                    the period, against OPERATIONS_PER_STREET_MONTH / OPERATIONS_PER_COMMUNITY_WEEK.
                    A period is ``done`` once they are reached, ``missed`` when it has ended
                    short of them, ``open`` while it runs or lies ahead. A street's operation
                    does not count for its communities' weeks, nor theirs for its month.
"""

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import exists, false, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from civicreport import registry
from civicreport.accounts.access import bounding_areas, require_roles
from civicreport.accounts.models import Unit
from civicreport.cases.models import Report
from civicreport.cobuilding.access import community_of
from civicreport.db_types import utcnow
from civicreport.errors import Conflict, Forbidden, NotFound, ValidationFailed
from civicreport.extensions import db
from civicreport.oversight import photos
from civicreport.oversight.models import JointOperation, OperationCase, OperationUnit
from civicreport.reference.areas import Community, Street
from civicreport.reference.categories import Category
from civicreport.reference.grid import locate

OFFICE_ROLES = ("supervisor", "admin")
ORGANISER_ROLES = (*OFFICE_ROLES, "community_staff", "unit_staff")
READER_ROLES = (*ORGANISER_ROLES, "leader")
STREET_OFFICE = "street_office"
MAX_SPAN = timedelta(days=7)


# --- who -------------------------------------------------------------------------------------


def _streets_of(user):
    """The streets whose 属地 unit is the street office ``user`` works for (none for other units)."""
    if user.role != "unit_staff" or user.unit is None or user.unit.kind != STREET_OFFICE:
        return []
    return db.session.scalars(select(Street.code).where(Street.territorial_unit_id == user.unit_id)).all()


def _organised_areas(user):
    """Area code prefixes ``user`` organises for; empty: everywhere; None: nowhere."""
    if user.role == "community_staff":
        return [community_of(user)]
    if user.role == "unit_staff":
        return _streets_of(user) or None
    if user.role in OFFICE_ROLES:
        return bounding_areas(user)
    return None


def _organises(user, area_code):
    areas = _organised_areas(user)
    return areas is not None and (not areas or any(area_code.startswith(code) for code in areas))


def _require_organiser(user, area_code):
    require_roles(user, ORGANISER_ROLES)
    if not _organises(user, area_code):
        raise Forbidden("无权组织该区域的联合整治行动", code="area_not_covered", details={"area": area_code})


def _reads(user, operation):
    if user.role == "leader" or _organises(user, operation.area_code):
        return True
    return user.role == "unit_staff" and any(part.unit_id == user.unit_id for part in operation.units)


def _read_condition(user):
    """The SQL condition on JointOperation for what ``user`` reads (None: everything)."""
    if user.role == "leader":
        return None
    areas = _organised_areas(user)
    if areas == []:
        return None
    conditions = [JointOperation.area_code.startswith(code) for code in areas or ()]
    if user.role == "unit_staff":
        conditions.append(
            exists().where(OperationUnit.operation_id == JointOperation.id, OperationUnit.unit_id == user.unit_id)
        )
    return or_(false(), *conditions)


# --- scheduling ------------------------------------------------------------------------------


def schedule(by, *, title, area_code, starts_at, ends_at, unit_codes, category_codes, place="", lat=None, lon=None):
    """Schedule an operation; 403 ``area_not_covered``; 422 ``unknown_area``, ``invalid_period``,
    ``unknown_units``, ``unknown_categories``, ``outside_service_area`` or ``outside_operation_area``."""
    _known_area(area_code)
    _require_organiser(by, area_code)
    _check_period(starts_at, ends_at)
    _check_point(area_code, lat, lon)
    operation = JointOperation(
        title=title,
        area_code=area_code,
        place=place,
        lat=lat,
        lon=lon,
        starts_at=starts_at,
        ends_at=ends_at,
        categories=_known_categories(category_codes),
        status="planned",
        created_by_user_id=by.id,
        units=[OperationUnit(unit_id=unit.id) for unit in _known_units(unit_codes)],
    )
    db.session.add(operation)
    db.session.commit()
    return operation


def _known_area(code):
    model = Street if len(code) == 9 else Community
    if db.session.get(model, code) is None:
        raise ValidationFailed("街道或社区不存在", code="unknown_area", details={"area": code})


def _check_period(starts_at, ends_at):
    if not starts_at < ends_at <= starts_at + MAX_SPAN:
        raise ValidationFailed(
            "结束时间须晚于开始时间，且行动不超过 7 天",
            code="invalid_period",
            details={"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()},
        )


def _check_point(area_code, lat, lon):
    if lat is None:
        return
    cell = locate(lat, lon)
    if not cell.code.startswith(area_code):
        raise ValidationFailed(
            "行动地点不在所选区域内", code="outside_operation_area", details={"area": area_code, "grid": cell.code}
        )


def _known_units(codes):
    units = {u.code: u for u in db.session.scalars(select(Unit).where(Unit.code.in_(codes), Unit.active.is_(True)))}
    unknown = [code for code in codes if code not in units]
    if unknown:
        raise ValidationFailed("参加单位不存在或已停用", code="unknown_units", details={"units": unknown})
    return [units[code] for code in dict.fromkeys(codes)]


def _known_categories(codes):
    found = set(db.session.scalars(select(Category.code).where(Category.code.in_(codes), Category.active.is_(True))))
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise ValidationFailed("问题类别不存在", code="unknown_categories", details={"categories": unknown})
    return list(dict.fromkeys(codes))


def get_operation(by, operation_id):
    """One operation ``by`` reads; 404 ``operation_not_found``, 403 ``operation_not_covered``."""
    require_roles(by, READER_ROLES)
    operation = db.session.get(JointOperation, operation_id)
    if operation is None:
        raise NotFound("联合整治行动不存在", code="operation_not_found", details={"id": operation_id})
    if not _reads(by, operation):
        raise Forbidden("无权查看该联合整治行动", code="operation_not_covered", details={"id": operation_id})
    return operation


def operations(by, *, starts_from=None, starts_before=None, area_code=None, status=None, unit_code=None):
    """Operations ``by`` reads, by start time; ``area_code`` keeps its own and, for a street, its
    communities' operations."""
    require_roles(by, READER_ROLES)
    query = (
        select(JointOperation)
        .options(selectinload(JointOperation.cases), selectinload(JointOperation.photos))
        .order_by(JointOperation.starts_at, JointOperation.id)
    )
    condition = _read_condition(by)
    if condition is not None:
        query = query.where(condition)
    if starts_from is not None:
        query = query.where(JointOperation.starts_at >= starts_from)
    if starts_before is not None:
        query = query.where(JointOperation.starts_at < starts_before)
    if area_code:
        query = query.where(JointOperation.area_code.startswith(area_code))
    if status:
        query = query.where(JointOperation.status == status)
    if unit_code:
        query = query.where(
            exists().where(
                OperationUnit.operation_id == JointOperation.id,
                OperationUnit.unit_id == Unit.id,
                Unit.code == unit_code,
            )
        )
    return db.session.scalars(query).all()


# --- moves -----------------------------------------------------------------------------------


def _require_planned(operation, action):
    if operation.status != "planned":
        raise Conflict(
            "该行动当前状态不允许此操作",
            code="operation_state",
            details={"status": operation.status, "action": action},
        )


def record_result(by, operation_id, *, counts, note=None, media_ids=(), report_ids=()):
    """Record what an operation did: ``counts`` by category code, a note, photos and the public ids
    of the cases opened from it. 409 ``operation_state`` unless planned, ``operation_not_started``
    before it starts; 422 ``unknown_categories``, ``unknown_reports``."""
    operation = get_operation(by, operation_id)
    _require_organiser(by, operation.area_code)
    _require_planned(operation, "result")
    now = utcnow()
    if now < operation.starts_at:
        raise Conflict(
            "行动尚未开始，不能登记结果",
            code="operation_not_started",
            details={"starts_at": operation.starts_at.isoformat()},
        )
    _known_categories(list(counts))
    reports = _known_reports(report_ids)
    operation.status = "done"
    operation.result_counts = dict(counts)
    operation.result_note = note
    operation.recorded_at = now
    operation.recorded_by_user_id = by.id
    operation.cases = [OperationCase(report=report) for report in reports]
    return _save(operation, lambda: photos.attach(media_ids, uploader=by, subject="operation", step=operation))


def _known_reports(public_ids):
    ids = list(dict.fromkeys(public_ids))
    found = {r.public_id: r for r in db.session.scalars(select(Report).where(Report.public_id.in_(ids)))} if ids else {}
    unknown = [public_id for public_id in ids if public_id not in found]
    if unknown:
        raise ValidationFailed("案件不存在", code="unknown_reports", details={"reports": unknown})
    return [found[public_id] for public_id in ids]


def cancel(by, operation_id, *, reason):
    """Cancel a planned operation with a reason; 409 ``operation_state`` otherwise."""
    operation = get_operation(by, operation_id)
    _require_organiser(by, operation.area_code)
    _require_planned(operation, "cancel")
    operation.status = "cancelled"
    operation.cancelled_at = utcnow()
    operation.cancel_reason = reason
    return _save(operation)


def _save(operation, then=None):
    try:
        db.session.flush()
        if then is not None:
            then()
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict("该行动已被他人更新，请刷新后重试", code="concurrent_update") from None
    except BaseException:
        db.session.rollback()
        raise
    return operation


# --- calendar and rhythm ---------------------------------------------------------------------


def _local_midnight(day):
    return datetime.combine(day, time(), tzinfo=registry.current().zone).astimezone(UTC)


def _next_month(first):
    return (first + timedelta(days=32)).replace(day=1)


def local_day(moment):
    return moment.astimezone(registry.current().zone).date()


def this_month():
    """The first day of the local month now."""
    return local_day(utcnow()).replace(day=1)


def calendar(by, month):
    """``[(local day, [operations starting that day])]`` of the month holding the date ``month``,
    the days with operations only."""
    first = month.replace(day=1)
    rows = operations(by, starts_from=_local_midnight(first), starts_before=_local_midnight(_next_month(first)))
    days = {}
    for operation in rows:
        days.setdefault(local_day(operation.starts_at), []).append(operation)
    return sorted(days.items())


def rhythm(by, month, street_code=None):
    """The rhythm of the month holding the date ``month`` (see the definitions): ``{"streets":
    [{code, name, required, done, status}], "communities": [{code, name, street_code, weeks:
    [{starts_on, ends_on, required, done, status}]}]}`` for the areas ``by`` organises or, for leaders,
    all; ``street_code`` keeps one street and its communities."""
    require_roles(by, READER_ROLES)
    first = month.replace(day=1)
    following = _next_month(first)
    streets, communities = _areas(by, street_code)
    done = _done_days(first, following)
    settings = registry.settings()
    today = local_day(utcnow())
    weeks = _weeks(first, following)
    return {
        "streets": [
            {"code": s.code, "name": s.name}
            | _period(done.get(s.code, []), first, following, settings.OPERATIONS_PER_STREET_MONTH, today)
            for s in streets
        ],
        "communities": [
            {
                "code": c.code,
                "name": c.name,
                "street_code": c.street_code,
                "weeks": [
                    _period(
                        done.get(c.code, []),
                        monday,
                        monday + timedelta(days=7),
                        settings.OPERATIONS_PER_COMMUNITY_WEEK,
                        today,
                    )
                    for monday in weeks
                ],
            }
            for c in communities
        ],
    }


def _areas(by, street_code):
    """The streets and communities whose rhythm ``by`` sees."""
    areas = [] if by.role == "leader" else _organised_areas(by)
    if areas is None:
        raise Forbidden("无权查看联合整治开展情况", code="area_not_covered")
    streets = select(Street).order_by(Street.code)
    communities = select(Community).order_by(Community.code)
    if areas:
        wide = [code for code in areas if len(code) <= 9]
        streets = streets.where(or_(false(), *(Street.code.startswith(code) for code in wide)))
        communities = communities.where(or_(false(), *(Community.code.startswith(code) for code in areas)))
    if street_code:
        streets = streets.where(Street.code == street_code)
        communities = communities.where(Community.street_code == street_code)
    return db.session.scalars(streets).all(), db.session.scalars(communities).all()


def _done_days(first, following):
    """``{area code: [local start days of its done operations]}`` of the weeks touching the month."""
    start = first - timedelta(days=first.weekday())
    rows = db.session.execute(
        select(JointOperation.area_code, JointOperation.starts_at).where(
            JointOperation.status == "done",
            JointOperation.starts_at >= _local_midnight(start),
            JointOperation.starts_at < _local_midnight(following + timedelta(days=7)),
        )
    )
    found = {}
    for area_code, starts_at in rows:
        found.setdefault(area_code, []).append(local_day(starts_at))
    return found


def _weeks(first, following):
    """The Mondays that fall in the month."""
    monday = first + timedelta(days=-first.weekday() % 7)
    mondays = []
    while monday < following:
        mondays.append(monday)
        monday += timedelta(days=7)
    return mondays


def _period(days, start, end, required, today):
    done = sum(start <= day < end for day in days)
    if done >= required:
        status = "done"
    elif today >= end:
        status = "missed"
    else:
        status = "open"
    return {
        "starts_on": start,
        "ends_on": end - timedelta(days=1),
        "required": required,
        "done": done,
        "status": status,
    }
