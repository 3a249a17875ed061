"""公开地图与片区提醒: the public reports as JSON or GeoJSON, the /map page, subscriptions to an
area (double opt-in by e-mail, one-click unsubscribe) and each area's Atom feed. No login anywhere;
what a report shows is ``alerts.public_reports.public_view`` alone."""

from flask import Blueprint, current_app, render_template, request, url_for

from civicreport import registry
from civicreport.abuse.throttle import address_key
from civicreport.alerts import feeds, public_reports, subscriptions
from civicreport.alerts.schemas import (
    CircleSchema,
    PublicReportPageSchema,
    PublicReportsQuerySchema,
    SubscribeAnswerSchema,
    SubscribeSchema,
)
from civicreport.cases.citizen import CITIZEN_GROUPS
from civicreport.cases.status import STATUS_LABELS
from civicreport.extensions import limiter
from civicreport.schema_fields import load_valid
from civicreport.web import PUBLIC, allow, json_object
from civicreport.web.console import map_settings
from civicreport.web.openapi import doc, refused

api = Blueprint("public_map_api", __name__, url_prefix="/api/v1")
pages = Blueprint("public_map", __name__)

TAG = "public-map"
ATOM = "application/atom+xml; charset=utf-8"


@api.get("/public/reports")
@allow(PUBLIC)
@doc(
    "公开案件（公开地图）：类别、状态、街道社区、日期与已遮挡缩略图；行为类位置约 50 米；按范围、类别、状态筛选",
    tag=TAG,
    query=PublicReportsQuerySchema,
    response=PublicReportPageSchema,
    refusals=refused("bbox_out_of_range"),
)
def public_reports_list():
    """The public reports in a bbox, newest first, held to PUBLIC_MAP_MAX."""
    query = load_valid(PublicReportsQuerySchema(), request.args.to_dict())
    filters = public_reports.Filters(
        bbox=query["bbox"], category=query["category"], group=query["group"], statuses=query["status"]
    )
    limit = public_reports.map_limit(query["limit"])
    rows, truncated = public_reports.search(filters, limit)
    views = [public_reports.public_view(report) for report in rows]
    if query["format"] == "json":
        return {"reports": views, "truncated": truncated, "limit": limit}
    return {
        "type": "FeatureCollection",
        "features": [_feature(v) for v in views],
        "truncated": truncated,
        "limit": limit,
    }


def _feature(view):
    point = {"type": "Point", "coordinates": [view.pop("lon"), view.pop("lat")]}
    return {"type": "Feature", "id": view["id"], "geometry": point, "properties": view}


def _ip_key():
    address = address_key(request.remote_addr)
    return f"ip:{address}" if address else ""


def _email_key():
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return f"email:{email.strip().lower()}" if isinstance(email, str) and email.strip() else ""


def _limit(setting, dimension, key):
    """A limit read per request (override_settings applies), counted by ``key``; none without a key.
    The scope's last part names the dimension web.rate_limits' 429 message speaks of."""
    return limiter.shared_limit(
        lambda: getattr(registry.settings(), setting),
        scope=f"subscribe:{dimension}",
        key_func=key,
        exempt_when=lambda: not key(),
    )


@api.post("/alerts/subscriptions")
@allow(PUBLIC)
@_limit("SUBSCRIBE_LIMIT_PER_IP", "ip", _ip_key)
@_limit("SUBSCRIBE_LIMIT_PER_EMAIL", "email", _email_key)
@doc(
    "订阅片区提醒（社区、街道或不超过 2 公里的圆形范围）：发送确认邮件，确认后才会收到提醒（双重确认）",
    tag=TAG,
    body=SubscribeSchema,
    response=SubscribeAnswerSchema,
    status=202,
    errors=(404, 429),
)
def subscribe():
    """Queue the confirmation e-mail; the same answer whether or not the address already follows the area."""
    data = load_valid(SubscribeSchema(), json_object())
    if data["area"] == "circle":
        area = public_reports.circle(data["lat"], data["lon"], data["radius"])
    else:
        area = public_reports.area_of_code(data["code"])
    subscriptions.subscribe(data["email"], area)
    return {"status": "pending", "message": "确认邮件已发送，请打开邮件中的链接完成订阅"}, 202


@pages.get("/map")
@allow(PUBLIC)
def map_page():
    """The public map, phone first: reports on a Leaflet map and as a list, filters, subscribe."""
    settings = {
        "map": map_settings(current_app.config),
        "timezone": current_app.config["TIMEZONE"],
        "groups": list(CITIZEN_GROUPS),
        "statuses": {status: STATUS_LABELS[status] for status in public_reports.PUBLIC_STATES},
        "circle_max_m": public_reports.CIRCLE_MAX_M,
        "reports_url": url_for("public_map_api.public_reports_list"),
        "subscribe_url": url_for("public_map_api.subscribe"),
        "circle_feed_url": url_for("public_map.circle_feed"),
    }
    return render_template("public/map.html", settings=settings)


@pages.get(subscriptions.CONFIRM_PATH)
@allow(PUBLIC)
def confirm_page():
    """The confirmation link opens a page with one button: a mail scanner fetching the link confirms nothing."""
    subscription = subscriptions.pending_by_token(request.args.get("token"))
    area = subscriptions.area_of(subscription)
    return render_template("public/alerts.html", area=area, token=request.args["token"], done=False)


@pages.post(subscriptions.CONFIRM_PATH)
@allow(PUBLIC)
def confirm():
    subscription = subscriptions.confirm(request.form.get("token"))
    return render_template("public/alerts.html", area=subscriptions.area_of(subscription), done="confirmed")


@pages.route(subscriptions.UNSUBSCRIBE_PATH, methods=["GET", "POST"])
@allow(PUBLIC)
def unsubscribe():
    """One click: the link in the e-mail (GET) and RFC 8058's List-Unsubscribe-Post (POST) both end it."""
    subscription_id = request.args.get("id", type=int)
    subscription = subscriptions.unsubscribe(subscription_id, request.args.get("sig"))
    if request.method == "POST":
        return {"status": "unsubscribed"}
    return render_template("public/alerts.html", area=subscriptions.area_of(subscription), done="unsubscribed")


@pages.get("/feeds/areas/circle.atom")
@allow(PUBLIC)
def circle_feed():
    """The Atom feed of a circle: ?lat=&lon=&r= (metres, ≤ 2000)."""
    query = load_valid(CircleSchema(), request.args.to_dict())
    return _atom(public_reports.circle(query["lat"], query["lon"], query["r"]))


@pages.get("/feeds/areas/<code>.atom")
@allow(PUBLIC)
def area_feed(code):
    """The Atom feed of a community (12-digit code) or street (9-digit code)."""
    return _atom(public_reports.area_of_code(code))


def _atom(area):
    body = feeds.area_feed(area, feed_url=request.url, map_url=url_for("public_map.map_page", _external=True))
    return body, 200, {"Content-Type": ATOM}
