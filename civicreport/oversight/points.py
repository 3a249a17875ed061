"""点位/暗访: the registry of fixed points under regular inspection and the inspections of them.

Definitions
    point           a fixed place of a kind (``status.POINT_KINDS``: 农贸市场, 背街小巷 …) placed on
                    the grid by its WGS-84 point (its cell and community), with the unit that
                    answers for it and its rhythm ``every_days``: at most that many days between
                    inspections. The office (supervisor, admin) registers and edits points.
    inspection      by a monitor or the office, unannounced (暗访) unless said otherwise: a
                    verdict on every active item of the checklist of the point's kind
                    (``checklists``), none missing, none repeated, no other; never changed.
                    It passes when every item passes.
    failed item     opens a case (``cases.intake.open_case``, channel ``inspection``) at the
                    point, in the item's category, routed as any report there; the item's
                    photos are the case's photos and its description names the point and the
                    item. The item names its case (``report_id``); the answer lists the cases.
    due at          ``every_days`` days after the last inspection, or after the point was
                    registered if it has none yet; overdue when now is past it (active points).
    pass rate       of a point: inspections passed / inspections, over all of them; None
                    before the first. The item pass rate: items passed / items answered.
    scope           a supervisor or monitor with areas reads and inspects points inside them
                    (an area code the point's grid cell code starts with); community staff read
                    their community's points, unit staff their unit's; leaders and admins all.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, false, func, or_, select
from sqlalchemy.orm import selectinload

from civicreport.accounts.access import bounding_areas, require_roles
from civicreport.accounts.models import Unit
from civicreport.cases import intake, photo_claims
from civicreport.cobuilding.access import community_of
from civicreport.db_types import utcnow
from civicreport.errors import Conflict, Forbidden, NotFound, ValidationFailed
from civicreport.extensions import db
from civicreport.oversight import checklists
from civicreport.oversight.models import Inspection, InspectionItem, InspectionPoint, Photo
from civicreport.oversight.status import POINT_KINDS
from civicreport.reference.grid import locate, normalise_point

OFFICE_ROLES = ("supervisor", "admin")
INSPECTORS = ("monitor", *OFFICE_ROLES)
READERS = (*INSPECTORS, "leader", "community_staff", "unit_staff")
CASE_CHANNEL = "inspection"


@dataclass(frozen=True)
class Figures:
    """A point's inspection figures (see the module's definitions)."""

    inspections: int = 0
    passed: int = 0
    items: int = 0
    items_passed: int = 0

    @property
    def pass_rate(self):
        return round(self.passed / self.inspections, 4) if self.inspections else None

    @property
    def item_pass_rate(self):
        return round(self.items_passed / self.items, 4) if self.items else None


def due_at(point):
    return (point.last_inspected_at or point.created_at) + timedelta(days=point.every_days)


def is_overdue(point, now=None):
    return point.active and (now or utcnow()) > due_at(point)


# --- the registry -----------------------------------------------------------------------------


def register(by, *, name, kind, lat, lon, crs="wgs84", unit_code=None, every_days=7):
    """A new point placed on the grid; 422 ``outside_service_area``, ``unknown_unit``, or 403
    for a supervisor outside his areas."""
    require_roles(by, OFFICE_ROLES)
    wgs_lat, wgs_lon = normalise_point(lat, lon, crs)
    cell = locate(wgs_lat, wgs_lon)
    point = InspectionPoint(
        name=name,
        kind=kind,
        lat=wgs_lat,
        lon=wgs_lon,
        grid_code=cell.code,
        community_code=cell.community_code,
        unit=_unit(unit_code),
        every_days=every_days,
        created_at=utcnow(),
    )
    _require_scope(by, point)
    db.session.add(point)
    db.session.commit()
    return point


def change(by, point_id, changes):
    """Change a point's name, unit, rhythm or active flag (``changes`` holds those given)."""
    require_roles(by, OFFICE_ROLES)
    point = get_point(by, point_id)
    if "unit" in changes:
        point.unit = _unit(changes.pop("unit"))
    for name, value in changes.items():
        setattr(point, name, value)
    db.session.commit()
    return point


