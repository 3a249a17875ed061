"""What a reporter keeps and asks for beside the case: a short receipt code and notices.

Tables of their own rather than columns of ``report``: a case knows nothing of how its
reporter is told, and retention drops both rows with the rest of the reporter's data.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from civicreport.db_types import UTCDateTime, utcnow
from civicreport.extensions import db

NOTICE_CHANNELS = ("email", "sms")


class ReceiptCode(db.Model):
    """The 8-character receipt code of an anonymous report, stored as a salted scrypt hash only."""

    __tablename__ = "receipt_code"

    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(128))


class NoticeSubscription(db.Model):
    """A reporter who asked to be told when the case moves: by e-mail or SMS, until opted out."""

    __tablename__ = "notice_subscription"

    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))  # NOTICE_CHANNELS
    address: Mapped[str] = mapped_column(String(128))  # the e-mail address or the mobile number
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
