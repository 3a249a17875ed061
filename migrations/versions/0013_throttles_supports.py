"""login and receipt throttles; one support per person per case

Revision ID: 9a7c2e4f6b18
Revises: 8f1b3d5e7a92
Create Date: 2026-12-07 02:00:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '9a7c2e4f6b18'
down_revision = '8f1b3d5e7a92'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
