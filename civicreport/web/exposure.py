"""曝光台 and 光荣榜: supervisors preview, publish and withdraw verified cases (exposure.publishing);
anyone reads the public list and pages, phone first; leaders read the month's counts."""

import math

from flask import Blueprint, current_app, render_template, request

from civicreport import registry
from civicreport.cases.status import STATUS_LABELS
from civicreport.db_types import utcnow
from civicreport.exposure import publishing
from civicreport.exposure.schemas import (
    KIND_LABELS,
    PER_PAGE,
    ExposureCandidateListSchema,
    ExposureCandidateQuerySchema,
    ExposureFiguresQuerySchema,
    ExposureFiguresSchema,
    ExposurePreviewQuerySchema,
    ExposurePreviewSchema,
    ExposurePublicationListSchema,
    ExposurePublicationSchema,
    ExposurePublicQuerySchema,
    ExposurePublishSchema,
    ExposureStaffQuerySchema,
    ExposureWithdrawSchema,
    PublicExposureListSchema,
    PublicExposureSchema,
    candidate_view,
    preview_view,
    public_view,
    staff_view,
)
from civicreport.reporting.stats import Period
from civicreport.schema_fields import load_valid
from civicreport.web import PUBLIC, ROW_ID, allow, current_user, json_object
from civicreport.web.console import ROLE_LABELS
from civicreport.web.openapi import doc

bp = Blueprint("exposure", __name__, url_prefix="/api/v1")
pages = Blueprint("exposure_pages", __name__)

TAG = "exposure"


@bp.get("/exposure/preview")
@allow(*publishing.PUBLISHERS)
@doc(
    "发布前预览：将公开的遮挡后照片与隐藏号码后的文字；记录查看人与时间（发布须先预览）",
    tag=TAG,
    query=ExposurePreviewQuerySchema,
    response=ExposurePreviewSchema,
    errors=(404, 409),
)
def preview():
    query = load_valid(ExposurePreviewQuerySchema(), request.args.to_dict())
    return preview_view(publishing.preview(current_user(), query["report"]))


@bp.post("/exposure")
@allow(*publishing.PUBLISHERS)
@doc(
    "发布到曝光台（uncivil）或光荣榜（praise）：仅已核查、已结案或已评价的案件，须先预览并带 reviewed: true",
    tag=TAG,
    body=ExposurePublishSchema,
    response=ExposurePublicationSchema,
    status=201,
    errors=(404, 409),
)
def publish():
    data = load_valid(ExposurePublishSchema(), json_object())
    publication = publishing.publish(
        current_user(), data["report"], data["kind"], data["note"].strip(), data["reviewed"]
    )
    return staff_view(publication), 201


@bp.post(f"/exposure/<{ROW_ID}:publication_id>/withdraw")
@allow(*publishing.PUBLISHERS)
@doc(
    "撤下：留下记录（谁、何时、理由），公开页面随即显示“已撤下”",
    tag=TAG,
    path={"publication_id": "发布记录 id"},
    body=ExposureWithdrawSchema,
    response=ExposurePublicationSchema,
    errors=(404, 409),
)
def withdraw(publication_id):
    data = load_valid(ExposureWithdrawSchema(), json_object())
    return staff_view(publishing.withdraw(current_user(), publication_id, data["note"].strip()))


@bp.get("/exposure")
@allow(*publishing.PUBLISHERS)
@doc(
    "已发布与已撤下的记录（含发布人、理由与撤下记录）",
    tag=TAG,
    query=ExposureStaffQuerySchema,
    response=ExposurePublicationListSchema,
)
def publications():
    query = load_valid(ExposureStaffQuerySchema(), request.args.to_dict())
    rows = publishing.publications(current_user(), query["kind"], query["withdrawn"])
    return {"publications": [staff_view(p) for p in rows]}


@bp.get("/exposure/candidates")
@allow(*publishing.PUBLISHERS)
@doc(
    "可发布的案件：已核查、已结案或已评价且未在榜上的（本人片区内，最近的在前）",
    tag=TAG,
    query=ExposureCandidateQuerySchema,
    response=ExposureCandidateListSchema,
)
def candidates():
    query = load_valid(ExposureCandidateQuerySchema(), request.args.to_dict())
    return {"candidates": [candidate_view(r) for r in publishing.candidates(current_user(), query["kind"])]}


@bp.get("/stats/exposure")
@allow(*publishing.FIGURE_READERS)
@doc(
    "曝光台与光荣榜月度数：当月发布与撤下条数",
    tag=TAG,
    query=ExposureFiguresQuerySchema,
    response=ExposureFiguresSchema,
)
def figures():
    query = load_valid(ExposureFiguresQuerySchema(), request.args.to_dict())
    month = query["month"] or utcnow().astimezone(registry.current().zone).strftime("%Y-%m")
    return {"month": month, **publishing.month_counts(*_month_instants(month))}


@bp.get("/public/exposure")
@allow(PUBLIC)
@doc(
    "曝光台与光荣榜公开列表：类别、街道社区（无精确位置）、日期、遮挡后照片与处理结果，每页 20 条",
    tag=TAG,
    query=ExposurePublicQuerySchema,
    response=PublicExposureListSchema,
)
def public_list():
    return _public_page(load_valid(ExposurePublicQuerySchema(), request.args.to_dict()))


@bp.get(f"/public/exposure/<{ROW_ID}:publication_id>")
@allow(PUBLIC)
@doc(
    "曝光台或光荣榜的一条；已撤下的只说明已撤下",
    tag=TAG,
    path={"publication_id": "发布记录 id"},
    response=PublicExposureSchema,
    errors=(404,),
)
def public_item(publication_id):
    return public_view(publishing.get_publication(publication_id))


@pages.get("/exposure")
@allow(PUBLIC)
def list_page():
    """The public 曝光台/光荣榜 on a phone: server-rendered from the public view alone, no script."""
    filled = {name: value for name, value in request.args.items() if value}  # the month form sends month=
    query = load_valid(ExposurePublicQuerySchema(), filled)
    return render_template("public/exposure.html", listing=_public_page(query), query=query, kinds=KIND_LABELS)


@pages.get(f"/exposure/<{ROW_ID}:publication_id>")
@allow(PUBLIC)
def item_page(publication_id):
    """One publication's page; a withdrawn one says it was withdrawn."""
    item = public_view(publishing.get_publication(publication_id))
    return render_template("public/exposure_item.html", item=item, kinds=KIND_LABELS)


@pages.get("/console/exposure")
@allow(PUBLIC)  # a shell: candidates and publications come from the API with the supervisor's token
def console_page():
    settings = {
        "timezone": current_app.config["TIMEZONE"],
        "roles": ROLE_LABELS,
        "statuses": STATUS_LABELS,
        "kinds": KIND_LABELS,
    }
    return render_template("console/exposure.html", page="exposure", settings=settings)


def _public_page(query):
    start, end = _month_instants(query["month"]) if query["month"] else (None, None)
    rows, total = publishing.public_page(query["kind"], start, end, query["page"], PER_PAGE)
    return {
        "items": [public_view(p) for p in rows],
        "page": query["page"],
        "pages": max(1, math.ceil(total / PER_PAGE)),
        "total": total,
    }


def _month_instants(month):
    year, number = (int(part) for part in month.split("-"))
    return Period.month(year, number).instants(registry.current().zone)
