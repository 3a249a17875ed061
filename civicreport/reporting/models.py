"""Settled months of the statistics, kept per case so a closed month is read, not recomputed.

Rows are a cache of what the timeline says: ``report_event`` is append-only and its events are
stamped when they happen, so once a month has ended (and settled, see ``reporting.stats``) its
per-case aggregates never change. Deadline and area are taken from the report when the month
settles, so the published figures of a month stay as published. Deleting both tables is always
safe; they are rebuilt on demand.
"""

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from civicreport.db_types import UTCDateTime, utcnow
from civicreport.extensions import db


class StatsMonth(db.Model):
    """A month whose per-case rows are in ``stats_case_month``."""

    __tablename__ = "stats_month"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)
    settled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StatsCaseMonth(db.Model):
    """One case of one month: what its events inside the month say (the columns of ``stats._per_case``),
    its deadline and area when the month settled, and its working hours from dispatch to resolve.
    """

    __tablename__ = "stats_case_month"

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
    handling_hours: Mapped[float | None] = mapped_column(Float)
