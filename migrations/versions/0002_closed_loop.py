"""closed loop: deadlines, counters, unit contact person

Existing reports get zero counters and no deadline, so nothing stored is lost.

Revision ID: f34c54278927
Revises: ccd370923c12
Create Date: 2026-11-23 19:37:23.495021

"""

import frozen_types
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f34c54278927"
down_revision = "ccd370923c12"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dispatched_at", frozen_types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("allowed_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("warning_at", frozen_types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("suspended_at", frozen_types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("resume_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("extension_request_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("warning_notified", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("overdue_notified", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("return_count", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("escalation_count", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("resolved_at", frozen_types.UTCDateTime(), nullable=True))

    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_person", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_column("contact_person")

    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("escalation_count")
        batch_op.drop_column("return_count")
        batch_op.drop_column("overdue_notified")
        batch_op.drop_column("warning_notified")
        batch_op.drop_column("extension_request_minutes")
        batch_op.drop_column("resume_status")
        batch_op.drop_column("suspended_at")
        batch_op.drop_column("warning_at")
        batch_op.drop_column("allowed_minutes")
        batch_op.drop_column("dispatched_at")
