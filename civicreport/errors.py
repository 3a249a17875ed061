"""Domain exceptions and the one JSON error shape.

Every failure a client can see is an ``AppError`` (or a Werkzeug HTTP error)
rendered as ``{"error": {"code", "message", "details"}}``. ``media/`` raises its own
``MediaError`` family, which knows no HTTP; ``MEDIA_STATUS`` is where each kind gets
its status, and ``as_app_error`` makes it one of ours. No Flask here: web/error_responses.py
answers these inside a request.
"""

from civicreport.media.errors import InvalidPhoto, PhotoTooLarge, StorageUnavailable


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
    """429: too many submissions; the response also carries ``Retry-After`` (web.rate_limits)."""

    status = 429
    code = "rate_limited"
    message = "提交过于频繁，请稍后再试"


class TooManyAttempts(RateLimited):
    """429: too many wrong passwords or receipts; ``details.retry_after`` becomes ``Retry-After``
    (abuse.throttle)."""

    code = "too_many_attempts"
    message = "尝试次数过多，请稍后再试"


class ServiceUnavailable(AppError):
    status = 503
    code = "service_unavailable"
    message = "服务暂时不可用，请稍后重试"


def unknown_action(action, actions) -> ValidationFailed:
    """What every ``TRANSITIONS`` table (cases, orders, declarations, whistles, listings) answers to an
    action it does not have: the same code and details, so one client handles them all."""
    return ValidationFailed("未知操作", code="unknown_action", details={"action": action, "actions": sorted(actions)})


def role_not_allowed(action, roles) -> Forbidden:
    """What every ``TRANSITIONS`` table answers to a role its step does not admit, naming who may."""
    return Forbidden(
        "当前角色无权执行此操作", code="role_not_allowed", details={"action": action, "allowed_roles": sorted(roles)}
    )


# The status each kind of media failure answers with (the code, message and details are its own).
MEDIA_STATUS = {PhotoTooLarge: 413, InvalidPhoto: 422, StorageUnavailable: 503}


def as_app_error(err):
    """A ``MediaError`` as the AppError a client sees: same code, message and details."""
    status = next((status for kind, status in MEDIA_STATUS.items() if isinstance(err, kind)), AppError.status)
    return AppError(err.message, code=err.code, details=err.details, status=status)


def error_body(code, message, details=None):
    return {"error": {"code": code, "message": message, "details": details or {}}}
