"""Block-list input and view."""

from marshmallow import RAISE, Schema, fields, validate

from civicreport.abuse.models import BLOCK_KINDS
from civicreport.db_types import utcnow


class BlockCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    kind = fields.String(required=True, validate=validate.OneOf(BLOCK_KINDS))
    value = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "X-Device-Id、登录名或 IP 地址/网段（CIDR）"},
    )
    reason = fields.String(load_default=None, validate=validate.Length(max=500))
    days = fields.Integer(
        load_default=None,
        strict=True,
        validate=validate.Range(min=1, max=3650),
        metadata={"description": "有效天数；不填则一直有效，直到删除"},
    )


class BlockQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    kind = fields.String(load_default=None, validate=validate.OneOf(BLOCK_KINDS))


class BlockSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    value = fields.String()
    reason = fields.String()
    created_by_user_id = fields.Integer()
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    active = fields.Function(lambda b: b.active_at(utcnow()))


class BlockListSchema(Schema):
    blocks = fields.List(fields.Nested(BlockSchema), required=True)
