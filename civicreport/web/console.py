"""The staff console: server-rendered page shells whose data comes from the JSON API.

The pages are public; the browser keeps the bearer token from ``/api/v1/auth/login``
in localStorage and every API call carries it, so the API does the access checks.
"""

from flask import Blueprint, current_app, render_template

from civicreport.cases import evidence
from civicreport.cases.status import OPEN_STATES, STATUS_LABELS, STATUSES
from civicreport.cases.workflow import TRANSITIONS
from civicreport.config import map_center
from civicreport.reference.categories import CATEGORY_GROUPS
from civicreport.reporting import worklist
from civicreport.web import PUBLIC, allow

bp = Blueprint("console", __name__, url_prefix="/console")

ROLE_LABELS = {
    "citizen": "群众",
    "reporter": "上报人",
    "monitor": "文明监督员",
    "supervisor": "值班长",
    "unit_staff": "处置单位",
    "leader": "领导",
    "admin": "管理员",
    "community_staff": "社区工作人员",
    "volunteer": "志愿者",
    "system": "系统",
    "open311": "Open311 客户端",  # who posted a comment for a citizen (open311.service.post_update)
}
# Why a case asks the supervisor to look twice before accepting it (the drawer's 核实提示).
EVIDENCE_LABELS = {
    evidence.PHOTO_FAR: "照片拍摄位置与上报地点相距较远",
    evidence.PHOTO_OLD: "照片拍摄时间比上报早很多",
    evidence.PHOTO_AHEAD: "照片时间晚于上报时间，手机时钟可能不准",
    evidence.PHOTO_UNREADABLE: "照片无法读取，请看原图",
    "photo_reuse": "照片与其他地点或较早案件的照片雷同",
}
EVENT_LABELS = {
    "submit": "上报",
    "support": "附议",
    "warning": "临期预警",
    "overdue": "超期",
    "redact": "照片遮挡",
    "citizen_comment": "群众补充（Open311）",  # open311.service.post_update: a staff-only note
}


def _settings():
    """What the console scripts need: labels, the workflow table and the map tiles."""
    config = current_app.config
    return {
        "statuses": STATUS_LABELS,
        "roles": ROLE_LABELS,
        "groups": CATEGORY_GROUPS,
        "actions": {name: {"label": t.label, "needs": list(t.needs)} for name, t in TRANSITIONS.items()},
        "events": EVENT_LABELS,
        "evidence": EVIDENCE_LABELS,
        "timezone": config["TIMEZONE"],
        "map": map_settings(config),
    }


def map_settings(config):
    """The tiles and start centre every page's map draws with (the citizen pages too)."""
    return {
        "tile_url": config["MAP_TILE_URL"],
        "crs": config["MAP_TILE_CRS"],
        "attribution": config["MAP_TILE_ATTRIBUTION"],
        "center": map_center(config["MAP_CENTER"]),  # checked at start-up by config
    }


def _page(template, page, **extra):
    return render_template(template, page=page, settings=_settings(), **extra)


@bp.get("")
@allow(PUBLIC)  # a shell: the queue comes from /api/v1/queue with the supervisor's token
def supervisor():
    open_states = ",".join(s for s in STATUSES if s in OPEN_STATES)
    return _page("console/supervisor.html", "supervisor", open_states=open_states)


@bp.get("/unit")
@allow(PUBLIC)  # a shell: the worklist comes from /api/v1/units/<code>/worklist
def unit():
    """The office and leaders pick the unit from the list (unit names are on every receipt anyway)."""
    return render_template("console/unit.html", page="unit", settings=_settings(), units=worklist.unit_choices())


@bp.get("/leader")
@allow(PUBLIC)  # a shell: the rankings come from /api/v1/stats/units
def leader():
    return _page("console/leader.html", "leader")
