"""Needs orders: 点单 input, transitions, list filters and statistics queries in; order views out."""

import math
import re
from datetime import date

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from civicreport.cases.models import MAX_PHOTOS_PER_STEP
from civicreport.cobuilding import photos
from civicreport.cobuilding.orders import is_overdue
from civicreport.cobuilding.status import ORDER_STATES
from civicreport.schema_fields import (
    LATITUDE,
    LONGITUDE,
    BoundedList,
    CommaList,
    Month,
    both_or_neither,
    lat_lon_pair_refused,
)

COMMUNITY_CODE = validate.Regexp(re.compile(r"^\d{12}$"), error="社区代码须为 12 位数字")
LIST_MAX = 200
LAST_MONTH = validate.Range(max=date(9998, 12, 1), error="月份超出范围")  # reporting.stats.Period.month's last


class OrderSubmitSchema(Schema):
    class Meta:
        unknown = RAISE

    description = fields.String(
        required=True, validate=validate.Length(min=1, max=2000), metadata={"description": "需求描述（急难愁盼）"}
    )
    lat = fields.Float(load_default=None, allow_nan=False, validate=LATITUDE)
    lon = fields.Float(load_default=None, allow_nan=False, validate=LONGITUDE)
    crs = fields.String(load_default="wgs84", validate=validate.OneOf(["wgs84", "gcj02", "bd09"]))
    community = fields.String(
        load_default=None, validate=COMMUNITY_CODE, metadata={"description": "所在社区代码；带 lat/lon 时以坐标为准"}
    )
    contact = fields.String(
        load_default=None, validate=validate.Length(max=128), metadata={"description": "联系方式，仅社区和创建办可见"}
    )
    OPENAPI_RULES = both_or_neither("lat", "lon")

    @validates_schema
    def lat_and_lon_together(self, data, **kwargs):
        if (data["lat"] is None) != (data["lon"] is None):
            raise lat_lon_pair_refused()
        for name in ("lat", "lon"):
            if data[name] is not None and not math.isfinite(data[name]):
                raise ValidationError("坐标必须是有限数值", field_name=name)
        if not data["description"].strip():
            raise ValidationError("请描述您的需求", field_name="description")


