"""Login, case transitions, timelines, unit worklists and 督办通知书."""
from flask import Blueprint, render_template, request

from ..errors import BadRequest
from ..schemas import load_or_422
from ..schemas.report import EventSchema, EventStaffSchema, report_view
from ..schemas.workflow import LoginSchema, TransitionSchema, UserSchema
from ..services import auth, reports, workflow, worklist
from ..services.access import REPORTER, actor_for
from . import PER_ACTION, PUBLIC, allow, current_user as _user

bp = Blueprint("workflow", __name__, url_prefix="/api/v1")
pages = Blueprint("pages", __name__)

RECEIPT_HEADER = "X-Receipt-Token"
CASE_READERS = ("unit_staff", "supervisor", "leader", "admin")


def _json():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("请求体须为 JSON 对象", code="malformed_json")
    return body


@bp.post("/auth/login")
@allow(PUBLIC)
def login():
    data = load_or_422(LoginSchema(), _json())
    user, token, expires_at = auth.login(data["login"], data["password"])
    return {"token": token, "expires_at": expires_at.isoformat(), "user": UserSchema().dump(user)}


@bp.post("/auth/logout")
@allow(*auth.ROLES)
def logout():
    auth.logout(request.headers.get("Authorization"))
    return {"status": "logged_out"}


@bp.get("/auth/me")
@allow(*auth.ROLES)
def me():
    return {"user": UserSchema().dump(_user())}


@bp.post("/reports/<public_id>/transitions")
@allow(PER_ACTION)
def transition(public_id):
    user = _user()
    data = load_or_422(TransitionSchema(), _json())
    report = workflow.load_for_update(public_id)
    actor = actor_for(user, report, request.headers.get(RECEIPT_HEADER))
    workflow.apply(report, actor, data)
    return report_view(report, staff=actor.sees_private(report), allowed_actions=workflow.allowed_actions(report, actor))


@bp.get("/reports/<public_id>/events")
@allow(PUBLIC)
def events(public_id):
    user = _user()
    report = reports.get_report(public_id)
    actor = actor_for(user, report, request.headers.get(RECEIPT_HEADER))
    full = actor.sees_private(report) or REPORTER in actor.roles_for(report)
    schema = EventStaffSchema(many=True) if full else EventSchema(many=True)
    return {"report": report.public_id, "events": schema.dump(report.events)}


@bp.get("/units/<code>/worklist")
@allow(*CASE_READERS)
def unit_worklist(code):
    return worklist.for_unit(code, _user())


@pages.get("/reports/<public_id>/notice")
@allow(*CASE_READERS)
def escalation_notice(public_id):
    return render_template("notice.html", **worklist.notice(public_id, _user()))
