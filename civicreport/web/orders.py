"""Residents' needs orders (点单 → 派单 → 接单 → 完成 → 评单) and their monthly figures."""

from flask import Blueprint, jsonify, request

from civicreport import registry
from civicreport.cobuilding import order_stats, orders
from civicreport.cobuilding.access import OFFICE_ROLES
from civicreport.cobuilding.schemas.orders import (
    OrderListSchema,
    OrderPrivateSchema,
    OrderQuerySchema,
    OrderStatsQuerySchema,
    OrderStatsSchema,
    OrderSubmitSchema,
    OrderTransitionSchema,
    SubmittedOrderSchema,
    order_view,
)
from civicreport.db_types import utcnow
from civicreport.errors import BadRequest
from civicreport.reporting.stats import Period
from civicreport.schema_fields import load_valid
from civicreport.web import PER_ACTION, PUBLIC, allow, mark_replay, rate_limits
from civicreport.web import current_user as _user
from civicreport.web.openapi import DEVICE_ID_HEADER, IDEMPOTENCY_KEY, doc, refused
from civicreport.web.rate_limits import limited

bp = Blueprint("orders", __name__, url_prefix="/api/v1")

RECEIPT_HEADER = "X-Receipt-Token"
ORDER_PATH = {"order_id": "点单编号，如 QJD20261207-4F2A9C"}
LISTERS = (*OFFICE_ROLES, "leader", "community_staff", "volunteer", "unit_staff")
STATS_READERS = (*OFFICE_ROLES, "leader", "community_staff")
ACTIONS_TEXT = "action 取值：" + "；".join(
    f"{t.action}（{t.label}{'，须带 ' + (t.asks or '、'.join(t.needs)) if t.asks or t.needs else ''}）"
    for t in orders.TRANSITIONS.values()
)


def _json():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("请求体须为 JSON 对象", code="malformed_json")
    return body


def _actor(order):
    return orders.resident_actor(_user(), order, request.headers.get(RECEIPT_HEADER), request.remote_addr)


@bp.post("/orders")
@limited("submit")
@allow(PUBLIC)
@doc(
    "我要点单：居民提出急难愁盼需求（匿名，凭回执码查看、评价）；社区工作人员可代居民点单",
    body=OrderSubmitSchema,
    headers={**IDEMPOTENCY_KEY, **DEVICE_ID_HEADER},
    response=SubmittedOrderSchema,
    status=201,
    errors=(403, 429),
    refusals=refused("outside_service_area", "unknown_community", "location_required"),
    description="带 lat/lon 时按网格定位到社区，否则须带 community（社区代码）。返回点单编号和 receipt_token。"
    "同一 Idempotency-Key 重试返回同一张点单。",
)
def submit_order():
    """点单: an anonymous resident (receipt) or community staff on a resident's behalf."""
    user = _user()
    device_id = rate_limits.device_id()
    data = load_valid(OrderSubmitSchema(), _json())
    filed = orders.submit(data, user, request.headers.get("Idempotency-Key"), device_id=device_id)
    body = OrderPrivateSchema().dump(filed.order)
    body["receipt_token"] = filed.receipt_token
    body["allowed_actions"] = orders.allowed_actions(filed.order, orders.OrderActor(user, resident=True))
    response = jsonify(body)
    response.status_code = 201
    return mark_replay(response, filed.replayed)


@bp.get("/orders")
@allow(*LISTERS)
@doc(
    "点单列表：社区工作人员看本社区，志愿者看本队，共建单位看派给本单位的，创建办和领导看全部",
    query=OrderQuerySchema,
    response=OrderListSchema,
    description="每张点单带调用者此刻可执行的 allowed_actions；群众联系方式（contact、location）"
    "只给本社区工作人员和创建办，与查看单张点单的规则相同。",
)
def list_orders():
    """The orders the caller may list, newest first, filtered by status, community and month; each
    as GET /orders/<id> shows it to the caller (contact, allowed actions), so a page needs no
    second request per order."""
    user = _user()
    query = load_valid(OrderQuerySchema(), request.args.to_dict(flat=False) | _single(request.args))
    month = query["month"] and Period.month(query["month"].year, query["month"].month)
    found = orders.search(user, status=query["status"], community=query["community"], month=month, limit=query["limit"])
    actor = orders.OrderActor(user)
    return {"orders": [order_view(o, actor, orders.allowed_actions(o, actor)) for o in found]}


def _single(args):
    """Query parameters that must appear once, as plain values (status may repeat)."""
    return {key: values[-1] for key, values in args.lists() if key != "status"}


@bp.get("/orders/<order_id>")
@allow(PUBLIC)
@doc(
    "查看点单：居民凭回执码，社区、服务队、创建办和领导按角色；联系方式只给居民、本社区和创建办",
    path=ORDER_PATH,
    response=OrderPrivateSchema,
    receipt=True,
    errors=(403, 404, 429),
)
def get_order(order_id):
    """One order with its timeline and photos, and the actions the caller may take now."""
    order = orders.get(order_id)
    actor = _actor(order)
    orders.require_reader(order, actor)
    return order_view(order, actor, orders.allowed_actions(order, actor))


@bp.post("/orders/<order_id>/transitions")
@allow(PER_ACTION)
@doc(
    "点单流转：派单、接单、退单、服务完成、评单、不予受理、取消",
    path=ORDER_PATH,
    body=OrderTransitionSchema,
    response=OrderPrivateSchema,
    receipt=True,
    errors=(403, 404, 409, 429),
    description=ACTIONS_TEXT,
)
def transition(order_id):
    """One step of the order; the TRANSITIONS table decides who and from which state."""
    data = load_valid(OrderTransitionSchema(), _json())
    order = orders.get(order_id, lock=True)
    actor = _actor(order)
    orders.apply(order, actor, data)
    return order_view(order, actor, orders.allowed_actions(order, actor))


@bp.get("/stats/orders")
@allow(*STATS_READERS)
@doc(
    "群众点单统计：按社区、按服务队的点单数、有效派单数、完成数、满意率、服务时长、超时数（社区工作人员只见本社区的）",
    query=OrderStatsQuerySchema,
    response=OrderStatsSchema,
    tag="stats",
)
def order_statistics():
    """The month's figures per community and per team (definitions: cobuilding.order_stats)."""
    month = load_valid(OrderStatsQuerySchema(), request.args.to_dict())["month"]
    month = month or utcnow().astimezone(registry.current().zone).date()
    return order_stats.month_figures(month, by=_user())
