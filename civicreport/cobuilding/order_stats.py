"""Needs-order figures (点单 → 派单 → 评单) per community, per team and per month.

These definitions feed the 社区月度排名 (its needs-order part is ``satisfaction`` below); change
them only on purpose.

Month and cut-off
    A calendar month in local dates (``TIMEZONE``), ``[start, end)``. Every figure counts steps of
    the orders' append-only timeline (``need_order_event``) inside the month, read up to the
    cut-off ``min(end, now)``. What happens to an order after its month changes nothing in that
    month: an ended month's figures are final without being stored.

Whom a step counts for
    community   the order's community (where the need is; it never changes)
    team        the volunteer team or partner unit an order was dispatched to: a ``dispatch`` for
                the team it named; a 退单, completion or rating for the team of the last dispatch
                before it (a completed order is never dispatched again). A partner unit served
                directly is a row of kind ``unit``.

Figures
    collected       点单数: orders filed (``submit``); communities only
    dispatched      有效派单数: communities: orders dispatched for the first time (a valid need
                    that reached a team; a re-dispatch after 退单 does not count again); teams:
                    every dispatch to the team
    declined        退单: ``decline`` steps
    rejected        不予受理 (not a valid need); communities only
    cancelled       取消 by the resident or the community
    completed       服务完成
    service_hours   志愿服务时长: the hours those completions recorded
    rated           评单
    satisfied       of those, rated 4 or 5
    satisfaction_rate   满意率 = satisfied / rated, to four places; None when nothing was rated
    overdue         missed deadlines whose deadline fell inside the month, before the cut-off. A
                    clock runs from 点单 or 退单 until 派单 (``COBUILD_ORDER_DISPATCH_HOURS``) and
                    from 派单 until completion (``COBUILD_ORDER_SERVICE_HOURS``), in working time;
                    it is missed when the order was still waiting at its deadline: the step that
                    stops it (派单, 服务完成, 退单, 不予受理, 取消) came later, or not by the cut-off.
                    Communities count every clock of their orders; teams the service clocks of
                    the dispatches to them.

How it is computed
    The orders with a step in the month or in the ``LOOKBACK`` before it (a clock started then
    may end inside the month), with all their steps up to the cut-off, walked in Python: a
    district files some thousands of orders a year.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from civicreport import registry
from civicreport.accounts.models import Unit
from civicreport.cobuilding.access import community_scope
from civicreport.cobuilding.models import NeedOrder, NeedOrderEvent, VolunteerTeam
from civicreport.db_types import utcnow
from civicreport.extensions import db
from civicreport.reference.areas import Community
from civicreport.reporting.stats import Period

FIGURES = (
    "collected",
    "dispatched",
    "declined",
    "rejected",
    "cancelled",
    "completed",
    "service_hours",
    "rated",
    "satisfied",
    "satisfaction_rate",
    "overdue",
)
LOOKBACK = timedelta(days=40)  # longer than any clock, 春节 included
CLOCK_STOPS = frozenset({"dispatch", "complete", "decline", "reject", "cancel"})
_STEP_FIGURES = {
    "submit": "collected",
    "decline": "declined",
    "reject": "rejected",
    "cancel": "cancelled",
    "complete": "completed",
    "rate": "rated",
}
_TEAM_STEPS = frozenset({"decline", "complete", "rate"})


@dataclass(frozen=True)
class _Clock:
    deadline: datetime
    team: tuple | None  # the team a service clock runs for


def month_of(value):
    """The calendar month (a ``reporting.stats.Period``) of a date, or a Period as it is."""
    return value if isinstance(value, Period) else Period.month(value.year, value.month)


def month_figures(month, now=None, *, by=None):
    """``{"month", "communities": [rows], "teams": [rows]}`` for a month (a date in it, or a
    Period): every community, with zeros; the teams and units with any figure. For a reader
    ``by`` kept to some communities (community staff, a bounded supervisor) only their orders
    count: the other communities' rows are left out, and a team's or unit's row holds its work
    for those communities alone."""
    period = month_of(month)
    scope = () if by is None else (community_scope(by, Community.code),)
    communities, teams = _tally(period, now or utcnow(), scope and (community_scope(by, NeedOrder.community_code),))
    rows = db.session.execute(select(Community.code, Community.name).where(*scope).order_by(Community.code))
    return {
        "month": f"{period.start:%Y-%m}",
        "communities": [{"code": code, "name": name, **_figures(communities.get(code))} for code, name in rows],
        "teams": _team_rows(teams),
    }


def community_figures(month, now=None):
    """``{community code: figures}`` for the communities with any figure in the month (a date in
    it, or a Period); one pass for every community, for callers that need many."""
    communities, _ = _tally(month_of(month), now or utcnow())
    return {code: _figures(counts) for code, counts in communities.items()}


def satisfaction(community_code, month, now=None):
    """满意率 of the community's needs orders in the month (a date in it, or a Period): the orders
    rated (评单) in the month, whenever filed, that were rated 4 or 5, over all rated in the month,
    as a fraction 0–1 to four places; None when none was rated. Final once the month has ended."""
    return community_figures(month, now).get(community_code, _figures(None))["satisfaction_rate"]


def _figures(counts):
    counts = counts or {}
    figures = {name: int(counts.get(name, 0)) for name in FIGURES}  # counted as floats with the hours
    figures["service_hours"] = round(counts.get("service_hours", 0.0), 2)
    figures["satisfaction_rate"] = round(figures["satisfied"] / figures["rated"], 4) if figures["rated"] else None
    return figures


def _tally(period, now, scope=()):
    """(per community, per team) counters of the month's orders (those meeting ``scope``, SQL
    conditions on NeedOrder); teams keyed ("team"|"unit", id)."""
    start, end = period.instants(registry.current().zone)
    cut_off = min(end, now)
    communities, teams = defaultdict(lambda: defaultdict(float)), defaultdict(lambda: defaultdict(float))
    for order, events in _orders_with_steps(start - LOOKBACK, cut_off, scope):
        _walk(order, events, start, cut_off, communities[order.community_code], teams)
    return communities, teams


def _orders_with_steps(since, cut_off, scope):
    active = select(NeedOrderEvent.order_id).where(
        NeedOrderEvent.created_at >= since, NeedOrderEvent.created_at < cut_off
    )
    rows = db.session.execute(
        select(NeedOrder, NeedOrderEvent)
        .join(NeedOrderEvent, NeedOrderEvent.order_id == NeedOrder.id)
        .where(NeedOrder.id.in_(active), NeedOrderEvent.created_at < cut_off, *scope)
        .order_by(NeedOrder.id, NeedOrderEvent.id)
    )
    grouped = defaultdict(list)
    orders = {}
    for order, event in rows:
        orders[order.id] = order
        grouped[order.id].append(event)
    return [(orders[key], grouped[key]) for key in grouped]


def _walk(order, events, start, cut_off, community, teams):
    """Count one order's steps inside ``[start, cut_off)`` and the deadlines it missed there."""
    clock, team, dispatched_before = None, None, False

    def missed(running):
        if start <= running.deadline < cut_off:
            community["overdue"] += 1
            if running.team:
                teams[running.team]["overdue"] += 1

    for event in events:
        if clock and event.action in CLOCK_STOPS:
            if event.created_at > clock.deadline:
                missed(clock)
            clock = None
        data = event.data or {}
        inside = start <= event.created_at < cut_off
        if event.action == "dispatch":
            team = ("team", data["team_id"]) if data.get("team_id") else ("unit", data.get("unit_id"))
            if inside:
                community["dispatched"] += 0 if dispatched_before else 1
                teams[team]["dispatched"] += 1
            dispatched_before = True
        elif inside and event.action in _STEP_FIGURES:
            _count_step(event, data, community, teams[team] if team and event.action in _TEAM_STEPS else None)
        if data.get("deadline_at"):
            clock = _Clock(datetime.fromisoformat(data["deadline_at"]), team if event.action == "dispatch" else None)
    if clock and clock.deadline < cut_off:
        missed(clock)


