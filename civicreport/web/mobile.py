"""The citizen's phone pages (随手拍): submit a report, follow 我的上报, rate the fix; 我要点单 for
a resident's needs order (社区文明共建), followed and rated the same way.

The pages are server-rendered shells with small scripts and no build step. The phone
keeps its pending submission and its receipts in IndexedDB; everything else comes from
the JSON API, including the two small endpoints below that only these pages needed.
"""

from flask import Blueprint, current_app, render_template, request, url_for

from civicreport.cases import citizen, workflow
from civicreport.cases.schemas.citizen import (
    ReceiptLookupResultSchema,
    ReceiptLookupSchema,
    SuggestionsSchema,
    SuggestQuerySchema,
    receipt_view,
)
from civicreport.cases.status import STATUS_LABELS
from civicreport.cases.workflow import TRANSITIONS
from civicreport.cobuilding import orders
from civicreport.cobuilding.status import ORDER_STATES
from civicreport.errors import BadRequest
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
    "我的上报：凭回执码一次查询多件上报（进度、处置单位、前后照片、可评价）",
    body=ReceiptLookupSchema,
    response=ReceiptLookupResultSchema,
    tag="reports",
    errors=(429,),
)
def lookup_receipts():
    """我的上报: several reports at once by ``{"receipts": [{"id", "receipt_token"}, …]}``.

    POST so the tokens stay out of URLs and logs. Ids without a matching receipt are
    listed under ``unknown``; the reports carry their timeline and ``allowed_actions``.
    """
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("请求体须为 JSON 对象", code="malformed_json")
    data = load_valid(ReceiptLookupSchema(), body)
    found, unknown = citizen.reports_for_receipts(data["receipts"], request.remote_addr)
    return {
        "reports": [receipt_view(report, workflow.allowed_actions(report, actor)) for report, actor in found],
        "unknown": unknown,
    }
