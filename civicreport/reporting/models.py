"""Settled months of the statistics, kept per case so a closed month is read, not recomputed.

Rows are a cache of what the timeline says: ``report_event`` is append-only and its events are
stamped when they happen, so once a month has ended (and settled, see ``reporting.stats``) its
per-case aggregates never change. Deadline and area are taken from the report when the month
settles, so the published figures of a month stay as published. Deleting the three tables is always
safe; the settling job (``flask settle``) rebuilds them.
"""

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from civicreport.db_types import UTCDateTime, utcnow
from civicreport.extensions import db


class StatsMonth(db.Model):
    """A month being settled or settled: its per-case rows are in ``stats_case_month`` and, once
    ``finished_at`` is set, its figures per unit, area and monitor in ``stats_group_month``.

    Settling goes in chunks of cases in report id order, each committed with ``done_through`` (the
    last report id stored), so a settler that dies is resumed after its ``lease_until`` has passed.
    """

    __tablename__ = "stats_month"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)
    settled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # settling began
    done_through: Mapped[int] = mapped_column(BigInteger, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class _CaseColumns:
    """What a case row holds: what its events inside the month say (the columns of
    ``stats._per_case``), its deadline and areas, and its working hours from dispatch to resolve."""

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    report_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    submit_id: Mapped[int | None] = mapped_column(BigInteger)
    tagged_unit: Mapped[str | None] = mapped_column(String(80))
    monitor_id: Mapped[int | None] = mapped_column(Integer)
    dispatch_id: Mapped[int | None] = mapped_column(BigInteger)
    claim_id: Mapped[int | None] = mapped_column(BigInteger)
    accepted: Mapped[int] = mapped_column(SmallInteger)
    merged: Mapped[int] = mapped_column(SmallInteger)
    rejected: Mapped[int] = mapped_column(SmallInteger)
    closed: Mapped[int] = mapped_column(SmallInteger)
    reworked: Mapped[int] = mapped_column(SmallInteger)
    suspended: Mapped[int] = mapped_column(Integer)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    street_code: Mapped[str | None] = mapped_column(String(32))
    community_code: Mapped[str | None] = mapped_column(String(32))
    grid_code: Mapped[str | None] = mapped_column(String(32))
    district_code: Mapped[str | None] = mapped_column(String(32))
    handling_hours: Mapped[float | None] = mapped_column(Float)


class StatsCaseMonth(_CaseColumns, db.Model):
    """One case of one settled month, with its deadline and area when the month settled."""

    __tablename__ = "stats_case_month"


class StatsCaseLive(_CaseColumns, db.Model):
    """One case of the month in progress as of ``StatsLiveMonth.as_of``: kept up to date by the
    settling job, which recomputes only the cases with events since its last pass."""

    __tablename__ = "stats_case_live"


class StatsLiveMonth(db.Model):
    """The month in progress whose case rows are in ``stats_case_live``, and the instant they count to."""

    __tablename__ = "stats_live_month"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    cases: Mapped[int] = mapped_column(Integer, default=0)


class StatsGroupMonth(db.Model):
    """The figures of one unit, area or monitor in one settled month: the numerators and
    denominators of every rate (``reporting.stats`` defines them), summed from the month's
    ``stats_case_month`` rows when it finished settling, so a table is a read of a few hundred rows.

    ``kind`` is ``unit``, ``district``, ``street``, ``community``, ``grid`` or ``monitor`` (``code``
    then holds the user id). Working hours are kept as their total and the number of cases measured.
    """

    __tablename__ = "stats_group_month"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    code: Mapped[str] = mapped_column(String(80), primary_key=True)
    received: Mapped[int] = mapped_column(Integer, default=0)
    claimed: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    dispatched: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    suspended: Mapped[int] = mapped_column(Integer, default=0)
    due: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    reworked: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    hours_total: Mapped[float] = mapped_column(Float, default=0.0)
    hours_cases: Mapped[int] = mapped_column(Integer, default=0)
    filed: Mapped[int] = mapped_column(Integer, default=0)
    valid: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
