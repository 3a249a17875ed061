"""点位/暗访: points, checklists and inspections — requests in, views out."""

from marshmallow import RAISE, Schema, fields, validate

from civicreport.cases.models import MAX_PHOTOS_PER_STEP
from civicreport.cases.status import STATUS_LABELS
from civicreport.oversight import photos, points
from civicreport.oversight.status import POINT_KINDS
from civicreport.schema_fields import BoundedList

UNIT_CODE = validate.Length(min=1, max=32)
CATEGORY_CODE = validate.Length(min=1, max=8)
ITEM_CODE = validate.Regexp(r"^[a-z][a-z0-9_]{0,31}$", error="编码须为小写字母开头的字母、数字或下划线，至多 32 位")
EVERY_DAYS = validate.Range(min=1, max=366)
MAX_ANSWERS = 50


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class ResponsibleUnitSchema(Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.String()


# --- checklists ---------------------------------------------------------------------------


class ChecklistQuerySchema(_Strict):
    kind = fields.String(load_default=None, validate=validate.OneOf(POINT_KINDS))
    include_inactive = fields.Boolean(load_default=False, metadata={"description": "true：也列出已停用的检查项"})


class ChecklistItemSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(attribute="point_kind", required=True)
    kind_label = fields.Function(lambda item: POINT_KINDS.get(item.point_kind, item.point_kind))
    code = fields.String(required=True)
    label = fields.String(required=True)
    category = fields.String(
        attribute="category_code", required=True, metadata={"description": "不合格时所立案件的类别"}
    )
    position = fields.Integer()
    active = fields.Boolean()


class ChecklistSchema(Schema):
    items = fields.List(fields.Nested(ChecklistItemSchema), required=True)


class ChecklistItemCreateSchema(_Strict):
    kind = fields.String(required=True, validate=validate.OneOf(POINT_KINDS), metadata={"description": "点位类型"})
    code = fields.String(required=True, validate=ITEM_CODE, metadata={"description": "检查项编码（同类点位内唯一）"})
    label = fields.String(required=True, validate=validate.Length(min=1, max=64))
    category = fields.String(required=True, validate=CATEGORY_CODE, metadata={"description": "不合格时所立案件的类别"})
    position = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0, max=999))


class ChecklistItemChangeSchema(_Strict):
    label = fields.String(validate=validate.Length(min=1, max=64))
    category = fields.String(data_key="category", attribute="category_code", validate=CATEGORY_CODE)
    position = fields.Integer(strict=True, validate=validate.Range(min=0, max=999))
    active = fields.Boolean(metadata={"description": "false：停用（不再检查；历史记录保留）"})


# --- points -------------------------------------------------------------------------------


class PointCreateSchema(_Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    kind = fields.String(required=True, validate=validate.OneOf(POINT_KINDS), metadata={"description": "点位类型"})
    lat = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=-180, max=180))
    crs = fields.String(load_default="wgs84", validate=validate.OneOf(["wgs84", "gcj02", "bd09"]))
    unit = fields.String(load_default=None, validate=UNIT_CODE, metadata={"description": "责任单位编码"})
    every_days = fields.Integer(
        load_default=7, strict=True, validate=EVERY_DAYS, metadata={"description": "检查周期：两次检查至多相隔的天数"}
    )


class PointChangeSchema(_Strict):
    name = fields.String(validate=validate.Length(min=1, max=128))
    unit = fields.String(allow_none=True, validate=UNIT_CODE, metadata={"description": "责任单位编码；null 取消"})
    every_days = fields.Integer(strict=True, validate=EVERY_DAYS)
    active = fields.Boolean(metadata={"description": "false：停用点位（不再检查、不计逾期）"})


class PointQuerySchema(_Strict):
    kind = fields.String(load_default=None, validate=validate.OneOf(POINT_KINDS))
    community = fields.String(load_default=None, validate=validate.Regexp(r"^\d{12}$"))
    unit = fields.String(load_default=None, validate=UNIT_CODE)
    overdue = fields.Boolean(
        load_default=None, metadata={"description": "true：只列检查逾期的点位；false：只列未逾期的"}
    )
    active = fields.Boolean(load_default=True, metadata={"description": "false：列出已停用的点位"})


