"""Tables of the co-building layer: who builds with which community, what they agreed to do,
what each community declared each month, residents' needs orders, and the settled rankings.

Links that change over time (a community's partners, a leader's areas) are dated rows, never
updated in place beyond closing them (``ends_on``), so a past month's 月通报 still names the
partner and leader it had then. Timelines (declarations, orders, 实事清单 progress) are
append-only like ``report_event``.
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


class Partnership(db.Model):
    """A unit building with a community (社区文明共建) from ``starts_on`` until ``ends_on`` (exclusive);
    one ``lead`` (牵头单位) per community at a time, any number of ``member`` units."""

    __tablename__ = "cobuild_partnership"
    __table_args__ = (Index("ix_cobuild_partnership_community_code_starts_on", "community_code", "starts_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    role: Mapped[str] = mapped_column(String(8))  # status.PARTNER_ROLES
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped["Unit"] = relationship()  # noqa: F821
    community: Mapped["Community"] = relationship()  # noqa: F821


class LeaderLink(db.Model):
    """A district leader's 联系点 (责任包干): a street (9 digits) or community (12) he answers for."""

    __tablename__ = "cobuild_leader_link"
    __table_args__ = (Index("ix_cobuild_leader_link_area_code", "area_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    area_code: Mapped[str] = mapped_column(String(12))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped["User"] = relationship()  # noqa: F821


class VolunteerTeam(db.Model):
    """A volunteer team (志愿服务队) of a community or of a partner unit; its members are users
    with role ``volunteer`` and this ``team_id``."""

    __tablename__ = "volunteer_team"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    community_code: Mapped[str | None] = mapped_column(ForeignKey("community.code"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped["Community | None"] = relationship()  # noqa: F821
    unit: Mapped["Unit | None"] = relationship()  # noqa: F821
    # Read-only: a volunteer joins or leaves through his account (user_account.team_id).
    members: Mapped[list["User"]] = relationship(viewonly=True, order_by="User.name")  # noqa: F821


class Photo(db.Model):
    """A photo of the co-building layer, uploaded through the media pipeline (``POST /media``) and
    attached to exactly one declaration step, 实事清单 progress note or order step."""

    __tablename__ = "cobuild_photo"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN declaration_event_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN matter_note_id IS NULL "
            "THEN 0 ELSE 1 END) + (CASE WHEN order_event_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_subject",
        ),
    )

    media_id: Mapped[str] = mapped_column(ForeignKey("media.id"), primary_key=True)
    declaration_event_id: Mapped[int | None] = mapped_column(ForeignKey("cobuild_declaration_event.id"), index=True)
    matter_note_id: Mapped[int | None] = mapped_column(ForeignKey("cobuild_matter_note.id"), index=True)
    order_event_id: Mapped[int | None] = mapped_column(ForeignKey("need_order_event.id"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger, default=0)

    media: Mapped["Media"] = relationship()  # noqa: F821


class Meeting(db.Model):
    """A 联席会议 of a community and its partners: who came and what was agreed (minutes)."""

    __tablename__ = "cobuild_meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(128))
    minutes: Mapped[str] = mapped_column(Text, default="")
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    attendees: Mapped[list["MeetingAttendee"]] = relationship(cascade="all, delete-orphan")


class MeetingAttendee(db.Model):
    __tablename__ = "cobuild_meeting_attendee"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("cobuild_meeting.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)

    unit: Mapped["Unit"] = relationship()  # noqa: F821


class Matter(db.Model):
    """One item of a community's 实事清单: a problem a partner unit takes on, by a deadline."""

    __tablename__ = "cobuild_matter"
    __table_args__ = (Index("ix_cobuild_matter_unit_id_status", "unit_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("cobuild_meeting.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    title: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")  # status.MATTER_STATES
    result: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    unit: Mapped["Unit"] = relationship()  # noqa: F821
    meeting: Mapped["Meeting | None"] = relationship()
    notes: Mapped[list["MatterNote"]] = relationship(back_populates="matter", order_by="MatterNote.id")


class MatterNote(db.Model):
    """A progress note on a 实事清单 item (备案), with the status it moved to; never changed."""

    __tablename__ = "cobuild_matter_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("cobuild_matter.id"), index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    matter: Mapped[Matter] = relationship(back_populates="notes")
    actor: Mapped["User | None"] = relationship()  # noqa: F821
    photos: Mapped[list[Photo]] = relationship(order_by=Photo.position)


class Task(db.Model):
    """A monthly task of the campaign office (月初安排), from an evaluation indicator, for every
    community (``all_communities``) or those in ``task_community``."""

    __tablename__ = "cobuild_task"
    __table_args__ = (Index("ix_cobuild_task_month", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    title: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    indicator: Mapped[str | None] = mapped_column(String(32))  # 测评体系指标 code
    points: Mapped[float] = mapped_column(Float)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    all_communities: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    communities: Mapped[list["TaskCommunity"]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class TaskCommunity(db.Model):
    __tablename__ = "cobuild_task_community"

    task_id: Mapped[int] = mapped_column(ForeignKey("cobuild_task.id", ondelete="CASCADE"), primary_key=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), primary_key=True)


class Declaration(db.Model):
    """A community's month-end declaration (月底申报) of one task: one row per task and community,
    re-submitted in place after a return; its steps are ``cobuild_declaration_event``."""

    __tablename__ = "cobuild_declaration"
    __table_args__ = (UniqueConstraint("task_id", "community_code", name="uq_cobuild_declaration_task_id_community"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("cobuild_task.id"))
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="submitted")  # status.DECLARATION_STATES
    text: Mapped[str] = mapped_column(Text)
    submitted_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    first_submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    late: Mapped[bool] = mapped_column(Boolean, default=False)  # first submitted after the task's due time
    returns: Mapped[int] = mapped_column(Integer, default=0)
    resubmit_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[float | None] = mapped_column(Float)
    reviewed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str | None] = mapped_column(Text)
    evidence_flags: Mapped[list | None] = mapped_column(JSON)  # photo outside the month or the community
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    task: Mapped[Task] = relationship()
    events: Mapped[list["DeclarationEvent"]] = relationship(
        back_populates="declaration", order_by="DeclarationEvent.id"
    )


class DeclarationEvent(db.Model):
    """One step of a declaration (submit, return, resubmit, accept); rows are never changed."""

    __tablename__ = "cobuild_declaration_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[int] = mapped_column(ForeignKey("cobuild_declaration.id"), index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    declaration: Mapped[Declaration] = relationship(back_populates="events")
    photos: Mapped[list[Photo]] = relationship(order_by=Photo.position)


class Card(db.Model):
    """A 红黄牌 warning to a community for a month, with why (status.CARD_REASONS) and, for a
    task-level reason, the task. Issued when the month's declarations are judged; never changed."""

    __tablename__ = "cobuild_card"
    __table_args__ = (Index("ix_cobuild_card_month_community_code", "month", "community_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"))
    color: Mapped[str] = mapped_column(String(8))  # status.CARDS
    reason: Mapped[str] = mapped_column(String(16))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("cobuild_task.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CardMonth(db.Model):
    """A month whose 红黄牌 are judged (``cobuilding.cards.judge``): inserted before its cards, in
    the same transaction, so a month is judged once even when the worker and a ranking race."""

    __tablename__ = "cobuild_card_month"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    judged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NeedOrder(db.Model):
    """A resident's need (急难愁盼) taken as an order (点单), dispatched to a volunteer team or a
    partner unit (派单), served (接单, 完成) and rated by the resident (评单)."""

    __tablename__ = "need_order"
    __table_args__ = (
        Index("ix_need_order_community_code_created_at", "community_code", "created_at"),
        Index("ix_need_order_team_id_status", "team_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    description: Mapped[str] = mapped_column(Text)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"))
    status: Mapped[str] = mapped_column(String(16), default="submitted")  # status.ORDER_STATES
    team_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_team.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    contact: Mapped[str | None] = mapped_column(String(128))
    receipt_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    device_id: Mapped[str | None] = mapped_column(String(64))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # staff 代点单
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # cobuilding.order_deadlines: when the running clock warns, and what the worker has sent of it
    warning_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warning_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    service_hours: Mapped[float | None] = mapped_column(Float)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    community: Mapped["Community"] = relationship()  # noqa: F821
    team: Mapped[VolunteerTeam | None] = relationship()
    unit: Mapped["Unit | None"] = relationship()  # noqa: F821
    events: Mapped[list["NeedOrderEvent"]] = relationship(back_populates="order", order_by="NeedOrderEvent.id")


class NeedOrderEvent(db.Model):
    """One step of a needs order's timeline; rows are never changed."""

    __tablename__ = "need_order_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("need_order.id"), index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    order: Mapped[NeedOrder] = relationship(back_populates="events")
    photos: Mapped[list[Photo]] = relationship(order_by=Photo.position)


class RankingMonth(db.Model):
    """A month whose community ranking is settled in ``cobuild_ranking``: read from then on."""

    __tablename__ = "cobuild_ranking_month"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    weights: Mapped[dict] = mapped_column(JSON)  # the weights it was settled with
    settled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RankingRow(db.Model):
    """One community's settled month (社区月度排名): its score, each weighted part (0–100, None when
    the part had nothing to measure) with the figures behind it, rank, flag and card."""

    __tablename__ = "cobuild_ranking"

    month: Mapped[date] = mapped_column(ForeignKey("cobuild_ranking_month.month"), primary_key=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), primary_key=True)
    score: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
    case_part: Mapped[float | None] = mapped_column(Float)
    task_part: Mapped[float | None] = mapped_column(Float)
    matter_part: Mapped[float | None] = mapped_column(Float)
    order_part: Mapped[float | None] = mapped_column(Float)
    figures: Mapped[dict] = mapped_column(JSON)
    flag: Mapped[str | None] = mapped_column(String(8))  # status.FLAGS
    card: Mapped[str | None] = mapped_column(String(8))  # status.CARDS


@event.listens_for(DeclarationEvent, "before_update")
@event.listens_for(DeclarationEvent, "before_delete")
@event.listens_for(NeedOrderEvent, "before_update")
@event.listens_for(NeedOrderEvent, "before_delete")
@event.listens_for(MatterNote, "before_update")
@event.listens_for(MatterNote, "before_delete")
def _refuse_timeline_change(mapper, connection, target):
    raise RuntimeError(f"{mapper.persist_selectable.name} rows are append-only")
