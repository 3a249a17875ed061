"""联合整治行动: requests in, views out."""

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from civicreport.cases.models import MAX_PHOTOS_PER_STEP
from civicreport.oversight import photos
from civicreport.oversight.status import OPERATION_STATES
from civicreport.schema_fields import BoundedList, Instant, Month

AREA_CODE = validate.Regexp(r"^(\d{9}|\d{12})$", error="区域代码须为 9 位街道或 12 位社区代码")
STREET_CODE = validate.Regexp(r"^\d{9}$", error="街道代码须为 9 位数字")
UNIT_CODE = validate.Length(min=1, max=32)
CATEGORY_CODE = validate.Length(min=1, max=8)
MAX_UNITS = 30
MAX_CATEGORIES = 20
MAX_REPORTS = 100
MAX_COUNT = 1_000_000


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class OperationCreateSchema(_Strict):
    title = fields.String(required=True, validate=validate.Length(min=1, max=128))
    area = fields.String(
        required=True, validate=AREA_CODE, metadata={"description": "开展区域：街道（每月一次）或社区（每周一次）"}
    )
    place = fields.String(load_default="", validate=validate.Length(max=128), metadata={"description": "地点说明"})
    lat = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(min=-180, max=180))
    starts_at = Instant(required=True, metadata={"description": "开始时间（带时区）"})
    ends_at = Instant(required=True, metadata={"description": "结束时间：晚于开始，至多 7 天"})
    units = BoundedList(
        fields.String(validate=UNIT_CODE),
        min_items=1,
        max_items=MAX_UNITS,
        required=True,
        metadata={"description": "参加单位编码"},
    )
    categories = BoundedList(
        fields.String(validate=CATEGORY_CODE),
        min_items=1,
        max_items=MAX_CATEGORIES,
        required=True,
        metadata={"description": "整治对象：问题类别代码（如占道经营、非法小广告、散发传单、沿街晾挂）"},
    )

    @validates_schema
    def _point_whole(self, data, **kwargs):
        if (data["lat"] is None) != (data["lon"] is None):
            raise ValidationError("lat 和 lon 必须同时提供", field_name="lat")


class OperationResultSchema(_Strict):
    counts = fields.Dict(
        keys=fields.String(validate=CATEGORY_CODE),
        values=fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_COUNT)),
        required=True,
        validate=validate.Length(max=MAX_CATEGORIES),
        metadata={"description": '按问题类别统计的处置数，如 {"09006": 12, "07001": 40}'},
    )
    note = fields.String(load_default=None, validate=validate.Length(max=4000))
    media_ids = BoundedList(
        fields.String(validate=validate.Length(min=1, max=32)),
        max_items=MAX_PHOTOS_PER_STEP,
        load_default=list,
        metadata={"description": "先经 POST /api/v1/media 上传的照片"},
    )
    reports = BoundedList(
        fields.String(validate=validate.Length(min=1, max=32)),
        max_items=MAX_REPORTS,
        load_default=list,
        metadata={"description": "由本次行动立案的案件编号"},
    )


class OperationCancelSchema(_Strict):
    reason = fields.String(
        required=True, validate=validate.Length(min=1, max=1000), metadata={"description": "取消原因"}
    )


class OperationQuerySchema(_Strict):
    starts_from = Instant(data_key="from", load_default=None, metadata={"description": "开始时间不早于"})
    starts_before = Instant(data_key="to", load_default=None, metadata={"description": "开始时间早于"})
    area = fields.String(load_default=None, validate=AREA_CODE, metadata={"description": "街道（含其社区）或社区代码"})
    status = fields.String(load_default=None, validate=validate.OneOf(OPERATION_STATES))
    unit = fields.String(load_default=None, validate=UNIT_CODE, metadata={"description": "参加单位编码"})


class OperationMonthQuerySchema(_Strict):
    month = Month(load_default=None, metadata={"description": "YYYY-MM，默认本月"})


class RhythmQuerySchema(OperationMonthQuerySchema):
    street = fields.String(load_default=None, validate=STREET_CODE, metadata={"description": "只看该街道及其社区"})


class OperationUnitSchema(Schema):
    code = fields.String()
    name = fields.String()


class OperationCaseSchema(Schema):
    id = fields.String(attribute="report.public_id")
    status = fields.String(attribute="report.status")


def _code(unit):
    return unit.code


class OperationSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    area_code = fields.String(required=True)
    place = fields.String()
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    categories = fields.List(fields.String(), metadata={"description": "整治对象的问题类别代码"})
    units = fields.Function(
        lambda operation: OperationUnitSchema(many=True).dump(
            sorted((part.unit for part in operation.units), key=_code)
        ),
        metadata={"description": "参加单位，按编码"},
    )
    status = fields.String(required=True)
    status_label = fields.Function(lambda operation: OPERATION_STATES[operation.status])
    result_counts = fields.Dict(
        keys=fields.String(), values=fields.Integer(), allow_none=True, metadata={"description": "按类别的处置数"}
    )
    result_note = fields.String(allow_none=True)
    recorded_at = fields.DateTime(allow_none=True)
    photos = fields.Function(lambda operation: photos.views(operation.photos))
    cases = fields.List(fields.Nested(OperationCaseSchema), metadata={"description": "由本次行动立案的案件"})
    cancelled_at = fields.DateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    created_at = fields.DateTime()


class OperationListSchema(Schema):
    operations = fields.List(fields.Nested(OperationSchema), required=True)


class OperationDaySchema(Schema):
    date = fields.Date(required=True)
    operations = fields.List(fields.Nested(OperationSchema), required=True)


class OperationCalendarSchema(Schema):
    month = Month(required=True)
    days = fields.List(fields.Nested(OperationDaySchema), required=True, metadata={"description": "有行动的日子"})


class RhythmPeriodSchema(Schema):
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    required = fields.Integer(required=True, metadata={"description": "应开展次数"})
    done = fields.Integer(required=True, metadata={"description": "已开展次数"})
    status = fields.String(required=True, metadata={"description": "done 已完成，missed 期满未完成，open 进行中或未到"})


class StreetRhythmSchema(RhythmPeriodSchema):
    code = fields.String(required=True)
    name = fields.String(required=True)


class CommunityRhythmSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    street_code = fields.String(required=True)
    weeks = fields.List(fields.Nested(RhythmPeriodSchema), required=True, metadata={"description": "周一在本月的各周"})


class RhythmSchema(Schema):
    month = Month(required=True)
    streets = fields.List(fields.Nested(StreetRhythmSchema), required=True, metadata={"description": "街道：每月"})
    communities = fields.List(
        fields.Nested(CommunityRhythmSchema), required=True, metadata={"description": "社区：每周"}
    )
