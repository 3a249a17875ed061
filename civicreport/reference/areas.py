"""The area hierarchy: district → street → community → grid cell."""

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civicreport.extensions import db


class District(db.Model):
    __tablename__ = "district"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))

    streets: Mapped[list["Street"]] = relationship(back_populates="district")


class Street(db.Model):
    """A 街道 or 镇 with its 9-digit code; its 属地 unit takes whatever no rule routes."""

    __tablename__ = "street"

    code: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"), index=True)
    territorial_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))

    district: Mapped[District] = relationship(back_populates="streets")
    territorial_unit: Mapped["Unit | None"] = relationship()  # noqa: F821
    communities: Mapped[list["Community"]] = relationship(back_populates="street")


class Community(db.Model):
    """A 社区 or 村 with its 12-digit code; boundary is WGS-84 GeoJSON text."""

    __tablename__ = "community"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    street_code: Mapped[str] = mapped_column(ForeignKey("street.code"), index=True)
    boundary: Mapped[str | None] = mapped_column(Text, deferred=True)  # large; no view reads it

    street: Mapped[Street] = relationship(back_populates="communities")
    cells: Mapped[list["GridCellArea"]] = relationship(back_populates="community")


class GridCellArea(db.Model):
    """A 15-digit 网格 (community code + 3 digits), ~10,000 m², WGS-84 GeoJSON polygon."""

    __tablename__ = "grid_cell"

    code: Mapped[str] = mapped_column(String(15), primary_key=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), index=True)
    boundary: Mapped[str] = mapped_column(Text)
    centroid_lat: Mapped[float] = mapped_column(Float)
    centroid_lon: Mapped[float] = mapped_column(Float)
    area_m2: Mapped[float | None] = mapped_column(Float)

    community: Mapped[Community] = relationship(back_populates="cells")
