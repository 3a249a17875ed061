"""Who may do what in the co-building layer: the one place for its rules.

- The campaign office (创建办) is a ``supervisor`` or ``admin``: it issues tasks, reviews
  declarations, keeps partnerships, teams and leader links. A supervisor with areas is kept to
  communities inside them, as for cases (``accounts.access``).
- ``community_staff`` act for exactly one community (their one 12-digit area, which
  ``accounts.auth.check_role`` requires of the account): they declare its
  tasks, keep its 实事清单 and meetings, take and dispatch its needs orders.
- A ``volunteer`` acts for his team (``user.team_id``) on the orders dispatched to it.
- A ``leader`` reads everything; his linked areas (``LeaderLink``) are listed first.
"""

from sqlalchemy import false, or_, true

from civicreport.accounts.access import bounding_areas, require_roles
from civicreport.errors import Forbidden

OFFICE_ROLES = ("supervisor", "admin")
COMMUNITY_ROLES = ("community_staff",)
READER_ROLES = (*OFFICE_ROLES, "leader", *COMMUNITY_ROLES)


def community_of(user):
    """The community a ``community_staff`` user acts for; None for any other role."""
    if user is None or user.role != "community_staff":
        return None
    return next((code for code in user.area_codes if len(code) == 12), None)


def covers_community(user, community_code):
    """Whether ``user`` may act on or read ``community_code``'s co-building records."""
    if user.role == "community_staff":
        return community_of(user) == community_code
    areas = bounding_areas(user)
    # An area covers a community when it contains it (district, street or the community itself);
    # a grid cell is part of a community, not the whole of it.
    return not areas or any(community_code.startswith(code) for code in areas)


def community_scope(user, column):
    """SQL condition on a community-code ``column``: the rows ``covers_community`` lets ``user``
    read, so every list filters in the query what a single read checks row by row."""
    if user.role == "community_staff":
        own = community_of(user)
        return column == own if own else false()
    areas = [code for code in bounding_areas(user) if len(code) <= 12]  # a grid cell covers none
    if not bounding_areas(user):
        return true()
    return or_(false(), *(column.startswith(code, autoescape=True) for code in areas))


def require_community(user, community_code, roles=READER_ROLES):
    """401/403 unless ``user`` has one of ``roles`` and covers ``community_code``."""
    require_roles(user, roles)
    if not covers_community(user, community_code):
        raise Forbidden(
            "无权处理该社区的共建事项",
            code="community_not_covered",
            details={"community_code": community_code},
        )