def _unit(code):
    if code is None:
        return None
    unit = db.session.scalar(select(Unit).where(Unit.code == code, Unit.active.is_(True)))
    if unit is None:
        raise ValidationFailed("责任单位不存在", code="unknown_unit", details={"unit": code})
    return unit


def _scope_conditions(user):
    """SQL conditions on InspectionPoint for what ``user`` reads (scope in the definitions)."""
    if user.role == "community_staff":
        return [InspectionPoint.community_code == community_of(user)]
    if user.role == "unit_staff":
        return [InspectionPoint.unit_id == user.unit_id]
    areas = bounding_areas(user)
    return [or_(false(), *(InspectionPoint.grid_code.startswith(code) for code in areas))] if areas else []


def _covers(user, point):
    if user.role == "community_staff":
        return point.community_code == community_of(user)
    if user.role == "unit_staff":
        return point.unit_id == user.unit_id
    areas = bounding_areas(user)
    return not areas or any(point.grid_code.startswith(code) for code in areas)


def _require_scope(user, point):
    if not _covers(user, point):
        raise Forbidden("该点位不在您负责的范围内", code="point_not_covered", details={"grid_code": point.grid_code})


def get_point(by, point_id):
    """One point ``by`` may read; 404 ``point_not_found``, 403 ``point_not_covered``."""
    require_roles(by, READERS)
    point = db.session.get(InspectionPoint, point_id)
    if point is None:
        raise NotFound("点位不存在", code="point_not_found", details={"id": point_id})
    _require_scope(by, point)
    return point


def points(by, *, kind=None, community_code=None, unit_code=None, overdue=None, active=True):
    """Points ``by`` reads, by id; ``overdue`` True/False keeps those overdue now or not."""
    require_roles(by, READERS)
    query = select(InspectionPoint).where(*_scope_conditions(by)).order_by(InspectionPoint.id)
    if kind:
        query = query.where(InspectionPoint.kind == kind)
    if community_code:
        query = query.where(InspectionPoint.community_code == community_code)
    if unit_code:
        query = query.join(InspectionPoint.unit).where(Unit.code == unit_code)
    if active is not None:
        query = query.where(InspectionPoint.active.is_(active))
    rows = db.session.scalars(query.options(selectinload(InspectionPoint.unit))).all()
    if overdue is not None:
        now = utcnow()
        rows = [point for point in rows if is_overdue(point, now) == overdue]
    return rows


def figures(point_ids):
    """``{point id: Figures}`` for ``point_ids``, in two grouped queries."""
    ids = list(point_ids)
    if not ids:
        return {}
    found = {
        point_id: Figures(total, int(passed or 0))
        for point_id, total, passed in db.session.execute(
            select(Inspection.point_id, func.count(), func.sum(case((Inspection.passed, 1), else_=0)))
            .where(Inspection.point_id.in_(ids))
            .group_by(Inspection.point_id)
        )
    }
    for point_id, total, passed in db.session.execute(
        select(Inspection.point_id, func.count(), func.sum(case((InspectionItem.passed, 1), else_=0)))
        .join(InspectionItem, InspectionItem.inspection_id == Inspection.id)
        .where(Inspection.point_id.in_(ids))
        .group_by(Inspection.point_id)
    ):
        base = found[point_id]
        found[point_id] = Figures(base.inspections, base.passed, total, int(passed or 0))
    return found


# --- inspections ------------------------------------------------------------------------------


def history(by, point_id, limit=50):
    """A point's inspections, the latest first."""
    point = get_point(by, point_id)
    return db.session.scalars(
        select(Inspection)
        .where(Inspection.point_id == point.id)
        .options(selectinload(Inspection.items).selectinload(InspectionItem.photos))
        .order_by(Inspection.inspected_at.desc(), Inspection.id.desc())
        .limit(limit)
    ).all()


