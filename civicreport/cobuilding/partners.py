"""Who builds with which community, which leader answers for which area, and the volunteer teams.

Definitions (days are local dates in ``TIMEZONE``)
    in force        a partnership or leader link is in force on day ``d`` when
                    ``starts_on <= d`` and (``ends_on`` is None or ``d < ends_on``): ``ends_on``
                    is the first day it no longer holds.
    one lead        a community has at most one lead partner (牵头共建单位) in force on any day.
                    Adding a lead from day ``s`` ends the lead in force on ``s`` with
                    ``ends_on = s`` (its last day is the day before). A lead cannot start on or
                    before the start of a lead already recorded: history is extended, never
                    rewritten.
    members         any number of member partners (成员共建单位); a unit holds at most one
                    partnership (lead or member) of a community on any day.
    leader links    a ``leader`` account and a street (9 digits) or community (12): his 联系点;
                    at most one link of a leader to an area on any day. He answers for a
                    community he is linked to or whose street he is linked to.
    teams           a volunteer team (志愿服务队) belongs to a community, and may be a partner
                    unit's; its members are the ``volunteer`` accounts with its ``team_id``.

Nothing is deleted: ending a link sets ``ends_on``, so a past month's 月通报 still names the
partner and the leader it had then. ``by`` is the acting account (None from the CLI: the
operator), held to the office's roles and areas by ``cobuilding.access``.
"""

from sqlalchemy import or_, select

from civicreport import registry
from civicreport.accounts.auth import known_unit, user_named
from civicreport.accounts.models import Unit, User
from civicreport.cobuilding.access import (
    OFFICE_ROLES,
    READER_ROLES,
    community_of,
    community_scope,
    require_community,
)
from civicreport.cobuilding.models import LeaderLink, Partnership, VolunteerTeam
from civicreport.cobuilding.status import PARTNER_ROLES
from civicreport.db_types import utcnow
from civicreport.errors import Conflict, NotFound, ValidationFailed
from civicreport.extensions import db
from civicreport.reference.areas import Community, Street

LEADER_AREA_LEVELS = {9: Street, 12: Community}


def today():
    """The local date now: the day a link added without a date starts on."""
    return utcnow().astimezone(registry.current().zone).date()


def in_force(model, day):
    """SQL condition: a Partnership or LeaderLink row holds on ``day``."""
    return (model.starts_on <= day) & (or_(model.ends_on.is_(None), model.ends_on > day))


def known_community(code):
    """The community with this 12-digit code; 422 ``unknown_community`` otherwise."""
    community = db.session.get(Community, code) if code else None
    if community is None:
        raise ValidationFailed("社区不存在", code="unknown_community", details={"community": code})
    return community


def _check(by, community_code, roles=OFFICE_ROLES):
    if by is not None:
        require_community(by, community_code, roles)


# --- partnerships -----------------------------------------------------------------------------


def add_partnership(community_code, unit_code, role, starts_on=None, *, by=None):
    """Pair ``unit_code`` with a community from ``starts_on`` (default today); a new lead ends
    the lead in force that day (see the module's definitions). 422 for an unknown community,
    unit or role; 409 ``already_partner`` or ``lead_history``."""
    community = known_community(community_code)
    _check(by, community.code)
    unit = _partner_unit(unit_code)
    if role not in PARTNER_ROLES:
        raise ValidationFailed("共建角色无效", code="unknown_partner_role", details={"roles": list(PARTNER_ROLES)})
    starts_on = starts_on or today()
    _refuse_overlap(community.code, unit, starts_on)
    if role == "lead":
        _end_lead(community.code, starts_on)
    row = Partnership(community_code=community.code, unit_id=unit.id, role=role, starts_on=starts_on)
    db.session.add(row)
    db.session.commit()
    return row


def _partner_unit(code):
    unit = known_unit(code)
    if unit is None or not unit.active:
        raise ValidationFailed("共建单位须为启用的单位", code="unknown_unit", details={"unit": code})
    return unit


def _refuse_overlap(community_code, unit, starts_on):
    held = db.session.scalar(
        select(Partnership).where(
            Partnership.community_code == community_code,
            Partnership.unit_id == unit.id,
            or_(Partnership.ends_on.is_(None), Partnership.ends_on > starts_on),
        )
    )
    if held is not None:
        raise Conflict(
            "该单位在此期间已是本社区的共建单位",
            code="already_partner",
            details={"partnership_id": held.id, "role": held.role, "starts_on": held.starts_on.isoformat()},
        )


