"""Public map queries, subscription requests and the views the OpenAPI document describes."""

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
    validates_schema,
)

from civicreport.alerts.public_reports import CIRCLE_MAX_M, PUBLIC_STATES
from civicreport.cases.citizen import CITIZEN_GROUPS
from civicreport.schema_fields import Bbox, CommaList

LAT = validate.Range(min=-90, max=90)
LON = validate.Range(min=-180, max=180)
RADIUS = validate.Range(min=1, max=CIRCLE_MAX_M, error=f"半径须在 1 至 {CIRCLE_MAX_M:g} 米之间")


class PublicReportsQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    bbox = Bbox()
    category = fields.String(load_default=None, validate=validate.Length(min=1, max=8))
    group = fields.String(load_default=None, validate=validate.OneOf(CITIZEN_GROUPS))
    status = CommaList(max_items=len(PUBLIC_STATES), choices=PUBLIC_STATES, load_default=())
    limit = fields.Integer(load_default=None, validate=validate.Range(min=1, max=10_000))
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "geojson"]))

    @validates("status")
    def public_statuses(self, value, **kwargs):
        unknown = sorted(set(value) - set(PUBLIC_STATES))
        if unknown:
            raise ValidationError(f"不可查询的状态: {', '.join(unknown)}")


class CircleSchema(Schema):
    """A circle in a query string: lat, lon (WGS-84) and r in metres (at most 2 km)."""

    class Meta:
        unknown = RAISE

    lat = fields.Float(required=True, allow_nan=False, validate=LAT)
    lon = fields.Float(required=True, allow_nan=False, validate=LON)
    r = fields.Float(required=True, allow_nan=False, validate=RADIUS, metadata={"description": "半径（米）"})


class SubscribeSchema(Schema):
    class Meta:
        unknown = RAISE

    email = fields.Email(required=True, validate=validate.Length(max=254))
    area = fields.String(
        required=True,
        validate=validate.OneOf(["community", "street", "circle"]),
        metadata={"description": "community（社区）、street（街道）或 circle（圆形范围）"},
    )
    code = fields.String(
        load_default=None, validate=validate.Length(min=9, max=12), metadata={"description": "社区或街道编码"}
    )
    lat = fields.Float(load_default=None, allow_nan=False, validate=LAT)
    lon = fields.Float(load_default=None, allow_nan=False, validate=LON)
    radius = fields.Float(load_default=None, allow_nan=False, validate=RADIUS, metadata={"description": "米，≤ 2000"})
    # area_given below, for the OpenAPI document
    OPENAPI_RULES = {
        "anyOf": [
            {
                "properties": {"area": {"enum": ["community", "street"]}, "code": {"type": "string"}},
                "required": ["code"],
            },
            {
                "properties": {
                    "area": {"enum": ["circle"]},
                    **dict.fromkeys(("lat", "lon", "radius"), {"type": "number"}),
                },
                "required": ["lat", "lon", "radius"],
            },
        ]
    }

    @validates_schema
    def area_given(self, data, **kwargs):
        if data["area"] == "circle" and None in (data["lat"], data["lon"], data["radius"]):
            raise ValidationError("圆形范围须提供 lat、lon 和 radius", field_name="area")
        if data["area"] != "circle" and not data["code"]:
            raise ValidationError("社区或街道须提供 code", field_name="code")

    @post_load
    def normalised(self, data, **kwargs):
        data["email"] = data["email"].strip().lower()
        return data


class PublicReportSchema(Schema):
    """One public report (``alerts.public_reports.public_view``); in GeoJSON, a feature's properties."""

    id = fields.String(required=True)
    category = fields.Dict(metadata={"description": "{code, name}"})
    group = fields.String(metadata={"description": "类别所属的群众分组"})
    status = fields.String(required=True)
    status_label = fields.String()
    community = fields.String()
    street = fields.String()
    lat = fields.Float()
    lon = fields.Float()
    approximate = fields.Boolean(metadata={"description": "行为类案件：位置取约 50 米网格中心"})
    created_at = fields.String(metadata={"format": "date-time"})
    closed_at = fields.String(metadata={"format": "date-time"})
    support_count = fields.Integer()
    thumb_url = fields.String(metadata={"description": "首张照片缩略图（已遮挡人脸、车牌）"})


class PublicReportPageSchema(Schema):
    """``format=json``: reports; ``format=geojson``: a FeatureCollection. Both say whether the cap cut it."""

    reports = fields.List(fields.Nested(PublicReportSchema))
    type = fields.String(metadata={"description": "FeatureCollection"})
    features = fields.List(fields.Dict())
    truncated = fields.Boolean(metadata={"description": "超过上限，只返回最新的 limit 条；请缩小范围"})
    limit = fields.Integer()


class SubscribeAnswerSchema(Schema):
    status = fields.String(metadata={"description": "pending：确认邮件已排队发送"})
    message = fields.String()
