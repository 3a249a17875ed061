"""Open311 client keys: per client, revocable, with a jurisdiction

Revision ID: 8f1b3d5e7a92
Revises: 6e2a9c41d7b3
Create Date: 2026-12-07 02:00:00

Open311's ``api_key`` travels in URLs, so it gets its own keys instead of bearer tokens.
Existing Open311 accounts need a key from ``flask open311-key create``; their reports keep
their reporter, new ones name the client in ``report.open311_client_id``.
"""

import frozen_types
import sqlalchemy as sa
from alembic import op

revision = "8f1b3d5e7a92"
down_revision = "6e2a9c41d7b3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "open311_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("jurisdiction", sa.String(length=32), nullable=False),
        sa.Column("rate_limit", sa.String(length=128), nullable=True),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("last_used_at", frozen_types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_client")),
        sa.UniqueConstraint("name", name=op.f("uq_open311_client_name")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_open311_client_key_hash")),
    )
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("open311_client_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_report_open311_client_id_open311_client"), "open311_client", ["open311_client_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_report_open311_client_id_open311_client"), type_="foreignkey")
        batch_op.drop_column("open311_client_id")
    op.drop_table("open311_client")
