"""reporter notices: opt-in channels, unread updates, short receipt codes

Revision ID: a5b6c7d8e9f0
Revises: f4a5b6c7d8e9
Create Date: 2026-12-07 07:05:00

Reserved for issue 23's reporter notices and receipt codes (engineer R); filled in by its engineer.
"""

revision = "a5b6c7d8e9f0"
down_revision = "f4a5b6c7d8e9"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
