"""queue: trigram index for the description search (PostgreSQL)

Revision ID: 9d4a6c1f2b73
Revises: 5b2f9c81e4a6
Create Date: 2026-12-02 02:01:00

``description ILIKE '%斑马线%'`` cannot use a b-tree; without this index PostgreSQL scans every
report (1.5 s at a million cases). pg_trgm ships with PostgreSQL's contrib and is a trusted
extension, so the database owner may create it; trigrams of Chinese text work in UTF-8
databases. SQLite gets a plain index of the same name, which its LIKE does not use, so that
the schema matches the models on both.
"""

from alembic import op

revision = "9d4a6c1f2b73"
down_revision = "5b2f9c81e4a6"
branch_labels = None
depends_on = None


def upgrade():
    ops = {}
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        ops = {"description": _trigram_ops()}
    op.create_index("ix_report_description_trgm", "report", ["description"], postgresql_using="gin", postgresql_ops=ops)


def _trigram_ops():
    """gin_trgm_ops named with the schema pg_trgm lives in: that schema need not be on the search_path
    (an ``extensions`` schema, or the round trip test's own schema beside the suite's ``public``)."""
    query = "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
    return f"{op.get_bind().exec_driver_sql(query).scalar_one()}.gin_trgm_ops"


def downgrade():
    op.drop_index("ix_report_description_trgm", table_name="report")
