"""Tables of the oversight layer: joint cases that summon several units (吹哨报到), joint
operations (联合整治), problems listed under a leader until fixed (挂牌整改), and fixed points
with their inspections (点位/暗访).

Timelines (whistles, listed problems) are append-only like ``report_event``; a unit's part of a
whistle is one row that moves, its steps are events naming the part.
"""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civicreport.db_types import UTCDateTime, utcnow
from civicreport.extensions import db


class Photo(db.Model):
    """A photo of the oversight layer, uploaded through the media pipeline (``POST /media``) and
    attached to exactly one whistle step, listed-problem step, operation result or inspection item."""

    __tablename__ = "oversight_photo"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN whistle_event_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN listing_event_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN operation_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN inspection_item_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_subject",
        ),
    )

    media_id: Mapped[str] = mapped_column(ForeignKey("media.id"), primary_key=True)
    whistle_event_id: Mapped[int | None] = mapped_column(ForeignKey("whistle_event.id"), index=True)
    listing_event_id: Mapped[int | None] = mapped_column(ForeignKey("listed_problem_event.id"), index=True)
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("joint_operation.id"), index=True)
    inspection_item_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_item.id"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger, default=0)

    media: Mapped["Media"] = relationship()  # noqa: F821


class Whistle(db.Model):
    """A 吹哨: a problem no single unit can fix, raised by community or street staff or a
    supervisor, on a case or as a new matter at a place, summoning a lead unit and co-units."""

    __tablename__ = "whistle"
    __table_args__ = (Index("ix_whistle_status_created_at", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    grid_code: Mapped[str | None] = mapped_column(ForeignKey("grid_cell.code"))
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), index=True)
    street_code: Mapped[str] = mapped_column(ForeignKey("street.code"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # oversight.status.WHISTLE_STATES
    raised_by_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    raised_role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    report: Mapped["Report | None"] = relationship()  # noqa: F821
    raised_by: Mapped["User"] = relationship()  # noqa: F821
    parts: Mapped[list["WhistlePart"]] = relationship(
        back_populates="whistle", order_by="WhistlePart.id", lazy="selectin"
    )
    events: Mapped[list["WhistleEvent"]] = relationship(back_populates="whistle", order_by="WhistleEvent.id")


class WhistlePart(db.Model):
    """One summoned unit's part of a whistle: its task, its 报到 (who answers for it, when, late or
    not), its resolution and the raiser's rating of it (一体评议)."""

    __tablename__ = "whistle_part"
    __table_args__ = (
        UniqueConstraint("whistle_id", "unit_id", name="uq_whistle_part_whistle_id_unit_id"),
        Index("ix_whistle_part_unit_id_status", "unit_id", "status"),
        Index("ix_whistle_part_checkin_due_at", "checkin_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    whistle_id: Mapped[int] = mapped_column(ForeignKey("whistle.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    lead: Mapped[bool] = mapped_column(Boolean, default=False)
    task: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="summoned")  # oversight.status.PART_STATES
    checkin_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    person: Mapped[str | None] = mapped_column(String(64))  # who answers for the part (责任人)
    late: Mapped[bool] = mapped_column(Boolean, default=False)  # 报到 after checkin_due_at, or none by then
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returns: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_note: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    whistle: Mapped[Whistle] = relationship(back_populates="parts")
    unit: Mapped["Unit"] = relationship(lazy="joined")  # noqa: F821


class WhistleEvent(db.Model):
    """One step of a whistle's timeline, of the whole or of one unit's part; never changed."""

    __tablename__ = "whistle_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    whistle_id: Mapped[int] = mapped_column(ForeignKey("whistle.id"), index=True)
    part_id: Mapped[int | None] = mapped_column(ForeignKey("whistle_part.id"))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    whistle: Mapped[Whistle] = relationship(back_populates="events")
    photos: Mapped[list[Photo]] = relationship(order_by=Photo.position)


class JointOperation(db.Model):
    """A 联合整治行动: units acting together at a place or over an area at a time, against
    behaviours named by category; its result is recorded on the row once done."""

    __tablename__ = "joint_operation"
    __table_args__ = (Index("ix_joint_operation_area_code_starts_at", "area_code", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(128))
    area_code: Mapped[str] = mapped_column(String(12))  # the street (9) or community (12) it serves
    place: Mapped[str] = mapped_column(String(128), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    categories: Mapped[list] = mapped_column(JSON)  # target behaviours, category codes
    status: Mapped[str] = mapped_column(String(16), default="planned")  # oversight.status.OPERATION_STATES
    result_counts: Mapped[dict | None] = mapped_column(JSON)  # category code → how many handled
    result_note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    units: Mapped[list["OperationUnit"]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    cases: Mapped[list["OperationCase"]] = relationship(cascade="all, delete-orphan")
    photos: Mapped[list[Photo]] = relationship(order_by=Photo.position)


class OperationUnit(db.Model):
    __tablename__ = "joint_operation_unit"

    operation_id: Mapped[int] = mapped_column(ForeignKey("joint_operation.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)

    unit: Mapped["Unit"] = relationship(lazy="joined")  # noqa: F821


class OperationCase(db.Model):
    """A case opened from a joint operation (what could not be fixed on the spot)."""

    __tablename__ = "joint_operation_case"

    operation_id: Mapped[int] = mapped_column(ForeignKey("joint_operation.id", ondelete="CASCADE"), primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), primary_key=True)

    report: Mapped["Report"] = relationship(lazy="joined")  # noqa: F821


class ListedProblem(db.Model):
    """A 挂牌整改 problem: listed by the campaign office under a district leader and a lead unit
    until fixed and delisted (摘牌); reopened if it comes back."""

    __tablename__ = "listed_problem"
    __table_args__ = (Index("ix_listed_problem_status_target_on", "status", "target_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(128), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    area_code: Mapped[str] = mapped_column(String(15), index=True)  # street, community or grid
    categories: Mapped[list] = mapped_column(JSON)  # category codes: later cases nearby in them are linked
    leader_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    leader_office: Mapped[str] = mapped_column(String(64))  # what the public list shows, not a person
    lead_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    measures: Mapped[str] = mapped_column(Text, default="")
    target_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(24), default="listed")  # oversight.status.LISTING_STATES
    listed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    leader: Mapped["User"] = relationship(foreign_keys=[leader_user_id])  # noqa: F821
    lead_unit: Mapped["Unit"] = relationship()  # noqa: F821
    co_units: Mapped[list["ListedProblemUnit"]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    cases: Mapped[list["ListedProblemCase"]] = relationship(cascade="all, delete-orphan")
    events: Mapped[list["ListedProblemEvent"]] = relationship(
        back_populates="problem", order_by="ListedProblemEvent.id"
    )


class ListedProblemUnit(db.Model):
    __tablename__ = "listed_problem_unit"

    problem_id: Mapped[int] = mapped_column(ForeignKey("listed_problem.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)

    unit: Mapped["Unit"] = relationship(lazy="joined")  # noqa: F821


class ListedProblemCase(db.Model):
    """A case linked to a listed problem: named at listing, added by staff, or found later nearby
    in its categories (``linked_by`` manual | suggested)."""

    __tablename__ = "listed_problem_case"

    problem_id: Mapped[int] = mapped_column(ForeignKey("listed_problem.id", ondelete="CASCADE"), primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), primary_key=True)
    linked_by: Mapped[str] = mapped_column(String(16), default="manual")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ListedProblemEvent(db.Model):
    """One step of a listed problem (list, update, request_delisting, delist, reopen); never changed."""

    __tablename__ = "listed_problem_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("listed_problem.id"), index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    problem: Mapped[ListedProblem] = relationship(back_populates="events")
    photos: Mapped[list[Photo]] = relationship(order_by=Photo.position)


class ChecklistItem(db.Model):
    """One item of the inspection checklist of a point kind (e.g. 农贸市场: 地面清洁), and the
    category of the case a failure opens. Configurable: loaded from data, editable by admins."""

    __tablename__ = "checklist_item"
    __table_args__ = (UniqueConstraint("point_kind", "code", name="uq_checklist_item_point_kind_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    point_kind: Mapped[str] = mapped_column(String(24))
    code: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(64))
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"))
    position: Mapped[int] = mapped_column(SmallInteger, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class InspectionPoint(db.Model):
    """A fixed point under regular inspection (点位: 农贸市场, 背街小巷, 主要路口, 公厕 …), its
    responsible unit and how often it must be inspected."""

    __tablename__ = "inspection_point"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(24), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    grid_code: Mapped[str | None] = mapped_column(ForeignKey("grid_cell.code"))
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    every_days: Mapped[int] = mapped_column(Integer, default=7)  # inspection rhythm: at most this many days apart
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_inspected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped["Unit | None"] = relationship()  # noqa: F821


class Inspection(db.Model):
    """One inspection of a point (possibly unannounced, 暗访), with a verdict per checklist item."""

    __tablename__ = "inspection"
    __table_args__ = (Index("ix_inspection_point_id_inspected_at", "point_id", "inspected_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("inspection_point.id"))
    inspector_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    unannounced: Mapped[bool] = mapped_column(Boolean, default=True)
    inspected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    passed: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)

    point: Mapped[InspectionPoint] = relationship()
    items: Mapped[list["InspectionItem"]] = relationship(order_by="InspectionItem.id", lazy="selectin")


class InspectionItem(db.Model):
    """One checklist item's verdict in an inspection; a failure opens a case (``report_id``)."""

    __tablename__ = "inspection_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(64))  # the item's label when asked (admins may rename it later)
    passed: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"), index=True)

    photos: Mapped[list[Photo]] = relationship(order_by=Photo.position)
    report: Mapped["Report | None"] = relationship()  # noqa: F821


@event.listens_for(WhistleEvent, "before_update")
@event.listens_for(WhistleEvent, "before_delete")
@event.listens_for(ListedProblemEvent, "before_update")
@event.listens_for(ListedProblemEvent, "before_delete")
@event.listens_for(Inspection, "before_update")
@event.listens_for(Inspection, "before_delete")
@event.listens_for(InspectionItem, "before_update")
@event.listens_for(InspectionItem, "before_delete")
def _refuse_record_change(mapper, connection, target):
    raise RuntimeError(f"{mapper.persist_selectable.name} rows are append-only")