class InspectionPointSchema(Schema):
    """A point with its inspection figures, given as ``InspectionPointSchema(figures={point id: Figures})``."""

    def __init__(self, *, figures=None, **kwargs):
        super().__init__(**kwargs)
        self.figures = figures or {}

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    kind_label = fields.Function(lambda point: POINT_KINDS[point.kind])
    lat = fields.Float()
    lon = fields.Float()
    grid_code = fields.String()
    community_code = fields.String()
    unit = fields.Nested(ResponsibleUnitSchema, allow_none=True, metadata={"description": "责任单位"})
    every_days = fields.Integer(metadata={"description": "检查周期（天）"})
    active = fields.Boolean()
    created_at = fields.DateTime()
    last_inspected_at = fields.DateTime(allow_none=True)
    due_at = fields.Function(
        lambda point: points.due_at(point).isoformat(), metadata={"description": "下次检查最迟时间"}
    )
    overdue = fields.Function(lambda point: points.is_overdue(point), metadata={"description": "检查是否已逾期"})
    inspections = fields.Method("_inspections", metadata={"description": "检查次数"})
    passed = fields.Method("_passed", metadata={"description": "全部合格的检查次数"})
    pass_rate = fields.Method("_pass_rate", metadata={"description": "合格率：全部合格的检查 / 检查次数"})
    item_pass_rate = fields.Method("_item_pass_rate", metadata={"description": "检查项合格率"})

    def _of(self, point):
        return self.figures.get(point.id, points.Figures())

    def _inspections(self, point):
        return self._of(point).inspections

    def _passed(self, point):
        return self._of(point).passed

    def _pass_rate(self, point):
        return self._of(point).pass_rate

    def _item_pass_rate(self, point):
        return self._of(point).item_pass_rate


class InspectionPointListSchema(Schema):
    points = fields.List(fields.Nested(InspectionPointSchema), required=True)


# --- inspections --------------------------------------------------------------------------


class AnswerSchema(_Strict):
    item = fields.String(required=True, validate=validate.Length(min=1, max=32), metadata={"description": "检查项编码"})
    passed = fields.Boolean(data_key="pass", required=True, metadata={"description": "是否合格"})
    note = fields.String(load_default=None, validate=validate.Length(max=1000))
    media_ids = BoundedList(
        fields.String(validate=validate.Length(min=1, max=32)),
        max_items=MAX_PHOTOS_PER_STEP,
        load_default=list,
        metadata={"description": "先经 POST /api/v1/media 上传的照片；不合格项的照片即所立案件的照片"},
    )


class InspectionCreateSchema(_Strict):
    items = BoundedList(
        fields.Nested(AnswerSchema),
        min_items=1,
        max_items=MAX_ANSWERS,
        required=True,
        metadata={"description": "该类点位检查标准的每一项都须作答；不合格项各立一案"},
    )
    note = fields.String(load_default=None, validate=validate.Length(max=2000))
    unannounced = fields.Boolean(load_default=True, metadata={"description": "是否暗访"})


class HistoryQuerySchema(_Strict):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class InspectionCaseSchema(Schema):
    id = fields.String(attribute="public_id", required=True)
    status = fields.String()
    status_label = fields.Function(lambda report: STATUS_LABELS.get(report.status, report.status))
    category = fields.String(attribute="category_code")
    unit = fields.Nested(ResponsibleUnitSchema, allow_none=True, metadata={"description": "路由到的处置单位"})


class InspectionItemSchema(Schema):
    item = fields.String(attribute="item_code", required=True)
    label = fields.String(required=True)
    passed = fields.Boolean(data_key="pass", required=True)
    note = fields.String(allow_none=True)
    photos = fields.Function(lambda item: photos.views(item.photos))
    case = fields.Nested(
        InspectionCaseSchema, attribute="report", allow_none=True, metadata={"description": "不合格项所立案件"}
    )


class InspectionSchema(Schema):
    id = fields.Integer(required=True)
    point_id = fields.Integer(required=True)
    inspector_id = fields.Integer(attribute="inspector_user_id")
    unannounced = fields.Boolean()
    inspected_at = fields.DateTime()
    passed = fields.Boolean(required=True)
    note = fields.String(allow_none=True)
    items = fields.List(fields.Nested(InspectionItemSchema))


class InspectionResultSchema(InspectionSchema):
    cases = fields.Function(
        lambda inspection: InspectionCaseSchema(many=True).dump(
            item.report for item in inspection.items if item.report
        ),
        metadata={"description": "本次检查不合格项所立的案件"},
    )


class InspectionListSchema(Schema):
    point = fields.Nested(InspectionPointSchema)
    inspections = fields.List(fields.Nested(InspectionSchema), required=True)
