"""area alerts: subscriptions to an area, double opt-in

Revision ID: f4a5b6c7d8e9
Revises: e3f4a5b6c7d8
Create Date: 2026-12-07 07:05:00

Reserved for issue 23's area alerts (engineer M); filled in by its engineer.
"""

revision = "f4a5b6c7d8e9"
down_revision = "e3f4a5b6c7d8"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
