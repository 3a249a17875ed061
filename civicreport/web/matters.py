"""联席会议 and 实事清单: community staff and the office record meetings and list items, and
move each item along with progress notes and photos; leaders read."""

from flask import Blueprint, request

from civicreport.cobuilding import matters
from civicreport.cobuilding.access import OFFICE_ROLES, READER_ROLES
from civicreport.cobuilding.schemas.matters import (
    MatterCreateSchema,
    MatterListSchema,
    MatterNoteCreateSchema,
    MatterQuerySchema,
    MatterSchema,
    MeetingCreateSchema,
    MeetingListSchema,
    MeetingQuerySchema,
    MeetingSchema,
    OverdueListSchema,
    OverdueQuerySchema,
)
from civicreport.schema_fields import load_valid
from civicreport.web import ROW_ID, allow, current_user, json_object
from civicreport.web.openapi import doc

bp = Blueprint("matters", __name__, url_prefix="/api/v1")


@bp.post("/meetings")
@allow(*matters.WRITERS)
@doc("记录联席会议：日期、标题、纪要、到会共建单位", body=MeetingCreateSchema, response=MeetingSchema, status=201)
def hold_meeting():
    """Record a joint meeting of a community and its partners."""
    data = load_valid(MeetingCreateSchema(), json_object())
    meeting = matters.hold_meeting(
        current_user(),
        community_code=data["community"],
        held_on=data["held_on"],
        title=data["title"],
        minutes=data["minutes"],
        partner_units=data["partners"],
    )
    return MeetingSchema().dump(meeting), 201


@bp.get("/meetings")
@allow(*READER_ROLES)
@doc("联席会议，新的在前", query=MeetingQuerySchema, response=MeetingListSchema)
def list_meetings():
    """Meetings of a community or month; community staff see their own community's."""
    query = load_valid(MeetingQuerySchema(), request.args.to_dict())
    rows = matters.meetings(current_user(), query["community"], query["month"])
    return {"meetings": MeetingSchema(many=True).dump(rows)}


@bp.get(f"/meetings/<{ROW_ID}:meeting_id>")
@allow(*READER_ROLES)
@doc("查看联席会议", path={"meeting_id": "会议 id"}, response=MeetingSchema)
def get_meeting(meeting_id):
    """One meeting with the partners present."""
    return MeetingSchema().dump(matters.get_meeting(current_user(), meeting_id))


@bp.post("/matters")
@allow(*matters.WRITERS)
@doc("列入实事清单：承办共建单位、办结期限", tag="meetings", body=MatterCreateSchema, response=MatterSchema, status=201)
def file_matter():
    """Put an item on a community's 实事清单."""
    data = load_valid(MatterCreateSchema(), json_object())
    matter = matters.file_matter(
        current_user(),
        community_code=data["community"],
        title=data["title"],
        description=data["description"],
        partner_unit=data["partner"],
        due_on=data["due_on"],
        meeting_id=data["meeting_id"],
    )
    return MatterSchema().dump(matter), 201


@bp.get("/matters")
@allow(*READER_ROLES, matters.PARTNER_STAFF)
@doc(
    "实事清单，期限近的在前（共建单位工作人员只见本单位承办的）",
    tag="meetings",
    query=MatterQuerySchema,
    response=MatterListSchema,
)
def list_matters():
    """实事清单 items with their notes; community staff see their own community's, partner staff
    their unit's."""
    query = load_valid(MatterQuerySchema(), request.args.to_dict())
    rows = matters.matters(
        current_user(),
        community_code=query["community"],
        status=query["status"],
        unit_code=query["unit"],
        meeting_id=query["meeting"],
        overdue=query["overdue"],
    )
    return {"matters": MatterSchema(many=True).dump(rows)}


@bp.get("/matters/overdue")
@allow(*OFFICE_ROLES, "leader")
@doc("各承办共建单位某日逾期未办结的实事", tag="meetings", query=OverdueQuerySchema, response=OverdueListSchema)
def overdue_matters():
    """Overdue items per responsible partner unit on a day."""
    query = load_valid(OverdueQuerySchema(), request.args.to_dict())
    return OverdueListSchema().dump({"units": matters.overdue_by_unit(query["as_of"], by=current_user())})


@bp.get(f"/matters/<{ROW_ID}:matter_id>")
@allow(*READER_ROLES, matters.PARTNER_STAFF)
@doc("查看实事清单事项及进展记录", tag="meetings", path={"matter_id": "事项 id"}, response=MatterSchema)
def get_matter(matter_id):
    """One item with its notes and photos."""
    return MatterSchema().dump(matters.get_matter(current_user(), matter_id))


@bp.post(f"/matters/<{ROW_ID}:matter_id>/notes")
@allow(*matters.WRITERS, matters.PARTNER_STAFF)
@doc(
    "实事清单事项：记录进展（可附照片）或转状态；承办共建单位的工作人员可记录进展",
    tag="meetings",
    path={"matter_id": "事项 id"},
    body=MatterNoteCreateSchema,
    response=MatterSchema,
    status=201,
    errors=(409,),
)
def add_matter_note(matter_id):
    """A progress note or a move of the item's status."""
    data = load_valid(MatterNoteCreateSchema(), json_object())
    matter = matters.move(
        current_user(), matter_id, data["status"], note=data["note"], result=data["result"], media_ids=data["media_ids"]
    )
    return MatterSchema().dump(matter), 201
