"""staff areas: a user may patrol several streets, communities or grid cells

Revision ID: 6e2a9c41d7b3
Revises: 5b9c3e7d21f4
Create Date: 2026-12-07 02:00:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '6e2a9c41d7b3'
down_revision = '5b9c3e7d21f4'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
