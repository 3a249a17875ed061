"""Statistics for 周督查 / 月通报 / 季考评: figures per unit, per area and per monitor, rankings
(红黑榜) and 红黄牌 warnings.

These definitions are what the city is judged by; change them only on purpose.

Period and cut-off
    A period is ``[from, to)`` in local dates (``TIMEZONE``), e.g. a month. Figures count the
    timeline (``report_event``) up to the cut-off ``min(to, now)``, so what happens to a case
    after its month does not change that month's figures. When things happened always comes
    from the timeline; the ``report`` row is read only for where a case is (area codes) and for
    its deadline. That deadline is the current one, because the timeline does not record every
    deadline move (恢复办理 moves it silently), until the month settles: a settled calendar month
    keeps the deadlines and areas its cases had then, so a published 月通报 stays as published.
    ``overdue_now`` is a figure of now (see below). The month in progress counts to the last
    pass of the settling job over it instead of now (seconds to minutes earlier, see below).

Cases of a unit (处置单位)
    The reports with a ``dispatch`` event inside the period, each counted once, for the unit of
    its last dispatch inside the period: a case returned as 派错 and re-dispatched within the
    period counts for the unit that finally received it. Its figures come from its events inside
    the period up to the cut-off; a claim counts only when it follows that last dispatch.

Cases of an area (街道 / 社区 / 网格)
    The reports whose ``submit`` event is inside the period and whose location lies in the area.
    Their figures come from their events up to the cut-off.

Figures of a case group (units and areas)
    received        units: cases (派遣数); areas: reports filed in the area (上报数)
    claimed         units only: cases the unit took (``claim`` after the dispatch, 接单数)
    accepted        areas only: reports accepted (受理) and not later merged as duplicates
    dispatched      areas only: reports with a ``dispatch``
    resolved        cases with a ``resolve`` (处置完毕)
    closed          cases with a ``close`` (结案)
    closure_rate    结案率 = closed / received for units, closed / accepted for areas
    suspended       cases in 挂账 at the cut-off (more ``suspend`` than ``resume`` events)
    due             应结案数 = cases not suspended at the cut-off that are resolved, or whose
                    deadline is before the cut-off
    on_time         按期结案数 = cases not suspended whose last ``resolve`` is at or before
                    their deadline
    on_time_rate    按期结案率 = on_time / due (suspended cases are in neither)
    reworked        cases with at least one ``verify_fail`` (返工)
    rework_rate     返工率 = reworked / resolved
    avg_handling_hours  mean over resolved cases of the WORKING hours (office hours on working
                    days of the official calendar with 调休 and admin overrides) from the case's
                    last dispatch to its last resolve; urgent categories are measured the same way
    rated, satisfied    cases rated (``rate``), and those rated 4 or 5
    satisfaction_rate   满意率 = satisfied / rated
    overdue_now     open cases (派遣/处置中/返工) of the unit or area whose deadline has passed
                    now, whatever period they come from: the current backlog, not a period figure
    A rate whose denominator is 0 is ``None``.

Figures of a monitor (文明监督员)
    filed           reports the monitor submitted in the period (``submit`` by role monitor)
    valid           of those, accepted (受理) by the cut-off and not merged as duplicates
    rejected, duplicate  of those, rejected / merged as duplicates by the cut-off
    valid_rate      有效上报率 = valid / filed (reports still awaiting triage count as not valid)

Ranking (排名)
    Units and areas with at least ``STATS_MIN_CASES`` cases (received for units, accepted for
    areas) and a defined on-time rate are ranked; the others are listed with ``rank`` None.
    Score, compared in order, higher is better: on-time rate, closure rate, satisfaction rate
    (no ratings counts below any rating). Monitors with at least ``STATS_MIN_CASES`` reports
    are ranked by valid rate, then reports filed. Equal scores share a rank (1, 2, 2, 4); rows
    with equal scores are listed by code.
    红榜 = the first ``k`` ranked rows, 黑榜 = the last ``k`` (worst first), where
    ``k = min(STATS_RANK_SIZE, ranked rows // 2)`` so no row is on both lists.

红黄牌 (units and areas, ranked rows only)
    red     on-time rate < ``RED_CARD_RATE``, or < ``YELLOW_CARD_RATE`` in this period and in the
            previous one (ranked there too): two yellows in a row make a red
    yellow  on-time rate < ``YELLOW_CARD_RATE``
    The previous period of a calendar month is the previous month; of any other range, the
    range of the same length just before it.

How it is computed
    A calendar month that has settled (ended ``SETTLE_AFTER`` ago and settled by ``flask settle``)
    is read, not computed: its figures per unit, district, street, community, grid cell and
    monitor (every numerator and denominator above, working hours as a total and a count) are
    rows of ``stats_group_month``, so a table is a read of a few hundred rows for the month and
    one for the month before (cards), whatever the month's volume. They are summed once, when the
    month settles, from its per-case rows in ``stats_case_month`` (each case's aggregates, its
    deadline and areas then, and its working hours), which stay as the audit trail. Settling is
    its own job (``settle_months``, run by ``flask settle`` beside the worker, never inside a
    request or the worker's round): the month's cases in chunks of ``SETTLE_CHUNK`` that commit as
    they go, under a lease, resumable from the last chunk; the figures and ``finished_at`` last.
    Events are append-only and stamped when they happen, so nothing changes a settled month (a
    loader that backfills the past calls ``forget_settled``).
    The month in progress is read from its case rows in ``stats_case_live``, which the same job
    keeps up to date (``refresh_live_month``: each pass recomputes only the cases with events
    since the last one), counted to the instant of its last pass; a GROUP BY over the month's
    cases, bounded by the month's volume, without the timeline. When they are missing or more
    than ``LIVE_MAX_AGE`` old, and for any other period (a month ended but not settled yet, a
    range of days), figures are computed from the timeline, three queries per table: the period's events, read through
    their time index, grouped per report with conditional aggregates (one row per case), joined
    to the reports for their deadlines and areas and summed per key with conditional counts, all
    in SQL; the working hours of the resolved cases measured in Python on a time line of the
    period's working days built once; the previous period's counts that ranking and cards need.
    A table says which it is (``state``: settled, settling or live). The current backlog is a
    small GROUP BY on ``report``. No query per case or per unit.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from statistics import fmean

from sqlalchemy import (
    BigInteger,
    String,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from civicreport import progress, registry
from civicreport.accounts.models import Unit, User
from civicreport.cases.deadlines import work_calendar
from civicreport.cases.models import Report, ReportEvent
from civicreport.cases.status import CLOCK_RUNNING
from civicreport.db_types import utcnow
from civicreport.extensions import db, on_postgresql
from civicreport.reference.areas import Community, District, GridCellArea, Street
from civicreport.reporting.models import StatsCaseLive, StatsCaseMonth, StatsGroupMonth, StatsLiveMonth, StatsMonth
from civicreport.worktime import WorkingLine

LEVELS = ("district", "street", "community", "grid")
_AREA_COLUMNS = {
    "district": Report.district_code,
    "street": Report.street_code,
    "community": Report.community_code,
    "grid": Report.grid_code,
}
# What a case row takes from its report: when the month settles, these are stored with it.
_REPORT_COLUMNS = ("deadline_at", "district_code", "street_code", "community_code", "grid_code")
_ID_WIDTH = 10**12
# The count fields of a unit's and of an area's row.
_UNIT_COUNTS = (
    "received",
    "claimed",
    "resolved",
    "closed",
    "suspended",
    "due",
    "on_time",
    "reworked",
    "rated",
    "satisfied",
)
_AREA_COUNTS = (
    "received",
    "accepted",
    "dispatched",
    "resolved",
    "closed",
    "suspended",
    "due",
    "on_time",
    "reworked",
    "rated",
    "satisfied",
)
_TRACKED = (
    "submit",
    "accept",
    "reject",
    "mark_duplicate",
    "dispatch",
    "claim",
    "suspend",
    "resume",
    "resolve",
    "verify_fail",
    "close",
    "rate",
)
_GROUP_COLUMNS = tuple(c.name for c in StatsGroupMonth.__table__.columns)
# Every count of a stored figures row, zero unless its kind has it.
_ZERO = dict.fromkeys(
    (*_AREA_COUNTS, "claimed", "hours_total", "hours_cases", "filed", "valid", "rejected", "duplicate"), 0
)
# A request that began before midnight may commit its event a little after: wait before settling.
SETTLE_AFTER = timedelta(hours=1)
# Cases per committed chunk when a month settles (a chunk's ids go in one IN list: SQLite takes
# 32,766 parameters); a chunk renews the settler's lease, which a dead settler's successor waits out.
SETTLE_CHUNK = 10_000
SETTLE_LEASE = timedelta(minutes=2)
# The month in progress is read from the case rows the settling job keeps when they are at most
# this old (it refreshes them every round); older, or missing, its figures come from the timeline.
LIVE_MAX_AGE = timedelta(minutes=10)


@dataclass(frozen=True)
class Period:
    """Local dates ``[start, end)``; ValueError when ``end`` is not after ``start``."""

    start: date
    end: date

    def __post_init__(self):
        if self.end <= self.start:
            raise ValueError(f"period end {self.end} must be after its start {self.start}")

    @classmethod
    def month(cls, year, month):
        """The calendar month; ValueError for a month outside 1–12 or a year outside 1–9998."""
        return cls(date(year, month, 1), date(year + month // 12, month % 12 + 1, 1))

    def is_month(self):
        return self.start.day == 1 and self == Period.month(self.start.year, self.start.month)

    def previous(self):
        """The previous month for a month, else the range of the same length just before."""
        if self.is_month():
            last = self.start - timedelta(days=1)
            return Period.month(last.year, last.month)
        return Period(self.start - (self.end - self.start), self.start)

    def instants(self, zone):
        """The period's start and end as aware UTC datetimes."""
        return tuple(datetime.combine(day, time.min, zone).astimezone(UTC) for day in (self.start, self.end))


