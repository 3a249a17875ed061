"""Which unit must fix a problem at a place: the most specific active rule, else the 属地 unit."""

from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import contains_eager

from civicreport.accounts.models import Unit
from civicreport.extensions import db
from civicreport.reference.areas import Street
from civicreport.reference.categories import RoutingRule

_AREA_RANK = {"district": 1, "street": 2, "community": 3, "grid": 4}


@dataclass(frozen=True)
class CategoryKey:
    """What routing needs to know of a category; any part may be None."""

    code: str | None = None
    major: str | None = None
    group: str | None = None

    @classmethod
    def of(cls, category):
        if category is None:
            return cls()
        return cls(category.code, category.major_code, category.group)


@dataclass(frozen=True)
class Route:
    unit: Unit | None
    rule: RoutingRule | None
    routed_by: str | None  # "rule", "territorial" or None when nobody covers the street


def route(key, cell):
    """Route ``key`` at grid ``cell``.

    Category specificity (code > major class > group > any) ranks first, then area
    specificity (grid > community > street > district), then the rule's priority.
    """
    candidates = [rule for rule in _rules_at(cell) if _category_rank(rule, key) is not None]
    if candidates:
        best = max(candidates, key=lambda r: (_category_rank(r, key), _AREA_RANK[r.area_level], r.priority, -r.id))
        return Route(best.unit, best, "rule")
    street = db.session.get(Street, cell.street_code)
    unit = street.territorial_unit if street else None
    if unit is not None and unit.active:
        return Route(unit, None, "territorial")
    return Route(None, None, None)


def _rules_at(cell):
    area_match = or_(
        and_(RoutingRule.area_level == "grid", RoutingRule.area_code == cell.code),
        and_(RoutingRule.area_level == "community", RoutingRule.area_code == cell.community_code),
        and_(RoutingRule.area_level == "street", RoutingRule.area_code == cell.street_code),
        and_(RoutingRule.area_level == "district", RoutingRule.area_code == cell.district_code),
    )
    query = (
        select(RoutingRule)
        .join(Unit, RoutingRule.unit_id == Unit.id)
        .where(RoutingRule.active.is_(True), Unit.active.is_(True), area_match)
        .options(contains_eager(RoutingRule.unit))  # the winner's unit comes with it
    )
    return db.session.scalars(query).all()


def _category_rank(rule, key):
    """3 for an exact code, 2 major class, 1 group, 0 any; None when the rule does not apply."""
    if rule.category_code is not None:
        return 3 if rule.category_code == key.code else None
    if rule.category_major is not None:
        return 2 if rule.category_major == key.major else None
    if rule.category_group is not None:
        return 1 if rule.category_group == key.group else None
    return 0
