"""联合整治行动: organisers schedule joint operations and record their results (counts by
category, photos, the cases opened) or cancel them; the calendar of a month and the rhythm
each street (monthly) and community (weekly) keeps."""

from flask import Blueprint, request

from civicreport.oversight import operations
from civicreport.oversight.schemas.operations import (
    OperationCalendarSchema,
    OperationCancelSchema,
    OperationCreateSchema,
    OperationListSchema,
    OperationMonthQuerySchema,
    OperationQuerySchema,
    OperationResultSchema,
    OperationSchema,
    RhythmQuerySchema,
    RhythmSchema,
)
from civicreport.schema_fields import load_valid
from civicreport.web import ROW_ID, allow, current_user, json_object
from civicreport.web.openapi import doc

bp = Blueprint("operations", __name__, url_prefix="/api/v1")

OPERATION = {"operation_id": "行动 id"}


@bp.post("/operations")
@allow(*operations.ORGANISER_ROLES)
@doc(
    "安排联合整治行动：区域、地点、时间、参加单位、整治对象（问题类别）",
    body=OperationCreateSchema,
    response=OperationSchema,
    status=201,
)
def schedule_operation():
    """Schedule a joint operation for a street or community."""
    data = load_valid(OperationCreateSchema(), json_object())
    operation = operations.schedule(
        current_user(),
        title=data["title"],
        area_code=data["area"],
        place=data["place"],
        lat=data["lat"],
        lon=data["lon"],
        starts_at=data["starts_at"],
        ends_at=data["ends_at"],
        unit_codes=data["units"],
        category_codes=data["categories"],
    )
    return OperationSchema().dump(operation), 201


@bp.get("/operations")
@allow(*operations.READER_ROLES)
@doc("联合整治行动，按开始时间", query=OperationQuerySchema, response=OperationListSchema)
def list_operations():
    """Operations the caller reads."""
    query = load_valid(OperationQuerySchema(), request.args.to_dict())
    rows = operations.operations(
        current_user(),
        starts_from=query["starts_from"],
        starts_before=query["starts_before"],
        area_code=query["area"],
        status=query["status"],
        unit_code=query["unit"],
    )
    return {"operations": OperationSchema(many=True).dump(rows)}


@bp.get("/operations/calendar")
@allow(*operations.READER_ROLES)
@doc("联合整治行动日历：某月每天开始的行动", query=OperationMonthQuerySchema, response=OperationCalendarSchema)
def operation_calendar():
    """A month's operations by local day."""
    month = load_valid(OperationMonthQuerySchema(), request.args.to_dict())["month"] or operations.this_month()
    days = operations.calendar(current_user(), month)
    return OperationCalendarSchema().dump(
        {"month": month, "days": [{"date": day, "operations": rows} for day, rows in days]}
    )


@bp.get("/operations/rhythm")
@allow(*operations.READER_ROLES)
@doc(
    "联合整治开展节奏：街道每月、社区每周是否按要求开展（done 已完成 / missed 未完成 / open 进行中）",
    query=RhythmQuerySchema,
    response=RhythmSchema,
)
def operation_rhythm():
    """Done or missed per street and month, per community and week."""
    query = load_valid(RhythmQuerySchema(), request.args.to_dict())
    month = query["month"] or operations.this_month()
    return RhythmSchema().dump({"month": month, **operations.rhythm(current_user(), month, query["street"])})


@bp.get(f"/operations/<{ROW_ID}:operation_id>")
@allow(*operations.READER_ROLES)
@doc("查看联合整治行动", path=OPERATION, response=OperationSchema)
def get_operation(operation_id):
    """One operation with its result."""
    return OperationSchema().dump(operations.get_operation(current_user(), operation_id))


@bp.post(f"/operations/<{ROW_ID}:operation_id>/result")
@allow(*operations.ORGANISER_ROLES)
@doc(
    "登记行动结果：按类别的处置数、说明、照片、由行动立案的案件",
    path=OPERATION,
    body=OperationResultSchema,
    response=OperationSchema,
    errors=(409,),
)
def record_operation_result(operation_id):
    """Record what a started, planned operation did."""
    data = load_valid(OperationResultSchema(), json_object())
    operation = operations.record_result(
        current_user(),
        operation_id,
        counts=data["counts"],
        note=data["note"],
        media_ids=data["media_ids"],
        report_ids=data["reports"],
    )
    return OperationSchema().dump(operation)


@bp.post(f"/operations/<{ROW_ID}:operation_id>/cancel")
@allow(*operations.ORGANISER_ROLES)
@doc(
    "取消计划中的行动（须说明原因）",
    path=OPERATION,
    body=OperationCancelSchema,
    response=OperationSchema,
    errors=(409,),
)
def cancel_operation(operation_id):
    """Cancel a planned operation."""
    data = load_valid(OperationCancelSchema(), json_object())
    return OperationSchema().dump(operations.cancel(current_user(), operation_id, reason=data["reason"]))