@dataclass
class Table:
    """One statistics table: its rows (with ``rank`` and ``card``) and the two lists."""

    kind: str
    period: Period
    rows: list
    red_list: list
    black_list: list
    state: str = "live"  # see ``month_state``


def unit_stats(period, now=None):
    """Figures per unit (every active unit, and any unit with cases), ranked and carded."""
    now = now or utcnow()
    _reporting_session()
    state = _state(period, now)
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    current, previous = _case_figures("unit", _by_unit, period, now, _UNIT_COUNTS, state)
    overdue = _overdue_now(Unit.code, now, join=Unit)
    codes = {code for code, unit in units.items() if unit.active} | set(current) | set(overdue)
    names = {code: units[code].name if code in units else code for code in codes}
    return _case_table("units", period, names, (current, previous), overdue, _UNIT_COUNTS, state)


def area_stats(period, level, now=None):
    """Figures per district, street, community or grid cell (all of the level); ValueError for another level."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    now = now or utcnow()
    _reporting_session()
    state = _state(period, now)
    current, previous = _case_figures(level, partial(_by_area, level), period, now, _AREA_COUNTS, state)
    overdue = _overdue_now(_AREA_COLUMNS[level], now)
    names = _area_names(level)
    names.update({code: code for code in set(current) | set(overdue) if code not in names})
    return _case_table(f"areas:{level}", period, names, (current, previous), overdue, _AREA_COUNTS, state)


def monitor_stats(period, now=None):
    """Reports filed and valid-report rate per monitor (every active monitor, and any who filed)."""
    now = now or utcnow()
    _reporting_session()
    state = _state(period, now)
    kept = _kept_live_cases(period, now) if state == "live" else None
    if state == "settled":
        figures = {int(code): counts for code, counts in _read_figures("monitor", period).items()}
    else:
        cases = _cases(period, now) if kept is None else kept[0]
        figures = {row.monitor_id: row._asdict() for row in db.session.execute(_monitor_counts(cases))}
    people = db.session.scalars(
        select(User).where(or_(and_(User.role == "monitor", User.active.is_(True)), User.id.in_(list(figures))))
    ).all()
    rows = [_monitor_row(user, figures.get(user.id, {})) for user in people]
    minimum = registry.settings().STATS_MIN_CASES
    ranked = _rank(rows, lambda r: r["filed"] >= minimum, lambda r: (r["valid_rate"], r["filed"]))
    return _table("monitors", period, rows, ranked, state)


def _monitor_counts(cases):
    """Filed, valid, rejected and merged reports per monitor of ``cases``: one GROUP BY."""
    c = cases.c
    valid = and_(c.accepted == 1, c.merged == 0)
    return (
        select(
            c.monitor_id,
            func.count().label("filed"),
            _count(valid).label("valid"),
            _count(c.rejected == 1).label("rejected"),
            _count(c.merged == 1).label("duplicate"),
        )
        .where(c.monitor_id.is_not(None))
        .group_by(c.monitor_id)
    )


def _monitor_row(user, figures):
    filed = figures.get("filed", 0)
    row = {"code": user.name, "name": user.display_name, "filed": filed}
    row.update({key: figures.get(key, 0) for key in ("valid", "rejected", "duplicate")})
    row.update(valid_rate=_rate(row["valid"], filed), rank=None, card=None)
    return row


def month_state(period, now=None):
    """``settled`` (figures stored), ``settling`` (ended, its settling not finished yet) or ``live``
    (a month not ended, or a period that is not a calendar month)."""
    return _state(period, now or utcnow())


def _state(period, now):
    if not _settled(period, now):
        return "live"
    return "settled" if _finished(period) else "settling"


def _finished(period):
    return db.session.scalar(select(StatsMonth.finished_at).where(StatsMonth.month == period.start)) is not None


def settle_months(now=None, *, chunk=SETTLE_CHUNK, on_chunk=None):
    """The settling job (``flask settle``): settle every ended month not settled yet, newest first,
    from the month of the first event on. Returns the months finished by this call.

    ``on_chunk(period, marker)`` is called after each committed chunk (the progress display uses
    it; tests use it to stall or kill a settler between chunks).
    """
    now = now or utcnow()
    first = db.session.scalar(select(func.min(ReportEvent.created_at)))
    if first is None:
        return []
    zone = registry.current().zone
    day = first.astimezone(zone).date()
    period, finished = Period.month(day.year, day.month), []
    months = []
    while _settled(period, now):
        months.append(period)
        period = Period.month(period.end.year, period.end.month)
    done = set(db.session.scalars(select(StatsMonth.month).where(StatsMonth.finished_at.is_not(None))))
    for month in reversed(months):
        if month.start not in done and settle_month(month, now, chunk=chunk, on_chunk=on_chunk):
            finished.append(month.start)
    return finished


def settle_month(period, now=None, *, chunk=SETTLE_CHUNK, on_chunk=None):
    """Settle one ended calendar month in chunks of ``chunk`` cases, each committed as it goes; True
    when it finished here, False when it was not due, already settled or another settler holds it.

    The month's cases are those with a tracked event inside it, taken in report id order; a chunk
    stores their rows (with working hours) and moves ``done_through`` and the lease in the same
    transaction, so a settler killed at any point is resumed from its last chunk once
    ``SETTLE_LEASE`` has passed. The figures per unit, area and monitor are stored last, with
    ``finished_at``: readers see the month settled only when all of it is.
    """
    now = now or utcnow()
    if not _settled(period, now) or (marker := _claim(period, now)) is None:
        return False
    start, end = period.instants(registry.current().zone)
    line = WorkingLine(work_calendar(), start.astimezone(registry.current().zone).date())
    ids = _month_case_ids(start, end, marker.done_through)
    with progress.stage(f"settling {period.start:%Y-%m}", total=marker.cases + len(ids), unit="cases") as bar:
        bar.advance(marker.cases)
        for first in range(0, len(ids), chunk):
            part = ids[first : first + chunk]
            _store_chunk(marker, start, end, part, line)
            bar.advance(len(part))
            if on_chunk is not None:
                on_chunk(period, marker)
    _store_figures(period)
    marker.finished_at, marker.lease_until = utcnow(), None
    db.session.commit()
    return True


def _claim(period, now):
    """The month's marker, created or taken over from a settler whose lease has run out; None when
    it is settled or another settler holds it. Commits."""
    lease = utcnow() + SETTLE_LEASE
    if db.session.get(StatsMonth, period.start) is None:
        try:
            db.session.add(StatsMonth(month=period.start, cases=0, done_through=0, lease_until=lease))
            db.session.commit()
            return db.session.get(StatsMonth, period.start)
        except IntegrityError:  # another settler created it first
            db.session.rollback()
    taken = db.session.execute(
        update(StatsMonth)
        .where(
            StatsMonth.month == period.start,
            StatsMonth.finished_at.is_(None),
            or_(StatsMonth.lease_until.is_(None), StatsMonth.lease_until < now),
        )
        .values(lease_until=lease)
    )
    db.session.commit()
    return db.session.get(StatsMonth, period.start) if taken.rowcount else None


def _month_case_ids(start, end, after):
    """Ids of the reports with a tracked event in ``[start, end)`` above ``after``, ascending."""
    stmt = (
        select(ReportEvent.report_id)
        .where(
            ReportEvent.created_at >= start,
            ReportEvent.created_at < end,
            ReportEvent.action.in_(_TRACKED),
            ReportEvent.report_id > after,
        )
        .distinct()
        .order_by(ReportEvent.report_id)
    )
    return list(db.session.scalars(stmt))


def _store_chunk(marker, start, end, ids, line):
    """Insert the case rows of ``ids`` with their working hours and move the marker on; commits."""
    rows = _case_rows(start, end, ids, line, marker.month)
    if rows:
        db.session.execute(insert(StatsCaseMonth.__table__), rows)
    marker.cases += len(rows)
    marker.done_through = ids[-1]
    marker.lease_until = utcnow() + SETTLE_LEASE
    db.session.commit()


def _case_rows(start, cut_off, ids, line, month):
    """The case rows of ``ids`` over ``[start, cut_off)``, each with its working hours measured on ``line``."""
    _reporting_session()  # one plan, no parallel workers each aggregating the whole chunk again
    cases = _live_cases(start, cut_off, report_ids=ids)
    rows = [dict(row._mapping, month=month) for row in db.session.execute(select(cases))]
    for row in rows:
        measured = row["dispatched_at"] is not None and row["resolved_at"] is not None
        row["handling_hours"] = line.hours(row["dispatched_at"], row["resolved_at"]) if measured else None
    return rows


def _store_figures(period):
    """Sum the month's case rows per unit, area and monitor into ``stats_group_month``: seven GROUP BYs."""
    table = StatsCaseMonth.__table__
    cases = select(*table.c).where(table.c.month == period.start).subquery("cases")
    end = period.instants(registry.current().zone)[1]
    groupings = {"unit": (_by_unit, _UNIT_COUNTS)}
    groupings.update({level: (partial(_by_area, level), _AREA_COUNTS) for level in LEVELS})
    rows = []
    for kind, (grouping_for, counts) in groupings.items():
        for code, figures in _counts(cases, grouping_for, end, counts[1:], hours=True).items():
            rows.append({**_ZERO, **figures, "month": period.start, "kind": kind, "code": code})
    for row in db.session.execute(_monitor_counts(cases)):
        figures = row._asdict()
        rows.append({**_ZERO, **figures, "month": period.start, "kind": "monitor", "code": str(figures["monitor_id"])})
    db.session.execute(delete(StatsGroupMonth).where(StatsGroupMonth.month == period.start))
    if rows:
        db.session.execute(insert(StatsGroupMonth.__table__), [_group_columns(row) for row in rows])