class TeamRef(fields.Field):
    """A team's name or its numeric id, as text."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int)) or not 1 <= len(str(value)) <= 64:
            raise ValidationError("服务队须为名称或编号")
        return str(value).strip()


class OrderTransitionSchema(Schema):
    class Meta:
        unknown = RAISE

    action = fields.String(required=True, validate=validate.Length(max=32))
    note = fields.String(load_default=None, validate=validate.Length(max=1000))
    team = TeamRef(load_default=None, metadata={"description": "派单：志愿服务队名称或编号", "type": "string"})
    unit = fields.String(
        load_default=None, validate=validate.Length(min=1, max=32), metadata={"description": "派单：共建单位编码"}
    )
    hours = fields.Float(load_default=None, allow_nan=False, metadata={"description": "服务完成：服务时长（小时）"})
    rating = fields.Integer(load_default=None, strict=True, metadata={"description": "评单：1–5"})
    comment = fields.String(load_default=None, validate=validate.Length(max=500))
    media_ids = BoundedList(
        fields.String(validate=validate.Length(max=32)), max_items=MAX_PHOTOS_PER_STEP, load_default=None
    )


class OrderQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    status = CommaList(
        max_items=len(ORDER_STATES),
        choices=ORDER_STATES,
        load_default=(),
        metadata={"description": "状态，可多个：" + "、".join(ORDER_STATES)},
    )
    community = fields.String(load_default=None, validate=COMMUNITY_CODE)
    month = Month(load_default=None, validate=LAST_MONTH, metadata={"description": "点单月份 YYYY-MM"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=LIST_MAX))


class OrderStatsQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    month = Month(load_default=None, validate=LAST_MONTH, metadata={"description": "统计月份 YYYY-MM，默认本月"})


def _named(row, code_attr="code"):
    return None if row is None else {code_attr: getattr(row, code_attr), "name": row.name}


class OrderEventSchema(Schema):
    action = fields.String()
    from_status = fields.String()
    to_status = fields.String()
    actor_role = fields.String()
    note = fields.String()
    data = fields.Dict(metadata={"description": "deadline_at、late、team、unit、hours、rating 等"})
    photos = fields.Function(lambda e: photos.views(e.photos))
    created_at = fields.DateTime()


class OrderSchema(Schema):
    """What the team (and a leader) reads: the need, where it stands, the service and its rating."""

    id = fields.String(attribute="public_id")
    status = fields.String()
    status_label = fields.Function(lambda o: ORDER_STATES[o.status])
    description = fields.String()
    community = fields.Function(lambda o: _named(o.community))
    team = fields.Function(lambda o: _named(o.team, "id"))
    unit = fields.Function(lambda o: _named(o.unit))
    on_behalf = fields.Function(
        lambda o: o.created_by_user_id is not None, metadata={"description": "社区工作人员代点单"}
    )
    deadline_at = fields.DateTime(metadata={"description": "当前时限：待派单时为派单时限，派单后为服务时限"})
    overdue = fields.Function(lambda o: is_overdue(o))
    created_at = fields.DateTime()
    dispatched_at = fields.DateTime()
    accepted_at = fields.DateTime()
    completed_at = fields.DateTime()
    service_hours = fields.Float()
    rating = fields.Integer()
    rating_comment = fields.String()
    photos = fields.Function(lambda o: [p for e in o.events for p in photos.views(e.photos)])
    events = fields.Function(lambda o: OrderEventSchema(many=True).dump(o.events))
    allowed_actions = fields.List(fields.String(), dump_default=None)


class OrderPrivateSchema(OrderSchema):
    """Plus what only the resident, the community's staff and the office read."""

    contact = fields.String()
    location = fields.Function(lambda o: None if o.lat is None else {"lat": o.lat, "lon": o.lon, "crs": "wgs84"})


class SubmittedOrderSchema(OrderPrivateSchema):
    receipt_token = fields.String(
        required=True, metadata={"description": "回执码：凭它查看、评价或取消这张点单（请求头 X-Receipt-Token）"}
    )


class OrderListSchema(Schema):
    """Each order as the caller may read it: contact and location only where OrderPrivateSchema's
    rule allows."""

    orders = fields.List(fields.Nested(OrderPrivateSchema), required=True)


def order_view(order, actor, allowed_actions=None):
    """The order as ``actor`` may read it, with the actions open to him now when given."""
    schema = OrderPrivateSchema() if actor.sees_contact(order) else OrderSchema()
    body = schema.dump(order)
    body["allowed_actions"] = allowed_actions
    return body


class OrderFiguresSchema(Schema):
    collected = fields.Integer(metadata={"description": "点单数"})
    dispatched = fields.Integer(metadata={"description": "有效派单数"})
    declined = fields.Integer(metadata={"description": "退单数"})
    rejected = fields.Integer(metadata={"description": "不予受理数"})
    cancelled = fields.Integer()
    completed = fields.Integer()
    service_hours = fields.Float(metadata={"description": "服务时长（小时）"})
    rated = fields.Integer()
    satisfied = fields.Integer(metadata={"description": "评 4–5 星"})
    satisfaction_rate = fields.Float(metadata={"description": "满意率 0–1，无评价时为 null"})
    overdue = fields.Integer(metadata={"description": "本月到期而超时的派单、服务时限"})


class CommunityFiguresSchema(OrderFiguresSchema):
    code = fields.String()
    name = fields.String()


class TeamFiguresSchema(OrderFiguresSchema):
    kind = fields.String(metadata={"description": "team（志愿服务队）或 unit（共建单位）"})
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    community_code = fields.String()


class OrderStatsSchema(Schema):
    month = fields.String(required=True)
    communities = fields.List(fields.Nested(CommunityFiguresSchema), required=True)
    teams = fields.List(fields.Nested(TeamFiguresSchema), required=True)
