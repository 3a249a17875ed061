"""The co-building pages (社区文明共建): the campaign office's 共建督导, the community staff's
社区工作台 and the volunteer's 志愿服务, all console shells on the console's login.

Like the console, the pages are public shells: the browser holds the staff token and the
API (tasks, declarations, cards, orders, matters, rankings) does every access check. The
community and volunteer pages are laid out for a phone first: their people work in the
street, and the photos they declare with come from the phone's camera, uploaded with the
staff token so the declaration may claim them as the user's own.
"""

from flask import Blueprint, current_app, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from civicreport.cases.models import MAX_PHOTOS_PER_STEP
from civicreport.cobuilding.status import DECLARATION_STATES, MATTER_STATES, ORDER_STATES
from civicreport.extensions import db
from civicreport.reference.areas import Community
from civicreport.web import PUBLIC, allow
from civicreport.web.console import ROLE_LABELS

bp = Blueprint("cobuild_pages", __name__, url_prefix="/console")


def _settings(**extra):
    """Labels of every co-building state, upload limits and the time zone the scripts show."""
    config = current_app.config
    return {
        "roles": ROLE_LABELS,
        "timezone": config["TIMEZONE"],
        "declarations": {"pending": "未申报", **DECLARATION_STATES},
        "orders": ORDER_STATES,
        "matters": MATTER_STATES,
        "max_photos": MAX_PHOTOS_PER_STEP,
        "max_photo_bytes": config["MAX_PHOTO_BYTES"],
        **extra,
    }


def _communities():
    """Every community as [code, "街道 社区"]: the rows of the office's tasks board (a task for
    all communities has no list of its own)."""
    rows = db.session.scalars(select(Community).options(selectinload(Community.street)).order_by(Community.code))
    return [[c.code, f"{c.street.name} {c.name}"] for c in rows]


@bp.get("/cobuild")
@allow(PUBLIC)  # a shell: tasks, declarations and cards come from the API with the office's token
def office():
    return render_template("console/cobuild.html", page="cobuild", settings=_settings(communities=_communities()))


@bp.get("/community")
@allow(PUBLIC)  # a shell: the community's tasks, 实事清单 and orders come with the staff token
def community():
    return render_template("console/community.html", page="community", settings=_settings(communities=_communities()))


@bp.get("/team")
@allow(PUBLIC)  # a shell: the team's orders come from /api/v1/orders with the volunteer's token
def team():
    return render_template("console/team.html", page="team", settings=_settings())