def _group_columns(row):
    return {name: row[name] for name in _GROUP_COLUMNS}


def _read_figures(kind, period):
    """Code → counts (and ``avg_handling_hours``) of a settled month's stored rows of ``kind``."""
    figures = {}
    for row in db.session.scalars(
        select(StatsGroupMonth).where(StatsGroupMonth.month == period.start, StatsGroupMonth.kind == kind)
    ):
        figures[row.code] = _mean_hours({name: getattr(row, name) for name in _ZERO})
    return figures


def _mean_hours(counts):
    """``counts`` with ``avg_handling_hours`` (to 0.01 h) from its hours total, when any case was measured."""
    if counts["hours_cases"]:
        counts["avg_handling_hours"] = round(counts["hours_total"] / counts["hours_cases"], 2)
    return counts


def _refresh_live_rows(ids, start, now, line, period):
    """Recompute the live rows of ``ids`` in chunks, one progress stage."""
    with progress.stage(f"live figures {period.start:%Y-%m}", total=len(ids), unit="cases") as bar:
        for first in range(0, len(ids), SETTLE_CHUNK):
            part = ids[first : first + SETTLE_CHUNK]
            db.session.execute(
                delete(StatsCaseLive).where(StatsCaseLive.month == period.start, _among(StatsCaseLive.report_id, part))
            )
            rows = _case_rows(start, now, part, line, period.start)
            if rows:
                db.session.execute(insert(StatsCaseLive.__table__), rows)
            bar.advance(len(part))


