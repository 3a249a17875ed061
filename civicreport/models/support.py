"""“我也遇到了”: who has supported which case, so that each person counts once."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class Support(db.Model):
    """One supporter of one case: ``account:<user id>``, ``device:<X-Device-Id>`` or ``ip:<address>``.

    The unique constraint is what decides between two supports sent at the same moment.
    """

    __tablename__ = "report_support"
    __table_args__ = (UniqueConstraint("report_id", "supporter", name="uq_report_support_report_id_supporter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    supporter: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
