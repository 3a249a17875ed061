"""问题清单 (a unit's open cases, oldest overdue first) and 督办通知书."""

from sqlalchemy import select

from civicreport import registry
from civicreport.accounts.access import Actor, case_scope, require_in_area
from civicreport.accounts.models import Unit
from civicreport.cases.lookup import get_report
from civicreport.cases.models import Report
from civicreport.cases.photo_urls import object_url, public_photos
from civicreport.cases.status import WITH_UNIT
from civicreport.db_types import utcnow
from civicreport.errors import Conflict, Forbidden
from civicreport.extensions import db
from civicreport.reference.lookup import require_unit


def unit_choices():
    """The active units as [code, name], by name: what the 问题清单 page offers the office to pick."""
    rows = db.session.execute(select(Unit.code, Unit.name).where(Unit.active.is_(True)).order_by(Unit.name))
    return [[code, name] for code, name in rows]


def _unit_for(code, user):
    unit = require_unit(code)
    if user.role == "unit_staff" and user.unit_id != unit.id:
        raise Forbidden("只能查看本单位的问题清单", code="not_your_unit")
    return unit


def for_unit(code, user):
    """The unit's open cases within ``user``'s areas: overdue first (earliest deadline first), then by deadline."""
    unit = _unit_for(code, user)
    now = utcnow()
    cases = db.session.scalars(
        select(Report).where(Report.unit_id == unit.id, Report.status.in_(WITH_UNIT), *case_scope(user))
    ).all()
    far = now.replace(year=now.year + 100)
    cases.sort(key=lambda r: (not r.is_overdue(now), r.deadline_at or far, r.created_at))
    return {
        "unit": {"code": unit.code, "name": unit.name},
        "generated_at": now.isoformat(),
        "counts": {"open": len(cases), "overdue": sum(r.is_overdue(now) for r in cases)},
        "cases": [_line(r, now) for r in cases],
    }


def _line(report, now):
    return {
        "id": report.public_id,
        "status": report.status,
        "category": report.category.name if report.category else None,
        "description": report.description,
        "place": f"{report.street.name}{report.community.name}",
        "grid": report.grid_code,
        "deadline_at": report.deadline_at and report.deadline_at.isoformat(),
        "overdue": report.is_overdue(now),
        "warning": report.is_warning(now),
        "escalation_count": report.escalation_count,
        "rework_count": report.rework_count,
        "thumb_url": next((object_url(m.thumb_key) for m in public_photos(report.media)), None),
    }


def notice(public_id, user):
    """Everything a printed 督办通知书 shows; 409 when the case was never escalated."""
    report = get_report(public_id)
    if report.unit is None or not report.escalation_count:
        raise Conflict("该案件未被督办", code="not_escalated", details={"id": public_id})
    _unit_for(report.unit.code, user)
    require_in_area(Actor(user), report)
    zone = registry.current().zone
    escalations = [e for e in report.events if e.action == "escalate"]
    return {
        "report": report,
        "unit": report.unit,
        "photos": [object_url(m.display_key) for m in public_photos(report.media) if m.kind == "evidence"],
        "deadline": report.deadline_at.astimezone(zone) if report.deadline_at else None,
        "overdue": report.is_overdue(),
        "escalations": [(e.created_at.astimezone(zone), e.note) for e in escalations],
        "issued_at": escalations[-1].created_at.astimezone(zone),
        "created_at": report.created_at.astimezone(zone),
    }
