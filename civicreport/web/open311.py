"""Open311 GeoReport v2 under /open311/v2: every endpoint in ``.json`` and ``.xml``.

Errors here take the spec's shape (a list of ``{code, description}``, or
``<errors><error>…``) instead of the API's one JSON error shape, because Open311
clients parse that; the description starts with our stable English error code.
"""

import json
import logging
import re

from flask import Blueprint, current_app, request, url_for
from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from civicreport.errors import AppError, NotFound, as_app_error
from civicreport.media.errors import MediaError
from civicreport.open311 import clients as open311_clients
from civicreport.open311 import service as open311
from civicreport.open311.schemas import (
    FORMATS,
    Open311ReportSchema,
    PostRequestSchema,
    PostUpdateSchema,
    RequestsQuerySchema,
    UpdatesQuerySchema,
    definition_view,
    discovery_view,
    error_items,
    posted_update_view,
    request_view,
    service_view,
    submitted_view,
    to_xml,
    token_view,
    update_view,
    without_blanks,
)
from civicreport.schema_fields import load_valid
from civicreport.web import PUBLIC, allow, mark_replay
from civicreport.web.error_responses import error_code_of, http_error_headers
from civicreport.web.guards import takes_photos
from civicreport.web.rate_limits import limited, rate_limit_response

log = logging.getLogger(__name__)

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

FMT = "<any(json, xml):fmt>"
# Open311 has no 422 and answers a bad api_key with 403.
_SPEC_STATUS = {422: 400, 401: 403}
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_HTTP_MESSAGES = {400: "请求格式错误", 404: "未找到", 405: "不支持该请求方法", 413: "上传内容过大"}
# FixMyStreet's photo parts (perllib/Open311.pm, lines 265-277: ``photo1``, ``photo2`` …).
_NUMBERED_PHOTO = re.compile(r"^photo([1-9][0-9]{0,2})$")


def _respond(fmt, root, item, payload, status=200):
    """Encode ``payload`` as XML, or as JSON keeping the spec's field order."""
    body = to_xml(root, item, payload) if fmt == "xml" else json.dumps(payload, ensure_ascii=False)
    return current_app.response_class(body, status=status, mimetype=FORMATS[fmt])


def _requests(fmt, views, status=200):
    return _respond(fmt, "service_requests", "request", views, status)


def _updates(fmt, views, status=200):
    return _respond(fmt, "service_request_updates", "request_update", views, status)


def _uploads():
    """The photo parts: ``media`` (repeatable), then ``photo1``, ``photo2`` … in number order.
    An empty part (a file input left empty) is no photo, as a blank field is no value."""
    numbered = sorted((k for k in request.files if _NUMBERED_PHOTO.match(k)), key=lambda k: int(k[5:]))
    parts = [f for name in ("media", *numbered) for f in request.files.getlist(name)]
    return [data for data in (f.read() for f in parts) if data]


def _client():
    """The posting client by its ``api_key`` (body, else query; blank is none); 403 first."""
    return open311_clients.client_for_key(request.form.get("api_key", "").strip() or request.args.get("api_key"))


def _published(reports):
    extras = open311.request_extras(reports)
    return [request_view(report, **extras[report.id]) for report in reports]


@bp.get(f"/discovery.{FMT}")
@allow(PUBLIC)
def discovery(fmt):
    endpoint = url_for("open311.discovery", fmt=fmt, _external=True).rsplit("/", 1)[0]
    return _respond(fmt, "discovery", None, discovery_view(endpoint))


@bp.get(f"/services.{FMT}")
@allow(PUBLIC)
def services(fmt):
    open311.check_jurisdiction(request.args.get("jurisdiction_id"))
    return _respond(fmt, "services", "service", [service_view(c) for c in open311.services()])


@bp.get(f"/services/<service_code>.{FMT}")
@allow(PUBLIC)
def service_definition(service_code, fmt):
    open311.check_jurisdiction(request.args.get("jurisdiction_id"))
    return _respond(fmt, "service_definition", None, definition_view(open311.service(service_code)))


@bp.post(f"/requests.{FMT}")
@limited("submit", by_client=True)  # shares the counters of POST /api/v1/reports; a client key has its own
@allow(PUBLIC)  # the api_key (an Open311 client key, in the body or the query) is checked by the service
@takes_photos
def create_request(fmt):
    uploads = _uploads()
    client = _client()
    data = load_valid(PostRequestSchema(), without_blanks(request.form))
    attributes = open311.attributes_from(request.form)
    report = load_valid(Open311ReportSchema(), open311.report_fields(client, data, attributes))
    submission = open311.submit(client, data, attributes, report, uploads, request.headers.get("Idempotency-Key"))
    response = _requests(fmt, [submitted_view(submission.report)], 201)
    return mark_replay(response, submission.replayed)


