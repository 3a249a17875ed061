"""queue: priority, me-too count, photo reuse flag, keyset indexes

Revision ID: 459afc67b5f5
Revises: f34c54278927
Create Date: 2026-11-23 19:53:00.263147

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "459afc67b5f5"
down_revision = "f34c54278927"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("support_count", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("photo_reuse_flagged", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_index(batch_op.f("ix_report_created_at"))
        batch_op.create_index("ix_report_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_report_priority_created_at", ["priority", "created_at"], unique=False)
        batch_op.create_index("ix_report_unit_id_created_at", ["unit_id", "created_at"], unique=False)
    op.execute(
        "UPDATE report SET priority = CASE (SELECT urgency FROM category WHERE category.code = report.category_code)"
        " WHEN 'urgent' THEN 3 WHEN 'pressing' THEN 2 ELSE 1 END"
    )


def downgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index("ix_report_unit_id_created_at")
        batch_op.drop_index("ix_report_priority_created_at")
        batch_op.drop_index("ix_report_created_at_id")
        batch_op.create_index(batch_op.f("ix_report_created_at"), ["created_at"], unique=False)
        batch_op.drop_column("photo_reuse_flagged")
        batch_op.drop_column("support_count")
        batch_op.drop_column("priority")
