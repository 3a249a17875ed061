"""Who is acting: a logged-in user, a citizen holding a report's receipt, or nobody."""
from dataclasses import dataclass

from ..errors import Forbidden, Unauthorized
from ..models import User
from .auth import receipt_matches

REPORTER = "reporter"  # pseudo-role: the citizen who filed this report
PRIVATE_READERS = ("supervisor", "leader", "admin")


@dataclass(frozen=True)
class Actor:
    user: User | None = None
    receipt_report_id: int | None = None

    @property
    def role(self):
        return self.user.role if self.user else "citizen"

    @property
    def is_staff(self):
        return bool(self.user and self.user.is_staff)

    def roles_for(self, report):
        """The actor's roles on ``report``: its own role, plus ``reporter`` if it filed it."""
        roles = {self.role} if self.user else set()
        if self.receipt_report_id == report.id or (self.user and report.reporter_user_id == self.user.id):
            roles.add(REPORTER)
        return roles

    def in_unit(self, unit_id):
        return bool(self.user and self.user.unit_id == unit_id)

    def sees_private(self, report):
        """Contact details and originals: the centre's staff, and the unit the case was
        dispatched to (a unit that routing merely suggests may never get it)."""
        if self.user is None:
            return False
        if self.user.role == "unit_staff":
            return report.dispatched_at is not None and self.in_unit(report.unit_id)
        return self.user.role in PRIVATE_READERS


def actor_for(user, report=None, receipt=None):
    """Build the actor; a receipt only counts for the report it was issued for."""
    if report is not None and receipt and receipt_matches(report, receipt):
        return Actor(user, report.id)
    return Actor(user)


def require_roles(user, roles):
    """401 without a user, 403 when the user's role is not one of ``roles``."""
    if user is None:
        raise Unauthorized()
    if user.role not in roles:
        raise Forbidden(details={"role": user.role, "allowed_roles": sorted(roles)})
    return user
