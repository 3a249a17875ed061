"""worker mode decodes no pixel at upload: pending photos have no derivatives or hash yet

Revision ID: 5b9c3e7d21f4
Revises: 2f6d8e1a7c40
Create Date: 2026-12-03 11:00:00

An upload in PRIVACY_MODE=worker used to decode the photo at thumb scale and store an
unchecked thumb under pending/; the privacy pass decoded it in full again. Now the upload
only inspects the file and the pass makes the derivatives and the hash, so those columns
are NULL while a photo is pending. Rows still pending lose their pending/ thumb (gc-media
removes the objects) and keep their hash; ``unreadable`` marks photos the pass cannot decode.
"""

import sqlalchemy as sa
from alembic import op

revision = "5b9c3e7d21f4"
down_revision = "2f6d8e1a7c40"
branch_labels = None
depends_on = None

_DERIVED = ("display_key", "thumb_key", "display_width", "display_height", "thumb_width", "thumb_height")
_TYPES = {"display_key": sa.String(256), "thumb_key": sa.String(256), "phash": sa.String(16)}


def upgrade():
    with op.batch_alter_table("media", schema=None) as batch_op:
        for column in (*_DERIVED, "phash"):
            batch_op.alter_column(column, existing_type=_TYPES.get(column, sa.Integer()), nullable=True)
        batch_op.add_column(sa.Column("unreadable", sa.Boolean(), nullable=False, server_default=sa.false()))
    media = sa.table("media", sa.column("privacy_pending", sa.Boolean()), *(sa.column(c) for c in _DERIVED))
    op.execute(media.update().where(media.c.privacy_pending).values(dict.fromkeys(_DERIVED)))


def downgrade():
    """Refused while a photo has no derivatives: let ``flask worker`` clear the backlog first."""
    waiting = op.get_bind().execute(sa.text("SELECT count(*) FROM media WHERE display_key IS NULL")).scalar()
    if waiting:
        raise RuntimeError(f"{waiting} photo(s) await the privacy pass; run flask worker until none do")
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_column("unreadable")
        for column in (*_DERIVED, "phash"):
            batch_op.alter_column(column, existing_type=_TYPES.get(column, sa.Integer()), nullable=False)
