"""Thin blueprints: parse the request, call a service, serialise the answer.

Every view declares who may call it with ``@allow``: ``PUBLIC`` (anyone, anonymous
included), ``PER_ACTION`` (the workflow table decides per transition), or role names,
which the decorator enforces (401 without a token, 403 for another role).
"""
from functools import wraps

from flask import request

from ..errors import BadRequest
from ..services.access import require_roles
from ..services.auth import user_for_bearer

PUBLIC = "public"
PER_ACTION = "per_action"


def refuse_nul_characters():
    """``before_request``: 400 ``nul_character`` when the path, query, headers, form or a JSON
    string holds U+0000, which PostgreSQL can neither store nor compare (it failed as a 500)."""
    parts = [request.path, request.args.to_dict(flat=False), dict(request.headers)]
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        parts.append(request.form.to_dict(flat=False))
    if request.is_json:
        parts.append(request.get_json(silent=True))
    if _has_nul(parts):
        raise BadRequest("请求中不能含有空字符（U+0000）", code="nul_character")


def _has_nul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def current_user():
    """The bearer token's user for this request (cached); None when anonymous, 401 if invalid."""
    key = "civicreport.user"
    if key not in request.environ:
        request.environ[key] = user_for_bearer(request.headers.get("Authorization"))
    return request.environ[key]


def allow(*roles):
    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if PUBLIC not in roles and PER_ACTION not in roles:
                require_roles(current_user(), roles)
            return view(*args, **kwargs)

        guarded.allowed_roles = roles
        return guarded

    return decorate
