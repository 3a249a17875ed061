"""联席会议 and 实事清单 items: requests in, views out."""

from marshmallow import RAISE, Schema, fields, validate

from civicreport.cases.models import MAX_PHOTOS_PER_STEP
from civicreport.cobuilding import matters, photos
from civicreport.cobuilding.schemas.partners import COMMUNITY_CODE, UNIT_CODE, PersonSchema, UnitRefSchema
from civicreport.cobuilding.status import MATTER_STATES
from civicreport.db_types import ID_MAX
from civicreport.schema_fields import DAY_YEARS, BoundedList, Day, Month

MAX_ATTENDEES = 100


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class MeetingCreateSchema(_Strict):
    community = fields.String(
        load_default=None, validate=COMMUNITY_CODE, metadata={"description": "社区工作人员可省略"}
    )
    held_on = Day(required=True, metadata={"description": "会议日期（不晚于今天）"})
    title = fields.String(required=True, validate=validate.Length(min=1, max=128))
    minutes = fields.String(load_default="", validate=validate.Length(max=20000), metadata={"description": "会议纪要"})
    partners = BoundedList(
        fields.String(validate=UNIT_CODE),
        max_items=MAX_ATTENDEES,
        load_default=list,
        metadata={"description": "到会共建单位编码：须为该社区会议当日的共建单位"},
    )


class MeetingQuerySchema(_Strict):
    community = fields.String(load_default=None, validate=COMMUNITY_CODE)
    month = Month(years=DAY_YEARS, load_default=None, metadata={"description": "YYYY-MM"})


class MeetingSchema(Schema):
    id = fields.Integer(required=True)
    community_code = fields.String(required=True)
    held_on = fields.Date(required=True)
    title = fields.String(required=True)
    minutes = fields.String()
    partners = fields.Function(
        lambda meeting: UnitRefSchema(many=True).dump(a.unit for a in meeting.attendees),
        metadata={"description": "到会共建单位"},
    )
    created_at = fields.DateTime()


class MeetingListSchema(Schema):
    meetings = fields.List(fields.Nested(MeetingSchema), required=True)


class MatterCreateSchema(_Strict):
    community = fields.String(
        load_default=None, validate=COMMUNITY_CODE, metadata={"description": "社区工作人员可省略"}
    )
    title = fields.String(required=True, validate=validate.Length(min=1, max=128))
    description = fields.String(load_default="", validate=validate.Length(max=4000))
    partner = fields.String(
        required=True, validate=UNIT_CODE, metadata={"description": "承办共建单位编码：须为该社区现有共建单位"}
    )
    due_on = Day(required=True, metadata={"description": "办结期限（最后一天）"})
    meeting_id = fields.Integer(
        load_default=None,
        strict=True,
        validate=validate.Range(min=1, max=ID_MAX),
        metadata={"description": "来自哪次联席会议"},
    )


class MatterNoteCreateSchema(_Strict):
    status = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(MATTER_STATES),
        metadata={
            "description": "转到的状态：open→in_progress→done（须填 result），"
            "待办或推进中→dropped（仅创建办，须填 note）；省略或与当前状态相同为进展记录"
        },
    )
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    result = fields.String(load_default=None, validate=validate.Length(max=4000), metadata={"description": "办结结果"})
    media_ids = BoundedList(
        fields.String(validate=validate.Length(max=32)),
        max_items=MAX_PHOTOS_PER_STEP,
        load_default=list,
        metadata={"description": "先经 POST /api/v1/media 上传的照片"},
    )


class MatterQuerySchema(_Strict):
    community = fields.String(load_default=None, validate=COMMUNITY_CODE)
    status = fields.String(load_default=None, validate=validate.OneOf(MATTER_STATES))
    unit = fields.String(load_default=None, validate=UNIT_CODE, metadata={"description": "承办共建单位编码"})
    meeting = fields.Integer(load_default=None, validate=validate.Range(min=1, max=ID_MAX))
    overdue = fields.Boolean(load_default=False, metadata={"description": "true：只列今天已逾期的事项"})


class MatterNoteSchema(Schema):
    id = fields.Integer(required=True)
    actor = fields.Nested(PersonSchema, allow_none=True)
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True, metadata={"description": "null：进展记录，状态不变"})
    note = fields.String()
    created_at = fields.DateTime()
    photos = fields.Function(lambda note: photos.views(note.photos))


class MatterSchema(Schema):
    id = fields.Integer(required=True)
    community_code = fields.String(required=True)
    unit = fields.Nested(UnitRefSchema, required=True, metadata={"description": "承办共建单位"})
    meeting_id = fields.Integer(allow_none=True)
    title = fields.String(required=True)
    description = fields.String()
    due_on = fields.Date(required=True)
    status = fields.String(required=True)
    status_label = fields.Function(lambda matter: MATTER_STATES[matter.status])
    overdue = fields.Function(
        lambda matter: matters.is_overdue(matter), metadata={"description": "今天是否已逾期未办结"}
    )
    result = fields.String(allow_none=True)
    done_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    notes = fields.List(fields.Nested(MatterNoteSchema), metadata={"description": "进展记录，时间顺序，只增不改"})


class MatterListSchema(Schema):
    matters = fields.List(fields.Nested(MatterSchema), required=True)


class OverdueQuerySchema(_Strict):
    as_of = Day(load_default=None, metadata={"description": "查询日期，默认今天"})


class OverdueUnitSchema(Schema):
    unit = fields.String(attribute="unit_code", required=True)
    name = fields.String(attribute="unit_name", required=True)
    overdue = fields.Function(lambda row: len(row.matter_ids))
    matter_ids = fields.List(fields.Integer())


class OverdueListSchema(Schema):
    units = fields.List(fields.Nested(OverdueUnitSchema), required=True)
