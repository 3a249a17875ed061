"""reporter notices: opt-in channels, unread updates, short receipt codes

Revision ID: a5b6c7d8e9f0
Revises: f4a5b6c7d8e9
Create Date: 2026-12-07 07:05:00

Issue 23's reporter notices and receipt codes: ``receipt_code`` (the 8-character code of an
anonymous report, stored as a scrypt hash) and ``notice_subscription`` (a reporter who asked to
be told by e-mail or SMS, until opted out). The phone page's unread badge reads the timeline and
needs no table.
"""

import frozen_types
import sqlalchemy as sa
from alembic import op

revision = "a5b6c7d8e9f0"
down_revision = "f4a5b6c7d8e9"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "receipt_code",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"], name=op.f("fk_receipt_code_report_id_report")),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_receipt_code")),
    )
    op.create_table(
        "notice_subscription",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=128), nullable=False),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("opted_out_at", frozen_types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"], name=op.f("fk_notice_subscription_report_id_report")),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_notice_subscription")),
    )


def downgrade():
    op.drop_table("notice_subscription")
    op.drop_table("receipt_code")
