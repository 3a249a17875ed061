"""The JSON API under /api/v1 (intake part)."""

from flask import Blueprint, jsonify, request

from civicreport.accounts.access import Actor, actor_for
from civicreport.cases import citizen, duplicates, intake, lookup, notices, workflow
from civicreport.cases.schemas.duplicates import (
    CandidateListSchema,
    DuplicateQuerySchema,
    ReportDuplicatesSchema,
    SupportSchema,
    candidate_view,
    photo_match_view,
)
from civicreport.cases.schemas.media import UploadedPhotoSchema
from civicreport.cases.schemas.report import (
    ReportSubmitSchema,
    ReportViewSchema,
    SubmittedReportSchema,
    report_view,
)
from civicreport.errors import BadRequest, ValidationFailed
from civicreport.ops import health as ops_health
from civicreport.ops.schemas import HealthSchema
from civicreport.oversight import points, whistles
from civicreport.reference import lookup as reference_lookup
from civicreport.reference.grid import normalise_point
from civicreport.reference.schemas import (
    CategoryListSchema,
    CategorySchema,
    LocateQuerySchema,
    LocateSchema,
    locate_view,
)
from civicreport.reporting import queue
from civicreport.reporting.schemas.queue import (
    QueuePageSchema,
    QueueQuerySchema,
    queue_page,
    totals_view,
)
from civicreport.schema_fields import load_valid
from civicreport.web import PUBLIC, allow, mark_replay, rate_limits
from civicreport.web import current_user as _user
from civicreport.web.guards import takes_photos
from civicreport.web.openapi import DEVICE_ID_HEADER, IDEMPOTENCY_KEY, MANY, ONE, doc, refused
from civicreport.web.rate_limits import limited

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# What a phone sends with each submission; the device id feeds the abuse limits and the block list.
SUBMIT_HEADERS = {**IDEMPOTENCY_KEY, **DEVICE_ID_HEADER}
# What the photo pipeline refuses in bytes that are well-formed as an upload (media.errors).
PHOTO_REFUSALS = ("unsupported_image_type", "image_unreadable", "image_too_many_pixels", "invalid_photo")


def _created(body, replayed):
    """201 with ``body``; a replay (same ``Idempotency-Key``) says so in a header."""
    response = jsonify(body)
    response.status_code = 201
    return mark_replay(response, replayed)


def _submitted_view(submission, user):
    """What the submitter reads: the private side only for who may see it on any case
    (accounts.access); the possible duplicates when filed now; an anonymous reporter's receipt."""
    report = submission.report
    body = report_view(report, Actor(user, report.id))  # its reporter, who sees where they stood
    if not submission.replayed:
        body["duplicate_candidates"] = [candidate_view(n) for n in submission.nearby]
    if submission.receipt_token:
        body["receipt_token"] = submission.receipt_token
        body["receipt_code"] = submission.receipt_code
    notify = notices.notice_state(report)
    if notify:
        body["notify"] = notify
    return body


@bp.get("/health")
@allow(PUBLIC)
@doc("运行状态：数据库与存储检查", response=HealthSchema, errors=(503,))
def health():
    return {"status": "ok", "checks": ops_health.health()}


@bp.get("/categories")
@allow(PUBLIC)
@doc("启用的问题类别", response=CategoryListSchema)
def categories():
    return {"categories": CategorySchema(many=True).dump(reference_lookup.active_categories())}


@bp.get("/grid/locate")
@allow(PUBLIC)
@doc(
    "按坐标查网格、社区、街道和各大类的责任单位",
    query=LocateQuerySchema,
    response=LocateSchema,
    refusals=refused("outside_service_area"),
)
def grid_locate():
    query = load_valid(LocateQuerySchema(), request.args.to_dict())
    return locate_view(*reference_lookup.locate_with_routes(query["lat"], query["lon"], query["crs"]))


@bp.post("/media")
@limited("upload")
@allow(PUBLIC)
@doc(
    "先上传一张照片（弱网下的手机端），得到照片 id",
    files={"photo": ONE},
    headers=SUBMIT_HEADERS,
    response=UploadedPhotoSchema,
    status=201,
    errors=(403, 429, 503),
    refusals=refused(*PHOTO_REFUSALS, "idempotency_key_reused"),
)
@takes_photos
def upload_media():
    user = _user()
    unknown = sorted(set(request.form) | (set(request.files) - {"photo"}))
    if unknown:  # the document's form is closed: one part, photo
        raise ValidationFailed(details={"fields": dict.fromkeys(unknown, ["Unknown field."])})
    files = request.files.getlist("photo")
    if len(files) != 1:
        raise BadRequest("请以 multipart 字段 photo 上传一张照片", code="photo_field_required")
    upload = intake.upload_media(files[0].read(), user, request.headers.get("Idempotency-Key"))
    return _created(UploadedPhotoSchema().dump(upload.media), upload.replayed)


