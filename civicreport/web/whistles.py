"""吹哨报到: raise a whistle summoning several units, their 报到 and parts, verify, 一体评议."""

from flask import Blueprint, jsonify, request

from civicreport.oversight import whistles
from civicreport.oversight.schemas.whistles import (
    WhistleListSchema,
    WhistleQuerySchema,
    WhistleRaiseSchema,
    WhistleSchema,
    WhistleSummarySchema,
    WhistleTransitionSchema,
    whistle_view,
)
from civicreport.schema_fields import load_valid
from civicreport.web import PER_ACTION, allow, json_object
from civicreport.web import current_user as _user
from civicreport.web.openapi import doc

bp = Blueprint("whistles", __name__, url_prefix="/api/v1")

WHISTLE_PATH = {"whistle_id": "吹哨编号，如 QJW20261207-4F2A9C"}
LISTERS = (*whistles.RAISING_ROLES, "leader")
ACTIONS_TEXT = "action 取值：" + "；".join(
    f"{t.action}（{t.label}{'，须带 ' + (t.asks or '、'.join(t.needs)) if t.asks or t.needs else ''}）"
    for t in whistles.TRANSITIONS.values()
)


@bp.post("/whistles")
@allow(*whistles.RAISING_ROLES)
@doc(
    "吹哨：社区、街道办事处或创建办召集牵头单位和配合单位，各单位限时报到",
    body=WhistleRaiseSchema,
    response=WhistleSchema,
    status=201,
    errors=(403, 404),
    description="社区工作人员限本社区，街道办事处工作人员限本街道，督查员限其辖区。"
    "带 report 时关联该案件，位置默认取案件位置；否则须带 lat/lon。各单位须在报到时限（工作时间）内报到。",
)
def raise_whistle():
    """A new whistle; every summoned unit is notified with its 报到 deadline."""
    user = _user()
    whistle = whistles.raise_whistle(load_valid(WhistleRaiseSchema(), json_object()), user)
    response = jsonify(whistle_view(whistle, whistles.allowed_actions(whistle, whistles.WhistleActor(user))))
    response.status_code = 201
    return response


@bp.get("/whistles")
@allow(*LISTERS)
@doc(
    "吹哨列表：社区看本社区，单位看召集本单位的，街道看本街道，督查员看辖区，领导看全部",
    query=WhistleQuerySchema,
    response=WhistleListSchema,
)
def list_whistles():
    """The whistles the caller may list, newest first, by status, summoned unit and lateness."""
    args = request.args.to_dict(flat=False)
    query = load_valid(WhistleQuerySchema(), {k: v if k == "status" else v[-1] for k, v in args.items()})
    found = whistles.search(_user(), **query)
    return {"whistles": WhistleSummarySchema(many=True).dump(found)}


@bp.get("/whistles/<whistle_id>")
@allow(*LISTERS)
@doc(
    "查看吹哨：各单位报到时间、责任人、是否超时、完成情况和评议，及时间线",
    path=WHISTLE_PATH,
    response=WhistleSchema,
    errors=(403,),
)
def get_whistle(whistle_id):
    """One whistle with its parts, timeline and the actions the caller may take now."""
    actor = whistles.WhistleActor(_user())
    whistle = whistles.get(whistle_id)
    whistles.require_reader(whistle, actor)
    return whistle_view(whistle, whistles.allowed_actions(whistle, actor))


@bp.post("/whistles/<whistle_id>/transitions")
@allow(PER_ACTION)
@doc(
    "吹哨流转：报到、完成任务、退回任务、核验办结、一体评议、督办",
    path=WHISTLE_PATH,
    body=WhistleTransitionSchema,
    response=WhistleSchema,
    errors=(403, 409),
    description=ACTIONS_TEXT + "。单位只能处理本单位的任务，unit 指向其他单位时拒绝（403）。",
)
def transition(whistle_id):
    """One step of a whistle or of one unit's part; the TRANSITIONS table decides who and when."""
    data = load_valid(WhistleTransitionSchema(), json_object())
    actor = whistles.WhistleActor(_user())
    whistle = whistles.get(whistle_id, lock=True)
    whistles.apply(whistle, actor, data)
    return whistle_view(whistle, whistles.allowed_actions(whistle, actor))
