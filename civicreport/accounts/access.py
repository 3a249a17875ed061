"""Who is acting, and what of a case they may see or change: the one place for case access.

Three rules decide every private read (contact, originals, the full timeline) and every
change of a case:

- role: the workflow table names the roles of each transition; contact details and
  originals go to the centre (``PRIVATE_READERS``) and to the unit a case was dispatched to;
- unit: unit staff act on and read their own unit's cases only, from 派遣 on;
- area: a supervisor or monitor with areas (streets, communities, grid cells) is kept to
  cases inside them; without areas they are district-wide. Leaders and admins always are.

The queue and the unit worklists filter with ``case_scope``, the same rule as SQL.
"""

from dataclasses import dataclass

from sqlalchemy import false, or_

from civicreport.accounts.auth import receipt_matches
from civicreport.accounts.models import User
from civicreport.cases.models import Report
from civicreport.errors import Forbidden, Unauthorized

REPORTER = "reporter"  # pseudo-role: the citizen who filed this report
PRIVATE_READERS = ("supervisor", "leader", "admin")
AREA_BOUND = ("supervisor", "monitor")
QUEUE_ROLES = ("supervisor", "monitor", "leader", "admin", "unit_staff")
# The level of an area is the length of its code (GB/T 10114 and the grid standard).
AREA_LEVELS = {6: "district_code", 9: "street_code", 12: "community_code", 15: "grid_code"}


def bounding_areas(user):
    """The area codes that bound ``user``; empty when nothing does (district-wide)."""
    return user.area_codes if user is not None and user.role in AREA_BOUND else []


def in_areas(codes, report):
    """Whether ``report`` lies in one of ``codes``; True for no codes at all."""
    return not codes or any(getattr(report, AREA_LEVELS[len(code)]) == code for code in codes)


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

    def covers(self, report):
        """False when the user's areas leave ``report`` out."""
        return in_areas(bounding_areas(self.user), report)

    def roles_for(self, report):
        """The actor's roles on ``report``: its own role where its areas reach the case,
        plus ``reporter`` if it filed it (a monitor keeps that outside its areas)."""
        roles = {self.role} if self.user and self.covers(report) else set()
        if self.receipt_report_id == report.id or (self.user and report.reporter_user_id == self.user.id):
            roles.add(REPORTER)
        return roles

    def in_unit(self, unit_id):
        return bool(self.user and self.user.unit_id == unit_id)

    def sees_private(self, report):
        """Contact details, originals and the full timeline: the centre's staff whose areas
        reach the case, and the unit it was dispatched to (a unit that routing merely
        suggests may never get it)."""
        if self.user is None or not self.covers(report):
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


def require_in_area(actor, report):
    """403 ``outside_area`` when the actor's areas leave the case out."""
    if not actor.covers(report):
        raise Forbidden(
            "该案件不在您负责的片区内",
            code="outside_area",
            details={"id": report.public_id, "areas": bounding_areas(actor.user)},
        )


def require_private(actor, report):
    """401 without a user; 403 unless the actor may see the case's private side."""
    if actor.user is None and actor.receipt_report_id is None:
        raise Unauthorized("请登录后查看", code="login_required")
    require_in_area(actor, report)
    if not actor.sees_private(report):
        raise Forbidden("无权查看该案件的非公开内容", code="private_to_case_staff", details={"id": report.public_id})


def case_scope(user):
    """SQL conditions on Report for the cases ``user`` may list (queue, worklists).

    Raises Forbidden for roles without a case list.
    """
    if user.role == "unit_staff":  # the unit's cases from 派遣 on, not those routing merely suggests
        return [Report.unit_id == user.unit_id, Report.dispatched_at.is_not(None)]
    if user.role not in QUEUE_ROLES:
        raise Forbidden("当前角色无权查看案件队列", code="role_not_allowed")
    codes = bounding_areas(user)
    if not codes:
        return []
    return [or_(false(), *(getattr(Report, AREA_LEVELS[len(code)]) == code for code in codes))]
