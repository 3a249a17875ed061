"""Whistles (吹哨报到): raising, transitions and list filters in; whistle views out."""

import math

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates, validates_schema

from civicreport.cases.models import MAX_PHOTOS_PER_STEP
from civicreport.oversight import photos
from civicreport.oversight.status import PART_STATES, WHISTLE_STATES
from civicreport.oversight.whistles import MAX_UNITS, event_label
from civicreport.schema_fields import BoundedList, CommaList

LIST_MAX = 200
UNIT_CODE = validate.Length(min=1, max=32)


class WhistleRaiseSchema(Schema):
    class Meta:
        unknown = RAISE

    title = fields.String(required=True, validate=validate.Length(min=1, max=128), metadata={"description": "事项"})
    description = fields.String(load_default="", validate=validate.Length(max=2000))
    report = fields.String(
        load_default=None, validate=validate.Length(min=1, max=32), metadata={"description": "关联案件编号（可选）"}
    )
    lat = fields.Float(load_default=None, allow_nan=False, metadata={"description": "无关联案件时必填"})
    lon = fields.Float(load_default=None, allow_nan=False)
    crs = fields.String(load_default="wgs84", validate=validate.OneOf(["wgs84", "gcj02", "bd09"]))
    lead_unit = fields.String(required=True, validate=UNIT_CODE, metadata={"description": "牵头单位编码"})
    units = BoundedList(
        fields.String(validate=UNIT_CODE),
        max_items=MAX_UNITS,
        load_default=list,
        metadata={"description": "配合单位编码"},
    )
    tasks = fields.Dict(
        keys=fields.String(validate=UNIT_CODE),
        values=fields.String(validate=validate.Length(max=1000)),
        load_default=dict,
        metadata={"description": "各单位任务：单位编码 → 任务说明"},
    )
    media_ids = BoundedList(
        fields.String(validate=validate.Length(max=32)), max_items=MAX_PHOTOS_PER_STEP, load_default=list
    )

    @validates_schema
    def place(self, data, **kwargs):
        if (data["lat"] is None) != (data["lon"] is None):
            raise ValidationError("lat 和 lon 必须同时提供", field_name="lat")
        for name in ("lat", "lon"):
            if data[name] is not None and not math.isfinite(data[name]):
                raise ValidationError("坐标必须是有限数值", field_name=name)
        if not data["title"].strip():
            raise ValidationError("请填写事项", field_name="title")
        if len(data["tasks"]) > MAX_UNITS:
            raise ValidationError(f"最多 {MAX_UNITS} 项任务", field_name="tasks")


class WhistleTransitionSchema(Schema):
    class Meta:
        unknown = RAISE

    action = fields.String(required=True, validate=validate.Length(max=32))
    unit = fields.String(
        load_default=None,
        validate=UNIT_CODE,
        metadata={"description": "单位编码：退回、评议、督办时指明哪个单位的任务"},
    )
    person = fields.String(
        load_default=None, validate=validate.Length(min=1, max=64), metadata={"description": "报到：本单位责任人"}
    )
    note = fields.String(load_default=None, validate=validate.Length(max=1000))
    rating = fields.Integer(
        load_default=None,
        strict=True,
        validate=validate.Range(min=1, max=5, error="评分须为 1–5 的整数"),
        metadata={"description": "评议：1–5"},
    )
    media_ids = BoundedList(
        fields.String(validate=validate.Length(max=32)), max_items=MAX_PHOTOS_PER_STEP, load_default=None
    )

    @validates("person")
    def person_named(self, value, **kwargs):
        if value is not None and not value.strip():
            raise ValidationError("请填写责任人")


class WhistleQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    status = CommaList(
        max_items=len(WHISTLE_STATES),
        choices=WHISTLE_STATES,
        load_default=(),
        metadata={"description": "状态，可多个：" + "、".join(WHISTLE_STATES)},
    )
    unit = fields.String(load_default=None, validate=UNIT_CODE, metadata={"description": "召集了该单位的"})
    late = fields.Boolean(load_default=None, metadata={"description": "true：有单位报到超时的"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=LIST_MAX))


