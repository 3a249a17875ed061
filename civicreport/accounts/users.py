"""Staff accounts after creation: role, unit, areas and deactivation (the admin API and CLI)."""

import logging

from sqlalchemy import func, select, update

from civicreport.accounts.auth import check_role, known_unit, user_named
from civicreport.accounts.models import ApiToken, User, UserArea
from civicreport.db_types import utcnow
from civicreport.errors import Conflict, ValidationFailed
from civicreport.extensions import db
from civicreport.reference.areas import Community, District, GridCellArea, Street

log = logging.getLogger(__name__)

_AREA_TABLES = {6: District, 9: Street, 12: Community, 15: GridCellArea}


def split_area_codes(values):
    """``--area`` values, each one code or several separated by commas, as one list."""
    return [code.strip() for value in values for code in value.split(",") if code.strip()]


def known_area_codes(codes):
    """``codes`` without repeats; 422 ``unknown_area`` naming every code that is not a loaded
    district (6 digits), street (9), community (12) or grid cell (15)."""
    codes = list(dict.fromkeys(codes))
    unknown = [code for code in codes if not _area_exists(code)]
    if unknown:
        raise ValidationFailed(
            "片区编码无效：须为已导入的区（6 位）、街道（9 位）、社区（12 位）或网格（15 位）编码",
            code="unknown_area",
            details={"areas": unknown},
        )
    return codes


def _area_exists(code):
    table = _AREA_TABLES.get(len(code)) if code.isdigit() else None
    return table is not None and db.session.get(table, code) is not None


def set_areas(user, codes):
    """Replace the user's areas (already checked by ``known_area_codes``)."""
    user.areas = [UserArea(code=code) for code in codes]


def list_users(role=None, active=None):
    query = select(User).order_by(User.name)
    if role:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.active.is_(active))
    return db.session.scalars(query).all()


def update_user(name, changes, by=None):
    """Apply ``changes`` (role, unit, areas, team_id, active, display_name) to the user named ``name``.

    The role is checked with the account as it will be (``check_role``); a volunteer who takes
    another role leaves his team. Deactivating revokes every live token at once. Raises NotFound(user_not_found),
    ValidationFailed (unknown_role, unknown_unit, unit_required, community_required,
    team_required, team_for_volunteers, unknown_area) and Conflict(last_admin) when no active admin would be left.
    """
    user = user_named(name)
    role = changes.get("role", user.role)
    if "unit" in changes:
        user.unit = known_unit(changes["unit"])
    areas = known_area_codes(changes["areas"]) if "areas" in changes else user.area_codes
    team_id = changes.get("team_id", user.team_id if role == "volunteer" else None)
    check_role(role, user.unit, areas, team_id)
    if "areas" in changes:
        set_areas(user, areas)
    user.team_id = team_id
    _keep_an_admin(user, role, changes.get("active", user.active))
    user.role = role
    user.display_name = changes.get("display_name") or user.display_name
    if changes.get("active") is False and user.active:
        _revoke_tokens(user)
    user.active = changes.get("active", user.active)
    db.session.commit()
    log.info("user %s changed by %s: %s", name, by.name if by else "cli", sorted(changes))
    return user


def _keep_an_admin(user, role, active):
    if user.role != "admin" or (role == "admin" and active):
        return
    others = db.session.scalar(
        select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True), User.id != user.id)
    )
    if not others:
        raise Conflict("不能停用或降级最后一个管理员", code="last_admin")


def _revoke_tokens(user):
    db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow())
    )
