"""The oversight pages (督查督办, issue 22): 吹哨报到, 挂牌整改, 点位暗访 and 联合整治 in the
console, and the leader's 督办总览 with the one API it reads, ``GET /api/v1/leader/overview``.

Like the rest of the console, the pages are public shells: the browser holds the staff token and
the API of each line (whistles, listed problems, points, operations) does every access check.
The whistle and inspection pages are laid out for a phone first: the units' staff 报到 and the
inspectors check points in the street, with photos from the phone's camera.
"""

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from civicreport.accounts.models import Unit
from civicreport.cases.models import MAX_PHOTOS_PER_STEP
from civicreport.extensions import db
from civicreport.oversight import leader
from civicreport.oversight.models import ChecklistItem
from civicreport.oversight.schemas.leader import OverviewQuerySchema, OverviewSchema
from civicreport.oversight.status import (
    LISTING_STATES,
    OPERATION_STATES,
    PART_STATES,
    POINT_KINDS,
    WHISTLE_STATES,
)
from civicreport.reference.areas import Community, Street
from civicreport.reference.categories import Category
from civicreport.schema_fields import load_valid
from civicreport.web import PUBLIC, allow, current_user
from civicreport.web.console import ROLE_LABELS
from civicreport.web.openapi import doc

pages = Blueprint("oversight_pages", __name__, url_prefix="/console")
api = Blueprint("leader_overview", __name__, url_prefix="/api/v1")


def _settings():
    """Labels of every oversight state, the units, areas and categories the forms pick from,
    upload limits and the time zone the scripts show times in."""
    config = current_app.config
    return {
        "roles": ROLE_LABELS,
        "timezone": config["TIMEZONE"],
        "whistles": WHISTLE_STATES,
        "parts": PART_STATES,
        "listings": LISTING_STATES,
        "operations": OPERATION_STATES,
        "point_kinds": POINT_KINDS,
        "units": _units(),
        "areas": _areas(),
        "categories": _categories(),
        "checklists": _checklists(),
        "max_photos": MAX_PHOTOS_PER_STEP,
        "max_photo_bytes": config["MAX_PHOTO_BYTES"],
    }


def _units():
    rows = db.session.scalars(select(Unit).where(Unit.active.is_(True)).order_by(Unit.kind, Unit.code))
    return [[u.code, u.name, u.kind] for u in rows]


def _areas():
    """Streets and communities as [code, name]: a community is named with its street."""
    streets = db.session.scalars(select(Street).order_by(Street.code)).all()
    communities = db.session.scalars(select(Community).options(selectinload(Community.street)).order_by(Community.code))
    return [[s.code, s.name] for s in streets] + [[c.code, f"{c.street.name} {c.name}"] for c in communities]


def _categories():
    rows = db.session.scalars(select(Category).where(Category.active.is_(True)).order_by(Category.code))
    return [[c.code, c.name] for c in rows]


def _checklists():
    """The items asked now at each point kind: {kind: [[code, label], …]} in their order."""
    query = select(ChecklistItem).where(ChecklistItem.active.is_(True))
    rows = db.session.scalars(query.order_by(ChecklistItem.point_kind, ChecklistItem.position, ChecklistItem.id))
    checklists = {}
    for row in rows:
        checklists.setdefault(row.point_kind, []).append([row.code, row.label])
    return checklists


def _page(template, page):
    return render_template(f"console/{template}.html", page=page, settings=_settings())


@pages.get("/oversight")
@allow(PUBLIC)  # a shell: the view comes from /api/v1/leader/overview with the reader's token
def overview():
    return _page("oversight", "oversight")


@pages.get("/whistles")
@allow(PUBLIC)  # a shell: whistles come from /api/v1/whistles with the staff token
def whistles():
    return _page("whistles", "whistles")


@pages.get("/listed-problems")
@allow(PUBLIC)  # a shell: listed problems come from /api/v1/listed-problems
def listings():
    return _page("listings", "listings")


@pages.get("/points")
@allow(PUBLIC)  # a shell: points, checklists and inspections come from /api/v1/points
def points():
    return _page("points", "points")


@pages.get("/operations")
@allow(PUBLIC)  # a shell: the calendar comes from /api/v1/operations/calendar
def operations():
    return _page("operations", "operations")


@api.get("/leader/overview")
@allow(*leader.READERS)
@doc(
    "领导督办总览：联系点内的挂牌问题、报到迟到的吹哨、检查不合格的点位",
    query=OverviewQuerySchema,
    response=OverviewSchema,
    errors=(404,),  # an unknown leader: user_not_found
    description="领导看自己的联系点；创建办（值班长、管理员）可按 leader 查看某位领导的，省略为全区。",
)
def leader_overview():
    """The leader's 督办 page in one answer (see ``oversight.leader``)."""
    query = load_valid(OverviewQuerySchema(), request.args.to_dict())
    return OverviewSchema().dump(leader.overview(current_user(), query["leader"]))
