"""The working calendar: holidays and swapped working days (调休) that deadlines count by."""

from datetime import date

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from civicreport.extensions import db


class CalendarDay(db.Model):
    """Admin-edited override of the working calendar: a holiday or a 调休 working day."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str | None] = mapped_column(String(64))
