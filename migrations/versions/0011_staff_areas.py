"""staff areas: a user may patrol several streets, communities or grid cells

Revision ID: 6e2a9c41d7b3
Revises: 5b9c3e7d21f4
Create Date: 2026-12-07 02:00:00

``user_account.patrol_area_code`` held one area and only the queue read it. Areas now
live in ``user_area`` (one row per code) and bound every private read and change of a
case; the single code of each user carries over.
"""

import sqlalchemy as sa
from alembic import op

revision = "6e2a9c41d7b3"
down_revision = "5b9c3e7d21f4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_area",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=15), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "code"),
    )
    op.execute(
        "INSERT INTO user_area (user_id, code) SELECT id, patrol_area_code FROM user_account "
        "WHERE patrol_area_code IS NOT NULL AND patrol_area_code <> ''"
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("patrol_area_code")


def downgrade():
    """Keeps one area per user (the lowest code): the old column held only one."""
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("patrol_area_code", sa.String(length=15), nullable=True))
    op.execute(
        "UPDATE user_account SET patrol_area_code = "
        "(SELECT min(code) FROM user_area WHERE user_area.user_id = user_account.id)"
    )
    op.drop_table("user_area")
