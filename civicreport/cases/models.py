"""Reports (案件), their append-only timeline, photos, and the daily id counter."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    or_,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civicreport.cases.status import CLOCK_RUNNING, CLOSED_STATES, OPEN_STATES
from civicreport.db_types import UTCDateTime, utcnow
from civicreport.extensions import db

LOCATION_SOURCES = ("exif", "device", "manual")
CHANNELS = ("citizen", "monitor", "open311")
MEDIA_KINDS = ("evidence", "after", "verification")
# What a citizen files: a problem to fix (the closed loop) or 文明点赞, good conduct seen (the
# workflow's confirm_praise: a supervisor confirms it, never routed or dispatched; the 光荣榜 may publish it).
REPORT_KINDS = ("problem", "praise")
MAX_PHOTOS_PER_STEP = 6  # photos one transition (处置、核查、补充证据) may attach


class Report(db.Model):
    __tablename__ = "report"
    __table_args__ = (
        Index("ix_report_status_created_at", "status", "created_at"),
        Index("ix_report_unit_id_status", "unit_id", "status"),
        Index("ix_report_grid_code_created_at", "grid_code", "created_at"),
        Index("ix_report_lat_lon", "lat", "lon"),
        Index("ix_report_created_at_id", "created_at", "id"),
        Index("ix_report_unit_id_created_at", "unit_id", "created_at"),
        Index("ix_report_priority_created_at", "priority", "created_at"),
        # The statistics' overdue-now backlog per unit and area, read from the index alone (issue 25).
        Index(
            "ix_report_status_deadline_at_areas",
            "status",
            "deadline_at",
            "unit_id",
            "district_code",
            "street_code",
            "community_code",
            "grid_code",
        ),
        # For ILIKE '%…%' in the queue's text search: trigrams on PostgreSQL (a plain index elsewhere).
        Index(
            "ix_report_description_trgm",
            "description",
            postgresql_using="gin",
            postgresql_ops={"description": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    category_code: Mapped[str | None] = mapped_column(ForeignKey("category.code"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    suggested_categories: Mapped[list | None] = mapped_column(JSON)

    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    input_crs: Mapped[str | None] = mapped_column(String(8))
    input_lat: Mapped[float | None] = mapped_column(Float)
    input_lon: Mapped[float | None] = mapped_column(Float)
    location_source: Mapped[str] = mapped_column(String(8))
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    photo_distance_m: Mapped[float | None] = mapped_column(Float)
    location_flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    # Evidence checks at submit: the oldest photo's age and what the supervisor should look at.
    photo_age_s: Mapped[int | None] = mapped_column(Integer)
    evidence_flags: Mapped[list | None] = mapped_column(JSON)
    evidence_flagged: Mapped[bool] = mapped_column(Boolean, default=False)

    grid_code: Mapped[str] = mapped_column(ForeignKey("grid_cell.code"))
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), index=True)
    street_code: Mapped[str] = mapped_column(ForeignKey("street.code"), index=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"))

    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    routing_rule_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rule.id"))
    routed_by: Mapped[str | None] = mapped_column(String(16))

    status: Mapped[str] = mapped_column(String(16), default="submitted")
    priority: Mapped[int] = mapped_column(Integer, default=1)
    support_count: Mapped[int] = mapped_column(Integer, default=0)
    photo_reuse_flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    allowed_minutes: Mapped[int | None] = mapped_column(Integer)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    warning_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resume_status: Mapped[str | None] = mapped_column(String(16))
    extension_request_minutes: Mapped[int | None] = mapped_column(Integer)
    warning_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    return_count: Mapped[int] = mapped_column(Integer, default=0)
    escalation_count: Mapped[int] = mapped_column(Integer, default=0)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"))
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)

    channel: Mapped[str] = mapped_column(String(16), default="citizen")
    kind: Mapped[str] = mapped_column(String(8), default="problem", server_default="problem")  # REPORT_KINDS
    reporter_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    receipt_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    contact: Mapped[str | None] = mapped_column(String(128))
    device_id: Mapped[str | None] = mapped_column(String(64))  # the X-Device-Id header
    open311_client_id: Mapped[int | None] = mapped_column(ForeignKey("open311_client.id"))  # who filed it
    reporter_anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    category: Mapped["Category | None"] = relationship()  # noqa: F821
    grid_cell: Mapped["GridCellArea"] = relationship()  # noqa: F821
    community: Mapped["Community"] = relationship()  # noqa: F821
    street: Mapped["Street"] = relationship()  # noqa: F821
    district: Mapped["District"] = relationship()  # noqa: F821
    unit: Mapped["Unit | None"] = relationship()  # noqa: F821
    routing_rule: Mapped["RoutingRule | None"] = relationship()  # noqa: F821
    duplicate_of: Mapped["Report | None"] = relationship(remote_side=[id])
    media: Mapped[list["Media"]] = relationship(back_populates="report", order_by="Media.position")
    events: Mapped[list["ReportEvent"]] = relationship(back_populates="report", order_by="ReportEvent.id")

    @hybrid_property
    def is_open(self):
        """Still being handled (cases.status.OPEN_STATES); also a query condition: ``where(Report.is_open)``."""
        return self.status in OPEN_STATES

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls):
        return cls.status.in_(sorted(OPEN_STATES))

    @hybrid_property
    def is_closed(self):
        """Done with, one way or another (cases.status.CLOSED_STATES); also a query condition."""
        return self.status in CLOSED_STATES

    @is_closed.inplace.expression
    @classmethod
    def _is_closed_expression(cls):
        return cls.status.in_(sorted(CLOSED_STATES))

    def is_overdue(self, now=None):
        """Past its deadline while a unit holds it (a suspended case's clock is paused)."""
        now = now or utcnow()
        return self.status in CLOCK_RUNNING and self.deadline_at is not None and now > self.deadline_at

    def is_warning(self, now=None):
        """Within the warning time of its deadline while a unit holds it."""
        now = now or utcnow()
        return self.status in CLOCK_RUNNING and self.warning_at is not None and now >= self.warning_at


class ReportEvent(db.Model):
    """One step of a report's timeline; rows are never updated or deleted."""

    __tablename__ = "report_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    report: Mapped[Report] = relationship(back_populates="events")


@event.listens_for(ReportEvent, "before_update")
@event.listens_for(ReportEvent, "before_delete")
def _refuse_event_change(mapper, connection, target):
    raise RuntimeError("report_event rows are append-only")


class Media(db.Model):
    """One uploaded photo; objects are shared by content hash, rows are per upload."""

    __tablename__ = "media"
    # Partial: the worker's privacy pass looks for the few pending rows among all photos. Each
    # predicate is spelled the way SQLAlchemy renders ``WHERE privacy_pending`` for that
    # database, or its planner ignores the index.
    __table_args__ = (
        Index(
            "ix_media_privacy_pending",
            "created_at",
            postgresql_where=text("privacy_pending"),
            sqlite_where=text("privacy_pending = 1"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    original_key: Mapped[str] = mapped_column(String(256))
    display_key: Mapped[str | None] = mapped_column(String(256))
    thumb_key: Mapped[str | None] = mapped_column(String(256))
    content_type: Mapped[str] = mapped_column(String(32))
    byte_size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    display_width: Mapped[int | None] = mapped_column(Integer)
    display_height: Mapped[int | None] = mapped_column(Integer)
    thumb_width: Mapped[int | None] = mapped_column(Integer)
    thumb_height: Mapped[int | None] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    gps_lat: Mapped[float | None] = mapped_column(Float)
    gps_lon: Mapped[float | None] = mapped_column(Float)
    phash: Mapped[str | None] = mapped_column(String(16), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="evidence")
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("report_event.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    uploader_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # What the photo went to outside the cases (a co-building declaration, 实事清单 note or needs
    # order: cobuilding.models.Photo), so that no report takes it too; None with no report: free.
    subject: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # True from a worker-mode upload until the privacy pass has made the derivatives (keys,
    # sizes and phash are NULL until then): views show no derivative URL for the photo.
    privacy_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The pass found the pixels undecodable although the upload was complete: never public.
    unreadable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Failed privacy passes of this photo (original missing or mismatched, detector error):
    # the pass tries again after doubling waits; the photo stays pending, never public, meanwhile.
    privacy_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    privacy_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    report: Mapped[Report | None] = relationship(back_populates="media")
    bands: Mapped[list["PhashBand"]] = relationship(cascade="all, delete-orphan", passive_deletes=True)

    @hybrid_property
    def is_attached(self):
        """Taken by a report or by the co-building layer; also a query condition."""
        return self.report_id is not None or self.subject is not None

    @is_attached.inplace.expression
    @classmethod
    def _is_attached_expression(cls):
        return or_(cls.report_id.is_not(None), cls.subject.is_not(None))


class PhashBand(db.Model):
    """One byte of a photo's 64-bit dHash, indexed so similar photos are found without a scan.

    Two hashes at most 6 bits apart differ in at most 6 of the 8 bytes, so they share at
    least two bytes in place: the photos sharing two (position, value) pairs with a hash
    are a small superset of those within PHASH_MAX_DISTANCE (≤ 6) of it.
    """

    __tablename__ = "media_phash_band"
    __table_args__ = (Index("ix_media_phash_band_band_value", "band", "value"),)

    media_id: Mapped[str] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"), primary_key=True)
    band: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    value: Mapped[int] = mapped_column(SmallInteger)

    @classmethod
    def of(cls, phash):
        """The eight bands of a 16-hex-digit hash; ValueError if it is not hex."""
        return [cls(band=i, value=v) for i, v in enumerate(bytes.fromhex(phash))]


class DailyCounter(db.Model):
    """Per-day sequence behind human-readable ids like QJ20261123-0042."""

    __tablename__ = "daily_counter"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class IdempotencyRecord(db.Model):
    """What the first request with an ``Idempotency-Key`` created, re-rendered for retries."""

    __tablename__ = "idempotency_record"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    resource_type: Mapped[str] = mapped_column(String(16))
    resource_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


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