def refresh_live_month(now=None):
    """The settling job's second step: bring the case rows of the month in progress up to ``now``
    (the first time all its cases, then only those with events since the last pass, less
    ``SETTLE_AFTER`` for late commits), in one transaction; drop those of earlier months. Returns
    the number of cases recomputed.

    A case without new events has the same events up to ``now`` as up to the last pass, so its
    row stands; what moves with the clock (due, on time) is decided when the rows are read.
    """
    now = now or utcnow()
    zone = registry.current().zone
    today = now.astimezone(zone).date()
    period = Period.month(today.year, today.month)
    start = period.instants(zone)[0]
    db.session.execute(delete(StatsCaseLive).where(StatsCaseLive.month != period.start))
    db.session.execute(delete(StatsLiveMonth).where(StatsLiveMonth.month != period.start))
    marker = db.session.get(StatsLiveMonth, period.start) or StatsLiveMonth(month=period.start, cases=0)
    since = start if marker.as_of is None else max(start, marker.as_of - SETTLE_AFTER)
    ids = _month_case_ids(since, now, 0)
    if ids:  # a pass with nothing to do says nothing: `make run` would print a line every round
        _refresh_live_rows(ids, start, now, WorkingLine(work_calendar(), today.replace(day=1)), period)
    marker.as_of = now
    db.session.add(marker)
    db.session.flush()
    marker.cases = db.session.scalar(select(func.count()).where(StatsCaseLive.month == period.start))
    db.session.commit()
    if len(ids) >= SETTLE_CHUNK and on_postgresql():
        db.session.execute(text("ANALYZE stats_case_live"))  # a first pass: plan the reads on real counts
        db.session.commit()
    return len(ids)


