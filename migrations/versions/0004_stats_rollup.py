"""stats: settled months per case (a cache of the timeline)

Revision ID: 7c1e5d2a9b40
Revises: 459afc67b5f5
Create Date: 2026-12-02 00:57:36

"""

import frozen_types
import sqlalchemy as sa
from alembic import op

revision = "7c1e5d2a9b40"
down_revision = "459afc67b5f5"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stats_month",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("settled_at", frozen_types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_stats_month")),
    )
    op.create_table(
        "stats_case_month",
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
        sa.Column("handling_hours", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("month", "report_id", name=op.f("pk_stats_case_month")),
    )


def downgrade():
    op.drop_table("stats_case_month")
    op.drop_table("stats_month")
