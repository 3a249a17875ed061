"""Report submission input and the public / staff views of a report."""

import math

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from civicreport.cases.models import REPORT_KINDS
from civicreport.cases.public_point import point_for
from civicreport.cases.schemas.media import PhotoPublicSchema, PhotoStaffSchema
from civicreport.schema_fields import LATITUDE, LONGITUDE, BoundedList, both_or_neither, lat_lon_pair_refused

MEDIA_IDS_MAX = 64


class ReportSubmitSchema(Schema):
    class Meta:
        unknown = RAISE

    kind = fields.String(
        load_default="problem",
        validate=validate.OneOf(REPORT_KINDS),
        metadata={"description": "problem（问题，默认）或 praise（文明点赞：不选类别，不派遣）"},
    )
    category = fields.String(load_default=None, validate=validate.Length(min=1, max=8))
    description = fields.String(load_default="", validate=validate.Length(max=2000))
    lat = fields.Float(load_default=None, allow_nan=False, validate=LATITUDE)
    lon = fields.Float(load_default=None, allow_nan=False, validate=LONGITUDE)
    crs = fields.String(load_default="wgs84", validate=validate.OneOf(["wgs84", "gcj02", "bd09"]))
    accuracy = fields.Float(load_default=None, validate=validate.Range(min=0, max=100_000))
    location_source = fields.String(load_default="device", validate=validate.OneOf(["device", "manual"]))
    contact = fields.String(load_default=None, validate=validate.Length(max=128))
    notify = fields.Boolean(
        load_default=False,
        metadata={
            "description": "true：案件受理、派遣、处置、结案或不予受理时通知上报人（contact 须为手机号或电子邮箱）"
        },
    )
    # A ceiling read before the ids are: intake then holds the count to MAX_PHOTOS_PER_REPORT.
    media_ids = BoundedList(fields.String(validate=validate.Length(max=32)), max_items=MEDIA_IDS_MAX, load_default=list)

    @pre_load
    def blank_crs_is_absent(self, data, **kwargs):
        """``"crs": ""`` (a client that sends every field, a form's empty choice) means the default, wgs84."""
        if isinstance(data, dict) and isinstance(data.get("crs"), str) and not data["crs"].strip():
            return {key: value for key, value in data.items() if key != "crs"}
        return data

    OPENAPI_RULES = both_or_neither("lat", "lon")

    @validates_schema
    def lat_and_lon_together(self, data, **kwargs):
        if (data["lat"] is None) != (data["lon"] is None):
            raise lat_lon_pair_refused()
        for name in ("lat", "lon"):
            if data[name] is not None and not math.isfinite(data[name]):
                raise ValidationError("坐标必须是有限数值", field_name=name)


class ReportPublicSchema(Schema):
    id = fields.String(attribute="public_id")
    kind = fields.String()
    status = fields.String()
    category = fields.Function(
        lambda r: (
            None
            if r.category is None
            else {
                "code": r.category.code,
                "name": r.category.name,
                "group": r.category.group,
            }
        )
    )
    suggested_categories = fields.Raw()
    description = fields.String()
    location = fields.Function(
        lambda r: {"lat": r.lat, "lon": r.lon, "crs": "wgs84", "source": r.location_source, "approximate": False},
        metadata={
            "description": "WGS-84 坐标；关于人的行为的上报（文明行为、街面秩序类），对无权查看精确位置者"
            "给出约 50 米网格的中心，approximate 为 true（见 README 隐私一节）"
        },
    )
    location_source = fields.String()
    grid = fields.Function(
        lambda r: {
            "code": r.grid_code,
            "community": {"code": r.community.code, "name": r.community.name},
            "street": {"code": r.street.code, "name": r.street.name},
            "district": {"code": r.district.code, "name": r.district.name},
        }
    )
    unit = fields.Function(
        lambda r: None if r.unit is None else {"code": r.unit.code, "name": r.unit.name, "kind": r.unit.kind}
    )
    photos = fields.Function(lambda r: PhotoPublicSchema(many=True).dump(r.media))
    deadline_at = fields.DateTime()
    overdue = fields.Function(lambda report: report.is_overdue())
    warning = fields.Function(lambda report: report.is_warning())
    rework_count = fields.Integer()
    escalation_count = fields.Integer()
    rating = fields.Integer()
    support_count = fields.Integer()
    duplicate_of = fields.Function(lambda r: r.duplicate_of.public_id if r.duplicate_of_id else None)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    closed_at = fields.DateTime()


