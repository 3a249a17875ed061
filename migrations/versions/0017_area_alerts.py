"""area alerts: subscriptions to an area, double opt-in

Revision ID: f4a5b6c7d8e9
Revises: e3f4a5b6c7d8
Create Date: 2026-12-07 07:05:00

The table of ``civicreport.alerts`` (issue 23): an e-mail address following a community, a street
or a circle around a point, its hashed token (confirm and unsubscribe), when it was confirmed,
unsubscribed and last sent a digest.
"""

import frozen_types
import sqlalchemy as sa
from alembic import op

revision = "f4a5b6c7d8e9"
down_revision = "e3f4a5b6c7d8"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "area_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("area_kind", sa.String(length=16), nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("radius_m", sa.Float(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("unsubscribed_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("last_sent_at", frozen_types.UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "area_kind IN ('community', 'street', 'circle')", name=op.f("ck_area_subscription_area_kind")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_area_subscription")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_area_subscription_token_hash")),
    )
    with op.batch_alter_table("area_subscription", schema=None) as batch_op:
        batch_op.create_index(
            "ix_area_subscription_due", ["confirmed_at", "unsubscribed_at", "last_sent_at"], unique=False
        )
        batch_op.create_index("ix_area_subscription_email", ["email"], unique=False)


def downgrade():
    with op.batch_alter_table("area_subscription", schema=None) as batch_op:
        batch_op.drop_index("ix_area_subscription_email")
        batch_op.drop_index("ix_area_subscription_due")
    op.drop_table("area_subscription")