def _hash_groups():
    """On PostgreSQL, aggregate the kept rows by hashing their few groups (units, areas) for the rest
    of this transaction: it cannot estimate the groups of the unit key (an expression) and sorted a
    month's million rows for ten units (1,050 ms; hashed 690 ms at 10 M cases)."""
    if on_postgresql():
        db.session.execute(select(func.set_config("enable_sort", "off", True)))


def _kept_live_cases(period, now):
    """(case rows, the instant they count to) of the month in progress, when the settling job has
    brought them up to at most ``LIVE_MAX_AGE`` before ``now``; else None (read the timeline)."""
    start, end = period.instants(registry.current().zone)
    if not (period.is_month() and start <= now < end):
        return None
    as_of = db.session.scalar(select(StatsLiveMonth.as_of).where(StatsLiveMonth.month == period.start))
    if as_of is None or not now - LIVE_MAX_AGE <= as_of <= now:
        return None
    table = StatsCaseLive.__table__
    return select(*table.c).where(table.c.month == period.start).subquery("cases"), as_of


def forget_settled():
    """Drop every stored month (after backfilling past events); the settling job stores them again."""
    for table in (StatsGroupMonth, StatsCaseMonth, StatsMonth, StatsCaseLive, StatsLiveMonth):
        db.session.execute(delete(table))


