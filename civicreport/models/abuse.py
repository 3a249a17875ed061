"""The block list: devices, accounts and networks an admin has stopped from submitting."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicreport.extensions import db
from civicreport.models.types import UTCDateTime, utcnow

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
