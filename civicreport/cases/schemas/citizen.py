"""The citizen pages' own API: category suggestions and 我的上报 by receipt tokens."""

import re

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from civicreport.cases.schemas.report import (
    EventSchema,
    ReportPublicSchema,
    report_view,
)
from civicreport.errors import ValidationFailed
from civicreport.schema_fields import BoundedList

MAX_RECEIPTS = 50


class SuggestQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    text = fields.String(required=True, validate=validate.Length(max=2000))


class SuggestionSchema(Schema):
    code = fields.String()
    name = fields.String()
    group = fields.String(
        metadata={"description": "群众习惯的大类：市容环境、道路设施、交通文明、市场秩序、文明行为 …"}
    )
    score = fields.Float()


class SuggestionsSchema(Schema):
    suggestions = fields.List(fields.Nested(SuggestionSchema))


class ReceiptSchema(Schema):
    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Length(min=1, max=32))
    receipt_token = fields.String(required=True, validate=validate.Length(min=1, max=128))


class ReceiptLookupSchema(Schema):
    """Either the phone's receipts (``receipts``), or one case by its number and the short code
    a person kept (``id`` and ``receipt_code``)."""

    class Meta:
        unknown = RAISE

    receipts = BoundedList(fields.Nested(ReceiptSchema), min_items=1, max_items=MAX_RECEIPTS)
    id = fields.String(
        validate=validate.Length(min=1, max=32), metadata={"description": "案件编号（与 receipt_code 同用）"}
    )
    receipt_code = fields.String(
        validate=validate.Length(min=1, max=32), metadata={"description": "8 位查询码，可带空格或短横线"}
    )
    # one_way below, for the OpenAPI document
    OPENAPI_RULES = {
        "oneOf": [
            {"required": ["receipts"], "not": {"anyOf": [{"required": ["id"]}, {"required": ["receipt_code"]}]}},
            {"required": ["id", "receipt_code"], "not": {"required": ["receipts"]}},
        ]
    }

    @validates_schema
    def one_way(self, data, **kwargs):
        single = "id" in data or "receipt_code" in data
        if "receipts" in data and single:
            raise ValidationError("receipts 与 id/receipt_code 只能二选一", field_name="receipts")
        if "receipts" not in data and not ("id" in data and "receipt_code" in data):
            raise ValidationError("请提供 receipts，或同时提供 id 和 receipt_code", field_name="receipt_code")


class ReceiptProofSchema(Schema):
    """One case and what proves its reporter: the receipt token, or the short receipt code."""

    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Length(min=1, max=32))
    receipt_token = fields.String(validate=validate.Length(min=1, max=128))
    receipt_code = fields.String(validate=validate.Length(min=1, max=32))
    # one_proof below, for the OpenAPI document
    OPENAPI_RULES = {"oneOf": [{"required": ["receipt_token"]}, {"required": ["receipt_code"]}]}

    @validates_schema
    def one_proof(self, data, **kwargs):
        if ("receipt_token" in data) == ("receipt_code" in data):
            raise ValidationError("请提供 receipt_token 或 receipt_code 之一", field_name="receipt_token")


class NoticeChoiceSchema(ReceiptProofSchema):
    notify = fields.Boolean(required=True, metadata={"description": "false：不再通知；true：恢复通知"})


class NoticeStateSchema(Schema):
    channel = fields.String(metadata={"description": "email 或 sms"})
    active = fields.Boolean()


class NoticeChoiceResultSchema(Schema):
    id = fields.String(required=True)
    notify = fields.Nested(NoticeStateSchema, required=True)


_CASE_ID = r"[!-+\--~]{1,32}"  # visible ASCII but the comma
# the whole rule, so that the document can state it: 1–50 numbers of 1–32 characters
IDS = re.compile(rf"^{_CASE_ID}(,{_CASE_ID}){{0,{MAX_RECEIPTS - 1}}}$")


def _case_ids(value):
    if value == "":
        raise ValidationError("ids 不能为空")
    if not IDS.fullmatch(value):  # the code the phone pages have known since the badge came
        raise ValidationFailed(
            f"ids 须为 1–{MAX_RECEIPTS} 个案件编号，逗号分隔", code="invalid_ids", details={"max": MAX_RECEIPTS}
        )


class UpdatesQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    ids = fields.String(
        required=True,
        validate=_case_ids,
        metadata={"description": f"本机保存的案件编号，逗号分隔，至多 {MAX_RECEIPTS} 个", "pattern": IDS.pattern},
    )


class NoticeEventSchema(Schema):
    event_id = fields.Integer(metadata={"description": "时间线上的事件编号：比本机记下的大即为未读"})
    event = fields.String(metadata={"description": "accepted、dispatched、resolved、closed 或 rejected"})
    at = fields.DateTime()


class CaseUpdateSchema(Schema):
    id = fields.String()
    status = fields.String()
    notice = fields.Nested(NoticeEventSchema, allow_none=True)


class UpdatesSchema(Schema):
    reports = fields.List(fields.Nested(CaseUpdateSchema), required=True)
    cursor = fields.Integer(required=True, metadata={"description": "所列案件最新通知事件的编号"})


class ReceiptEventSchema(EventSchema):
    """The timeline as the reporter sees it: steps and the notes given (e.g. why it was rejected)."""

    note = fields.String()


class ReceiptReportSchema(ReportPublicSchema):
    """A report as its reporter sees it in 我的上报 (the public view, so no contact and no originals)."""

    allowed_actions = fields.List(fields.String(), metadata={"description": "持回执可执行的动作：rate、add_evidence"})
    notify = fields.Dict(
        allow_none=True, metadata={"description": "进度通知：{channel: email|sms, active}；未开启为 null"}
    )
    events = fields.List(fields.Nested(ReceiptEventSchema))


class ReceiptLookupResultSchema(Schema):
    reports = fields.List(fields.Nested(ReceiptReportSchema), required=True)
    # The JSON key is ``unknown``. marshmallow takes declared fields off the class, so at run
    # time this does not shadow Schema.unknown (mypy thinks it does).
    unknown = fields.List(  # type: ignore[assignment]
        fields.String(), required=True, metadata={"description": "不存在或回执码不符的案件编号（两者不作区分）"}
    )


def receipt_view(report, actor, allowed_actions):
    """The public view of a report for its reporter (``actor``, who stood there and so sees the point
    precisely): timeline and the actions (rate, add photos) open to them."""
    body = report_view(report, actor, allowed_actions=allowed_actions)
    body["events"] = ReceiptEventSchema(many=True).dump(report.events)
    return body
