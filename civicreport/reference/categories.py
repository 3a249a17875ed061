"""Report categories (GB/T 47678.5 codes plus local ``L`` codes) and routing rules."""

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civicreport.extensions import db

CATEGORY_GROUPS = {"component": "部件", "event": "事件", "behaviour": "文明行为"}
URGENCIES = ("urgent", "pressing", "normal")
PRIORITY = {"urgent": 3, "pressing": 2, "normal": 1}  # report.priority, higher first
AREA_LEVELS = ("district", "street", "community", "grid")


class Category(db.Model):
    __tablename__ = "category"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128))
    group: Mapped[str] = mapped_column(String(16), index=True)
    major_code: Mapped[str] = mapped_column(String(4), index=True)
    major_name: Mapped[str] = mapped_column(String(32))
    standard: Mapped[bool] = mapped_column(Boolean)
    default_unit_kind: Mapped[str] = mapped_column(String(32))
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    deadline_hours: Mapped[int] = mapped_column(Integer)
    keywords: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RoutingRule(db.Model):
    """(category | major class | group | any) × (district | street | community | grid) → unit.

    At most one of the three category fields is set; none means any category.
    """

    __tablename__ = "routing_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_code: Mapped[str | None] = mapped_column(ForeignKey("category.code"))
    category_major: Mapped[str | None] = mapped_column(String(4))
    category_group: Mapped[str | None] = mapped_column(String(16))
    area_level: Mapped[str] = mapped_column(String(16))
    area_code: Mapped[str] = mapped_column(String(15), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(String(256))

    unit: Mapped["Unit"] = relationship()  # noqa: F821