def _settled(period, now):
    return period.is_month() and period.instants(registry.current().zone)[1] + SETTLE_AFTER <= now


def _cases(period, now, actions=_TRACKED):
    """One row per case of ``period`` as the timeline says up to the cut-off (see ``_live_cases``)."""
    return _live_cases(*_span(period, now), actions)


def _live_cases(start, cut_off, actions=_TRACKED, report_ids=None):
    """One row per case with ``actions`` events in ``[start, cut_off)`` (only ``report_ids`` when
    given): the columns of ``_per_case`` and what it takes from its report."""
    per_case = _per_case(start, cut_off, actions, report_ids)
    stmt = select(*per_case.c, *(Report.__table__.c[name] for name in _REPORT_COLUMNS)).join_from(
        per_case, Report, Report.id == per_case.c.report_id
    )
    if report_ids is not None:  # the reports by their key, not a scan of them all to hash-join
        stmt = stmt.where(_among(Report.id, report_ids))
    return stmt.subquery("cases")


def _reporting_session():
    """On PostgreSQL, plan this transaction's statistics queries for one big aggregate; elsewhere nothing.

    The default ``work_mem`` (4 MB) makes a month's per-case aggregate spill to disk; a parallel plan
    rebuilds that aggregate in every worker; JIT compiles for longer than it saves. ``set_config(…,
    true)`` is ``SET LOCAL``: the settings end with the transaction.
    """
    if on_postgresql():
        db.session.execute(
            select(
                func.set_config("work_mem", "64MB", True),
                func.set_config("jit", "off", True),
                func.set_config("max_parallel_workers_per_gather", "0", True),
            )
        )


def _span(period, now):
    """The period's start and its cut-off ``min(end, now)``, as UTC instants."""
    start, end = period.instants(registry.current().zone)
    return start, min(end, now)


def _among(column, ids):
    """``column`` in ``ids`` (ascending, and every report with events in the window between the first
    and the last, as ``_month_case_ids`` lists them): a range when they are dense, which reads the
    same rows (the others have no events in the window) without binding 10,000 parameters
    (0.85 s of a chunk's 3.5 s at 5 M); the list itself for sparse ids, such as old cases'."""
    if ids and ids[-1] - ids[0] < 2 * len(ids):
        return column.between(ids[0], ids[-1])
    return column.in_(ids)


def _per_case(start, cut_off, actions=_TRACKED, report_ids=None):
    """One row per report with ``actions`` events in [start, cut_off) (of ``report_ids`` only, when
    given): what they say, in one GROUP BY.

    Every event that matters for a period's cases lies in that window: a case starts there (its
    submit, or the dispatch that puts it in a unit's cohort) and its later events follow it. A
    case dispatched again after a return can have earlier events in the window, but only a claim
    (compared by id with the last dispatch); suspensions before a dispatch were resumed.
    """
    event = aliased(ReportEvent, name="ev")

    def last(condition, value):
        return func.max(case((condition, value)))

    def happened(action):
        return func.max(case((event.action == action, 1), else_=0))

    def times(action):
        return func.sum(case((event.action == action, 1), else_=0))

    # The unit of the last dispatch: the largest fixed-width "id + unit code" string (ids < 9e12).
    tagged_unit = cast(event.id + literal(_ID_WIDTH, BigInteger), String) + event.data["unit"].as_string()
    stmt = (
        select(
            event.report_id,
            last(event.action == "submit", event.id).label("submit_id"),
            last(event.action == "dispatch", tagged_unit).label("tagged_unit"),
            last(and_(event.action == "submit", event.actor_role == "monitor"), event.actor_user_id).label(
                "monitor_id"
            ),
            last(event.action == "dispatch", event.id).label("dispatch_id"),
            last(event.action == "claim", event.id).label("claim_id"),
            happened("accept").label("accepted"),
            happened("mark_duplicate").label("merged"),
            happened("reject").label("rejected"),
            happened("close").label("closed"),
            happened("verify_fail").label("reworked"),
            (times("suspend") - times("resume")).label("suspended"),
            last(event.action == "dispatch", event.created_at).label("dispatched_at"),
            last(event.action == "resolve", event.created_at).label("resolved_at"),
            last(event.action == "rate", event.data["rating"].as_integer()).label("rating"),
        )
        .where(event.created_at >= start, event.created_at < cut_off, event.action.in_(actions))
        .group_by(event.report_id)
    )
    if report_ids is not None:
        stmt = stmt.where(_among(event.report_id, report_ids))
    return stmt.subquery("per_case")


