"""Submission limits and the block-list check at the web edge, for everything that creates reports or uploads photos.

A submission is counted three ways, each with its own configurable limits
(``SUBMIT_LIMIT_PER_*`` for reports, ``UPLOAD_LIMIT_PER_*`` for photos sent ahead,
``SUPPORT_LIMIT_PER_*`` for “我也遇到了”):

- device: the ``X-Device-Id`` header — an opaque id the phone page or app makes once per
  install (8–64 characters of ``A–Z a–z 0–9 . _ : -``, e.g. a random UUID) and sends
  with every request; requests without it are counted by address only;
- ip: the client address (behind a reverse proxy only right when ``TRUSTED_PROXIES``
  is set, so that ProxyFix puts the real client address into ``remote_addr``);
- account: a logged-in citizen (bearer token);
- client: on Open311, the client whose ``api_key`` the request carries, by its own limit
  (``OPEN311_CLIENT_LIMIT`` unless the key was given one). A live key replaces the address
  and account counts — a 12345 hotline forwards many citizens from one server — while a
  device id it passes on is still counted; a bad key is counted by address like anyone.

Logged-in staff (monitor, supervisor, unit staff, leader, admin) are exempt from limits
and blocks: they file many reports on patrol; a misbehaving staff account is deactivated.
Retries count too (a client learns when to come back from ``Retry-After``): counting
only what succeeded would let parallel requests slip through between check and count.
"""

import logging
import math
import time
from functools import wraps

from flask import current_app, request
from flask_limiter import RateLimitExceeded

from civicreport import registry
from civicreport.abuse import blocks
from civicreport.abuse.throttle import address_key
from civicreport.accounts.auth import user_for_bearer
from civicreport.errors import (
    Forbidden,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)
from civicreport.extensions import limiter
from civicreport.open311 import clients as open311_clients

log = logging.getLogger(__name__)

DEVICE_HEADER = "X-Device-Id"
KINDS = ("submit", "upload", "support")  # reports (also via Open311) / photos ahead of a report / 我也遇到了
_MESSAGES = {
    "device": "本设备提交过于频繁，请稍后再试",
    "ip": "当前网络提交过于频繁，请稍后再试",
    "account": "本账号提交次数已达上限，请稍后再试",
    "client": "该 Open311 客户端提交过于频繁，请稍后再试",
    "email": "该邮箱的订阅请求过于频繁，请稍后再试",  # web.public_map's subscribe limit
}


def init_app(app):
    """Attach the limiter (``config`` has checked the limit settings)."""
    app.config["RATELIMIT_STORAGE_URI"] = app.config["RATELIMIT_STORAGE_URL"]
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, rate_limit_response)


def _setting(kind, dimension):
    return f"{kind.upper()}_LIMIT_PER_{dimension.upper()}"


def limited(kind, *, by_client=False):
    """Decorate a view that creates reports (``"submit"``), uploads photos (``"upload"``) or
    supports a case (``"support"``).

    Before the view runs: 429 ``rate_limited`` with ``Retry-After`` over a limit, 403
    ``blocked`` for a blocked device/account/address, 422 ``invalid_device_id`` for a
    malformed ``X-Device-Id``. Counters are shared by every view of the same kind.
    ``by_client`` (Open311 only): a live ``api_key`` is counted as its client instead of by
    address and account; elsewhere an ``api_key`` means nothing and escapes no limit.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown submission kind {kind!r}")

    def decorate(view):
        guarded = _refusing_blocked(view)
        for dimension, key in (("device", _device_key), ("ip", _ip_key), ("account", _account_key)):
            guarded = limiter.shared_limit(
                _limit_provider(_setting(kind, dimension)),
                scope=f"{kind}:{dimension}",
                key_func=key,
                exempt_when=_exemption(key, by_client and dimension != "device"),
            )(guarded)
        if by_client:
            guarded = limiter.shared_limit(_client_limit, scope=f"{kind}:client", key_func=_client_key)(guarded)
        return guarded

    return decorate


def _limit_provider(setting):
    # Read per request, so that a test's override_settings applies without a new app.
    return lambda: getattr(registry.settings(), setting)


def _refusing_blocked(view):
    @wraps(view)
    def guarded(*args, **kwargs):
        refuse_blocked()
        return view(*args, **kwargs)

    return guarded


def device_id():
    """The request's ``X-Device-Id``; None without one, 422 ``invalid_device_id`` when malformed."""
    value = request.headers.get(DEVICE_HEADER)
    if value is None or value == "":
        return None
    if not blocks.DEVICE_ID.fullmatch(value):
        raise ValidationFailed("设备标识格式无效", code="invalid_device_id", details={"header": DEVICE_HEADER})
    return value


