"""社区文明共建 administration: partnerships of units and communities, district leaders' 联系点,
volunteer teams. The office (创建办) keeps them; leaders and community staff read them."""

from flask import Blueprint, request

from civicreport.cobuilding import partners
from civicreport.cobuilding.access import OFFICE_ROLES, READER_ROLES
from civicreport.cobuilding.schemas.partners import (
    AsOfSchema,
    EndSchema,
    LeaderLinkCreateSchema,
    LeaderLinkListSchema,
    LeaderLinkQuerySchema,
    LeaderLinkSchema,
    PartnershipCreateSchema,
    PartnershipListSchema,
    PartnershipQuerySchema,
    PartnershipSchema,
    TeamCreateSchema,
    TeamListSchema,
    TeamQuerySchema,
    TeamSchema,
)
from civicreport.schema_fields import load_valid
from civicreport.web import ROW_ID, allow, current_user, json_object
from civicreport.web.openapi import doc

bp = Blueprint("cobuild_admin", __name__, url_prefix="/api/v1")

TAG = "cobuild"


@bp.get("/partnerships")
@allow(*READER_ROLES)
@doc(
    "共建关系：某日在共建的单位（牵头单位在前），或全部历史",
    tag=TAG,
    query=PartnershipQuerySchema,
    response=PartnershipListSchema,
)
def list_partnerships():
    """Partnerships in force on a day, or all of them; community staff see their own community's."""
    query = load_valid(PartnershipQuerySchema(), request.args.to_dict())
    rows = partners.partnerships(
        query["community"], query["unit"], query["as_of"], history=query["history"], by=current_user()
    )
    return {"partnerships": PartnershipSchema(many=True).dump(rows)}


@bp.post("/partnerships")
@allow(*OFFICE_ROLES)
@doc(
    "新增共建关系；新的牵头单位使原牵头单位在其开始前一天结束",
    tag=TAG,
    body=PartnershipCreateSchema,
    response=PartnershipSchema,
    status=201,
    errors=(409,),
)
def add_partnership():
    """Pair a unit with a community from a day."""
    data = load_valid(PartnershipCreateSchema(), json_object())
    row = partners.add_partnership(data["community"], data["unit"], data["role"], data["starts_on"], by=current_user())
    return PartnershipSchema().dump(row), 201


@bp.post(f"/partnerships/<{ROW_ID}:partnership_id>/end")
@allow(*OFFICE_ROLES)
@doc(
    "结束共建关系",
    tag=TAG,
    path={"partnership_id": "共建关系 id"},
    body=EndSchema,
    response=PartnershipSchema,
    errors=(409,),
)
def end_partnership(partnership_id):
    """End a partnership from a day on; the row stays for history."""
    data = load_valid(EndSchema(), json_object())
    return PartnershipSchema().dump(partners.end_partnership(partnership_id, data["ends_on"], by=current_user()))


@bp.get("/partners/<code>/communities")
@allow(*READER_ROLES)
@doc(
    "共建单位某日（默认今天）共建的社区",
    tag=TAG,
    path={"code": "单位编码"},
    query=AsOfSchema,
    response=PartnershipListSchema,
)
def partner_communities(code):
    """The communities a unit partners on a day."""
    query = load_valid(AsOfSchema(), request.args.to_dict())
    return {"partnerships": PartnershipSchema(many=True).dump(partners.communities_of(code, query["as_of"]))}


@bp.get("/leader-links")
@allow(*READER_ROLES)
@doc("区级领导联系点：某日在联系的，或全部历史", tag=TAG, query=LeaderLinkQuerySchema, response=LeaderLinkListSchema)
def list_leader_links():
    """Leader links in force on a day, or all of them."""
    query = load_valid(LeaderLinkQuerySchema(), request.args.to_dict())
    links = partners.leader_links(query["user"], query["area"], query["as_of"], history=query["history"])
    return {"leader_links": LeaderLinkSchema(many=True).dump(links)}


@bp.post("/leader-links")
@allow(*OFFICE_ROLES)
@doc(
    "为区级领导设置联系点（街道或社区）",
    tag=TAG,
    body=LeaderLinkCreateSchema,
    response=LeaderLinkSchema,
    status=201,
    errors=(404, 409),
)
def link_leader():
    """Link a leader to a street or community from a day."""
    data = load_valid(LeaderLinkCreateSchema(), json_object())
    link = partners.link_leader(data["user"], data["area"], data["starts_on"], by=current_user())
    return LeaderLinkSchema().dump(link), 201


@bp.post(f"/leader-links/<{ROW_ID}:link_id>/end")
@allow(*OFFICE_ROLES)
@doc("结束联系点", tag=TAG, path={"link_id": "联系点 id"}, body=EndSchema, response=LeaderLinkSchema, errors=(409,))
def end_leader_link(link_id):
    """End a leader link from a day on; the row stays for history."""
    data = load_valid(EndSchema(), json_object())
    return LeaderLinkSchema().dump(partners.end_leader_link(link_id, data["ends_on"], by=current_user()))


@bp.get("/teams")
@allow(*READER_ROLES)
@doc("志愿服务队及其队员", tag=TAG, query=TeamQuerySchema, response=TeamListSchema)
def list_teams():
    """Volunteer teams with their members; community staff see their own community's."""
    query = load_valid(TeamQuerySchema(), request.args.to_dict())
    return {"teams": TeamSchema(many=True).dump(partners.teams(query["community"], by=current_user()))}


@bp.post("/teams")
@allow(*OFFICE_ROLES, "community_staff")
@doc(
    "新建志愿服务队（队员为角色 volunteer 的账号）",
    tag=TAG,
    body=TeamCreateSchema,
    response=TeamSchema,
    status=201,
    errors=(409,),
)
def create_team():
    """Create a volunteer team of a community."""
    data = load_valid(TeamCreateSchema(), json_object())
    team = partners.create_team(data["name"], data["community"], data["unit"], data["contact_phone"], by=current_user())
    return TeamSchema().dump(team), 201


@bp.get(f"/teams/<{ROW_ID}:team_id>")
@allow(*READER_ROLES, "volunteer")
@doc("志愿服务队及其队员", tag=TAG, path={"team_id": "志愿服务队 id"}, response=TeamSchema)
def get_team(team_id):
    """One team with its members; a volunteer reads his own team."""
    return TeamSchema().dump(partners.get_team(team_id, by=current_user()))
