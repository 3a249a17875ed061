"""Every error raised inside a request, answered in the one JSON shape.

``AppError`` carries its own status, code and message; a media failure gets its status from
``errors.MEDIA_STATUS``; Werkzeug's HTTP errors (404, 405, 413 …) get our codes and Chinese
messages; anything else is logged and answered as a 500.
"""

import json
import logging

from flask import request
from werkzeug.exceptions import HTTPException

from civicreport.errors import AppError, as_app_error, error_body
from civicreport.media.errors import MediaError

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: ("bad_request", "请求格式错误"),
    404: ("not_found", "未找到"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("payload_too_large", "上传内容过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
}


def init_app(app):
    """Render every error raised inside a request in the one JSON shape."""

    def respond(status, body, headers=None):
        return app.response_class(
            json.dumps(body, ensure_ascii=False),
            status=status,
            mimetype="application/json",
            headers=headers,
        )

    @app.errorhandler(AppError)
    def handle_app_error(err):
        return respond(err.status, error_body(err.code, err.message, err.details))

    @app.errorhandler(MediaError)
    def handle_media_error(err):
        return handle_app_error(as_app_error(err))

    @app.errorhandler(HTTPException)
    def handle_http_error(err):
        code, message = _HTTP_CODES.get(err.code, (error_code_of(err), err.description))
        # the caps this request had: MAX_JSON_BYTES for a chunked JSON body, not the photo
        # limit, and the size of one non-file form field
        details = (
            {"max_bytes": request.max_content_length, "max_field_bytes": request.max_form_memory_size}
            if err.code == 413
            else None
        )
        return respond(err.code, error_body(code, message, details), http_error_headers(err))

    @app.errorhandler(Exception)
    def handle_unexpected(err):
        log.exception("unhandled error")
        return respond(500, error_body(AppError.code, AppError.message))


def http_error_headers(err):
    """The headers a Werkzeug HTTP error carries besides its HTML body's type: ``Allow`` on a 405
    (RFC 9110 requires it), ``WWW-Authenticate``, ``Retry-After``; the JSON body replaces the HTML."""
    return [(name, value) for name, value in err.get_headers() if name.lower() != "content-type"]


def error_code_of(err):
    """A Werkzeug error's name as our snake_case code: "Request Entity Too Large" → request_entity_too_large."""
    return err.name.lower().replace(" ", "_").replace("'", "")
