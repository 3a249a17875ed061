"""The leader's 督办 page: the query and the view of ``oversight.leader.overview``."""

from marshmallow import RAISE, Schema, fields, validate

from civicreport.oversight.status import LISTING_STATES, PART_STATES, POINT_KINDS, WHISTLE_STATES


class OverviewQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    leader = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "领导账号（创建办查看某位领导的页面；省略为全区）；领导只能看自己的"},
    )


class _UnitRef(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)


class _Area(Schema):
    code = fields.String(required=True)
    name = fields.String(metadata={"description": "街道或社区名称"})


class _ListedProblem(Schema):
    id = fields.Integer(required=True)
    public_id = fields.String(required=True)
    title = fields.String(required=True)
    place = fields.String()
    area_code = fields.String()
    status = fields.String(required=True)
    status_label = fields.Function(lambda row: LISTING_STATES.get(row.status, row.status))
    target_on = fields.Date(required=True)
    overdue = fields.Boolean(required=True, metadata={"description": "已过整改期限且未摘牌"})
    leader_office = fields.String()
    mine = fields.Boolean(metadata={"description": "由本人牵头"})
    lead_unit = fields.Nested(_UnitRef)
    updated_at = fields.DateTime()


class _LatePart(Schema):
    unit = fields.Nested(_UnitRef, required=True)
    lead = fields.Boolean()
    status = fields.String(required=True)
    status_label = fields.Function(lambda part: PART_STATES.get(part.status, part.status))
    checkin_due_at = fields.DateTime(required=True)
    checked_in_at = fields.DateTime(allow_none=True)
    escalated_at = fields.DateTime(allow_none=True)


class _Whistle(Schema):
    id = fields.Integer(required=True)
    public_id = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)
    status_label = fields.Function(lambda row: WHISTLE_STATES.get(row.status, row.status))
    community_code = fields.String()
    created_at = fields.DateTime()
    units = fields.Function(lambda row: len(row.parts), metadata={"description": "吹哨召集的单位数"})
    late_parts = fields.Function(
        lambda row: _LatePart(many=True).dump(p for p in row.parts if p.late),
        metadata={"description": "报到迟到的单位"},
    )


class _FailedItem(Schema):
    item = fields.String(required=True)
    label = fields.String(required=True)
    case = fields.String(allow_none=True, metadata={"description": "不合格项生成的案件编号"})


class _Point(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    kind_label = fields.Function(lambda row: POINT_KINDS.get(row.kind, row.kind))
    community_code = fields.String()
    unit = fields.Nested(_UnitRef, allow_none=True)
    last_inspected_at = fields.DateTime(allow_none=True)
    inspection_overdue = fields.Boolean(metadata={"description": "距上次检查已超过检查周期"})
    pass_rate = fields.Float(allow_none=True, metadata={"description": "近 30 天检查合格率"})
    failed_items = fields.List(fields.Nested(_FailedItem), metadata={"description": "最近一次检查的不合格项"})


class _Leader(Schema):
    name = fields.String(required=True)
    display_name = fields.String()


class OverviewSchema(Schema):
    leader = fields.Nested(_Leader, allow_none=True, metadata={"description": "省略时为全区"})
    areas = fields.List(fields.Nested(_Area), metadata={"description": "联系点（街道或社区）"})
    as_of = fields.Date(required=True)
    listed_problems = fields.List(fields.Nested(_ListedProblem), required=True)
    late_whistles = fields.List(fields.Nested(_Whistle), required=True)
    failing_points = fields.List(fields.Nested(_Point), required=True)
