"""initial schema

Revision ID: ccd370923c12
Revises:
Create Date: 2026-11-23 19:22:30.448893

"""

import frozen_types
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "ccd370923c12"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "calendar_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_day")),
    )
    op.create_table(
        "category",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=128), nullable=False),
        sa.Column("group", sa.String(length=16), nullable=False),
        sa.Column("major_code", sa.String(length=4), nullable=False),
        sa.Column("major_name", sa.String(length=32), nullable=False),
        sa.Column("standard", sa.Boolean(), nullable=False),
        sa.Column("default_unit_kind", sa.String(length=32), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("deadline_hours", sa.Integer(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_category")),
    )
    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_category_group"), ["group"], unique=False)
        batch_op.create_index(batch_op.f("ix_category_major_code"), ["major_code"], unique=False)

    op.create_table(
        "daily_counter",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_daily_counter")),
    )
    op.create_table(
        "district",
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_district")),
    )
    op.create_table(
        "idempotency_record",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("resource_type", sa.String(length=16), nullable=False),
        sa.Column("resource_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_idempotency_record")),
    )
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotency_record_created_at"), ["created_at"], unique=False)

    op.create_table(
        "unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("delivery_method", sa.String(length=16), nullable=False),
        sa.Column("delivery_target", sa.String(length=512), nullable=True),
        sa.Column("delivery_secret", sa.String(length=128), nullable=True),
        sa.Column("contact_phone", sa.String(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["district_code"], ["district.code"], name=op.f("fk_unit_district_code_district")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit")),
        sa.UniqueConstraint("code", name=op.f("uq_unit_code")),
    )
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_kind"), ["kind"], unique=False)

    op.create_table(
        "routing_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(length=8), nullable=True),
        sa.Column("category_major", sa.String(length=4), nullable=True),
        sa.Column("category_group", sa.String(length=16), nullable=True),
        sa.Column("area_level", sa.String(length=16), nullable=False),
        sa.Column("area_code", sa.String(length=15), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=256), nullable=True),
        sa.ForeignKeyConstraint(
            ["category_code"], ["category.code"], name=op.f("fk_routing_rule_category_code_category")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_routing_rule_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rule")),
    )
    with op.batch_alter_table("routing_rule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_routing_rule_area_code"), ["area_code"], unique=False)

    op.create_table(
        "street",
        sa.Column("code", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("territorial_unit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["district_code"], ["district.code"], name=op.f("fk_street_district_code_district")),
        sa.ForeignKeyConstraint(["territorial_unit_id"], ["unit.id"], name=op.f("fk_street_territorial_unit_id_unit")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_street")),
    )
    with op.batch_alter_table("street", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_street_district_code"), ["district_code"], unique=False)

    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("patrol_area_code", sa.String(length=15), nullable=True),
        sa.Column("password_hash", sa.String(length=256), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_user_account_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("name", name=op.f("uq_user_account_name")),
        sa.UniqueConstraint("phone", name=op.f("uq_user_account_phone")),
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_account_role"), ["role"], unique=False)
        batch_op.create_index(batch_op.f("ix_user_account_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=True),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("last_used_at", frozen_types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_api_token_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "community",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("street_code", sa.String(length=9), nullable=False),
        sa.Column("boundary", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["street_code"], ["street.code"], name=op.f("fk_community_street_code_street")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_community")),
    )
    with op.batch_alter_table("community", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_community_street_code"), ["street_code"], unique=False)

    op.create_table(
        "grid_cell",
        sa.Column("code", sa.String(length=15), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("boundary", sa.Text(), nullable=False),
        sa.Column("centroid_lat", sa.Float(), nullable=False),
        sa.Column("centroid_lon", sa.Float(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_code"], ["community.code"], name=op.f("fk_grid_cell_community_code_community")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_grid_cell")),
    )
    with op.batch_alter_table("grid_cell", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grid_cell_community_code"), ["community_code"], unique=False)

    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("category_code", sa.String(length=8), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("suggested_categories", sa.JSON(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("input_crs", sa.String(length=8), nullable=True),
        sa.Column("input_lat", sa.Float(), nullable=True),
        sa.Column("input_lon", sa.Float(), nullable=True),
        sa.Column("location_source", sa.String(length=8), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("photo_distance_m", sa.Float(), nullable=True),
        sa.Column("location_flagged", sa.Boolean(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("street_code", sa.String(length=9), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("routing_rule_id", sa.Integer(), nullable=True),
        sa.Column("routed_by", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("deadline_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("rework_count", sa.Integer(), nullable=False),
        sa.Column("duplicate_of_id", sa.Integer(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("reporter_user_id", sa.Integer(), nullable=True),
        sa.Column("receipt_token_hash", sa.String(length=64), nullable=True),
        sa.Column("contact", sa.String(length=128), nullable=True),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("closed_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["category_code"], ["category.code"], name=op.f("fk_report_category_code_category")),
        sa.ForeignKeyConstraint(
            ["community_code"], ["community.code"], name=op.f("fk_report_community_code_community")
        ),
        sa.ForeignKeyConstraint(["district_code"], ["district.code"], name=op.f("fk_report_district_code_district")),
        sa.ForeignKeyConstraint(["duplicate_of_id"], ["report.id"], name=op.f("fk_report_duplicate_of_id_report")),
        sa.ForeignKeyConstraint(["grid_code"], ["grid_cell.code"], name=op.f("fk_report_grid_code_grid_cell")),
        sa.ForeignKeyConstraint(
            ["reporter_user_id"], ["user_account.id"], name=op.f("fk_report_reporter_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["routing_rule_id"], ["routing_rule.id"], name=op.f("fk_report_routing_rule_id_routing_rule")
        ),
        sa.ForeignKeyConstraint(["street_code"], ["street.code"], name=op.f("fk_report_street_code_street")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_report_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report")),
        sa.UniqueConstraint("public_id", name=op.f("uq_report_public_id")),
        sa.UniqueConstraint("receipt_token_hash", name=op.f("uq_report_receipt_token_hash")),
    )
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_category_code"), ["category_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_community_code"), ["community_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_deadline_at"), ["deadline_at"], unique=False)
        batch_op.create_index("ix_report_grid_code_created_at", ["grid_code", "created_at"], unique=False)
        batch_op.create_index("ix_report_lat_lon", ["lat", "lon"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_reporter_user_id"), ["reporter_user_id"], unique=False)
        batch_op.create_index("ix_report_status_created_at", ["status", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_street_code"), ["street_code"], unique=False)
        batch_op.create_index("ix_report_unit_id_status", ["unit_id", "status"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=512), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.Column("sent_at", frozen_types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"], name=op.f("fk_outbox_report_id_report")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_outbox_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_report_id"), ["report_id"], unique=False)
        batch_op.create_index("ix_outbox_status_next_attempt_at", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "report_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["user_account.id"], name=op.f("fk_report_event_actor_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"], name=op.f("fk_report_event_report_id_report")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_event")),
    )
    with op.batch_alter_table("report_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_event_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_event_report_id"), ["report_id"], unique=False)

    op.create_table(
        "media",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("original_key", sa.String(length=256), nullable=False),
        sa.Column("display_key", sa.String(length=256), nullable=False),
        sa.Column("thumb_key", sa.String(length=256), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("display_width", sa.Integer(), nullable=False),
        sa.Column("display_height", sa.Integer(), nullable=False),
        sa.Column("thumb_width", sa.Integer(), nullable=False),
        sa.Column("thumb_height", sa.Integer(), nullable=False),
        sa.Column("taken_at", frozen_types.UTCDateTime(), nullable=True),
        sa.Column("gps_lat", sa.Float(), nullable=True),
        sa.Column("gps_lon", sa.Float(), nullable=True),
        sa.Column("phash", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("uploader_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", frozen_types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["report_event.id"], name=op.f("fk_media_event_id_report_event")),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"], name=op.f("fk_media_report_id_report")),
        sa.ForeignKeyConstraint(
            ["uploader_user_id"], ["user_account.id"], name=op.f("fk_media_uploader_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media")),
    )
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_media_phash"), ["phash"], unique=False)
        batch_op.create_index(batch_op.f("ix_media_report_id"), ["report_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_media_sha256"), ["sha256"], unique=False)


def downgrade():
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_sha256"))
        batch_op.drop_index(batch_op.f("ix_media_report_id"))
        batch_op.drop_index(batch_op.f("ix_media_phash"))

    op.drop_table("media")
    with op.batch_alter_table("report_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_event_report_id"))
        batch_op.drop_index(batch_op.f("ix_report_event_created_at"))

    op.drop_table("report_event")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_outbox_report_id"))

    op.drop_table("outbox")
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index("ix_report_unit_id_status")
        batch_op.drop_index(batch_op.f("ix_report_street_code"))
        batch_op.drop_index("ix_report_status_created_at")
        batch_op.drop_index(batch_op.f("ix_report_reporter_user_id"))
        batch_op.drop_index("ix_report_lat_lon")
        batch_op.drop_index("ix_report_grid_code_created_at")
        batch_op.drop_index(batch_op.f("ix_report_deadline_at"))
        batch_op.drop_index(batch_op.f("ix_report_created_at"))
        batch_op.drop_index(batch_op.f("ix_report_community_code"))
        batch_op.drop_index(batch_op.f("ix_report_category_code"))

    op.drop_table("report")
    with op.batch_alter_table("grid_cell", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grid_cell_community_code"))

    op.drop_table("grid_cell")
    with op.batch_alter_table("community", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_street_code"))

    op.drop_table("community")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))

    op.drop_table("api_token")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_account_unit_id"))
        batch_op.drop_index(batch_op.f("ix_user_account_role"))

    op.drop_table("user_account")
    with op.batch_alter_table("street", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_street_district_code"))

    op.drop_table("street")
    with op.batch_alter_table("routing_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_rule_area_code"))

    op.drop_table("routing_rule")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_kind"))

    op.drop_table("unit")
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_record_created_at"))

    op.drop_table("idempotency_record")
    op.drop_table("district")
    op.drop_table("daily_counter")
    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_category_major_code"))
        batch_op.drop_index(batch_op.f("ix_category_group"))

    op.drop_table("category")
    op.drop_table("calendar_day")
