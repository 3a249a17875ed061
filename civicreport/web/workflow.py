"""Login, case transitions, timelines, unit worklists and 督办通知书."""

from flask import Blueprint, render_template, request

from civicreport.accounts import auth
from civicreport.accounts.access import REPORTER
from civicreport.cases import citizen, lookup, workflow
from civicreport.cases.schemas.report import (
    EventListSchema,
    EventSchema,
    EventStaffSchema,
    ReportViewSchema,
    report_view,
)
from civicreport.cases.schemas.workflow import (
    LoginResultSchema,
    LoginSchema,
    MeSchema,
    StatusSchema,
    TransitionSchema,
    UserSchema,
    WorklistSchema,
)
from civicreport.errors import BadRequest
from civicreport.reporting import worklist
from civicreport.schema_fields import load_valid
from civicreport.web import PER_ACTION, PUBLIC, allow
from civicreport.web import current_user as _user
from civicreport.web.openapi import doc
from civicreport.web.signed_links import opens_by_link

bp = Blueprint("workflow", __name__, url_prefix="/api/v1")
pages = Blueprint("pages", __name__)

RECEIPT_HEADER = "X-Receipt-Token"
CASE_READERS = ("unit_staff", "supervisor", "leader", "admin")
ACTIONS_TEXT = "action 取值：" + "；".join(
    f"{t.action}（{t.label}{'，须带 ' + '、'.join(t.needs) if t.needs else ''}）" for t in workflow.TRANSITIONS.values()
)


def _json():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("请求体须为 JSON 对象", code="malformed_json")
    return body


@bp.post("/auth/login")
@allow(PUBLIC)
@doc(
    "登录：用户名或手机号加密码，换取令牌",
    body=LoginSchema,
    response=LoginResultSchema,
    errors=(429,),
    description="同一账号或同一网络地址连续输错密码过多时暂时锁定，返回 429 too_many_attempts 和 Retry-After。",
)
def login():
    data = load_valid(LoginSchema(), _json())
    user, token, expires_at = auth.login(data["login"], data["password"], request.remote_addr)
    return {"token": token, "expires_at": expires_at.isoformat(), "user": UserSchema().dump(user)}


@bp.post("/auth/logout")
@allow(*auth.ROLES)
@doc("注销当前令牌", response=StatusSchema)
def logout():
    auth.logout(request.headers.get("Authorization"))
    return {"status": "logged_out"}


@bp.get("/auth/me")
@allow(*auth.ROLES)
@doc("当前登录用户", response=MeSchema)
def me():
    return {"user": UserSchema().dump(_user())}


@bp.post("/reports/<public_id>/transitions")
@allow(PER_ACTION)
@doc(
    "案件流转：受理、派遣、接单、处置、核查、结案、评价……（角色和状态见 README）",
    body=TransitionSchema,
    response=ReportViewSchema,
    receipt=True,
    errors=(409, 429),
    description=ACTIONS_TEXT,
)
def transition(public_id):
    user = _user()
    data = load_valid(TransitionSchema(), _json())
    report = workflow.load_for_update(public_id)
    actor = citizen.receipt_actor(user, report, request.headers.get(RECEIPT_HEADER), request.remote_addr)
    workflow.apply(report, actor, data)
    return report_view(report, actor, allowed_actions=workflow.allowed_actions(report, actor))


@bp.get("/reports/<public_id>/events")
@allow(PUBLIC)
@doc("案件时间线；工作人员和上报人看到备注和操作人", response=EventListSchema, receipt=True, errors=(429,))
def events(public_id):
    user = _user()
    report = lookup.get_report(public_id)
    actor = citizen.receipt_actor(user, report, request.headers.get(RECEIPT_HEADER), request.remote_addr)
    full = actor.sees_private(report) or REPORTER in actor.roles_for(report)
    schema = EventStaffSchema(many=True) if full else EventSchema(many=True)
    return {"report": report.public_id, "events": schema.dump(report.events)}


@bp.get("/units/<code>/worklist")
@allow(*CASE_READERS)
@doc("处置单位的问题清单：未办结案件，超期在前", response=WorklistSchema)
def unit_worklist(code):
    return worklist.for_unit(code, _user())


@pages.get("/reports/<public_id>/notice")
@opens_by_link
@allow(*CASE_READERS)
def escalation_notice(public_id):
    return render_template("notice.html", **worklist.notice(public_id, _user()))
