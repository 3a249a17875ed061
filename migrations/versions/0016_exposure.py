"""exposure: 曝光台 and 光荣榜 publications, the reviews before them and their events; report.kind

Revision ID: e3f4a5b6c7d8
Revises: d1e2f3a4b5c6
Create Date: 2026-12-07 07:05:00

The tables of ``civicreport.exposure`` (issue 23) and the report's kind: ``problem`` (every
existing report) or ``praise`` (文明点赞, filed from the phone page, never dispatched).
"""

import frozen_types
import sqlalchemy as sa
from alembic import op

revision = "e3f4a5b6c7d8"
down_revision = "d1e2f3a4b5c6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "exposure_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"], name=op.f("fk_exposure_review_report_id_report")),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_exposure_review_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exposure_review")),
    )
    with op.batch_alter_table("exposure_review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exposure_review_report_id"), ["report_id"], unique=False)

    op.create_table(
        "exposure_publication",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("published_by_user_id", sa.Integer(), nullable=False),
        sa.Column("published_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("withdrawn_by_user_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("withdrawn_note", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["published_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_exposure_publication_published_by_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"], name=op.f("fk_exposure_publication_report_id_report")),
        sa.ForeignKeyConstraint(
            ["review_id"], ["exposure_review.id"], name=op.f("fk_exposure_publication_review_id_exposure_review")
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_exposure_publication_withdrawn_by_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exposure_publication")),
    )
    with op.batch_alter_table("exposure_publication", schema=None) as batch_op:
        batch_op.create_index("ix_exposure_publication_kind_published_at", ["kind", "published_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_exposure_publication_report_id"), ["report_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_exposure_publication_withdrawn_at"), ["withdrawn_at"], unique=False)

    op.create_table(
        "exposure_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["user_account.id"], name=op.f("fk_exposure_event_actor_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["exposure_publication.id"],
            name=op.f("fk_exposure_event_publication_id_exposure_publication"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exposure_event")),
    )
    with op.batch_alter_table("exposure_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exposure_event_publication_id"), ["publication_id"], unique=False)

    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=8), server_default="problem", nullable=False))


def downgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_column("kind")
    with op.batch_alter_table("exposure_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exposure_event_publication_id"))
    op.drop_table("exposure_event")
    with op.batch_alter_table("exposure_publication", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exposure_publication_withdrawn_at"))
        batch_op.drop_index(batch_op.f("ix_exposure_publication_report_id"))
        batch_op.drop_index("ix_exposure_publication_kind_published_at")
    op.drop_table("exposure_publication")
    with op.batch_alter_table("exposure_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exposure_review_report_id"))
    op.drop_table("exposure_review")