def _end_lead(community_code, starts_on):
    leads = db.session.scalars(
        select(Partnership).where(Partnership.community_code == community_code, Partnership.role == "lead")
    ).all()
    later = [lead for lead in leads if lead.starts_on >= starts_on]
    if later:
        raise Conflict(
            "新的牵头单位须晚于已登记的牵头单位开始",
            code="lead_history",
            details={"starts_on": max(lead.starts_on for lead in later).isoformat()},
        )
    for lead in leads:
        if lead.ends_on is None or lead.ends_on > starts_on:
            lead.ends_on = starts_on


def end_partnership(partnership_id, ends_on=None, *, by=None):
    """End a partnership: ``ends_on`` (default today) is its first day out of force."""
    row = db.session.get(Partnership, partnership_id)
    if row is None:
        raise NotFound("共建关系不存在", code="partnership_not_found", details={"id": partnership_id})
    _check(by, row.community_code)
    _close(row, ends_on or today())
    db.session.commit()
    return row


def _close(row, ends_on):
    if row.ends_on is not None:
        raise Conflict("已经结束", code="already_ended", details={"ends_on": row.ends_on.isoformat()})
    if ends_on <= row.starts_on:
        raise ValidationFailed(
            "结束日期须晚于开始日期", code="ends_before_start", details={"starts_on": row.starts_on.isoformat()}
        )
    row.ends_on = ends_on


def partnerships(community_code=None, unit_code=None, as_of=None, *, history=False, by=None):
    """Partnerships in force on ``as_of`` (default today), leads first; every row, newest first,
    with ``history``. Community staff read their own community's only."""
    query = select(Partnership).join(Partnership.unit).where(*_scoped(by, Partnership.community_code))
    community_code = _readable_community(by, community_code)
    if community_code:
        query = query.where(Partnership.community_code == community_code)
    if unit_code:
        query = query.where(Unit.code == unit_code)
    if history:
        return db.session.scalars(query.order_by(Partnership.starts_on.desc(), Partnership.id.desc())).all()
    query = query.where(in_force(Partnership, as_of or today()))
    return db.session.scalars(
        query.order_by(Partnership.community_code, Partnership.role != "lead", Partnership.starts_on)
    ).all()


def communities_of(unit_code, as_of=None):
    """A partner unit's partnerships in force on ``as_of`` (default today), by community;
    404 ``unit_not_found``."""
    if db.session.scalar(select(Unit.id).where(Unit.code == unit_code)) is None:
        raise NotFound("单位不存在", code="unit_not_found", details={"unit": unit_code})
    return partnerships(unit_code=unit_code, as_of=as_of)


def _scoped(by, column):
    """The list condition of ``by``'s communities (none for the CLI, which reads everything)."""
    return () if by is None else (community_scope(by, column),)


def _readable_community(by, community_code):
    """The community ``by`` may read: his own for community staff (403 for another)."""
    own = community_of(by)
    if own is not None:
        require_community(by, community_code or own, READER_ROLES)
        return own
    return community_code


def partner_units(community_code, day):
    """Units partnering with the community on ``day``, by id."""
    return {
        row.unit_id: row.unit
        for row in db.session.scalars(
            select(Partnership).where(Partnership.community_code == community_code, in_force(Partnership, day))
        )
    }


def check_partners(community_code, unit_codes, day):
    """The units of ``unit_codes``, each a partner of the community on ``day``; 422 ``unknown_unit``
    or ``not_a_partner`` naming the codes that are not."""
    units = [known_unit(code) for code in dict.fromkeys(unit_codes)]
    partners = partner_units(community_code, day)
    strangers = [unit.code for unit in units if unit.id not in partners]
    if strangers:
        raise ValidationFailed(
            "不是该社区当日的共建单位",
            code="not_a_partner",
            details={"units": strangers, "community": community_code, "day": day.isoformat()},
        )
    return units


# --- leader links -----------------------------------------------------------------------------


