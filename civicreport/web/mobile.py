"""The citizen's phone pages (随手拍): submit a report, follow 我的上报, rate the fix; 我要点单 for
a resident's needs order (社区文明共建), followed and rated the same way.

The pages are server-rendered shells with small scripts and no build step. The phone
keeps its pending submission and its receipts in IndexedDB; everything else comes from
the JSON API, including the two small endpoints below that only these pages needed.
"""

import hashlib

from flask import Blueprint, current_app, jsonify, render_template, request, url_for

from civicreport.cases import citizen, notices, workflow
from civicreport.cases.schemas.citizen import (
    MAX_RECEIPTS,
    NoticeChoiceResultSchema,
    NoticeChoiceSchema,
    ReceiptLookupResultSchema,
    ReceiptLookupSchema,
    SuggestionsSchema,
    SuggestQuerySchema,
    UpdatesQuerySchema,
    UpdatesSchema,
    receipt_view,
)
from civicreport.cases.status import STATUS_LABELS
from civicreport.cases.workflow import TRANSITIONS
from civicreport.cobuilding import orders
from civicreport.cobuilding.status import ORDER_STATES
from civicreport.errors import BadRequest, ValidationFailed
from civicreport.schema_fields import load_valid
from civicreport.web import PUBLIC, allow
from civicreport.web.console import EVENT_LABELS, map_settings
from civicreport.web.openapi import doc

bp = Blueprint("mobile", __name__, url_prefix="/m")
api = Blueprint("citizen_api", __name__, url_prefix="/api/v1")


def _settings():
    """What the page scripts need: limits, labels, the map, and (submit page) the categories."""
    config = current_app.config
    return {
        "max_photos": config["MAX_PHOTOS_PER_REPORT"],
        "max_photo_bytes": config["MAX_PHOTO_BYTES"],
        "statuses": STATUS_LABELS,
        "events": {**{name: t.label for name, t in TRANSITIONS.items()}, **EVENT_LABELS},
        "timezone": config["TIMEZONE"],
        "map": map_settings(config),
        "notice_poll_seconds": config["NOTICE_POLL_SECONDS"],
    }


@bp.get("/")
@allow(PUBLIC)  # anyone may report; the API checks what is sent
def submit():
    leaflet = {
        "js": url_for("static", filename="vendor/leaflet/leaflet.js"),
        "css": url_for("static", filename="vendor/leaflet/leaflet.css"),
    }  # loaded only if the map opens
    return render_template(
        "mobile/submit.html",
        page="submit",
        settings={**_settings(), "groups": citizen.grouped_categories(), "leaflet": leaflet},
    )


@bp.get("/mine")
@allow(PUBLIC)  # the list lives on the phone; the API answers only for matching receipts
def mine():
    return render_template("mobile/mine.html", page="mine", settings=_settings())


@bp.get("/orders")
@allow(PUBLIC)  # anyone may file a need; the orders live on the phone and the API answers by receipt
def orders_page():
    """我要点单: file a need, and follow 我的点单 by the receipts kept on this phone."""
    settings = {
        **_settings(),
        "statuses": ORDER_STATES,
        "events": {"submit": "点单", **{name: t.label for name, t in orders.TRANSITIONS.items()}},
        "communities": orders.community_choices(),
    }
    return render_template("mobile/orders.html", page="orders", settings=settings)


@api.get("/categories/suggest")
@allow(PUBLIC)
@doc("按描述文字推荐问题类别（边输入边推荐）", query=SuggestQuerySchema, response=SuggestionsSchema)
def suggest_categories():
    """Categories suggested from a description as the citizen types (``?text=``)."""
    query = load_valid(SuggestQuerySchema(), request.args.to_dict())
    return {"suggestions": citizen.suggest_categories(query["text"])}


@api.post("/receipts/lookup")
@allow(PUBLIC)  # each report is shown only to the holder of its receipt token
@doc(
    "我的上报：凭回执码一次查询多件上报（进度、处置单位、前后照片、可评价），或凭案件编号和 8 位查询码查询一件",
    body=ReceiptLookupSchema,
    response=ReceiptLookupResultSchema,
    tag="reports",
    errors=(429,),
)
def lookup_receipts():
    """我的上报: several reports at once by ``{"receipts": [{"id", "receipt_token"}, …]}``, or
    one by ``{"id", "receipt_code"}``, the short code a person kept (the same answer).

    POST so the tokens stay out of URLs and logs. Ids without a matching receipt are
    listed under ``unknown``; the reports carry their timeline and ``allowed_actions``.
    """
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("请求体须为 JSON 对象", code="malformed_json")
    data = load_valid(ReceiptLookupSchema(), body)
    if "receipts" in data:
        found, unknown = citizen.reports_for_receipts(data["receipts"], request.remote_addr)
    else:
        found, unknown = citizen.report_by_code(data["id"], data["receipt_code"], request.remote_addr)
    return {
        "reports": [
            {
                **receipt_view(report, actor, workflow.allowed_actions(report, actor)),
                "notify": notices.notice_state(report),
            }
            for report, actor in found
        ],
        "unknown": unknown,
    }


@api.get("/receipts/updates")
@allow(PUBLIC)  # public facts only (each case's state and the step it last took): no receipt needed
@doc(
    "我的上报未读提醒：本机保存的案件各自最新一次进展（受理、派遣、处置、结案、不予受理）",
    query=UpdatesQuerySchema,
    response=UpdatesSchema,
    tag="receipts",
    description="答复带 ETag；轮询时带 If-None-Match，没有新进展则答 304 且无正文。",
)
def receipt_updates():
    """The phone pages' unread badge polls this: cheap when nothing moved (304 by the ETag)."""
    query = load_valid(UpdatesQuerySchema(), request.args.to_dict())
    reports = notices.latest_notices(_case_ids(query["ids"]))
    cursor = max((r["notice"]["event_id"] for r in reports if r["notice"]), default=0)
    response = jsonify(UpdatesSchema().dump({"reports": reports, "cursor": cursor}))
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


def _case_ids(text):
    ids = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not ids or len(ids) > MAX_RECEIPTS or any(len(i) > 32 for i in ids):
        raise ValidationFailed(
            f"ids 须为 1–{MAX_RECEIPTS} 个案件编号，逗号分隔", code="invalid_ids", details={"max": MAX_RECEIPTS}
        )
    return ids


@api.post("/receipts/notices")
@allow(PUBLIC)  # the reporter alone: proven by the receipt token or the short receipt code
@doc(
    "关闭（或恢复）进度通知：凭回执或查询码",
    body=NoticeChoiceSchema,
    response=NoticeChoiceResultSchema,
    tag="receipts",
    errors=(404, 409, 429),
)
def choose_notices():
    """Opt out (``notify: false``) or back in; 409 when the reporter left no contact for notices."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("请求体须为 JSON 对象", code="malformed_json")
    data = load_valid(NoticeChoiceSchema(), body)
    report = citizen.proven_report(
        data["id"], request.remote_addr, token=data.get("receipt_token"), code=data.get("receipt_code")
    )
    notices.set_notify(report, data["notify"])
    return {"id": report.public_id, "notify": notices.notice_state(report)}
