"""Short-lived signed links for console pages that open in a new tab.

A new tab cannot send the console's ``Authorization`` header, so the 督办通知书, the co-building
月通报 and the 挂牌督办 sheet were fetched with it and shown from a blob (which breaks printing
headers, reloading and sharing the address). Instead the console asks
``POST /api/v1/signed-links {"path"}`` for the page's address with a ``signature`` parameter,
valid for SIGNED_LINK_SECONDS and naming the login (bearer token) that asked: the page then
answers as that user, with the user's own rights, and the link dies with the login. Only views
marked ``@opens_by_link`` accept one. The parameter is named ``signature`` so the access logs
scrub it (web/access_log.py).
"""

from datetime import timedelta
from functools import wraps
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Blueprint, current_app, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from marshmallow import RAISE, Schema, fields, validate
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException

from civicreport import registry
from civicreport.accounts import auth
from civicreport.accounts.models import STAFF_ROLES
from civicreport.db_types import utcnow
from civicreport.errors import Unauthorized, ValidationFailed
from civicreport.schema_fields import load_valid
from civicreport.web import USER_KEY, allow, json_object
from civicreport.web.openapi import doc

bp = Blueprint("signed_links", __name__, url_prefix="/api/v1")

PARAMETER = "signature"
_SALT = "civicreport.signed-link"


class SignedLinkRequestSchema(Schema):
    class Meta:
        unknown = RAISE

    path = fields.String(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "站内页面地址（含查询参数），例如 /reports/QJ2026…/notice"},
    )


class SignedLinkSchema(Schema):
    url = fields.String(required=True, metadata={"description": "带签名的地址，可在新标签页直接打开"})
    expires_at = fields.String(required=True, metadata={"format": "date-time"})


def opens_by_link(view):
    """Let ``view`` (a GET page) answer to a signed link as the user who asked for it.

    Place it above ``@allow``: the user it finds is the one ``@allow`` then checks.
    """

    @wraps(view)
    def linked(*args, **kwargs):
        if PARAMETER not in request.args:
            return view(*args, **kwargs)
        pairs = [(key, value) for key, value in request.args.items(multi=True) if key != PARAMETER]
        request.environ[USER_KEY] = _user_of(request.args[PARAMETER], _address(request.path, pairs))
        request.args = ImmutableMultiDict(pairs)  # the view reads its own parameters, as without a link
        response = current_app.make_response(view(*args, **kwargs))
        response.headers["Cache-Control"] = "private, no-store"
        return response

    linked.opens_by_link = True
    return linked


@bp.post("/signed-links")
@allow(*STAFF_ROLES)
@doc(
    "为需在新标签页打开的页面（督办通知书、社区月通报、挂牌督办单）生成短时效签名链接",
    body=SignedLinkRequestSchema,
    response=SignedLinkSchema,
    tag="auth",
)
def create():
    """The address of a linkable page with a signature naming this login; 422 ``not_linkable``
    for any other address (the link grants nothing the page would not show this user anyway)."""
    path = load_valid(SignedLinkRequestSchema(), json_object())["path"]
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or not _linkable(parts.path):
        raise ValidationFailed("该地址不能生成签名链接", code="not_linkable", details={"path": path})
    args = [(key, value) for key, value in parse_qsl(parts.query) if key != PARAMETER]
    address = _address(parts.path, args)
    token_id = auth.token_id_for_bearer(request.headers.get("Authorization"))
    signature = _serializer().dumps({"t": token_id, "a": address})
    seconds = registry.settings().SIGNED_LINK_SECONDS
    query = urlencode([*args, (PARAMETER, signature)])
    return {"url": f"{parts.path}?{query}", "expires_at": (utcnow() + timedelta(seconds=seconds)).isoformat()}


def _linkable(path):
    """True when ``path`` is a GET route whose view is marked ``@opens_by_link``."""
    try:
        endpoint, _ = current_app.url_map.bind("").match(path, method="GET")
    except HTTPException:
        return False
    return getattr(current_app.view_functions[endpoint], "opens_by_link", False)


def _address(path, pairs):
    """What a signature covers: the path and its other query parameters, in a stable order."""
    kept = sorted(pairs)
    return f"{path}?{urlencode(kept)}" if kept else path


def _user_of(signature, address):
    """The live user a signature names for ``address``; 401 ``link_expired`` / ``invalid_link``."""
    seconds = registry.settings().SIGNED_LINK_SECONDS
    try:
        claims = _serializer().loads(signature, max_age=seconds)
    except SignatureExpired:
        raise Unauthorized("链接已过期，请回到平台重新打开", code="link_expired") from None
    except BadSignature:
        raise Unauthorized("链接无效，请回到平台重新打开", code="invalid_link") from None
    if not isinstance(claims, dict) or claims.get("a") != address or not isinstance(claims.get("t"), int):
        raise Unauthorized("链接无效，请回到平台重新打开", code="invalid_link")
    return auth.user_for_token_id(claims["t"])


def _serializer():
    return URLSafeTimedSerializer(registry.settings().SECRET_KEY, salt=_SALT)
