"""“我也遇到了”: who has supported which case, so that each person counts once."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicreport.extensions import db
from civicreport.models.types import UTCDateTime, utcnow


class Support(db.Model):
    """One supporter of one case: ``account:<user id>``, ``device:<X-Device-Id>`` or ``ip:<address>``.

    The unique constraint is what decides between two supports sent at the same moment.
    ``address`` (an anonymous supporter's address as counted, an IPv6 address by its /64) caps
    how many anonymous supports one address adds to a case; retention forgets it with the row.
    """

    __tablename__ = "report_support"
    __table_args__ = (
        UniqueConstraint("report_id", "supporter", name="uq_report_support_report_id_supporter"),
        Index("ix_report_support_report_id_address", "report_id", "address"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    supporter: Mapped[str] = mapped_column(String(80))
    address: Mapped[str | None] = mapped_column(String(64))  # anonymous supporters only
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
