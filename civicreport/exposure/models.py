"""曝光台 and 光荣榜: what was published, after whose look at what, and its takedown.

A publication keeps the text as it was reviewed (masked) so a later change to the case never
reaches the public page unseen; its events (publish, withdraw) are the record of who did what
and why, and never change.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civicreport.db_types import UTCDateTime, utcnow
from civicreport.extensions import db

KINDS = ("uncivil", "praise")  # 曝光台 (uncivil behaviour) and 光荣榜 (文明点赞)


class ExposureReview(db.Model):
    """A supervisor's look at a case's preview (blurred photos, masked text): publishing needs one."""

    __tablename__ = "exposure_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Publication(db.Model):
    """One case on the 曝光台 or 光荣榜; withdrawn ones stay, saying so on their public URL."""

    __tablename__ = "exposure_publication"
    __table_args__ = (Index("ix_exposure_publication_kind_published_at", "kind", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # KINDS
    text: Mapped[str] = mapped_column(Text, default="")  # the description as reviewed, numbers masked
    note: Mapped[str] = mapped_column(Text)  # why it is published (staff only)
    review_id: Mapped[int] = mapped_column(ForeignKey("exposure_review.id"))
    published_by_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    withdrawn_note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # two takedowns at once: one wins

    report: Mapped["Report"] = relationship()  # noqa: F821
    review: Mapped[ExposureReview] = relationship()
    events: Mapped[list["PublicationEvent"]] = relationship(order_by="PublicationEvent.id")


class PublicationEvent(db.Model):
    """Append-only: ``publish`` or ``withdraw``, by whom, when, with the note given."""

    __tablename__ = "exposure_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("exposure_publication.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    actor_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(PublicationEvent, "before_update")
@event.listens_for(PublicationEvent, "before_delete")
def _refuse_event_change(mapper, connection, target):
    raise RuntimeError("exposure_event rows are append-only")
