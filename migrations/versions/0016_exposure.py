"""exposure: 曝光台 and 光荣榜 publications

Revision ID: e3f4a5b6c7d8
Revises: d1e2f3a4b5c6
Create Date: 2026-12-07 07:05:00

Reserved for issue 23's 曝光台/光荣榜 (engineer X); filled in by its engineer.
"""

revision = "e3f4a5b6c7d8"
down_revision = "d1e2f3a4b5c6"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
