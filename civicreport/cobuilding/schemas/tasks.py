"""Monthly tasks, declarations and 红黄牌: requests in, views out."""

import re

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from civicreport.cases.models import MAX_PHOTOS_PER_STEP
from civicreport.cobuilding import photos
from civicreport.cobuilding.status import CARD_REASONS, CARDS, DECLARATION_STATES
from civicreport.schema_fields import BoundedList, Instant, Month

MAX_TASK_COMMUNITIES = 500
_COMMUNITY = re.compile(r"^\d{12}$")


class Communities(fields.Raw):
    """``"all"`` (or omitted) for every community — None — or a list of 12-digit community codes."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value == "all":
            return None
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_TASK_COMMUNITIES:
            raise ValidationError(f'须为 "all" 或 1–{MAX_TASK_COMMUNITIES} 个社区代码的列表')
        if not all(isinstance(code, str) and _COMMUNITY.match(code) for code in value):
            raise ValidationError("社区代码须为 12 位数字")
        return tuple(sorted(set(value)))


class TaskCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    month = Month(required=True, metadata={"description": "任务月份 YYYY-MM"})
    title = fields.String(required=True, validate=validate.Length(min=1, max=128))
    description = fields.String(load_default="", validate=validate.Length(max=4000))
    indicator = fields.String(
        load_default=None, validate=validate.Length(min=1, max=32), metadata={"description": "测评体系指标编码"}
    )
    points = fields.Float(
        required=True, validate=validate.Range(min=0, min_inclusive=False, max=1000), metadata={"description": "分值"}
    )
    communities = Communities(
        load_default=None,
        metadata={
            "description": '"all"（或不传）为全部社区，或 12 位社区代码的列表',
            "oneOf": [
                {"type": "string", "enum": ["all"]},
                {"type": "array", "items": {"type": "string", "pattern": _COMMUNITY.pattern}},
            ],
        },
    )
    due = Instant(load_default=None, metadata={"description": "申报截止时间，默认该月最后一天 18:00（本地时间）"})


class TaskChangeSchema(Schema):
    """A change to a task: only the fields given change; its month never does."""

    class Meta:
        unknown = RAISE

    title = fields.String(validate=validate.Length(min=1, max=128))
    description = fields.String(validate=validate.Length(max=4000))
    indicator = fields.String(allow_none=True, validate=validate.Length(min=1, max=32))
    points = fields.Float(validate=validate.Range(min=0, min_inclusive=False, max=1000))
    communities = Communities(metadata=TaskCreateSchema().fields["communities"].metadata)
    due = Instant(allow_none=True, metadata={"description": "申报截止时间；null 为该月最后一天 18:00（本地时间）"})

    @validates_schema
    def something_changes(self, data, **kwargs):
        if not data:
            raise ValidationError("请至少修改一项")


class TaskQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    month = Month(load_default=None, metadata={"description": "任务月份 YYYY-MM，不传为全部"})


class DeclarationSubmitSchema(Schema):
    class Meta:
        unknown = RAISE

    text = fields.String(required=True, validate=validate.Length(min=1, max=4000), metadata={"description": "申报说明"})
    media_ids = BoundedList(
        fields.String(validate=validate.Length(max=32)),
        required=True,
        min_items=1,
        max_items=MAX_PHOTOS_PER_STEP,
        metadata={"description": "先经 POST /api/v1/media 上传的照片 id（至少一张）"},
    )


class ReviewSchema(Schema):
    class Meta:
        unknown = RAISE

    decision = fields.String(required=True, validate=validate.OneOf(["accept", "return"]))
    score = fields.Float(load_default=None, metadata={"description": "得分 0–任务分值，通过时必填"})
    note = fields.String(load_default=None, validate=validate.Length(max=1000), metadata={"description": "退回时必填"})
    resubmit_due = Instant(load_default=None, metadata={"description": "退回后的重新申报期限，默认若干天后"})


class DeclarationQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    month = Month(load_default=None, metadata={"description": "任务月份 YYYY-MM"})
    status = fields.String(load_default=None, validate=validate.OneOf(list(DECLARATION_STATES)))
    community = fields.String(load_default=None, validate=validate.Regexp(_COMMUNITY))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=500))


class CardQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    month = Month(required=True, metadata={"description": "月份 YYYY-MM"})


class TaskSchema(Schema):
    id = fields.Integer(required=True)
    month = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String()
    indicator = fields.String(allow_none=True)
    points = fields.Float(required=True)
    due_at = fields.String(required=True, metadata={"format": "date-time"})
    communities = fields.Raw(required=True, metadata={"description": '"all" 或社区代码列表'})
    created_at = fields.String(metadata={"format": "date-time"})


class TaskListSchema(Schema):
    tasks = fields.List(fields.Nested(TaskSchema), required=True)


class CommunityDeclarationSchema(Schema):
    community_code = fields.String(required=True)
    community_name = fields.String()
    declaration_id = fields.Integer(allow_none=True)
    status = fields.String(allow_none=True, metadata={"description": "无申报时为 null"})
    status_label = fields.String()
    late = fields.Boolean(allow_none=True)
    score = fields.Float(allow_none=True)
    allowed_actions = fields.List(fields.String())


class TaskDetailSchema(TaskSchema):
    declarations = fields.List(fields.Nested(CommunityDeclarationSchema), required=True)


class PhotoSchema(Schema):
    id = fields.String(required=True)
    url = fields.String()
    thumb_url = fields.String()
    taken_at = fields.String(allow_none=True)


class DeclarationEventSchema(Schema):
    action = fields.String(required=True)
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    actor_role = fields.String()
    actor = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    data = fields.Dict(allow_none=True)
    at = fields.String(metadata={"format": "date-time"})
    photos = fields.List(fields.Nested(PhotoSchema))


class DeclarationSummarySchema(Schema):
    """A declaration in the review queue: without its timeline."""

    id = fields.Integer(required=True)
    task = fields.Nested(TaskSchema, required=True)
    community_code = fields.String(required=True)
    community_name = fields.String()
    status = fields.String(required=True)
    status_label = fields.String()
    text = fields.String()
    late = fields.Boolean()
    returns = fields.Integer()
    first_submitted_at = fields.String(metadata={"format": "date-time"})
    submitted_at = fields.String(metadata={"format": "date-time"})
    resubmit_due_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    score = fields.Float(allow_none=True)
    review_note = fields.String(allow_none=True)
    evidence_flags = fields.List(fields.String(), metadata={"description": "photo_far / photo_outside_month"})
    allowed_actions = fields.List(fields.String())


class DeclarationSchema(DeclarationSummarySchema):
    timeline = fields.List(fields.Nested(DeclarationEventSchema), required=True)


class DeclarationListSchema(Schema):
    declarations = fields.List(fields.Nested(DeclarationSummarySchema), required=True)


class CardSchema(Schema):
    community_code = fields.String(required=True)
    community_name = fields.String()
    color = fields.String(required=True, validate=validate.OneOf(list(CARDS)))
    color_label = fields.String()
    reason = fields.String(required=True, validate=validate.OneOf(list(CARD_REASONS)))
    reason_label = fields.String()
    task_id = fields.Integer(allow_none=True)
    task_title = fields.String(allow_none=True)


class CommunityCardSchema(Schema):
    community_code = fields.String(required=True)
    community_name = fields.String()
    card = fields.String(allow_none=True, metadata={"description": "yellow / red / null"})


class CardListSchema(Schema):
    month = fields.String(required=True)
    judged = fields.Boolean(required=True, metadata={"description": "该月是否已评定（任务均已过截止时间）"})
    cards = fields.List(fields.Nested(CardSchema), required=True)
    communities = fields.List(fields.Nested(CommunityCardSchema), required=True)


def _iso(moment):
    return moment.isoformat() if moment else None


def task_view(task):
    """A task as the API answers it."""
    return {
        "id": task.id,
        "month": task.month.strftime("%Y-%m"),
        "title": task.title,
        "description": task.description,
        "indicator": task.indicator,
        "points": task.points,
        "due_at": _iso(task.due_at),
        "communities": "all" if task.all_communities else sorted(c.community_code for c in task.communities),
        "created_at": _iso(task.created_at),
    }


def board_row(community, declaration, allowed):
    """One covered community's line on a task: its declaration (if any) and what the reader may do."""
    status = declaration.status if declaration else None
    return {
        "community_code": community.code,
        "community_name": community.name,
        "declaration_id": declaration.id if declaration else None,
        "status": status,
        "status_label": DECLARATION_STATES.get(status, "未申报"),
        "late": declaration.late if declaration else None,
        "score": declaration.score if declaration else None,
        "allowed_actions": allowed,
    }