class ReportStaffSchema(ReportPublicSchema):
    channel = fields.String()
    contact = fields.String()
    reporter = fields.Function(lambda r: None if r.reporter_user_id is None else {"user_id": r.reporter_user_id})
    input_location = fields.Function(
        lambda r: (
            None
            if r.input_crs is None
            else {
                "crs": r.input_crs,
                "lat": r.input_lat,
                "lon": r.input_lon,
                "accuracy_m": r.accuracy_m,
            }
        )
    )
    photo_distance_m = fields.Float()
    location_flagged = fields.Boolean()
    photo_age_hours = fields.Function(lambda r: None if r.photo_age_s is None else round(r.photo_age_s / 3600, 1))
    evidence_flags = fields.Function(lambda r: r.evidence_flags or [])
    evidence_flagged = fields.Boolean()
    device_id = fields.String()
    photo_reuse_flagged = fields.Boolean()
    routing = fields.Function(lambda r: {"routed_by": r.routed_by, "rule_id": r.routing_rule_id})
    photos = fields.Function(lambda r: PhotoStaffSchema(many=True).dump(r.media))
    dispatched_at = fields.DateTime()
    warning_at = fields.DateTime()
    allowed_minutes = fields.Integer()
    extension_request_hours = fields.Function(
        lambda r: None if r.extension_request_minutes is None else r.extension_request_minutes // 60
    )
    return_count = fields.Integer()
    rating_comment = fields.String()
    resolved_at = fields.DateTime()


def report_view(report, actor, allowed_actions=None):
    """The report as ``actor`` (accounts.access.Actor) may read it: the staff view for who sees its
    private side, the point where ``cases.public_point`` lets them see it."""
    schema = ReportStaffSchema() if actor.sees_private(report) else ReportPublicSchema()
    body = schema.dump(report)
    shown = point_for(report, actor)
    body["location"] |= {"lat": shown.lat, "lon": shown.lon, "approximate": shown.approximate}
    if allowed_actions is not None:
        body["allowed_actions"] = allowed_actions
    return body


class EventSchema(Schema):
    id = fields.Integer()
    action = fields.String()
    from_status = fields.String()
    to_status = fields.String()
    created_at = fields.DateTime()


class EventStaffSchema(EventSchema):
    actor_role = fields.String()
    actor_user_id = fields.Integer()
    note = fields.String()
    data = fields.Raw()


class ReportViewSchema(ReportStaffSchema):
    """A report as ``report_view`` returns it: the public fields for everyone; contact, reporter,
    routing, originals and the other staff fields only for the centre and the handling unit."""

    allowed_actions = fields.List(
        fields.String(), metadata={"description": "调用者当前可执行的流转动作（登录用户或持回执令牌时给出）"}
    )
    whistles = fields.List(
        fields.Dict(), metadata={"description": "工作人员视图：就本案吹哨的事项（id、title、status、status_label）"}
    )
    inspection = fields.Dict(
        allow_none=True,
        metadata={
            "description": "工作人员视图：由点位检查不合格项所立的案件给出点位（id、name、kind）、"
            "检查 id 与时间、是否暗访、检查项（item、label）；其他案件为 null"
        },
    )


class SubmittedReportSchema(ReportViewSchema):
    receipt_token = fields.String(metadata={"description": "匿名上报时给出：凭它查看和评价这件上报"})
    receipt_code = fields.String(
        metadata={"description": "匿名上报时给出：8 位查询码，连同案件编号可查询进度（POST /api/v1/receipts/lookup）"}
    )
    notify = fields.Dict(metadata={"description": "开启进度通知时给出：{channel: email|sms, active}"})
    duplicate_candidates = fields.List(
        fields.Dict(),
        metadata={
            "description": "附近同类未办结上报（这个问题已有人上报），最近的至多 DUPLICATE_CANDIDATES_MAX（默认 5）件"
        },
    )


class EventListSchema(Schema):
    report = fields.String(required=True)
    events = fields.List(
        fields.Nested(EventStaffSchema),
        required=True,
        metadata={"description": "公开视图只含 id、action、from_status、to_status、created_at"},
    )
