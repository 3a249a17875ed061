"""Staff account administration: the change request and the account view."""

from marshmallow import RAISE, Schema, fields, validate

from civicreport.accounts.models import ROLES
from civicreport.cases.schemas.workflow import UserSchema
from civicreport.schema_fields import BoundedList

AREA_CODE = fields.String(
    validate=validate.Regexp(r"^(\d{6}|\d{9}|\d{12}|\d{15})$", error="片区编码须为 6、9、12 或 15 位数字")
)


class UserChangeSchema(Schema):
    class Meta:
        unknown = RAISE

    role = fields.String(validate=validate.OneOf(ROLES))
    unit = fields.String(
        allow_none=True,
        validate=validate.Length(min=1, max=32),
        metadata={"description": "单位编码；null 取消所属单位"},
    )
    areas = BoundedList(
        AREA_CODE, max_items=200, metadata={"description": "负责片区的完整列表（替换原有片区）；[] 为全区"}
    )
    team = fields.String(
        allow_none=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "志愿服务队名称（志愿者必填）；其他角色不属于任何队"},
    )
    active = fields.Boolean(metadata={"description": "false 停用账号：其全部令牌立即失效"})
    display_name = fields.String(validate=validate.Length(min=1, max=64))


class UserQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    role = fields.String(load_default=None, validate=validate.OneOf(ROLES))
    active = fields.Boolean(load_default=None)


class UserAccountSchema(UserSchema):
    phone = fields.String()
    active = fields.Boolean()
    created_at = fields.DateTime()


class UserListSchema(Schema):
    users = fields.List(fields.Nested(UserAccountSchema), required=True)
