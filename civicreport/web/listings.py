"""挂牌整改: the office lists hard problems and verifies their delisting, the lead unit reports
progress and asks to be delisted; the public list (公示) and its phone page show each problem
without anything private; the printable 挂牌督办 sheet goes to the lead unit."""

from flask import Blueprint, render_template, request

from civicreport import registry
from civicreport.db_types import utcnow
from civicreport.oversight import listings
from civicreport.oversight.schemas.listings import (
    ListingCreateSchema,
    ListingListSchema,
    ListingQuerySchema,
    ListingSchema,
    ListingTransitionSchema,
    PublicListingListSchema,
    PublicListingQuerySchema,
    public_view,
)
from civicreport.oversight.status import LISTING_STATES
from civicreport.schema_fields import load_valid
from civicreport.web import PER_ACTION, PUBLIC, ROW_ID, allow, current_user, json_object
from civicreport.web.openapi import doc
from civicreport.web.signed_links import opens_by_link

bp = Blueprint("listings", __name__, url_prefix="/api/v1")
pages = Blueprint("listing_pages", __name__)

TAG = "listed-problems"


def _view(problem):
    user = current_user()
    return {**ListingSchema().dump(problem), "allowed_actions": listings.allowed_actions(user, problem)}


@bp.post("/listed-problems")
@allow(*listings.OFFICE_ROLES)
@doc(
    "挂牌整改：创建办挂牌（牵头领导、牵头与配合单位、整改措施、期限、关联案件）",
    tag=TAG,
    body=ListingCreateSchema,
    response=ListingSchema,
    status=201,
)
def list_problem():
    """List a hard problem under a leader and a lead unit."""
    data = load_valid(ListingCreateSchema(), json_object())
    problem = listings.list_problem(current_user(), listings.Listing(**data))
    return _view(problem), 201


@bp.get("/listed-problems")
@allow(*listings.READER_ROLES)
@doc(
    "挂牌问题，整改期限近的在前；单位人员只见本单位牵头或配合的",
    tag=TAG,
    query=ListingQuerySchema,
    response=ListingListSchema,
)
def list_problems():
    """Listed problems the caller may read, with filters."""
    query = load_valid(ListingQuerySchema(), request.args.to_dict())
    rows = listings.problems(
        current_user(),
        status=query["status"],
        unit_code=query["unit"],
        leader=query["leader"],
        area=query["area"],
        overdue=query["overdue"],
    )
    return {"listed_problems": [_view(problem) for problem in rows]}


@bp.get(f"/listed-problems/<{ROW_ID}:problem_id>")
@allow(*listings.READER_ROLES)
@doc("查看挂牌问题：关联案件、办理记录与照片", tag=TAG, path={"problem_id": "挂牌问题 id"}, response=ListingSchema)
def get_problem(problem_id):
    """One listed problem with its linked cases and timeline."""
    return _view(listings.get(current_user(), problem_id))


@bp.post(f"/listed-problems/<{ROW_ID}:problem_id>/transitions")
@allow(PER_ACTION)  # the TRANSITIONS table names the roles of each action
@doc(
    "挂牌问题办理：进展、申请摘牌（牵头单位）；退回、摘牌（附整改后照片）、重新挂牌（创建办）",
    tag=TAG,
    path={"problem_id": "挂牌问题 id"},
    body=ListingTransitionSchema,
    response=ListingSchema,
    errors=(409,),
)
def transition(problem_id):
    """One move of a listed problem (TRANSITIONS in oversight.listings)."""
    data = load_valid(ListingTransitionSchema(), json_object())
    problem = listings.transition(
        current_user(),
        problem_id,
        data["action"],
        note=data["note"],
        media_ids=data["media_ids"],
        target_on=data["target_on"],
    )
    return _view(problem)


@bp.get("/public/listed-problems")
@allow(PUBLIC)
@doc(
    "挂牌整改公示：问题、地点、牵头领导职务、牵头单位、整改期限、状态与整改前后照片（已遮挡），无个人信息",
    tag=TAG,
    query=PublicListingQuerySchema,
    response=PublicListingListSchema,
)
def public_problems():
    """The public list: ``public_view`` of every problem, no login."""
    query = load_valid(PublicListingQuerySchema(), request.args.to_dict())
    return {"listed_problems": [public_view(problem) for problem in listings.public_problems(query["status"])]}


@pages.get("/public/listed-problems")
@allow(PUBLIC)
def public_page():
    """挂牌整改公示 on a phone: server-rendered from the public view alone, no script."""
    query = load_valid(PublicListingQuerySchema(), request.args.to_dict())
    rows = [public_view(problem) for problem in listings.public_problems(query["status"])]
    return render_template("public/listed_problems.html", rows=rows, states=LISTING_STATES, status=query["status"])


@pages.get(f"/console/listed-problems/<{ROW_ID}:problem_id>/sheet")
@opens_by_link
@allow(*listings.READER_ROLES)
def sheet(problem_id):
    """The printable 挂牌督办 sheet (A4) of one problem (the console opens it by a signed link, web.signed_links)."""
    problem = listings.get(current_user(), problem_id)
    return render_template(
        "console/listing_sheet.html",
        problem=problem,
        view=ListingSchema().dump(problem),
        labels=listings.EVENT_LABELS,
        states=LISTING_STATES,
        issued=utcnow().astimezone(registry.current().zone),
    )
