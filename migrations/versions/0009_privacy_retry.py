"""privacy pass: a photo the pass fails on waits before the next try

Revision ID: 2f6d8e1a7c40
Revises: 7c1e5a93d0b8
Create Date: 2026-12-03 09:00:00

Without a wait the pass downloaded a photo whose original is missing or unreadable in
every round (every 5 s) and logged a traceback each time, forever.
"""

import frozen_types
import sqlalchemy as sa
from alembic import op

revision = "2f6d8e1a7c40"
down_revision = "7c1e5a93d0b8"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.add_column(sa.Column("privacy_failures", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("privacy_retry_at", frozen_types.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_column("privacy_retry_at")
        batch_op.drop_column("privacy_failures")
