"""privacy pass: media awaiting face/plate detection in the worker (PRIVACY_MODE=worker)

Revision ID: 5b2f9c81e4a6
Revises: 3e8b61d0c4f7
Create Date: 2026-12-02 01:55:32

"""

import sqlalchemy as sa
from alembic import op

revision = "5b2f9c81e4a6"
down_revision = "3e8b61d0c4f7"
branch_labels = None
depends_on = None


def upgrade():
    # Existing photos were checked while they were uploaded: they count as done.
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.add_column(sa.Column("privacy_pending", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index(
        "ix_media_privacy_pending",
        "media",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("privacy_pending"),
        sqlite_where=sa.text("privacy_pending = 1"),
    )


def downgrade():
    op.drop_index("ix_media_privacy_pending", table_name="media")
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_column("privacy_pending")
