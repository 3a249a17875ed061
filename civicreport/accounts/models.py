"""Units that fix things, the people who use the system, and their API tokens."""

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civicreport.db_types import UTCDateTime, utcnow
from civicreport.extensions import db

if TYPE_CHECKING:
    from civicreport.reference.areas import District

ROLES = ("citizen", "monitor", "supervisor", "unit_staff", "leader", "admin", "community_staff", "volunteer")
# Volunteers serve needs orders of their team only: they are no staff of the case system.
STAFF_ROLES = ("monitor", "supervisor", "unit_staff", "leader", "admin", "community_staff")

UNIT_KINDS = {
    "urban_management": "城管",
    "traffic_police": "交巡警",
    "sanitation": "环卫",
    "market_regulation": "市场监管",
    "power_supply": "供电",
    "municipal": "市政",
    "landscaping": "园林绿化",
    "water": "水务",
    "street_office": "街道/镇",
    "community": "社区",
    "government_office": "机关单位",  # partner units of 社区文明共建, e.g. 区人大办公室
    "public_institution": "事业单位",
    "enterprise": "企业",
    "other": "其他",
}
DELIVERY_METHODS = ("log", "webhook", "email")


class Unit(db.Model):
    """A 处置部门 / 责任单位; how it is notified is kept apart from what it handles."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"))
    # Also what makes a flush insert a new district before its units: without a relationship the
    # unit of work orders classes by module path, and accounts/ sorts before reference/.
    district: Mapped["District"] = relationship()
    delivery_method: Mapped[str] = mapped_column(String(16), default="log")
    delivery_target: Mapped[str | None] = mapped_column(String(512))
    delivery_secret: Mapped[str | None] = mapped_column(String(128))
    contact_person: Mapped[str | None] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class User(db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    # A volunteer's team (cobuilding.models.VolunteerTeam); named by table so accounts stays below cobuilding.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_team.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit | None] = relationship()
    areas: Mapped[list["UserArea"]] = relationship(
        cascade="all, delete-orphan", order_by="UserArea.code", lazy="selectin"
    )

    @property
    def is_staff(self):
        return self.role in STAFF_ROLES

    @property
    def area_codes(self):
        """Codes of the streets, communities or grid cells this user patrols; empty: district-wide."""
        return [area.code for area in self.areas]


class UserArea(db.Model):
    """One area a supervisor or monitor answers for: a 6-digit district, 9-digit street,
    12-digit community or 15-digit grid code (the level is the code's length)."""

    __tablename__ = "user_area"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(15), primary_key=True)


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
