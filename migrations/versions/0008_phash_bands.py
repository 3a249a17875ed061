"""duplicates: dHash bytes indexed, so a submission finds similar photos without a scan

Revision ID: 7c1e5a93d0b8
Revises: 9d4a6c1f2b73
Create Date: 2026-12-02 12:00:00

The photo-reuse check loaded every photo of the last 30 days and compared hashes in
Python at each submission: ~10 ms per thousand photos, growing with the city. Existing
photos get their bands here, in batches.
"""

import sqlalchemy as sa
from alembic import op

revision = "7c1e5a93d0b8"
down_revision = "9d4a6c1f2b73"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade():
    bands = op.create_table(
        "media_phash_band",
        sa.Column("media_id", sa.String(length=32), nullable=False),
        sa.Column("band", sa.SmallInteger(), nullable=False),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(["media_id"], ["media.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("media_id", "band"),
    )
    op.create_index("ix_media_phash_band_band_value", "media_phash_band", ["band", "value"], unique=False)
    _backfill(bands)


def _backfill(bands):
    conn = op.get_bind()
    media = sa.table("media", sa.column("id", sa.String), sa.column("phash", sa.String))
    last = ""
    while True:
        rows = conn.execute(
            sa.select(media.c.id, media.c.phash).where(media.c.id > last).order_by(media.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        conn.execute(
            bands.insert(),
            [
                {"media_id": media_id, "band": i, "value": value}
                for media_id, phash in rows
                for i, value in enumerate(bytes.fromhex(phash))
            ],
        )
        last = rows[-1].id


def downgrade():
    op.drop_index("ix_media_phash_band_band_value", table_name="media_phash_band")
    op.drop_table("media_phash_band")
