"""A subscription to an area's public reports: an e-mail address, the area, and its opt-in state."""

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from civicreport.db_types import UTCDateTime, utcnow
from civicreport.extensions import db

AREA_KINDS = ("community", "street", "circle")


class AreaSubscription(db.Model):
    """One address following one area (a community, a street, or a circle of ``radius_m`` around a
    point). Only the SHA-256 of its token is kept: the token itself travels in the confirmation
    e-mail alone. Alerts go out once ``confirmed_at`` is set and until ``unsubscribed_at`` is."""

    __tablename__ = "area_subscription"
    __table_args__ = (
        CheckConstraint("area_kind IN ('community', 'street', 'circle')", name="area_kind"),
        Index("ix_area_subscription_email", "email"),
        Index("ix_area_subscription_due", "confirmed_at", "unsubscribed_at", "last_sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    area_kind: Mapped[str] = mapped_column(String(16))  # AREA_KINDS
    area_code: Mapped[str | None] = mapped_column(String(12))  # a community's or street's code
    lat: Mapped[float | None] = mapped_column(Float)  # a circle's centre (WGS-84) and radius
    lon: Mapped[float | None] = mapped_column(Float)
    radius_m: Mapped[float | None] = mapped_column(Float)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def active(self):
        return self.confirmed_at is not None and self.unsubscribed_at is None