def inspect(by, point_id, answers, *, note=None, unannounced=True):
    """Record an inspection of a point: ``answers`` are dicts with ``item`` (a checklist code),
    ``passed``, ``note``, ``media_ids``; each failed item opens a routed case. All in one
    transaction. Returns the Inspection (its items name their cases).

    Checked in this order: 401/403 role, 404 ``point_not_found``, 403 ``point_not_covered``,
    409 ``point_inactive``, 422 ``unknown_items``, ``duplicate_items``, ``missing_items``
    (details name the codes); then a photo's own error (409 ``media_unavailable``)."""
    require_roles(by, INSPECTORS)
    point = get_point(by, point_id)
    if not point.active:
        raise Conflict("点位已停用", code="point_inactive", details={"id": point.id})
    asked = _check_answers(point, answers)
    now = utcnow()
    inspection = Inspection(
        point_id=point.id,
        inspector_user_id=by.id,
        unannounced=unannounced,
        inspected_at=now,
        passed=all(answer["passed"] for answer in answers),
        note=note,
    )
    try:
        db.session.add(inspection)
        db.session.flush()
        for answer in answers:
            _record_item(by, point, inspection, asked[answer["item"]], answer)
        point.last_inspected_at = now
        db.session.commit()
    except BaseException:
        db.session.rollback()  # cases opened for earlier items go too: all or nothing
        raise
    return inspection


def _check_answers(point, answers):
    """The active checklist items of the point's kind by code, once every answer is checked."""
    asked = {item.code: item for item in checklists.items(point.kind)}
    codes = [answer["item"] for answer in answers]
    unknown = sorted({code for code in codes if code not in asked})
    if unknown:
        raise ValidationFailed(
            "检查项不属于该类点位的检查标准", code="unknown_items", details={"items": unknown, "kind": point.kind}
        )
    repeated = sorted({code for code in codes if codes.count(code) > 1})
    if repeated:
        raise ValidationFailed("检查项重复", code="duplicate_items", details={"items": repeated})
    missing = [code for code in asked if code not in codes]
    if missing:
        raise ValidationFailed("每个检查项都须作答", code="missing_items", details={"items": missing})
    return asked


def _record_item(by, point, inspection, item, answer):
    """One item's verdict with its photos; a failure opens its case first (the item is never
    changed after it is written, so it is written naming the case)."""
    media = photo_claims.claim(answer["media_ids"], uploader=by, subject="inspection")
    report = None if answer["passed"] else _open_case(by, point, item, answer["note"], media)
    row = InspectionItem(
        inspection_id=inspection.id,
        item_code=item.code,
        label=item.label,
        passed=answer["passed"],
        note=answer["note"],
        report_id=report.id if report else None,
    )
    db.session.add(row)
    db.session.flush()
    # As oversight.photos.attach links them, but claimed before the case took them as its own.
    db.session.add_all(Photo(media_id=m.id, position=n, inspection_item_id=row.id) for n, m in enumerate(media))


def _open_case(by, point, item, note, media):
    description = f"【点位检查】{point.name}（{POINT_KINDS[point.kind]}）：{item.label}不合格"
    if note:
        description += f"。{note}"
    data = {
        "category": item.category_code,
        "description": description,
        "lat": point.lat,
        "lon": point.lon,
        "crs": "wgs84",
        "accuracy": None,
        "location_source": "manual",
        "contact": None,
        "media_ids": [],
    }
    return intake.open_case(data, by, media=media, channel=CASE_CHANNEL)


def of_report(report):
    """The point and inspection item whose failure opened ``report``, or None: what the case view
    shows its staff (the cases know nothing of the layer above them)."""
    found = db.session.execute(
        select(InspectionItem, Inspection, InspectionPoint)
        .join(Inspection, InspectionItem.inspection_id == Inspection.id)
        .join(InspectionPoint, Inspection.point_id == InspectionPoint.id)
        .where(InspectionItem.report_id == report.id)
    ).first()
    if found is None:
        return None
    item, inspection, point = found
    return {
        "point": {"id": point.id, "name": point.name, "kind": point.kind, "kind_label": POINT_KINDS[point.kind]},
        "inspection_id": inspection.id,
        "inspected_at": inspection.inspected_at.isoformat(),
        "unannounced": inspection.unannounced,
        "item": item.item_code,
        "label": item.label,
    }
