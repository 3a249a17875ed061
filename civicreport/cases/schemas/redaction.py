"""Hand-drawn redactions: boxes to blur in a photo's public derivatives."""

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from civicreport.cases.schemas.media import PhotoStaffSchema
from civicreport.cases.schemas.report import EventStaffSchema
from civicreport.schema_fields import BoundedList

MAX_BOXES = 20


class BoxSchema(Schema):
    """A rectangle on the upright original: pixels, or fractions of its width/height."""

    class Meta:
        unknown = RAISE

    x = fields.Float(required=True, allow_nan=False)
    y = fields.Float(required=True, allow_nan=False)
    width = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=0, min_inclusive=False))
    height = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=0, min_inclusive=False))


class RedactionSchema(Schema):
    class Meta:
        unknown = RAISE

    boxes = BoundedList(fields.Nested(BoxSchema), required=True, min_items=1, max_items=MAX_BOXES)
    units = fields.String(load_default="px", validate=validate.OneOf(["px", "fraction"]))
    note = fields.String(load_default=None, validate=validate.Length(max=500))

    @validates_schema
    def fractions_stay_below_one(self, data, **kwargs):
        if data.get("units") != "fraction":
            return
        for box in data.get("boxes", []):
            if box["x"] > 1 or box["y"] > 1 or box["width"] > 1 or box["height"] > 1:
                raise ValidationError("units 为 fraction 时坐标和宽高须在 0 到 1 之间", field_name="boxes")


class RedactionResultSchema(Schema):
    photo = fields.Nested(
        PhotoStaffSchema, required=True, metadata={"description": "新的 display_url / thumb_url；原图不变"}
    )
    event = fields.Nested(
        EventStaffSchema,
        required=True,
        metadata={"description": "时间线上的 redact 记录，data.boxes 为新增区域（0–1）"},
    )