def _count_step(event, data, community, team):
    for counts in (community, team) if team is not None else (community,):
        counts[_STEP_FIGURES[event.action]] += 1
        if event.action == "complete":
            counts["service_hours"] += data.get("hours", 0.0)
        if event.action == "rate" and data.get("rating", 0) >= 4:
            counts["satisfied"] += 1


def _team_rows(teams):
    names = _names(teams)
    rows = []
    for key in sorted(teams, key=lambda k: (k[0], k[1] or 0)):
        kind, ident = key
        name, code, community = names.get(key, (None, None, None))
        rows.append(
            {"kind": kind, "id": ident, "code": code, "name": name, "community_code": community, **_figures(teams[key])}
        )
        rows[-1].pop("collected")
        rows[-1].pop("rejected")
    return rows


def _names(teams):
    """(name, unit code, community code) of each team or unit key."""
    team_ids = [i for kind, i in teams if kind == "team"]
    unit_ids = [i for kind, i in teams if kind == "unit"]
    names = {
        ("team", t.id): (t.name, None, t.community_code)
        for t in db.session.scalars(select(VolunteerTeam).where(VolunteerTeam.id.in_(team_ids)))
    }
    names.update(
        (("unit", u.id), (u.name, u.code, None)) for u in db.session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))
    )
    return names
