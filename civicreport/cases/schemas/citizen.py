"""The citizen pages' own API: category suggestions and 我的上报 by receipt tokens."""

from marshmallow import RAISE, Schema, fields, validate

from civicreport.cases.schemas.report import (
    EventSchema,
    ReportPublicSchema,
    report_view,
)
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
    class Meta:
        unknown = RAISE

    receipts = BoundedList(fields.Nested(ReceiptSchema), required=True, min_items=1, max_items=MAX_RECEIPTS)


class ReceiptEventSchema(EventSchema):
    """The timeline as the reporter sees it: steps and the notes given (e.g. why it was rejected)."""

    note = fields.String()


class ReceiptReportSchema(ReportPublicSchema):
    """A report as its reporter sees it in 我的上报 (the public view, so no contact and no originals)."""

    allowed_actions = fields.List(fields.String(), metadata={"description": "持回执可执行的动作：rate、add_evidence"})
    events = fields.List(fields.Nested(ReceiptEventSchema))


class ReceiptLookupResultSchema(Schema):
    reports = fields.List(fields.Nested(ReceiptReportSchema), required=True)
    # The JSON key is ``unknown``. marshmallow takes declared fields off the class, so at run
    # time this does not shadow Schema.unknown (mypy thinks it does).
    unknown = fields.List(  # type: ignore[assignment]
        fields.String(), required=True, metadata={"description": "不存在或回执码不符的案件编号（两者不作区分）"}
    )


def receipt_view(report, allowed_actions):
    """The public view of a report for its reporter: timeline and the actions (rate, add photos) open to them."""
    body = report_view(report, allowed_actions=allowed_actions)
    body["events"] = ReceiptEventSchema(many=True).dump(report.events)
    return body
