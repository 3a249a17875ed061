"""The one error shape, as a schema for the API document (errors.py renders it)."""

from marshmallow import Schema, fields


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"description": "稳定的英文错误码，如 report_not_found"})
    message = fields.String(required=True, metadata={"description": "给人看的中文说明"})
    details = fields.Dict(required=True, metadata={"description": "附加信息，如出错字段、当前状态、上限"})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)
