"""Failed-attempt counters for secrets that can be guessed: passwords and receipt tokens."""
from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicreport.extensions import db
from civicreport.models.types import UTCDateTime


class Throttle(db.Model):
    """One counter per (scope, key), e.g. ``("login_account", "user:7")`` or ``("receipt_ip", "10.0.0.7")``.

    Kept in the database, not in a process, so that every gunicorn worker counts the same
    failures; services.throttle holds the policy.
    """

    __tablename__ = "throttle"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_throttle_scope_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(128))
    failures: Mapped[int] = mapped_column(Integer, default=0)  # in the window that began at window_start
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    lockouts: Mapped[int] = mapped_column(Integer, default=0)  # in a row: each doubles the next lock
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
