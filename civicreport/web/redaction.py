"""Staff redaction of a case photo's public derivatives."""

from flask import Blueprint, request

from civicreport.cases import redaction
from civicreport.cases.schemas.media import PhotoStaffSchema
from civicreport.cases.schemas.redaction import RedactionResultSchema, RedactionSchema
from civicreport.cases.schemas.report import EventStaffSchema
from civicreport.errors import BadRequest
from civicreport.schema_fields import load_valid
from civicreport.web import allow, current_user
from civicreport.web.openapi import doc

bp = Blueprint("redaction", __name__, url_prefix="/api/v1")


@bp.post("/reports/<public_id>/media/<media_id>/redactions")
@allow("supervisor", "admin")
@doc(
    "手工打码：在照片的公开展示图和缩略图上再模糊若干区域（原图不变）",
    body=RedactionSchema,
    path={"media_id": "照片 id"},
    response=RedactionResultSchema,
    status=201,
    errors=(409,),
)
def redact_photo(public_id, media_id):
    """Blur more areas (boxes on the upright original) in the photo's display and thumb."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("请求体须为 JSON 对象", code="malformed_json")
    data = load_valid(RedactionSchema(), body)
    media, event = redaction.redact(public_id, media_id, data, current_user())
    return {"photo": PhotoStaffSchema().dump(media), "event": EventStaffSchema().dump(event)}, 201
