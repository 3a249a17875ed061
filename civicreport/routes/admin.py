"""Administration API: the block list of devices, accounts and networks that may not submit."""
from flask import Blueprint, request

from ..errors import BadRequest
from ..openapi import doc
from ..schemas import load_or_422
from ..schemas.abuse import BlockCreateSchema, BlockListSchema, BlockQuerySchema, BlockSchema
from ..services import abuse
from . import allow, current_user

bp = Blueprint("admin", __name__, url_prefix="/api/v1/admin")


@bp.get("/blocks")
@allow("admin")
@doc("禁止名单：被禁止提交上报的设备、账号和 IP 网段，新的在前", query=BlockQuerySchema, response=BlockListSchema)
def list_blocks():
    query = load_or_422(BlockQuerySchema(), request.args.to_dict())
    return {"blocks": BlockSchema(many=True).dump(abuse.list_blocks(query["kind"]))}


@bp.post("/blocks")
@allow("admin")
@doc("加入禁止名单（可设有效天数）", body=BlockCreateSchema, response=BlockSchema, status=201, errors=(409,))
def create_block():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("请求体须为 JSON 对象", code="malformed_json")
    data = load_or_422(BlockCreateSchema(), body)
    block = abuse.add_block(data["kind"], data["value"], reason=data["reason"], days=data["days"],
                            by=current_user())
    return BlockSchema().dump(block), 201


@bp.delete("/blocks/<int:block_id>")
@allow("admin")
@doc("移出禁止名单", path={"block_id": "禁止记录 id"}, status=204)
def delete_block(block_id):
    abuse.remove_block(block_id)
    return "", 204
