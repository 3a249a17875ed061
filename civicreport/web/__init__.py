"""Thin blueprints: parse the request, call a service, serialise the answer.

Every view declares who may call it with ``@allow``: ``PUBLIC`` (anyone, anonymous
included), ``PER_ACTION`` (the workflow table decides per transition), or role names,
which the decorator enforces (401 without a token, 403 for another role).
"""

from functools import wraps

from flask import request
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from civicreport.accounts.access import require_roles
from civicreport.accounts.auth import user_for_bearer
from civicreport.db_types import ID_MAX
from civicreport.errors import BadRequest

PUBLIC = "public"
PER_ACTION = "per_action"
ROW_ID = "row_id"  # the path converter of a row's id (RowIdConverter)


class RowIdConverter(IntegerConverter):
    """A row id in a path; a larger number is no row: 404, not a 500 from the database.

    ``int(max=...)`` answered 405 where the same path has a rule for another method (werkzeug
    reports the method mismatch it saw before the bound failed); schemathesis found it on
    GET points/{id}/inspections."""

    def to_python(self, value):
        number = super().to_python(value)
        if number > ID_MAX:
            raise NotFound()
        return number


USER_KEY = "civicreport.user"  # the request's user, cached in its environ (a signed link sets it too)


def current_user():
    """The bearer token's user for this request (cached); None when anonymous, 401 if invalid."""
    if USER_KEY not in request.environ:
        request.environ[USER_KEY] = user_for_bearer(request.headers.get("Authorization"))
    return request.environ[USER_KEY]


def json_object():
    """The request's JSON body, which must be an object: 400 ``malformed_json`` otherwise."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("请求体须为 JSON 对象", code="malformed_json")
    return body


def mark_replay(response, replayed):
    """``response`` for a request whose ``Idempotency-Key`` was seen before says so in a header
    (the body is the first answer's)."""
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


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