def submitter():
    """The logged-in user behind this request, looked up once; None when anonymous.

    A bad token also gives None here: the view itself answers it with 401.
    """
    # Kept with the request, not in ``g``: an app context may outlive one request.
    key = "civicreport.abuse_submitter"
    if key not in request.environ:
        request.environ[key] = _lookup_submitter()
    return request.environ[key]


def _lookup_submitter():
    # Only the Authorization header: an ``api_key`` is an Open311 client key, never a login.
    try:
        return user_for_bearer(request.headers.get("Authorization"))
    except Unauthorized:
        return None


def open311_client():
    """The live Open311 client whose ``api_key`` this request carries, looked up once; else None."""
    key = "civicreport.abuse_open311_client"
    if key not in request.environ:
        # The same precedence as the Open311 view: the form field, then the query string.
        api_key = request.form.get("api_key") or request.args.get("api_key")
        request.environ[key] = open311_clients.live_client(api_key)
    return request.environ[key]


def _exemption(key, client_counts=False):
    """Staff are exempt; so is a request the key cannot name, and one its client is counted for."""

    def exempt():
        user = submitter()
        return bool(user and user.is_staff) or not key() or (client_counts and open311_client() is not None)

    return exempt


def _client_limit():
    client = open311_client()
    return open311_clients.limit_of(client) if client else ""


def _client_key():
    client = open311_client()
    return f"client:{client.id}" if client else ""


def _device_key():
    # A malformed id is not counted as a device here: the view refuses it with 422.
    try:
        device = device_id()
    except ValidationFailed:
        return ""
    return f"device:{device}" if device else ""


def _ip_key():
    # An IPv6 client usually holds a whole /64: counted per address, it could use a fresh one each time.
    address = address_key(request.remote_addr)
    return f"ip:{address}" if address else ""


def _account_key():
    user = submitter()
    return f"account:{user.id}" if user else ""


def rate_limit_response(err):
    """Error handler: Flask-Limiter's breach as ``RateLimited`` in the blueprint's error shape,
    with ``Retry-After`` in seconds. Blueprints with their own HTTP error handlers register it too.
    """
    breached = limiter.current_limit
    retry_after = max(1, math.ceil(breached.window[0] - time.time())) if breached else 60
    dimension = breached.request_args[-1].split(":")[-1] if breached else "ip"
    log.warning("submission limit %s reached by %s", err.limit.limit, breached and breached.request_args[-2])
    problem = RateLimited(
        _MESSAGES[dimension], details={"scope": dimension, "limit": str(err.limit.limit), "retry_after": retry_after}
    )
    response = current_app.make_response(current_app.handle_user_exception(problem))
    response.headers["Retry-After"] = str(retry_after)
    return response


def refuse_blocked():
    """403 ``blocked`` when this request's device, account or address is on the block list.

    Staff are never refused here; a malformed ``X-Device-Id`` is 422 (see ``device_id``) for
    everyone, staff included: one check, so a staff upload cannot carry an id a phone could not.
    """
    device = device_id()
    user = submitter()
    if user and user.is_staff:
        return
    block = blocks.matching_block(device, user.name if user else None, request.remote_addr)
    if block is not None:
        log.warning("blocked %s %s refused", block.kind, block.value)
        raise Forbidden("您已被禁止提交上报，如有疑问请联系管理员", code="blocked", details={"kind": block.kind})
