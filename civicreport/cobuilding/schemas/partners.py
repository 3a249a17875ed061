"""Partnerships, leader links and volunteer teams: requests in, views out."""

from marshmallow import RAISE, Schema, fields, validate

from civicreport.cobuilding.status import PARTNER_ROLES
from civicreport.schema_fields import Day

COMMUNITY_CODE = validate.Regexp(r"^\d{12}$", error="社区代码须为 12 位数字")
UNIT_CODE = validate.Length(min=1, max=32)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class UnitRefSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String()


class PartnershipCreateSchema(_Strict):
    community = fields.String(required=True, validate=COMMUNITY_CODE)
    unit = fields.String(required=True, validate=UNIT_CODE, metadata={"description": "共建单位编码"})
    role = fields.String(
        required=True,
        validate=validate.OneOf(PARTNER_ROLES),
        metadata={
            "description": "lead 牵头单位（同一社区同时只有一个：新牵头单位开始前一天原牵头单位结束）；member 成员单位"
        },
    )
    starts_on = Day(load_default=None, metadata={"description": "开始日期，默认今天"})


class EndSchema(_Strict):
    ends_on = Day(load_default=None, metadata={"description": "不再生效的第一天，默认今天"})


class AsOfSchema(_Strict):
    as_of = Day(load_default=None, metadata={"description": "查询日期，默认今天"})


class PartnershipQuerySchema(AsOfSchema):
    community = fields.String(load_default=None, validate=COMMUNITY_CODE)
    unit = fields.String(load_default=None, validate=UNIT_CODE)
    history = fields.Boolean(load_default=False, metadata={"description": "true：列出全部历史记录（忽略 as_of）"})


class PartnershipSchema(Schema):
    id = fields.Integer(required=True)
    community_code = fields.String(required=True)
    community_name = fields.Function(lambda row: row.community.name)
    unit = fields.Nested(UnitRefSchema, required=True)
    role = fields.String(required=True)
    role_label = fields.Function(lambda row: PARTNER_ROLES[row.role])
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(allow_none=True, metadata={"description": "不再生效的第一天；null 为仍在共建"})


class PartnershipListSchema(Schema):
    partnerships = fields.List(fields.Nested(PartnershipSchema), required=True)


class LeaderLinkCreateSchema(_Strict):
    user = fields.String(required=True, validate=validate.Length(min=1, max=64), metadata={"description": "领导登录名"})
    area = fields.String(
        required=True,
        validate=validate.Regexp(r"^(\d{9}|\d{12})$", error="联系点须为 9 位街道或 12 位社区代码"),
    )
    starts_on = Day(load_default=None, metadata={"description": "开始日期，默认今天"})


class LeaderLinkQuerySchema(AsOfSchema):
    user = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    area = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^(\d{9}|\d{12})$", error="须为 9 位街道或 12 位社区代码"),
        metadata={"description": "街道或社区；社区也列出联系其所在街道的领导"},
    )
    history = fields.Boolean(load_default=False, metadata={"description": "true：列出全部历史记录（忽略 as_of）"})


class PersonSchema(Schema):
    name = fields.String(required=True)
    display_name = fields.String(required=True)


class LeaderLinkSchema(Schema):
    id = fields.Integer(required=True)
    user = fields.Nested(PersonSchema, required=True)
    area_code = fields.String(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(allow_none=True)


class LeaderLinkListSchema(Schema):
    leader_links = fields.List(fields.Nested(LeaderLinkSchema), required=True)


class TeamCreateSchema(_Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    community = fields.String(required=True, validate=COMMUNITY_CODE)
    unit = fields.String(load_default=None, validate=UNIT_CODE, metadata={"description": "所属共建单位编码（可选）"})
    contact_phone = fields.String(load_default=None, validate=validate.Length(min=1, max=32))


class TeamQuerySchema(_Strict):
    community = fields.String(load_default=None, validate=COMMUNITY_CODE)


class TeamSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    community_code = fields.String(allow_none=True)
    unit = fields.Nested(UnitRefSchema, allow_none=True)
    contact_phone = fields.String(allow_none=True)
    active = fields.Boolean()
    members = fields.List(fields.Nested(PersonSchema), metadata={"description": "志愿者（角色 volunteer）"})


class TeamListSchema(Schema):
    teams = fields.List(fields.Nested(TeamSchema), required=True)