@bp.get(f"/requests.{FMT}")
@allow(PUBLIC)
def list_requests(fmt):
    query = load_valid(RequestsQuerySchema(), without_blanks(request.args))
    open311.check_jurisdiction(query["jurisdiction_id"])
    found = open311.search(
        ids=query["service_request_id"],
        codes=query["service_code"],
        statuses=query["status"],
        start=query["start_date"],
        end=query["end_date"],
    )
    return _requests(fmt, _published(found))


@bp.get(f"/requests/<service_request_id>.{FMT}")
@allow(PUBLIC)
def get_request(service_request_id, fmt):
    open311.check_jurisdiction(request.args.get("jurisdiction_id"))
    return _requests(fmt, _published([open311.request(service_request_id)]))


@bp.get(f"/servicerequestupdates.{FMT}")
@allow(PUBLIC)
def list_updates(fmt):
    """The service request updates extension, as FixMyStreet polls it (perllib/Open311.pm,
    lines 354-373): public steps only; a given ``api_key`` narrows them to its client's cases."""
    query = load_valid(UpdatesQuerySchema(), without_blanks(request.args))
    open311.check_jurisdiction(query["jurisdiction_id"])
    key = request.args.get("api_key", "").strip()
    client = open311_clients.client_for_key(key) if key else None
    found = open311.updates(client, query["start_date"], query["end_date"])
    return _updates(fmt, [update_view(u) for u in found])


@bp.post(f"/servicerequestupdates.{FMT}")
@limited("upload", by_client=True)
@allow(PUBLIC)  # the api_key is checked by the service, as for POST requests
@takes_photos
def post_update(fmt):
    """A citizen's comment as FixMyStreet posts it (perllib/Open311.pm, lines 375-409 and
    473-577), kept as an evidence note on the case (see ``open311.post_update``)."""
    uploads = _uploads()
    client = _client()
    media_urls = [url for url in request.form.getlist("media_url") if url.strip()]
    data = load_valid(PostUpdateSchema(), {**without_blanks(request.form), "media_url": media_urls})
    event = open311.post_update(client, data, uploads)
    return _updates(fmt, [posted_update_view(event)], 201)


@bp.get(f"/tokens/<token>.{FMT}")
@allow(PUBLIC)
def get_token(token, fmt):
    open311.check_jurisdiction(request.args.get("jurisdiction_id"))
    return _requests(fmt, [token_view(open311.report_for_token(token), token)])


@bp.route("/<path:anything>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@allow(PUBLIC)
def unknown(anything):
    """Whatever no endpoint takes, answered in the spec's error shape (routing errors never reach
    a blueprint's handlers): 405 with ``Allow`` when the path exists for other methods, else 404."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = [method for method in _METHODS if _endpoint(adapter, method) not in (None, request.endpoint)]
    if allowed:
        raise MethodNotAllowed(valid_methods=allowed)
    raise NotFound("未知的 Open311 地址（需以 .json 或 .xml 结尾）", code="not_found")


def _endpoint(adapter, method):
    """The endpoint the path routes to for ``method``, None when it routes nowhere."""
    try:
        return adapter.match(method=method)[0]
    except HTTPException:
        return None


def _errors(status, code, message, details=None):
    status = _SPEC_STATUS.get(status, status)
    fmt = (request.view_args or {}).get("fmt") or ("xml" if request.path.endswith(".xml") else "json")
    return _respond(fmt, "errors", "error", error_items(status, code, message, details), status)


bp.register_error_handler(RateLimitExceeded, rate_limit_response)  # 429 + Retry-After, not http_error


@bp.errorhandler(AppError)
def app_error(err):
    return _errors(err.status, err.code, err.message, err.details)


@bp.errorhandler(MediaError)
def media_error(err):
    return app_error(as_app_error(err))


@bp.errorhandler(HTTPException)
def http_error(err):
    response = _errors(err.code, error_code_of(err), _HTTP_MESSAGES.get(err.code, err.description))
    response.headers.extend(http_error_headers(err))
    return response


@bp.errorhandler(Exception)
def unexpected_error(err):
    log.exception("unhandled error in Open311")
    return _errors(500, AppError.code, AppError.message)
