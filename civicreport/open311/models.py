"""Open311 clients: systems (a 12345 hotline, another city platform) that file reports for citizens."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from civicreport.db_types import UTCDateTime, utcnow
from civicreport.extensions import db


class Open311Client(db.Model):
    """One client's ``api_key``, of which only the SHA-256 is kept, with where and how much it may post.

    The key sits in URLs by the spec, so it is never a staff or citizen bearer token: a leaked
    one files reports in one jurisdiction within its own limits, and is revoked on its own.
    """

    __tablename__ = "open311_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    jurisdiction: Mapped[str] = mapped_column(String(32))  # the jurisdiction_id it may post to
    rate_limit: Mapped[str | None] = mapped_column(String(128))  # None: OPEN311_CLIENT_LIMIT
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
