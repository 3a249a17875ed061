"""The block list: devices, accounts and networks an admin has stopped from submitting."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicreport.db_types import UTCDateTime, utcnow
from civicreport.extensions import db

BLOCK_KINDS = ("device", "account", "ip")


class Block(db.Model):
    """One blocked submitter; ``value`` is an X-Device-Id, a login name, or an IP network (CIDR)."""

    __tablename__ = "abuse_block"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_abuse_block_kind_value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: until removed

    def active_at(self, now):
        return self.expires_at is None or self.expires_at > now


class Throttle(db.Model):
    """One counter per (scope, key), e.g. ``("login_account", "user:7")`` or ``("receipt_ip", "10.0.0.7")``.

    Kept in the database, not in a process, so that every gunicorn worker counts the same
    failures; abuse.throttle holds the policy.
    """

    __tablename__ = "throttle"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_throttle_scope_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(128))
    failures: Mapped[int] = mapped_column(Integer, default=0)  # in the window that began at window_start
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    lockouts: Mapped[int] = mapped_column(Integer, default=0)  # in a row: each doubles the next lock
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
