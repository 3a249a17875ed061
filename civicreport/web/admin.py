"""Administration API: staff accounts (role, unit, areas, deactivation) and the block list of
devices, accounts and networks that may not submit."""

from flask import Blueprint, request

from civicreport.abuse import blocks
from civicreport.abuse.schemas import (
    BlockCreateSchema,
    BlockListSchema,
    BlockQuerySchema,
    BlockSchema,
)
from civicreport.accounts import users
from civicreport.accounts.schemas import (
    UserAccountSchema,
    UserChangeSchema,
    UserListSchema,
    UserQuerySchema,
)
from civicreport.cobuilding import partners
from civicreport.errors import BadRequest
from civicreport.schema_fields import load_valid
from civicreport.web import ROW_ID, allow, current_user
from civicreport.web.openapi import doc

bp = Blueprint("admin", __name__, url_prefix="/api/v1/admin")


@bp.get("/blocks")
@allow("admin")
@doc("禁止名单：被禁止提交上报的设备、账号和 IP 网段，新的在前", query=BlockQuerySchema, response=BlockListSchema)
def list_blocks():
    query = load_valid(BlockQuerySchema(), request.args.to_dict())
    return {"blocks": BlockSchema(many=True).dump(blocks.list_blocks(query["kind"]))}


@bp.post("/blocks")
@allow("admin")
@doc("加入禁止名单（可设有效天数）", body=BlockCreateSchema, response=BlockSchema, status=201, errors=(409,))
def create_block():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("请求体须为 JSON 对象", code="malformed_json")
    data = load_valid(BlockCreateSchema(), body)
    block = blocks.add_block(data["kind"], data["value"], reason=data["reason"], days=data["days"], by=current_user())
    return BlockSchema().dump(block), 201


@bp.delete(f"/blocks/<{ROW_ID}:block_id>")
@allow("admin")
@doc("移出禁止名单", path={"block_id": "禁止记录 id"}, status=204)
def delete_block(block_id):
    blocks.remove_block(block_id)
    return "", 204


@bp.get("/users")
@allow("admin")
@doc("账号列表：角色、单位、负责片区、是否停用", query=UserQuerySchema, response=UserListSchema)
def list_users():
    """Every account, by login name."""
    query = load_valid(UserQuerySchema(), request.args.to_dict())
    return {"users": UserAccountSchema(many=True).dump(users.list_users(query["role"], query["active"]))}


@bp.patch("/users/<name>")
@allow("admin")
@doc(
    "修改账号：角色、单位、负责片区（完整列表）、停用/启用",
    path={"name": "登录名"},
    body=UserChangeSchema,
    response=UserAccountSchema,
    errors=(404, 409),
)
def change_user(name):
    """Change one account; deactivating it revokes its tokens."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("请求体须为 JSON 对象", code="malformed_json")
    changes = partners.with_team_id(load_valid(UserChangeSchema(), body))
    return UserAccountSchema().dump(users.update_user(name, changes, by=current_user()))