def _unit(part):
    return {"code": part.unit.code, "name": part.unit.name}


class PartSchema(Schema):
    """One summoned unit's part: task, 报到, resolution and rating."""

    unit = fields.Function(_unit)
    lead = fields.Boolean(metadata={"description": "牵头单位"})
    task = fields.String()
    status = fields.String()
    status_label = fields.Function(lambda p: PART_STATES[p.status])
    checkin_due_at = fields.DateTime(metadata={"description": "报到时限"})
    checked_in_at = fields.DateTime()
    person = fields.String(metadata={"description": "责任人"})
    late = fields.Boolean(metadata={"description": "报到超时（超过时限才报到，或到时限仍未报到）"})
    escalated_at = fields.DateTime(metadata={"description": "最近一次督办时间"})
    resolved_at = fields.DateTime()
    returns = fields.Integer(metadata={"description": "被退回次数"})
    rating = fields.Integer(metadata={"description": "一体评议 1–5"})
    rating_note = fields.String()
    rated_at = fields.DateTime()


class WhistleEventSchema(Schema):
    action = fields.String()
    label = fields.String(metadata={"description": "步骤名称，如 报到、督办"})
    unit = fields.String(metadata={"description": "所涉单位编码；整体步骤为 null"})
    from_status = fields.String()
    to_status = fields.String()
    actor_role = fields.String(metadata={"description": "system：系统自动督办"})
    note = fields.String()
    data = fields.Dict(metadata={"description": "person、late、rating、whistle_status、automatic 等"})
    photos = fields.List(fields.Dict())
    created_at = fields.DateTime()


class WhistleSummarySchema(Schema):
    id = fields.String(attribute="public_id")
    title = fields.String()
    status = fields.String()
    status_label = fields.Function(lambda w: WHISTLE_STATES[w.status])
    report = fields.Function(lambda w: w.report.public_id if w.report else None, metadata={"description": "关联案件"})
    location = fields.Function(lambda w: {"lat": w.lat, "lon": w.lon, "crs": "wgs84"})
    street_code = fields.String()
    community_code = fields.String()
    grid_code = fields.String()
    raised_by = fields.Function(lambda w: {"name": w.raised_by.display_name, "role": w.raised_role})
    late = fields.Function(lambda w: any(p.late for p in w.parts), metadata={"description": "有单位报到超时"})
    created_at = fields.DateTime()
    closed_at = fields.DateTime()
    parts = fields.List(fields.Nested(PartSchema))


class WhistleSchema(WhistleSummarySchema):
    description = fields.String()
    events = fields.List(fields.Nested(WhistleEventSchema), metadata={"description": "时间线"})
    photos = fields.Function(lambda w: [p for e in w.events for p in photos.views(e.photos)])
    allowed_actions = fields.List(fields.String(), dump_default=None)


class WhistleListSchema(Schema):
    whistles = fields.List(fields.Nested(WhistleSummarySchema), required=True)


def _events(whistle):
    """The timeline as rows ``WhistleEventSchema`` dumps: each event with its part's unit code."""
    units = {p.id: p.unit.code for p in whistle.parts}
    return [
        {
            "action": e.action,
            "label": event_label(e.action),
            "unit": units.get(e.part_id),
            "from_status": e.from_status,
            "to_status": e.to_status,
            "actor_role": e.actor_role,
            "note": e.note,
            "data": e.data,
            "photos": photos.views(e.photos),
            "created_at": e.created_at,
        }
        for e in whistle.events
    ]


def whistle_view(whistle, allowed_actions):
    body = WhistleSchema(exclude=("events",)).dump(whistle)
    body["events"] = WhistleEventSchema(many=True).dump(_events(whistle))
    body["allowed_actions"] = allowed_actions
    return body
