"""stats: figures per unit, area and monitor of settled months; settling in resumable chunks

Revision ID: 5e771ed0f19a
Revises: a5b6c7d8e9f0
Create Date: 2026-12-07 12:20:00

Issue 25: ``stats_group_month`` holds each settled month's numerators and denominators per
unit, district, street, community, grid cell and monitor; ``stats_month`` records how far a
month's settling got (``done_through``, ``lease_until``) and when it finished;
``stats_case_month`` also keeps the district; ``stats_case_live`` and ``stats_live_month`` keep
the case rows of the month in progress, refreshed by the settling job. Months stored before this revision have no
figures rows, so they are dropped here (the tables are a cache of the timeline) and settled
again by ``flask settle``.
"""

import frozen_types
import sqlalchemy as sa
from alembic import op

revision = "5e771ed0f19a"
down_revision = "a5b6c7d8e9f0"
branch_labels = None
depends_on = None

COUNTS = (
    "received",
    "claimed",
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
MONITOR_COUNTS = ("filed", "valid", "rejected", "duplicate")


def case_columns():
    """The columns of a case row (as stats_case_month has them since this revision)."""
    return [
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("report_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("submit_id", sa.BigInteger(), nullable=True),
        sa.Column("tagged_unit", sa.String(length=80), nullable=True),
        sa.Column("monitor_id", sa.Integer(), nullable=True),
        sa.Column("dispatch_id", sa.BigInteger(), nullable=True),
        sa.Column("claim_id", sa.BigInteger(), nullable=True),
        sa.Column("accepted", sa.SmallInteger(), nullable=False),
        sa.Column("merged", sa.SmallInteger(), nullable=False),
        sa.Column("rejected", sa.SmallInteger(), nullable=False),
        sa.Column("closed", sa.SmallInteger(), nullable=False),
        sa.Column("reworked", sa.SmallInteger(), nullable=False),
        sa.Column("suspended", sa.Integer(), nullable=False),
        sa.Column("dispatched_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("resolved_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("deadline_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("street_code", sa.String(length=32), nullable=True),
        sa.Column("community_code", sa.String(length=32), nullable=True),
        sa.Column("grid_code", sa.String(length=32), nullable=True),
        sa.Column("district_code", sa.String(length=32), nullable=True),
        sa.Column("handling_hours", sa.Float(), nullable=True),
    ]


def upgrade():
    op.execute("DELETE FROM stats_case_month")
    op.execute("DELETE FROM stats_month")
    with op.batch_alter_table("stats_month") as batch:
        batch.add_column(sa.Column("done_through", sa.BigInteger(), nullable=False))
        batch.add_column(sa.Column("lease_until", frozen_types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("finished_at", frozen_types.UTCDateTime(), nullable=True))
    with op.batch_alter_table("stats_case_month") as batch:
        batch.add_column(sa.Column("district_code", sa.String(length=32), nullable=True))
    op.create_table(
        "stats_group_month",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.Column("hours_total", sa.Float(), nullable=False),
        sa.Column("hours_cases", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in MONITOR_COUNTS),
        sa.PrimaryKeyConstraint("month", "kind", "code", name=op.f("pk_stats_group_month")),
    )
    op.create_table(
        "stats_case_live",
        *case_columns(),
        sa.PrimaryKeyConstraint("month", "report_id", name=op.f("pk_stats_case_live")),
    )
    op.create_table(
        "stats_live_month",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("as_of", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_stats_live_month")),
    )


def downgrade():
    op.drop_table("stats_live_month")
    op.drop_table("stats_case_live")
    op.drop_table("stats_group_month")
    with op.batch_alter_table("stats_case_month") as batch:
        batch.drop_column("district_code")
    with op.batch_alter_table("stats_month") as batch:
        batch.drop_column("finished_at")
        batch.drop_column("lease_until")
        batch.drop_column("done_through")