def declaration_view(declaration, community_name, allowed, actors=None):
    """A declaration with its task and review; with ``actors`` (user id → display name) also its
    timeline with blurred photos."""
    body = {
        "id": declaration.id,
        "task": task_view(declaration.task),
        "community_code": declaration.community_code,
        "community_name": community_name,
        "status": declaration.status,
        "status_label": DECLARATION_STATES[declaration.status],
        "text": declaration.text,
        "late": declaration.late,
        "returns": declaration.returns,
        "first_submitted_at": _iso(declaration.first_submitted_at),
        "submitted_at": _iso(declaration.submitted_at),
        "resubmit_due_at": _iso(declaration.resubmit_due_at),
        "score": declaration.score,
        "review_note": declaration.review_note,
        "evidence_flags": declaration.evidence_flags or [],
        "allowed_actions": allowed,
    }
    if actors is not None:
        body["timeline"] = [_event_view(event, actors) for event in declaration.events]
    return body


def _event_view(event, actors):
    return {
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "actor_role": event.actor_role,
        "actor": actors.get(event.actor_user_id),
        "note": event.note,
        "data": event.data,
        "at": _iso(event.created_at),
        "photos": photos.views(event.photos),
    }


def card_view(card, community_name, task_title):
    return {
        "community_code": card.community_code,
        "community_name": community_name,
        "color": card.color,
        "color_label": CARDS[card.color],
        "reason": card.reason,
        "reason_label": CARD_REASONS[card.reason],
        "task_id": card.task_id,
        "task_title": task_title,
    }
