"""Reading reports and reference data."""
from sqlalchemy import select, text, update

from civicreport.errors import AppError, NotFound, ServiceUnavailable, ValidationFailed
from civicreport.extensions import db
from civicreport.models import Category, Report, Unit
from civicreport.services.backends import storage
from civicreport.services.grid import locate, normalise_point
from civicreport.services.routing import CategoryKey, route
from civicreport.models.category import CATEGORY_GROUPS


def get_report(public_id):
    """The report with this public id; 404 ``report_not_found`` otherwise."""
    report = db.session.scalar(select(Report).where(Report.public_id == public_id))
    if report is None:
        raise NotFound("上报不存在", code="report_not_found", details={"id": public_id})
    return report


def set_flags(report_id, **values):
    """Set review flags on a report from a background check (photo reuse, an unreadable
    photo): not through the ORM, and keeping ``updated_at``, so a flag neither bumps the
    version staff actions are checked against nor passes for a change of the case."""
    db.session.execute(update(Report).where(Report.id == report_id).values(**values, updated_at=Report.updated_at))


def unit_or_404(code):
    """The unit with this code; 404 ``unit_not_found`` otherwise."""
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound("单位不存在", code="unit_not_found", details={"unit": code})
    return unit


def category_or_422(code):
    """The active category with this code; 422 ``unknown_category`` otherwise."""
    category = db.session.get(Category, code)
    if category is None or not category.active:
        raise ValidationFailed("未知的问题类别", code="unknown_category", details={"category": code})
    return category


def active_categories():
    return db.session.scalars(
        select(Category).where(Category.active.is_(True)).order_by(Category.code)
    ).all()


def locate_with_routes(lat, lon, crs):
    """Grid cell of a client point and the unit each category group would go to."""
    wgs_lat, wgs_lon = normalise_point(lat, lon, crs)
    cell = locate(wgs_lat, wgs_lon)
    routes = {group: route(CategoryKey(group=group), cell) for group in CATEGORY_GROUPS}
    return wgs_lat, wgs_lon, cell, routes


def health():
    """Check the database (``SELECT 1``) and storage (one bounded probe).

    Both checks run even when the first fails, and each is bounded by a timeout
    (DB_CONNECT_TIMEOUT, HEALTH_TIMEOUT), so a dead dependency makes this answer
    quickly. Raises ServiceUnavailable ``unhealthy`` with ``status: degraded`` and
    every check in its details when either is down.
    """
    checks = {"database": _check(_ping_database), "storage": _check(lambda: storage().check())}
    if any(value != "ok" for value in checks.values()):
        raise ServiceUnavailable("依赖服务不可用", code="unhealthy",
                                 details={"status": "degraded", "checks": checks})
    return checks


def _ping_database():
    try:
        db.session.execute(text("SELECT 1"))
    finally:
        db.session.rollback()  # a health probe holds no transaction open


def _check(probe):
    try:
        probe()
    except Exception as exc:  # any failure is a finding to report, never a 500
        return f"error: {exc.code if isinstance(exc, AppError) else type(exc).__name__}"
    return "ok"