@bp.post("/reports")
@limited("submit")
@allow(PUBLIC)
@doc(
    "提交上报：multipart 带照片，或 JSON 带 media_ids",
    form=ReportSubmitSchema,
    files={"photo": MANY},
    body=ReportSubmitSchema,
    headers=SUBMIT_HEADERS,
    response=SubmittedReportSchema,
    status=201,
    errors=(403, 409, 429, 503),
    refusals=refused(
        "outside_service_area",
        "unknown_category",
        "unknown_media",
        "duplicate_media_ids",
        "photo_required",
        "location_required",
        "lat_lon_pair",
        "too_many_photos",
        *PHOTO_REFUSALS,
        "praise_has_no_category",
        "notice_contact_required",
        "idempotency_key_reused",
    ),
    description="不带 lat/lon 时取照片 EXIF 中的位置；坐标可为 wgs84、gcj02 或 bd09。匿名上报返回 receipt_token，"
    "凭它查看和评价这件上报，以及 8 位查询码 receipt_code（连同案件编号查询进度，便于抄写和电话报读）。"
    "notify 为 true 且 contact 为手机号或电子邮箱时，案件进展以短信或邮件通知上报人。"
    "同一 Idempotency-Key 重试返回同一件上报。",
)
@takes_photos
def submit_report():
    user = _user()
    if request.is_json:
        fields = request.get_json(silent=True)
        if not isinstance(fields, dict):
            raise BadRequest("JSON 格式错误", code="malformed_json")
        uploads = []
    elif request.mimetype == "multipart/form-data":
        fields = _form_fields()
        uploads = [f.read() for f in request.files.getlist("photo")]
    else:
        raise BadRequest("请使用 multipart/form-data 或 application/json", code="unsupported_content_type")
    device_id = rate_limits.device_id()
    data = load_valid(ReportSubmitSchema(), fields)
    submission = intake.submit_report(data, uploads, user, request.headers.get("Idempotency-Key"), device_id=device_id)
    return _created(_submitted_view(submission, user), submission.replayed)


def _form_fields():
    fields = {k: v for k, v in request.form.items() if v != "" and k != "media_ids"}
    media_ids = request.form.getlist("media_ids")
    if media_ids:
        fields["media_ids"] = media_ids
    return fields


@bp.get("/reports/<public_id>")
@allow(PUBLIC)
@doc("查看案件：公开视图；工作人员和上报人看到更多", response=ReportViewSchema, receipt=True, errors=(429,))
def get_report(public_id):
    user = _user()
    report = lookup.get_report(public_id)
    actor = citizen.receipt_actor(user, report, request.headers.get("X-Receipt-Token"), request.remote_addr)
    allowed = workflow.allowed_actions(report, actor) if actor.user or actor.receipt_report_id else None
    body = report_view(report, actor, allowed_actions=allowed)
    if actor.sees_private(report):  # the cases know nothing of the oversight layer above them: its links are added here
        body["whistles"] = whistles.of_report(report)
        body["inspection"] = points.of_report(report)
    return body


@bp.get("/queue")
@allow("supervisor", "monitor", "leader", "admin", "unit_staff")
@doc(
    "受理队列：筛选、分页、GeoJSON",
    query=QueueQuerySchema,
    response=QueuePageSchema,
    refusals=refused("bbox_out_of_range", "invalid_cursor"),
)
def queue_list():
    params = load_valid(QueueQuerySchema(), request.args.to_dict(flat=False) | _single(request.args))
    filters = queue.Filters(
        statuses=params["status"],
        category=params["category"],
        group=params["group"],
        grid=params["grid"],
        community=params["community"],
        street=params["street"],
        unit=params["unit"],
        overdue=params["overdue"],
        warning=params["warning"],
        evidence_flag=params["evidence_flag"],
        bbox=params["bbox"],
        since=params["since"],
        until=params["until"],
        text=params["q"],
        sort=params["sort"],
        limit=queue.page_limit(params["limit"]),
        cursor=params["cursor"],
    )
    user = _user()
    page = queue.search(filters, user)
    return {
        **queue_page(page, params["format"], Actor(user)),
        "totals": totals_view(queue.totals(filters, user, page.now)),
    }


def _single(args):
    """Query parameters that must appear once, as plain values (status may repeat)."""
    return {key: values[-1] for key, values in args.lists() if key != "status"}


@bp.get("/duplicates")
@allow(PUBLIC)
@doc(
    "上报前的重复提示：附近同类未办结上报",
    query=DuplicateQuerySchema,
    response=CandidateListSchema,
    refusals=refused("outside_service_area", "unknown_category"),
)
def duplicate_candidates():
    """Before submitting: “这个问题已有人上报” candidates near a point."""
    query = load_valid(DuplicateQuerySchema(), request.args.to_dict())
    lat, lon = normalise_point(query["lat"], query["lon"], query["crs"])
    category = reference_lookup.require_category(query["category"]) if query["category"] else None
    return {"candidates": [candidate_view(n) for n in duplicates.nearby_open(lat, lon, category, coarse=True)]}


@bp.get("/reports/<public_id>/duplicates")
@allow("supervisor", "monitor", "leader", "admin")
@doc("分诊时的重复线索：附近同类上报与相同/相似照片", response=ReportDuplicatesSchema)
def report_duplicates(public_id):
    nearby, matches = duplicates.for_report(lookup.get_report(public_id), actor_for(_user()))
    return {"candidates": [candidate_view(n) for n in nearby], "photo_matches": [photo_match_view(m) for m in matches]}


@bp.post("/reports/<public_id>/support")
@limited("support")
@allow(PUBLIC)
@doc(
    "我也遇到了：为未办结的上报附议（每人每件一次，重复附议人数不变）",
    response=SupportSchema,
    headers=DEVICE_ID_HEADER,
    errors=(403, 409, 429),
)
def support(public_id):
    """“我也遇到了”: one more person reports the same problem; the same person again changes nothing."""
    supporter = duplicates.supporter(_user(), rate_limits.device_id(), request.remote_addr)
    report, repeated = duplicates.support(public_id, supporter)
    return {"id": report.public_id, "support_count": report.support_count, "already_supported": repeated}
