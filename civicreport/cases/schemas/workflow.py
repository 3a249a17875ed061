"""Transition requests, login and the unit worklist."""

from marshmallow import RAISE, Schema, fields, validate

from civicreport.cases.models import MAX_PHOTOS_PER_STEP
from civicreport.schema_fields import BoundedList


class TransitionSchema(Schema):
    class Meta:
        unknown = RAISE

    action = fields.String(required=True, validate=validate.Length(max=32))
    note = fields.String(load_default=None, validate=validate.Length(max=1000))
    public_note = fields.String(
        load_default=None,
        validate=validate.Length(max=500),
        metadata={
            "description": "对外答复：公开给群众的一句话（如不予受理的理由），Open311 的 status_notes 与进展说明照登；"
            "note 仍只给工作人员和上报人"
        },
    )
    category = fields.String(load_default=None, validate=validate.Length(max=8))
    unit = fields.String(load_default=None, validate=validate.Length(max=32))
    duplicate_of = fields.String(load_default=None, validate=validate.Length(max=32))
    hours = fields.Integer(load_default=None, strict=True)
    rating = fields.Integer(load_default=None, strict=True)
    comment = fields.String(load_default=None, validate=validate.Length(max=500))
    media_ids = BoundedList(
        fields.String(validate=validate.Length(max=32)), max_items=MAX_PHOTOS_PER_STEP, load_default=None
    )


class LoginSchema(Schema):
    class Meta:
        unknown = RAISE

    login = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class UserSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    display_name = fields.String()
    role = fields.String()
    unit = fields.Function(lambda u: u.unit.code if u.unit else None)
    areas = fields.Function(
        lambda u: u.area_codes,
        metadata={
            "description": "负责片区（区、街道、社区或网格编码）；督查员、监督员只能查看和办理片区内的案件，为空则全区"
        },
    )
    team_id = fields.Integer(allow_none=True, metadata={"description": "志愿者所属志愿服务队 id"})


class LoginResultSchema(Schema):
    token = fields.String(required=True)
    expires_at = fields.String(required=True, metadata={"format": "date-time"})
    user = fields.Nested(UserSchema, required=True)


class MeSchema(Schema):
    user = fields.Nested(UserSchema, required=True)


class StatusSchema(Schema):
    status = fields.String(required=True)


class WorklistCaseSchema(Schema):
    id = fields.String(required=True)
    status = fields.String(required=True)
    category = fields.String()
    description = fields.String()
    place = fields.String()
    grid = fields.String()
    deadline_at = fields.String(metadata={"format": "date-time"})
    overdue = fields.Boolean()
    warning = fields.Boolean()
    escalation_count = fields.Integer()
    rework_count = fields.Integer()
    thumb_url = fields.String()


class WorklistSchema(Schema):
    """A unit's 问题清单: open cases, overdue first."""

    unit = fields.Dict(required=True)
    generated_at = fields.String(required=True, metadata={"format": "date-time"})
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    cases = fields.List(fields.Nested(WorklistCaseSchema), required=True)
