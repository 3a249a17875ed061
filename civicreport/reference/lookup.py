"""Looking up reference data a case needs: its category, its unit, the routes of a point."""

from sqlalchemy import select

from civicreport.accounts.models import Unit
from civicreport.cases.routing import CategoryKey, route
from civicreport.errors import NotFound, ValidationFailed
from civicreport.extensions import db
from civicreport.reference.categories import CATEGORY_GROUPS, Category
from civicreport.reference.grid import locate, normalise_point


def require_unit(code):
    """The unit with this code; 404 ``unit_not_found`` otherwise."""
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound("单位不存在", code="unit_not_found", details={"unit": code})
    return unit


def require_category(code):
    """The active category with this code; 422 ``unknown_category`` otherwise."""
    category = db.session.get(Category, code)
    if category is None or not category.active:
        raise ValidationFailed("未知的问题类别", code="unknown_category", details={"category": code})
    return category


def active_categories():
    return db.session.scalars(select(Category).where(Category.active.is_(True)).order_by(Category.code)).all()


def locate_with_routes(lat, lon, crs):
    """Grid cell of a client point and the unit each category group would go to."""
    wgs_lat, wgs_lon = normalise_point(lat, lon, crs)
    cell = locate(wgs_lat, wgs_lon)
    routes = {group: route(CategoryKey(group=group), cell) for group in CATEGORY_GROUPS}
    return wgs_lat, wgs_lon, cell, routes
