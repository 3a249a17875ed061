"""点位/暗访: the registry of inspection points, their checklists (edited by admins) and the
inspections of monitors and the office, each failed item opening a routed case."""

from flask import Blueprint, request

from civicreport.oversight import checklists, points
from civicreport.oversight.schemas.points import (
    ChecklistItemChangeSchema,
    ChecklistItemCreateSchema,
    ChecklistItemSchema,
    ChecklistQuerySchema,
    ChecklistSchema,
    HistoryQuerySchema,
    InspectionCreateSchema,
    InspectionListSchema,
    InspectionPointListSchema,
    InspectionPointSchema,
    InspectionResultSchema,
    InspectionSchema,
    PointChangeSchema,
    PointCreateSchema,
    PointQuerySchema,
)
from civicreport.schema_fields import load_valid
from civicreport.web import ROW_ID, allow, current_user, json_object
from civicreport.web.openapi import doc

bp = Blueprint("points", __name__, url_prefix="/api/v1")

TAG = "points"
POINT = {"point_id": "点位 id"}


@bp.get("/checklists")
@allow(*points.READERS)
@doc(
    "各类点位的检查标准（检查项及不合格时所立案件的类别）",
    tag=TAG,
    query=ChecklistQuerySchema,
    response=ChecklistSchema,
)
def list_checklist():
    """Checklist items by point kind and position."""
    query = load_valid(ChecklistQuerySchema(), request.args.to_dict())
    rows = checklists.items(query["kind"], include_inactive=query["include_inactive"])
    return {"items": ChecklistItemSchema(many=True).dump(rows)}


@bp.post("/admin/checklist-items")
@allow("admin")
@doc("新增检查项", tag=TAG, body=ChecklistItemCreateSchema, response=ChecklistItemSchema, status=201, errors=(409,))
def add_checklist_item():
    """A new item on a point kind's checklist."""
    data = load_valid(ChecklistItemCreateSchema(), json_object())
    item = checklists.add_item(
        kind=data["kind"],
        code=data["code"],
        label=data["label"],
        category_code=data["category"],
        position=data["position"],
    )
    return ChecklistItemSchema().dump(item), 201


@bp.patch(f"/admin/checklist-items/<{ROW_ID}:item_id>")
@allow("admin")
@doc(
    "修改检查项：名称、类别、顺序，或停用",
    tag=TAG,
    path={"item_id": "检查项 id"},
    body=ChecklistItemChangeSchema,
    response=ChecklistItemSchema,
)
def change_checklist_item(item_id):
    """Rename, re-categorise, move or (de)activate an item."""
    changes = load_valid(ChecklistItemChangeSchema(), json_object())
    return ChecklistItemSchema().dump(checklists.change_item(item_id, changes))


@bp.post("/points")
@allow(*points.OFFICE_ROLES)
@doc(
    "登记点位：名称、类型、坐标（定位到网格与社区）、责任单位、检查周期",
    body=PointCreateSchema,
    response=InspectionPointSchema,
    status=201,
)
def register_point():
    """Register a fixed point under regular inspection."""
    data = load_valid(PointCreateSchema(), json_object())
    point = points.register(
        current_user(),
        name=data["name"],
        kind=data["kind"],
        lat=data["lat"],
        lon=data["lon"],
        crs=data["crs"],
        unit_code=data["unit"],
        every_days=data["every_days"],
    )
    return InspectionPointSchema().dump(point), 201


@bp.get("/points")
@allow(*points.READERS)
@doc("点位台账：检查是否逾期、检查次数与合格率", query=PointQuerySchema, response=InspectionPointListSchema)
def list_points():
    """Points the caller reads, with their figures and overdue flag."""
    query = load_valid(PointQuerySchema(), request.args.to_dict())
    rows = points.points(
        current_user(),
        kind=query["kind"],
        community_code=query["community"],
        unit_code=query["unit"],
        overdue=query["overdue"],
        active=query["active"],
    )
    figures = points.figures(point.id for point in rows)
    return {"points": InspectionPointSchema(many=True, figures=figures).dump(rows)}


@bp.get(f"/points/<{ROW_ID}:point_id>")
@allow(*points.READERS)
@doc("查看点位", path=POINT, response=InspectionPointSchema)
def get_point(point_id):
    """One point with its figures."""
    point = points.get_point(current_user(), point_id)
    return InspectionPointSchema(figures=points.figures([point.id])).dump(point)


@bp.patch(f"/points/<{ROW_ID}:point_id>")
@allow(*points.OFFICE_ROLES)
@doc("修改点位：名称、责任单位、检查周期，或停用", path=POINT, body=PointChangeSchema, response=InspectionPointSchema)
def change_point(point_id):
    """Change a point's name, unit, rhythm or active flag."""
    changes = load_valid(PointChangeSchema(), json_object())
    point = points.change(current_user(), point_id, changes)
    return InspectionPointSchema(figures=points.figures([point.id])).dump(point)


@bp.post(f"/points/<{ROW_ID}:point_id>/inspections")
@allow(*points.INSPECTORS)
@doc(
    "检查（暗访）点位：逐项合格/不合格，可附照片；每个不合格项立一案并按常规路由，答复列出所立案件",
    tag=TAG,
    path=POINT,
    body=InspectionCreateSchema,
    response=InspectionResultSchema,
    status=201,
    errors=(409,),
)
def inspect_point(point_id):
    """Record an inspection; failed items open cases."""
    data = load_valid(InspectionCreateSchema(), json_object())
    inspection = points.inspect(
        current_user(), point_id, data["items"], note=data["note"], unannounced=data["unannounced"]
    )
    return InspectionResultSchema().dump(inspection), 201


@bp.get(f"/points/<{ROW_ID}:point_id>/inspections")
@allow(*points.READERS)
@doc("点位检查记录（新的在前）与合格率", tag=TAG, path=POINT, query=HistoryQuerySchema, response=InspectionListSchema)
def point_history(point_id):
    """A point's inspections, the latest first, with the point's figures."""
    query = load_valid(HistoryQuerySchema(), request.args.to_dict())
    rows = points.history(current_user(), point_id, query["limit"])
    point = points.get_point(current_user(), point_id)
    return {
        "point": InspectionPointSchema(figures=points.figures([point.id])).dump(point),
        "inspections": InspectionSchema(many=True).dump(rows),
    }