def _by_unit(cases):
    """(key, cohort condition): cases dispatched in the window, by the unit of their last dispatch."""
    return func.substr(cases.c.tagged_unit, len(str(_ID_WIDTH)) + 1), cases.c.tagged_unit.is_not(None)


def _by_area(level, cases):
    """(key, cohort condition): reports submitted in the window, by their area code at ``level``."""
    return cases.c[f"{level}_code"], cases.c.submit_id.is_not(None)


def _case_figures(kind, grouping_for, period, now, counts, state):
    """The ``counts`` per group key for ``period`` (with mean working hours), and for the period before it
    what ranking and cards need: a read of the stored rows of ``kind`` for a settled month, else three
    queries over the timeline.
    """
    kept = _kept_live_cases(period, now) if state == "live" else None
    if state == "settled":
        current = _read_figures(kind, period)
    elif kept is not None:
        cases, as_of = kept
        _hash_groups()
        current = {
            key: _mean_hours(figures)
            for key, figures in _counts(cases, grouping_for, as_of, counts[1:], hours=True).items()
        }
    else:
        cut_off = _span(period, now)[1]
        current = _counts(_cases(period, now), grouping_for, cut_off, counts[1:])
        for key, hours in _handling_hours(grouping_for, period, now).items():
            current[key]["avg_handling_hours"] = hours
    before = period.previous()
    if _state(before, now) == "settled":
        return current, _read_figures(kind, before)
    return current, _counts(_cases(before, now), grouping_for, _span(before, now)[1], ("accepted", "due", "on_time"))


def _case_flags(c, cut_off):
    """What a case counts towards, per figure, decided against its report's deadline."""
    live = c.suspended <= 0
    resolved = c.resolved_at.is_not(None)
    return {
        "claimed": c.claim_id > c.dispatch_id,
        "accepted": and_(c.accepted == 1, c.merged == 0),
        "dispatched": c.dispatch_id.is_not(None),
        "resolved": resolved,
        "closed": c.closed == 1,
        "suspended": ~live,
        "due": and_(live, or_(resolved, c.deadline_at < cut_off)),
        "on_time": and_(live, resolved, c.resolved_at <= c.deadline_at),
        "reworked": c.reworked == 1,
        "rated": c.rating.is_not(None),
        "satisfied": c.rating >= 4,
    }


def _counts(cases, grouping_for, cut_off, names, *, hours=False):
    """``received`` and the counts ``names`` per key: one GROUP BY over ``cases`` (with ``hours``, also
    the total of their stored working hours and how many were measured).

    PostgreSQL computes only the per-case aggregates that ``names`` use.
    """
    key, cohort = grouping_for(cases)
    flags = _case_flags(cases.c, cut_off)
    columns = [key.label("key"), func.count().label("received"), *(_count(flags[n]).label(n) for n in names)]
    if hours:
        measured = cases.c.handling_hours
        columns += [
            func.coalesce(func.sum(measured), 0.0).label("hours_total"),
            func.count(measured).label("hours_cases"),
        ]
    stmt = select(*columns).select_from(cases).where(cohort, key.is_not(None)).group_by(key)
    return {row.key: {k: v for k, v in row._asdict().items() if k != "key"} for row in db.session.execute(stmt)}


def _count(condition):
    return func.sum(case((condition, 1), else_=0))


def _handling_hours(grouping_for, period, now):
    """Mean working hours dispatch → resolve per key, to 0.01 h: one query, measured in Python over the
    submit, dispatch and resolve events.
    """
    cases = _cases(period, now, ("submit", "dispatch", "resolve"))
    key, cohort = grouping_for(cases)
    stmt = (
        select(key, cases.c.dispatched_at, cases.c.resolved_at)
        .select_from(cases)
        .where(cohort, cases.c.resolved_at.is_not(None), cases.c.dispatched_at.is_not(None))
    )
    spans = db.session.execute(stmt).all()
    if not spans:
        return {}
    line = WorkingLine(work_calendar(), _span(period, now)[0].astimezone(registry.current().zone).date())
    hours = {}
    for group, dispatched_at, resolved_at in spans:
        hours.setdefault(group, []).append(line.hours(dispatched_at, resolved_at))
    return {group: round(fmean(values), 2) for group, values in hours.items()}


