"""A unit's figures from the whistles that summoned it (吹哨报到 and 一体评议), per period.

These definitions count in a unit's monthly standing; change them only on purpose.

Period
    ``reporting.stats.Period``: local dates ``[from, to)`` in ``TIMEZONE``. Figures are as the
    parts stand at the time of the call (``now``); nothing is settled per month.

Figures per unit
    summoned        parts of whistles raised in the period that summon the unit (召集次数)
    checked_in_on_time  of those, parts checked in (报到) at or before their deadline
    late            of those, parts checked in after their deadline, or not checked in while
                    their deadline has passed (whether or not the worker has escalated them yet)
    checkin_rate    报到及时率 = checked_in_on_time / (checked_in_on_time + late); parts still
                    within their deadline and not checked in are in neither; None when 0
    rated           parts rated (一体评议) in the period, whenever their whistle was raised:
                    a rating counts in the month it was given
    mean_rating     mean of those ratings (1–5), to two places; None when none

How they enter /stats/units and the 红黑榜
    Shown beside the ranking: each unit's row and its 红榜/黑榜 entry carry these figures, but
    the rank and the cards stay the cases' (``reporting.stats``: on-time rate, closure rate,
    satisfaction) — a unit summoned by no whistle is not judged by them.
"""

from sqlalchemy import and_, case, func, or_, select

from civicreport import registry
from civicreport.accounts.models import Unit
from civicreport.db_types import utcnow
from civicreport.extensions import db
from civicreport.oversight.models import Whistle, WhistlePart


def unit_figures(period, now=None):
    """{unit code: figures} for every unit with a part raised or rated in ``period``."""
    now = now or utcnow()
    start, end = period.instants(registry.current().zone)
    figures = {}
    for code, summoned, on_time, late in db.session.execute(_punctuality(start, end, now)):
        figures[code] = _row(summoned=summoned, checked_in_on_time=on_time or 0, late=late or 0)
    for code, rated, mean in db.session.execute(_ratings(start, end)):
        row = figures.setdefault(code, _row())
        row.update(rated=rated, mean_rating=round(float(mean), 2))  # PostgreSQL averages as numeric
    for row in figures.values():
        decided = row["checked_in_on_time"] + row["late"]
        row["checkin_rate"] = round(row["checked_in_on_time"] / decided, 4) if decided else None
    return figures


def empty():
    """The figures of a unit no whistle summoned in the period."""
    return _row()


def _row(summoned=0, checked_in_on_time=0, late=0):
    return {
        "summoned": summoned,
        "checked_in_on_time": checked_in_on_time,
        "late": late,
        "checkin_rate": None,
        "rated": 0,
        "mean_rating": None,
    }


def _punctuality(start, end, now):
    p = WhistlePart
    on_time = and_(p.checked_in_at.is_not(None), p.checked_in_at <= p.checkin_due_at)
    late = or_(p.checked_in_at > p.checkin_due_at, and_(p.checked_in_at.is_(None), p.checkin_due_at < now))
    return (
        select(Unit.code, func.count(), func.sum(case((on_time, 1), else_=0)), func.sum(case((late, 1), else_=0)))
        .select_from(p)
        .join(Whistle, Whistle.id == p.whistle_id)
        .join(Unit, Unit.id == p.unit_id)
        .where(Whistle.created_at >= start, Whistle.created_at < end)
        .group_by(Unit.code)
    )


def _ratings(start, end):
    p = WhistlePart
    return (
        select(Unit.code, func.count(), func.avg(p.rating))
        .select_from(p)
        .join(Unit, Unit.id == p.unit_id)
        .where(p.rated_at >= start, p.rated_at < end, p.rating.is_not(None))
        .group_by(Unit.code)
    )