def link_leader(user_name, area_code, starts_on=None, *, by=None):
    """Link a leader to a street or community (his 联系点) from ``starts_on`` (default today).
    404 ``user_not_found``; 422 ``not_a_leader``, ``leader_area_level`` or ``unknown_area``;
    409 ``already_linked``."""
    user = user_named(user_name)
    if user.role != "leader":
        raise ValidationFailed("只能为区级领导账号设置联系点", code="not_a_leader", details={"role": user.role})
    _leader_area(area_code)
    _check(by, area_code)
    starts_on = starts_on or today()
    held = db.session.scalar(
        select(LeaderLink).where(
            LeaderLink.user_id == user.id,
            LeaderLink.area_code == area_code,
            or_(LeaderLink.ends_on.is_(None), LeaderLink.ends_on > starts_on),
        )
    )
    if held is not None:
        raise Conflict("该领导在此期间已联系该片区", code="already_linked", details={"link_id": held.id})
    link = LeaderLink(user_id=user.id, area_code=area_code, starts_on=starts_on)
    db.session.add(link)
    db.session.commit()
    return link


def _leader_area(code):
    table = LEADER_AREA_LEVELS.get(len(code or ""))
    if table is None:
        raise ValidationFailed(
            "联系点须为街道（9 位）或社区（12 位）", code="leader_area_level", details={"area": code}
        )
    if db.session.get(table, code) is None:
        raise ValidationFailed("片区不存在", code="unknown_area", details={"areas": [code]})


def end_leader_link(link_id, ends_on=None, *, by=None):
    """End a leader link: ``ends_on`` (default today) is its first day out of force."""
    link = db.session.get(LeaderLink, link_id)
    if link is None:
        raise NotFound("联系点不存在", code="leader_link_not_found", details={"id": link_id})
    _check(by, link.area_code)
    _close(link, ends_on or today())
    db.session.commit()
    return link


def leader_links(user_name=None, area_code=None, as_of=None, *, history=False):
    """Leader links in force on ``as_of`` (default today) by area; every row, newest first, with
    ``history``. ``area_code`` names a community or street: a community's list includes the
    links to its street."""
    query = select(LeaderLink).join(LeaderLink.user)
    if user_name:
        query = query.where(User.name == user_name)
    if area_code:
        query = query.where(LeaderLink.area_code.in_({area_code, area_code[:9]}))
    if history:
        return db.session.scalars(query.order_by(LeaderLink.starts_on.desc(), LeaderLink.id.desc())).all()
    query = query.where(in_force(LeaderLink, as_of or today()))
    return db.session.scalars(query.order_by(LeaderLink.area_code, User.name)).all()


# --- volunteer teams --------------------------------------------------------------------------


def create_team(name, community_code, unit_code=None, contact_phone=None, *, by=None):
    """A volunteer team of a community (and of a partner unit); 409 ``team_exists`` for a name
    in use, 422 for an unknown community or unit."""
    community = known_community(community_code)
    _check(by, community.code, (*OFFICE_ROLES, "community_staff"))
    unit = known_unit(unit_code)
    if db.session.scalar(select(VolunteerTeam.id).where(VolunteerTeam.name == name)):
        raise Conflict("志愿服务队名称已存在", code="team_exists", details={"name": name})
    team = VolunteerTeam(name=name, community_code=community.code, unit=unit, contact_phone=contact_phone)
    db.session.add(team)
    db.session.commit()
    return team


def team_named(name):
    """The team with this name; 422 ``unknown_team`` otherwise (a volunteer names his team)."""
    team = db.session.scalar(select(VolunteerTeam).where(VolunteerTeam.name == name))
    if team is None:
        raise ValidationFailed("志愿服务队不存在", code="unknown_team", details={"team": name})
    return team


def get_team(team_id, *, by=None):
    """One team with its members; 404 ``team_not_found``."""
    team = db.session.get(VolunteerTeam, team_id)
    if team is None:
        raise NotFound("志愿服务队不存在", code="team_not_found", details={"id": team_id})
    if by is not None and not (by.role == "volunteer" and by.team_id == team.id):
        require_community(by, team.community_code)
    return team


def teams(community_code=None, *, by=None):
    """Teams by name, with members; community staff read their own community's only."""
    query = select(VolunteerTeam).where(*_scoped(by, VolunteerTeam.community_code)).order_by(VolunteerTeam.name)
    community_code = _readable_community(by, community_code)
    if community_code:
        query = query.where(VolunteerTeam.community_code == community_code)
    return db.session.scalars(query).all()


def with_team_id(changes):
    """An account change naming a ``team`` as the ``team_id`` ``accounts.users.update_user``
    takes (null: no team); 422 ``unknown_team``."""
    if "team" not in changes:
        return changes
    name = changes.pop("team")
    return {**changes, "team_id": team_named(name).id if name else None}