def _overdue_now(key, now, join=None):
    """Open cases past their deadline now, per ``key`` (a Report column, or a column of ``join``)."""
    stmt = (
        select(key, func.count()).select_from(Report).where(Report.status.in_(CLOCK_RUNNING), Report.deadline_at < now)
    )
    if join is not None:
        stmt = stmt.join(join, join.id == Report.unit_id)
    return dict(db.session.execute(stmt.group_by(key)).all())


def _area_names(level):
    """Code → name of every area of ``level``; grid cells are named after their community."""
    if level == "district":
        return dict(db.session.execute(select(District.code, District.name)).all())
    if level == "street":
        return dict(db.session.execute(select(Street.code, Street.name)).all())
    if level == "community":
        return dict(db.session.execute(select(Community.code, Community.name)).all())
    rows = db.session.execute(select(GridCellArea.code, Community.name).join(Community)).all()
    return {code: f"{community}{code[-3:]}号网格" for code, community in rows}


def _case_table(kind, period, names, figures, overdue, counts, state):
    """Rows for units or areas, ranked by the documented score and carded against the previous period.

    ``figures`` is (this period, previous period), each key → counts; ``counts`` names the row's count
    fields (``_UNIT_COUNTS`` or ``_AREA_COUNTS``). Areas measure closure and eligibility against
    ``accepted``, units against ``received``.
    """
    cfg = registry.settings()
    current, previous = figures
    basis = "accepted" if "accepted" in counts else "received"

    def eligible(counted):
        return counted.get(basis, 0) >= cfg.STATS_MIN_CASES and counted.get("due", 0) > 0

    rows = [
        _case_row(code, names[code], current.get(code, {}), previous.get(code, {}), overdue.get(code, 0), counts, basis)
        for code in names
    ]
    ranked = _rank(
        rows,
        lambda r: eligible(current.get(r["code"], {})),
        lambda r: (r["on_time_rate"], r["closure_rate"], r["satisfaction_rate"]),
    )
    for row in ranked:
        earlier = row["previous_on_time_rate"] if eligible(previous.get(row["code"], {})) else None
        row["card"] = _card(row["on_time_rate"], earlier, cfg.YELLOW_CARD_RATE, cfg.RED_CARD_RATE)
    return _table(kind, period, rows, ranked, state)


def _case_row(code, name, figures, before, overdue_now, counts, basis):
    """One unit's or area's row from its counts this period (``figures``) and last (``before``)."""
    count = {key: figures.get(key, 0) for key in counts}
    return {
        "code": code,
        "name": name,
        **count,
        "closure_rate": _rate(count["closed"], count[basis]),
        "on_time_rate": _rate(count["on_time"], count["due"]),
        "rework_rate": _rate(count["reworked"], count["resolved"]),
        "avg_handling_hours": figures.get("avg_handling_hours"),
        "satisfaction_rate": _rate(count["satisfied"], count["rated"]),
        "overdue_now": overdue_now,
        "previous_on_time_rate": _rate(before.get("on_time", 0), before.get("due", 0)),
        "rank": None,
        "card": None,
    }


def _rate(part, whole):
    """``part / whole`` to four places; None when ``whole`` is 0."""
    return round(part / whole, 4) if whole else None


def _rank(rows, eligible, score):
    """Set ``rank`` on the eligible rows (best first, ties share a rank) and return them in order.

    ``score`` returns a tuple compared element by element, higher is better; ``None`` sorts lowest.
    """

    def key(row):
        return tuple(-1 if value is None else value for value in score(row))

    ranked = sorted((r for r in rows if eligible(r)), key=lambda r: r["code"])
    ranked.sort(key=key, reverse=True)
    for position, row in enumerate(ranked):
        tied = position and key(ranked[position - 1]) == key(row)
        row["rank"] = ranked[position - 1]["rank"] if tied else position + 1
    return ranked


def _card(rate, previous_rate, yellow, red):
    """ "red", "yellow" or None for a ranked row (``previous_rate`` None: not ranked last period)."""
    if rate < red or (rate < yellow and previous_rate is not None and previous_rate < yellow):
        return "red"
    return "yellow" if rate < yellow else None


def _table(kind, period, rows, ranked, state):
    """Rows ordered ranked first (by rank), then unranked by code; 红榜 and 黑榜 from ``ranked``."""
    size = min(registry.settings().STATS_RANK_SIZE, len(ranked) // 2)
    unranked = sorted((r for r in rows if r["rank"] is None), key=lambda r: r["code"])
    return Table(
        kind,
        period,
        ranked + unranked,
        [_entry(r) for r in ranked[:size]],
        [_entry(r) for r in ranked[::-1][:size]],
        state,
    )


def _entry(row):
    return {"rank": row["rank"], "code": row["code"], "name": row["name"]}
