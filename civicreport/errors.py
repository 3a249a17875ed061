"""Domain exceptions and the one JSON error shape.

Every failure a client can see is an ``AppError`` (or a Werkzeug HTTP error)
rendered as ``{"error": {"code", "message", "details"}}``. ``media/`` raises its own
``MediaError`` family, which knows no HTTP; ``MEDIA_STATUS`` is where each kind gets
its status, and ``as_app_error`` makes it one of ours. This module imports no Flask at
module level.
"""

import json
import logging

from civicreport.media.errors import InvalidPhoto, MediaError, PhotoTooLarge, StorageUnavailable

log = logging.getLogger(__name__)


class AppError(Exception):
    status = 500
    code = "internal_error"
    message = "服务器内部错误"

    def __init__(self, message=None, *, code=None, details=None, status=None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.code = code or self.code
        self.details = details or {}
        self.status = status or self.status


class BadRequest(AppError):
    status = 400
    code = "bad_request"
    message = "请求格式错误"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"
    message = "需要登录"


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    message = "无权执行此操作"


class NotFound(AppError):
    status = 404
    code = "not_found"
    message = "未找到"


class Conflict(AppError):
    status = 409
    code = "conflict"
    message = "状态冲突"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"
    message = "上传内容过大"


class ValidationFailed(AppError):
    status = 422
    code = "validation_failed"
    message = "提交的数据有误"


class RateLimited(AppError):
    """429: too many submissions; the response also carries ``Retry-After`` (services.abuse)."""

    status = 429
    code = "rate_limited"
    message = "提交过于频繁，请稍后再试"


class TooManyAttempts(RateLimited):
    """429: too many wrong passwords or receipts; ``details.retry_after`` becomes ``Retry-After``
    (services.throttle)."""

    code = "too_many_attempts"
    message = "尝试次数过多，请稍后再试"


class ServiceUnavailable(AppError):
    status = 503
    code = "service_unavailable"
    message = "服务暂时不可用，请稍后重试"


# The status each kind of media failure answers with (the code, message and details are its own).
MEDIA_STATUS = {PhotoTooLarge: 413, InvalidPhoto: 422, StorageUnavailable: 503}


def as_app_error(err):
    """A ``MediaError`` as the AppError a client sees: same code, message and details."""
    status = next((status for kind, status in MEDIA_STATUS.items() if isinstance(err, kind)), AppError.status)
    return AppError(err.message, code=err.code, details=err.details, status=status)


def error_body(code, message, details=None):
    return {"error": {"code": code, "message": message, "details": details or {}}}


_HTTP_CODES = {
    400: ("bad_request", "请求格式错误"),
    404: ("not_found", "未找到"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("payload_too_large", "上传内容过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
}


def init_app(app):
    """Render every error raised inside a request in the one JSON shape."""
    from flask import request
    from werkzeug.exceptions import HTTPException

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
        code, message = _HTTP_CODES.get(err.code, (_snake(err.name), err.description))
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


def _snake(name):
    return name.lower().replace(" ", "_").replace("'", "")
