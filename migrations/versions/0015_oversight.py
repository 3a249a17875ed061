"""oversight: whistles and their units' parts, joint operations, listed problems, inspection points,
checklists and inspections

Revision ID: d1e2f3a4b5c6
Revises: c0b1d2e3f4a5
Create Date: 2026-12-07 06:45:00

The tables of ``civicreport.oversight`` (issue 22): 吹哨报到, 联合整治, 挂牌整改 and 点位/暗访.
"""

import frozen_types
import sqlalchemy as sa
from alembic import op

revision = "d1e2f3a4b5c6"
down_revision = "c0b1d2e3f4a5"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "checklist_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_kind", sa.String(length=24), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("category_code", sa.String(length=8), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_code"], ["category.code"], name=op.f("fk_checklist_item_category_code_category")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_item")),
        sa.UniqueConstraint("point_kind", "code", name="uq_checklist_item_point_kind_code"),
    )
    op.create_table(
        "inspection_point",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("every_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_inspected_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_code"], ["community.code"], name=op.f("fk_inspection_point_community_code_community")
        ),
        sa.ForeignKeyConstraint(
            ["grid_code"], ["grid_cell.code"], name=op.f("fk_inspection_point_grid_code_grid_cell")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_inspection_point_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_point")),
    )
    with op.batch_alter_table("inspection_point", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inspection_point_community_code"), ["community_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_inspection_point_kind"), ["kind"], unique=False)

    op.create_table(
        "inspection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("inspector_user_id", sa.Integer(), nullable=False),
        sa.Column("unannounced", sa.Boolean(), nullable=False),
        sa.Column("inspected_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["inspector_user_id"], ["user_account.id"], name=op.f("fk_inspection_inspector_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["point_id"], ["inspection_point.id"], name=op.f("fk_inspection_point_id_inspection_point")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection")),
    )
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.create_index("ix_inspection_point_id_inspected_at", ["point_id", "inspected_at"], unique=False)

    op.create_table(
        "joint_operation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=False),
        sa.Column("place", sa.String(length=128), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("starts_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("ends_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result_counts", sa.JSON(), nullable=True),
        sa.Column("result_note", sa.Text(), nullable=True),
        sa.Column("recorded_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("recorded_by_user_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["user_account.id"], name=op.f("fk_joint_operation_created_by_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_joint_operation_recorded_by_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_joint_operation")),
    )
    with op.batch_alter_table("joint_operation", schema=None) as batch_op:
        batch_op.create_index("ix_joint_operation_area_code_starts_at", ["area_code", "starts_at"], unique=False)

    op.create_table(
        "listed_problem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("place", sa.String(length=128), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("area_code", sa.String(length=15), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("leader_user_id", sa.Integer(), nullable=False),
        sa.Column("leader_office", sa.String(length=64), nullable=False),
        sa.Column("lead_unit_id", sa.Integer(), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("target_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("listed_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("delisted_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["user_account.id"], name=op.f("fk_listed_problem_created_by_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(["lead_unit_id"], ["unit.id"], name=op.f("fk_listed_problem_lead_unit_id_unit")),
        sa.ForeignKeyConstraint(
            ["leader_user_id"], ["user_account.id"], name=op.f("fk_listed_problem_leader_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listed_problem")),
        sa.UniqueConstraint("public_id", name=op.f("uq_listed_problem_public_id")),
    )
    with op.batch_alter_table("listed_problem", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_listed_problem_area_code"), ["area_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_listed_problem_lead_unit_id"), ["lead_unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_listed_problem_leader_user_id"), ["leader_user_id"], unique=False)
        batch_op.create_index("ix_listed_problem_status_target_on", ["status", "target_on"], unique=False)

    op.create_table(
        "inspection_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["inspection_id"], ["inspection.id"], name=op.f("fk_inspection_item_inspection_id_inspection")
        ),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"], name=op.f("fk_inspection_item_report_id_report")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_item")),
    )
    with op.batch_alter_table("inspection_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inspection_item_inspection_id"), ["inspection_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_inspection_item_report_id"), ["report_id"], unique=False)

    op.create_table(
        "joint_operation_case",
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["joint_operation.id"],
            name=op.f("fk_joint_operation_case_operation_id_joint_operation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"], name=op.f("fk_joint_operation_case_report_id_report")),
        sa.PrimaryKeyConstraint("operation_id", "report_id", name=op.f("pk_joint_operation_case")),
    )
    op.create_table(
        "joint_operation_unit",
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["joint_operation.id"],
            name=op.f("fk_joint_operation_unit_operation_id_joint_operation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_joint_operation_unit_unit_id_unit")),
        sa.PrimaryKeyConstraint("operation_id", "unit_id", name=op.f("pk_joint_operation_unit")),
    )
    op.create_table(
        "listed_problem_case",
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("linked_by", sa.String(length=16), nullable=False),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["problem_id"],
            ["listed_problem.id"],
            name=op.f("fk_listed_problem_case_problem_id_listed_problem"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"], name=op.f("fk_listed_problem_case_report_id_report")),
        sa.PrimaryKeyConstraint("problem_id", "report_id", name=op.f("pk_listed_problem_case")),
    )
    op.create_table(
        "listed_problem_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["user_account.id"], name=op.f("fk_listed_problem_event_actor_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["problem_id"], ["listed_problem.id"], name=op.f("fk_listed_problem_event_problem_id_listed_problem")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listed_problem_event")),
    )
    with op.batch_alter_table("listed_problem_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_listed_problem_event_problem_id"), ["problem_id"], unique=False)

    op.create_table(
        "listed_problem_unit",
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["problem_id"],
            ["listed_problem.id"],
            name=op.f("fk_listed_problem_unit_problem_id_listed_problem"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_listed_problem_unit_unit_id_unit")),
        sa.PrimaryKeyConstraint("problem_id", "unit_id", name=op.f("pk_listed_problem_unit")),
    )
    op.create_table(
        "whistle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("street_code", sa.String(length=9), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("raised_by_user_id", sa.Integer(), nullable=False),
        sa.Column("raised_role", sa.String(length=16), nullable=False),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("closed_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_code"], ["community.code"], name=op.f("fk_whistle_community_code_community")
        ),
        sa.ForeignKeyConstraint(["grid_code"], ["grid_cell.code"], name=op.f("fk_whistle_grid_code_grid_cell")),
        sa.ForeignKeyConstraint(
            ["raised_by_user_id"], ["user_account.id"], name=op.f("fk_whistle_raised_by_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"], name=op.f("fk_whistle_report_id_report")),
        sa.ForeignKeyConstraint(["street_code"], ["street.code"], name=op.f("fk_whistle_street_code_street")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whistle")),
        sa.UniqueConstraint("public_id", name=op.f("uq_whistle_public_id")),
    )
    with op.batch_alter_table("whistle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_whistle_community_code"), ["community_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_whistle_report_id"), ["report_id"], unique=False)
        batch_op.create_index("ix_whistle_status_created_at", ["status", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_whistle_street_code"), ["street_code"], unique=False)

    op.create_table(
        "whistle_part",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("whistle_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("lead", sa.Boolean(), nullable=False),
        sa.Column("task", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("checkin_due_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("checked_in_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("person", sa.String(length=64), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("escalated_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("resolved_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("returns", sa.Integer(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("rating_note", sa.Text(), nullable=True),
        sa.Column("rated_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_whistle_part_unit_id_unit")),
        sa.ForeignKeyConstraint(["whistle_id"], ["whistle.id"], name=op.f("fk_whistle_part_whistle_id_whistle")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whistle_part")),
        sa.UniqueConstraint("whistle_id", "unit_id", name="uq_whistle_part_whistle_id_unit_id"),
    )
    with op.batch_alter_table("whistle_part", schema=None) as batch_op:
        batch_op.create_index("ix_whistle_part_checkin_due_at", ["checkin_due_at"], unique=False)
        batch_op.create_index("ix_whistle_part_unit_id_status", ["unit_id", "status"], unique=False)

    op.create_table(
        "whistle_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("whistle_id", sa.Integer(), nullable=False),
        sa.Column("part_id", sa.Integer(), nullable=True),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["user_account.id"], name=op.f("fk_whistle_event_actor_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(["part_id"], ["whistle_part.id"], name=op.f("fk_whistle_event_part_id_whistle_part")),
        sa.ForeignKeyConstraint(["whistle_id"], ["whistle.id"], name=op.f("fk_whistle_event_whistle_id_whistle")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whistle_event")),
    )
    with op.batch_alter_table("whistle_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_whistle_event_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_whistle_event_whistle_id"), ["whistle_id"], unique=False)

    op.create_table(
        "oversight_photo",
        sa.Column("media_id", sa.String(length=32), nullable=False),
        sa.Column("whistle_event_id", sa.Integer(), nullable=True),
        sa.Column("listing_event_id", sa.Integer(), nullable=True),
        sa.Column("operation_id", sa.Integer(), nullable=True),
        sa.Column("inspection_item_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint(
            "(CASE WHEN whistle_event_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN listing_event_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN operation_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN inspection_item_id IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_oversight_photo_one_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["inspection_item_id"],
            ["inspection_item.id"],
            name=op.f("fk_oversight_photo_inspection_item_id_inspection_item"),
        ),
        sa.ForeignKeyConstraint(
            ["listing_event_id"],
            ["listed_problem_event.id"],
            name=op.f("fk_oversight_photo_listing_event_id_listed_problem_event"),
        ),
        sa.ForeignKeyConstraint(["media_id"], ["media.id"], name=op.f("fk_oversight_photo_media_id_media")),
        sa.ForeignKeyConstraint(
            ["operation_id"], ["joint_operation.id"], name=op.f("fk_oversight_photo_operation_id_joint_operation")
        ),
        sa.ForeignKeyConstraint(
            ["whistle_event_id"], ["whistle_event.id"], name=op.f("fk_oversight_photo_whistle_event_id_whistle_event")
        ),
        sa.PrimaryKeyConstraint("media_id", name=op.f("pk_oversight_photo")),
    )
    with op.batch_alter_table("oversight_photo", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oversight_photo_inspection_item_id"), ["inspection_item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_oversight_photo_listing_event_id"), ["listing_event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_oversight_photo_operation_id"), ["operation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_oversight_photo_whistle_event_id"), ["whistle_event_id"], unique=False)


def downgrade():
    with op.batch_alter_table("oversight_photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oversight_photo_whistle_event_id"))
        batch_op.drop_index(batch_op.f("ix_oversight_photo_operation_id"))
        batch_op.drop_index(batch_op.f("ix_oversight_photo_listing_event_id"))
        batch_op.drop_index(batch_op.f("ix_oversight_photo_inspection_item_id"))

    op.drop_table("oversight_photo")
    with op.batch_alter_table("whistle_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_whistle_event_whistle_id"))
        batch_op.drop_index(batch_op.f("ix_whistle_event_created_at"))

    op.drop_table("whistle_event")
    with op.batch_alter_table("whistle_part", schema=None) as batch_op:
        batch_op.drop_index("ix_whistle_part_unit_id_status")
        batch_op.drop_index("ix_whistle_part_checkin_due_at")

    op.drop_table("whistle_part")
    with op.batch_alter_table("whistle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_whistle_street_code"))
        batch_op.drop_index("ix_whistle_status_created_at")
        batch_op.drop_index(batch_op.f("ix_whistle_report_id"))
        batch_op.drop_index(batch_op.f("ix_whistle_community_code"))

    op.drop_table("whistle")
    op.drop_table("listed_problem_unit")
    with op.batch_alter_table("listed_problem_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_listed_problem_event_problem_id"))

    op.drop_table("listed_problem_event")
    op.drop_table("listed_problem_case")
    op.drop_table("joint_operation_unit")
    op.drop_table("joint_operation_case")
    with op.batch_alter_table("inspection_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_item_report_id"))
        batch_op.drop_index(batch_op.f("ix_inspection_item_inspection_id"))

    op.drop_table("inspection_item")
    with op.batch_alter_table("listed_problem", schema=None) as batch_op:
        batch_op.drop_index("ix_listed_problem_status_target_on")
        batch_op.drop_index(batch_op.f("ix_listed_problem_leader_user_id"))
        batch_op.drop_index(batch_op.f("ix_listed_problem_lead_unit_id"))
        batch_op.drop_index(batch_op.f("ix_listed_problem_area_code"))

    op.drop_table("listed_problem")
    with op.batch_alter_table("joint_operation", schema=None) as batch_op:
        batch_op.drop_index("ix_joint_operation_area_code_starts_at")

    op.drop_table("joint_operation")
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.drop_index("ix_inspection_point_id_inspected_at")

    op.drop_table("inspection")
    with op.batch_alter_table("inspection_point", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_point_kind"))
        batch_op.drop_index(batch_op.f("ix_inspection_point_community_code"))

    op.drop_table("inspection_point")
    op.drop_table("checklist_item")
