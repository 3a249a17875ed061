"""The 綦江 demo: its streets, communities, units, routing rules and a ~100 m grid, loaded once,
with the co-building layer's standing parts: each community's partner units, district leaders
and a volunteer team, and the demo logins that act for them."""

import json
from datetime import date

from shapely.ops import unary_union
from sqlalchemy import func, select

from civicreport.accounts.models import Unit, User, UserArea
from civicreport.cobuilding.models import LeaderLink, Partnership, VolunteerTeam
from civicreport.demo.oversight import load_oversight
from civicreport.extensions import db
from civicreport.geo.geojson import to_geojson_text
from civicreport.geo.grid import lattice
from civicreport.oversight.checklists import load_checklists
from civicreport.reference.areas import Community, District, GridCellArea, Street
from civicreport.reference.categories import RoutingRule
from civicreport.reference.grid import invalidate_grid_index
from civicreport.reference.loading import data_file, grid_row, load_categories


def demo_loaded():
    return db.session.scalar(select(func.count()).select_from(GridCellArea)) > 0


def load_demo():
    """Load 綦江区: streets, communities, units, routing rules and a ~100 m grid."""
    demo = json.loads(data_file("demo_qijiang.json").read_text(encoding="utf-8"))
    load_categories()
    load_checklists()
    district = District(**demo["district"])
    db.session.merge(district)
    units = _load_units(demo["units"], district.code)
    for street in demo["streets"]:
        db.session.merge(
            Street(
                code=street["code"],
                name=street["name"],
                district_code=district.code,
                territorial_unit_id=units[f"qj-st-{street['code']}"].id,
            )
        )
    cells = _demo_cells(demo["communities"], demo["grid"])
    for community in demo["communities"]:
        members = cells[community["code"]]
        db.session.merge(
            Community(
                code=community["code"],
                name=community["name"],
                street_code=community["street"],
                boundary=to_geojson_text(unary_union([geom for _, geom in members])),
            )
        )
        for code, geom in members:
            db.session.merge(grid_row(code, community["code"], geom))
    _load_rules(demo["rules"], units)
    _load_cobuilding(demo["cobuilding"], district.code, units, {c["code"]: c["name"] for c in demo["communities"]})
    db.session.flush()
    load_oversight()  # points and a listed problem (demo.oversight), on the cells just written
    db.session.commit()
    invalidate_grid_index()
    return sum(len(members) for members in cells.values())


def _load_units(specs, district_code):
    units = {}
    for spec in specs:
        unit = db.session.scalar(select(Unit).where(Unit.code == spec["code"])) or Unit(code=spec["code"])
        unit.name = spec["name"]
        unit.kind = spec["kind"]
        unit.district_code = district_code
        unit.contact_phone = spec.get("phone")
        unit.delivery_method = "log"
        unit.active = True
        db.session.add(unit)
        units[spec["code"]] = unit
    db.session.flush()
    return units


def _load_rules(specs, units):
    """Upsert the demo's rules by what they match; deactivate the others.

    Rules are updated in place, never deleted: reports keep a link to the rule that routed them.
    """
    existing = {_rule_match(rule): rule for rule in db.session.scalars(select(RoutingRule))}
    wanted = set()
    for spec in specs:
        match = (spec.get("category"), spec.get("major"), spec.get("group"), spec["area_level"], spec["area"])
        wanted.add(match)
        rule = existing.get(match) or RoutingRule(
            category_code=match[0],
            category_major=match[1],
            category_group=match[2],
            area_level=match[3],
            area_code=match[4],
        )
        rule.unit_id, rule.note, rule.active = units[spec["unit"]].id, spec.get("note"), True
        db.session.add(rule)
    for match, rule in existing.items():
        if match not in wanted:
            rule.active = False


def _load_cobuilding(spec, district_code, units, names):
    """Partner units, each community's lead and member partners (the lead with a unit_staff
    liaison), its team with volunteers and its community staff login, and the district leaders'
    links: added when missing, so loading again changes nothing (and leaves a partnership an
    admin has since closed closed)."""
    units = units | _load_units(spec["units"], district_code)
    since = date.fromisoformat(spec["since"])
    for community in spec["communities"]:
        code, lead = community["code"], units[community["lead"]]
        _partner(code, lead, "lead", since)
        _demo_user(f"demo-staff-{lead.code}", "unit_staff", f"{lead.name}联络员", unit_id=lead.id)
        for member in community["members"]:
            _partner(code, units[member], "member", since)
        _demo_user(f"demo-community-{code}", "community_staff", community["staff"], areas=[UserArea(code=code)])
        team = _team(f"{names[code]}志愿服务队", code)
        for number, name in enumerate(community["volunteers"], start=1):
            _demo_user(f"demo-volunteer-{code}-{number}", "volunteer", name, team_id=team.id)
    for leader in spec["leaders"]:
        user = _demo_user(leader["login"], "leader", leader["name"])
        db.session.flush()
        for area in leader["areas"]:
            _leader_link(user, area, since)


def _partner(community_code, unit, role, since):
    found = db.session.scalar(
        select(Partnership).where(Partnership.community_code == community_code, Partnership.unit_id == unit.id)
    )
    if found is None:
        db.session.add(Partnership(community_code=community_code, unit_id=unit.id, role=role, starts_on=since))


def _team(name, community_code):
    team = db.session.scalar(select(VolunteerTeam).where(VolunteerTeam.name == name))
    if team is None:
        team = VolunteerTeam(name=name, community_code=community_code)
        db.session.add(team)
        db.session.flush()
    return team


def _demo_user(name, role, display_name, **fields):
    """The demo login ``name`` (no password: ``flask create-token NAME`` gives it a token)."""
    user = db.session.scalar(select(User).where(User.name == name))
    if user is None:
        user = User(name=name, role=role, display_name=display_name, **fields)
        db.session.add(user)
    return user


def _leader_link(user, area_code, since):
    found = db.session.scalar(
        select(LeaderLink).where(LeaderLink.user_id == user.id, LeaderLink.area_code == area_code)
    )
    if found is None:
        db.session.add(LeaderLink(user_id=user.id, area_code=area_code, starts_on=since))


def _rule_match(rule):
    return rule.category_code, rule.category_major, rule.category_group, rule.area_level, rule.area_code


def _demo_cells(communities, grid):
    """Assign lattice cells to the community box holding their centre; number them per community."""
    cells = {c["code"]: [] for c in communities}
    rows = lattice(grid["south"], grid["west"], grid["north"], grid["east"], grid["cell_m"])
    for row in rows:  # north → south, each west → east, so numbering follows the standard order
        for geom in row:
            centre = geom.centroid
            owner = next((c for c in communities if _in_box(c["box"], centre.y, centre.x)), None)
            if owner is not None:
                members = cells[owner["code"]]
                members.append((f"{owner['code']}{len(members) + 1:03d}", geom))
    return cells


def _in_box(box, lat, lon):
    south, west, north, east = box
    return south <= lat < north and west <= lon < east
