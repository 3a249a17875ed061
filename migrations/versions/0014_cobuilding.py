"""co-building: partners, leaders, teams, meetings and 实事清单, monthly tasks and declarations, cards,
needs orders, settled rankings

Revision ID: c0b1d2e3f4a5
Revises: 9a7c2e4f6b18
Create Date: 2026-12-07 06:30:00

The tables of ``civicreport.cobuilding`` (issue 21). ``media.subject`` marks a photo the co-building
layer took, so no report can take it as well; ``user_account.team_id`` binds a volunteer to a team.
"""

import frozen_types
import sqlalchemy as sa
from alembic import op

revision = "c0b1d2e3f4a5"
down_revision = "9a7c2e4f6b18"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "cobuild_card_month",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("judged_at", frozen_types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_cobuild_card_month")),
    )
    op.create_table(
        "cobuild_ranking_month",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.Column("settled_at", frozen_types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_cobuild_ranking_month")),
    )
    op.create_table(
        "cobuild_partnership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_code"], ["community.code"], name=op.f("fk_cobuild_partnership_community_code_community")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_cobuild_partnership_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cobuild_partnership")),
    )
    with op.batch_alter_table("cobuild_partnership", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cobuild_partnership_community_code_starts_on", ["community_code", "starts_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cobuild_partnership_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "cobuild_ranking",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("case_part", sa.Float(), nullable=True),
        sa.Column("task_part", sa.Float(), nullable=True),
        sa.Column("matter_part", sa.Float(), nullable=True),
        sa.Column("order_part", sa.Float(), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("flag", sa.String(length=8), nullable=True),
        sa.Column("card", sa.String(length=8), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_code"], ["community.code"], name=op.f("fk_cobuild_ranking_community_code_community")
        ),
        sa.ForeignKeyConstraint(
            ["month"], ["cobuild_ranking_month.month"], name=op.f("fk_cobuild_ranking_month_cobuild_ranking_month")
        ),
        sa.PrimaryKeyConstraint("month", "community_code", name=op.f("pk_cobuild_ranking")),
    )
    op.create_table(
        "volunteer_team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("contact_phone", sa.String(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_code"], ["community.code"], name=op.f("fk_volunteer_team_community_code_community")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_volunteer_team_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_team")),
        sa.UniqueConstraint("name", name=op.f("uq_volunteer_team_name")),
    )
    with op.batch_alter_table("volunteer_team", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_volunteer_team_community_code"), ["community_code"], unique=False)

    op.create_table(
        "cobuild_leader_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_cobuild_leader_link_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cobuild_leader_link")),
    )
    with op.batch_alter_table("cobuild_leader_link", schema=None) as batch_op:
        batch_op.create_index("ix_cobuild_leader_link_area_code", ["area_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_cobuild_leader_link_user_id"), ["user_id"], unique=False)

    op.create_table(
        "cobuild_meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("minutes", sa.Text(), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_code"], ["community.code"], name=op.f("fk_cobuild_meeting_community_code_community")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["user_account.id"], name=op.f("fk_cobuild_meeting_created_by_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cobuild_meeting")),
    )
    with op.batch_alter_table("cobuild_meeting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cobuild_meeting_community_code"), ["community_code"], unique=False)

    op.create_table(
        "cobuild_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("indicator", sa.String(length=32), nullable=True),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("due_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("all_communities", sa.Boolean(), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["user_account.id"], name=op.f("fk_cobuild_task_created_by_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cobuild_task")),
    )
    with op.batch_alter_table("cobuild_task", schema=None) as batch_op:
        batch_op.create_index("ix_cobuild_task_month", ["month"], unique=False)

    op.create_table(
        "need_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("contact", sa.String(length=128), nullable=True),
        sa.Column("receipt_token_hash", sa.String(length=64), nullable=True),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("deadline_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("warning_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("warning_notified", sa.Boolean(), nullable=False),
        sa.Column("overdue_notified", sa.Boolean(), nullable=False),
        sa.Column("dispatched_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("accepted_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("completed_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("service_hours", sa.Float(), nullable=True),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=True),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_code"], ["community.code"], name=op.f("fk_need_order_community_code_community")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["user_account.id"], name=op.f("fk_need_order_created_by_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(["team_id"], ["volunteer_team.id"], name=op.f("fk_need_order_team_id_volunteer_team")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_need_order_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_need_order")),
        sa.UniqueConstraint("public_id", name=op.f("uq_need_order_public_id")),
        sa.UniqueConstraint("receipt_token_hash", name=op.f("uq_need_order_receipt_token_hash")),
    )
    with op.batch_alter_table("need_order", schema=None) as batch_op:
        batch_op.create_index("ix_need_order_community_code_created_at", ["community_code", "created_at"], unique=False)
        batch_op.create_index("ix_need_order_team_id_status", ["team_id", "status"], unique=False)

    op.create_table(
        "cobuild_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("color", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_code"], ["community.code"], name=op.f("fk_cobuild_card_community_code_community")
        ),
        sa.ForeignKeyConstraint(["task_id"], ["cobuild_task.id"], name=op.f("fk_cobuild_card_task_id_cobuild_task")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cobuild_card")),
    )
    with op.batch_alter_table("cobuild_card", schema=None) as batch_op:
        batch_op.create_index("ix_cobuild_card_month_community_code", ["month", "community_code"], unique=False)

    op.create_table(
        "cobuild_declaration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("submitted_by_user_id", sa.Integer(), nullable=True),
        sa.Column("first_submitted_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("submitted_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("returns", sa.Integer(), nullable=False),
        sa.Column("resubmit_due_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("reviewed_by_user_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("evidence_flags", sa.JSON(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_code"], ["community.code"], name=op.f("fk_cobuild_declaration_community_code_community")
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_cobuild_declaration_reviewed_by_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_cobuild_declaration_submitted_by_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["cobuild_task.id"], name=op.f("fk_cobuild_declaration_task_id_cobuild_task")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cobuild_declaration")),
        sa.UniqueConstraint("task_id", "community_code", name="uq_cobuild_declaration_task_id_community"),
    )
    with op.batch_alter_table("cobuild_declaration", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cobuild_declaration_community_code"), ["community_code"], unique=False)

    op.create_table(
        "cobuild_matter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("done_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_code"], ["community.code"], name=op.f("fk_cobuild_matter_community_code_community")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["user_account.id"], name=op.f("fk_cobuild_matter_created_by_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["cobuild_meeting.id"], name=op.f("fk_cobuild_matter_meeting_id_cobuild_meeting")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_cobuild_matter_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cobuild_matter")),
    )
    with op.batch_alter_table("cobuild_matter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cobuild_matter_community_code"), ["community_code"], unique=False)
        batch_op.create_index("ix_cobuild_matter_unit_id_status", ["unit_id", "status"], unique=False)

    op.create_table(
        "cobuild_meeting_attendee",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["cobuild_meeting.id"],
            name=op.f("fk_cobuild_meeting_attendee_meeting_id_cobuild_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_cobuild_meeting_attendee_unit_id_unit")),
        sa.PrimaryKeyConstraint("meeting_id", "unit_id", name=op.f("pk_cobuild_meeting_attendee")),
    )
    op.create_table(
        "cobuild_task_community",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_code"], ["community.code"], name=op.f("fk_cobuild_task_community_community_code_community")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["cobuild_task.id"],
            name=op.f("fk_cobuild_task_community_task_id_cobuild_task"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", "community_code", name=op.f("pk_cobuild_task_community")),
    )
    op.create_table(
        "need_order_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["user_account.id"], name=op.f("fk_need_order_event_actor_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["need_order.id"], name=op.f("fk_need_order_event_order_id_need_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_need_order_event")),
    )
    with op.batch_alter_table("need_order_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_need_order_event_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_need_order_event_order_id"), ["order_id"], unique=False)

    op.create_table(
        "cobuild_declaration_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("declaration_id", sa.Integer(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["user_account.id"], name=op.f("fk_cobuild_declaration_event_actor_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["cobuild_declaration.id"],
            name=op.f("fk_cobuild_declaration_event_declaration_id_cobuild_declaration"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cobuild_declaration_event")),
    )
    with op.batch_alter_table("cobuild_declaration_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cobuild_declaration_event_declaration_id"), ["declaration_id"], unique=False
        )

    op.create_table(
        "cobuild_matter_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("matter_id", sa.Integer(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["user_account.id"], name=op.f("fk_cobuild_matter_note_actor_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["matter_id"], ["cobuild_matter.id"], name=op.f("fk_cobuild_matter_note_matter_id_cobuild_matter")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cobuild_matter_note")),
    )
    with op.batch_alter_table("cobuild_matter_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cobuild_matter_note_matter_id"), ["matter_id"], unique=False)

    op.create_table(
        "cobuild_photo",
        sa.Column("media_id", sa.String(length=32), nullable=False),
        sa.Column("declaration_event_id", sa.Integer(), nullable=True),
        sa.Column("matter_note_id", sa.Integer(), nullable=True),
        sa.Column("order_event_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint(
            "(CASE WHEN declaration_event_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN matter_note_id IS NULL "
            "THEN 0 ELSE 1 END) + (CASE WHEN order_event_id IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_cobuild_photo_one_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["declaration_event_id"],
            ["cobuild_declaration_event.id"],
            name=op.f("fk_cobuild_photo_declaration_event_id_cobuild_declaration_event"),
        ),
        sa.ForeignKeyConstraint(
            ["matter_note_id"],
            ["cobuild_matter_note.id"],
            name=op.f("fk_cobuild_photo_matter_note_id_cobuild_matter_note"),
        ),
        sa.ForeignKeyConstraint(["media_id"], ["media.id"], name=op.f("fk_cobuild_photo_media_id_media")),
        sa.ForeignKeyConstraint(
            ["order_event_id"], ["need_order_event.id"], name=op.f("fk_cobuild_photo_order_event_id_need_order_event")
        ),
        sa.PrimaryKeyConstraint("media_id", name=op.f("pk_cobuild_photo")),
    )
    with op.batch_alter_table("cobuild_photo", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cobuild_photo_declaration_event_id"), ["declaration_event_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cobuild_photo_matter_note_id"), ["matter_note_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cobuild_photo_order_event_id"), ["order_event_id"], unique=False)

    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(length=16), nullable=True))

    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_user_account_team_id"), ["team_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_user_account_team_id_volunteer_team"), "volunteer_team", ["team_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_user_account_team_id_volunteer_team"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_user_account_team_id"))
        batch_op.drop_column("team_id")

    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_column("subject")

    with op.batch_alter_table("cobuild_photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cobuild_photo_order_event_id"))
        batch_op.drop_index(batch_op.f("ix_cobuild_photo_matter_note_id"))
        batch_op.drop_index(batch_op.f("ix_cobuild_photo_declaration_event_id"))

    op.drop_table("cobuild_photo")
    with op.batch_alter_table("cobuild_matter_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cobuild_matter_note_matter_id"))

    op.drop_table("cobuild_matter_note")
    with op.batch_alter_table("cobuild_declaration_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cobuild_declaration_event_declaration_id"))

    op.drop_table("cobuild_declaration_event")
    with op.batch_alter_table("need_order_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_need_order_event_order_id"))
        batch_op.drop_index(batch_op.f("ix_need_order_event_created_at"))

    op.drop_table("need_order_event")
    op.drop_table("cobuild_task_community")
    op.drop_table("cobuild_meeting_attendee")
    with op.batch_alter_table("cobuild_matter", schema=None) as batch_op:
        batch_op.drop_index("ix_cobuild_matter_unit_id_status")
        batch_op.drop_index(batch_op.f("ix_cobuild_matter_community_code"))

    op.drop_table("cobuild_matter")
    with op.batch_alter_table("cobuild_declaration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cobuild_declaration_community_code"))

    op.drop_table("cobuild_declaration")
    with op.batch_alter_table("cobuild_card", schema=None) as batch_op:
        batch_op.drop_index("ix_cobuild_card_month_community_code")

    op.drop_table("cobuild_card")
    with op.batch_alter_table("need_order", schema=None) as batch_op:
        batch_op.drop_index("ix_need_order_team_id_status")
        batch_op.drop_index("ix_need_order_community_code_created_at")

    op.drop_table("need_order")
    with op.batch_alter_table("cobuild_task", schema=None) as batch_op:
        batch_op.drop_index("ix_cobuild_task_month")

    op.drop_table("cobuild_task")
    with op.batch_alter_table("cobuild_meeting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cobuild_meeting_community_code"))

    op.drop_table("cobuild_meeting")
    with op.batch_alter_table("cobuild_leader_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cobuild_leader_link_user_id"))
        batch_op.drop_index("ix_cobuild_leader_link_area_code")

    op.drop_table("cobuild_leader_link")
    with op.batch_alter_table("volunteer_team", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_volunteer_team_community_code"))

    op.drop_table("volunteer_team")
    op.drop_table("cobuild_ranking")
    with op.batch_alter_table("cobuild_partnership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cobuild_partnership_unit_id"))
        batch_op.drop_index("ix_cobuild_partnership_community_code_starts_on")

    op.drop_table("cobuild_partnership")
    op.drop_table("cobuild_ranking_month")
    op.drop_table("cobuild_card_month")
