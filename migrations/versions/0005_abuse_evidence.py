"""abuse and evidence: block list, device id, photo age and evidence flags, anonymisation mark

Revision ID: 3e8b61d0c4f7
Revises: 7c1e5d2a9b40
Create Date: 2026-12-02 01:14:01

"""

import frozen_types
import sqlalchemy as sa
from alembic import op

revision = "3e8b61d0c4f7"
down_revision = "7c1e5d2a9b40"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "abuse_block",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", frozen_types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["user_account.id"], name=op.f("fk_abuse_block_created_by_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_abuse_block")),
        sa.UniqueConstraint("kind", "value", name="uq_abuse_block_kind_value"),
    )
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("photo_age_s", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("evidence_flags", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("evidence_flagged", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("device_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("reporter_anonymised_at", frozen_types.UTCDateTime(), nullable=True))
    # Cases already flagged for a distant photo keep that flag under the new name.
    report = sa.table(
        "report",
        sa.column("location_flagged", sa.Boolean()),
        sa.column("evidence_flagged", sa.Boolean()),
        sa.column("evidence_flags", sa.JSON()),
    )
    op.execute(
        report.update()
        .where(report.c.location_flagged.is_(True))
        .values(evidence_flagged=True, evidence_flags=["photo_far"])
    )


def downgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_column("reporter_anonymised_at")
        batch_op.drop_column("device_id")
        batch_op.drop_column("evidence_flagged")
        batch_op.drop_column("evidence_flags")
        batch_op.drop_column("photo_age_s")
    op.drop_table("abuse_block")
