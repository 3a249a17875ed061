"""login and receipt throttles; one support per person per case

Revision ID: 9a7c2e4f6b18
Revises: 8f1b3d5e7a92
Create Date: 2026-12-07 02:00:00

``throttle`` counts failed logins and wrong receipt tokens per account and per address in
the database, so every worker process sees the same counts. ``report_support`` holds one
row per supporter of a case: “我也遇到了” counts each person once, and keeps an anonymous
supporter's address (IPv6 by its /64) so that one address adds only a few supports to a case.
"""

import frozen_types
import sqlalchemy as sa
from alembic import op

revision = "9a7c2e4f6b18"
down_revision = "8f1b3d5e7a92"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "throttle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("locked_until", frozen_types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_throttle")),
        sa.UniqueConstraint("scope", "key", name="uq_throttle_scope_key"),
    )
    op.create_table(
        "report_support",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("supporter", sa.String(length=80), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_report_support_report_id_report"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_support")),
        sa.UniqueConstraint("report_id", "supporter", name="uq_report_support_report_id_supporter"),
    )
    op.create_index("ix_report_support_report_id_address", "report_support", ["report_id", "address"])


def downgrade():
    op.drop_index("ix_report_support_report_id_address", table_name="report_support")
    op.drop_table("report_support")
    op.drop_table("throttle")
