"""Open311 client keys: the only thing Open311's ``api_key`` is checked against.

The GeoReport v2 spec puts ``api_key`` in the query string, where proxies and access logs
keep it, so it is never a login's bearer token: each client (a 12345 hotline, another
city platform) gets its own random key, of which only the SHA-256 is stored. A key posts
to one jurisdiction within its own limits and is revoked on its own
(``flask --app civicreport open311-key …``).
"""

import secrets

from limits import parse_many
from sqlalchemy import select

from civicreport import registry
from civicreport.accounts.auth import token_hash
from civicreport.db_types import utcnow
from civicreport.errors import Forbidden, NotFound, ValidationFailed
from civicreport.extensions import db
from civicreport.open311.models import Open311Client


def create(name, *, jurisdiction=None, rate_limit=None):
    """Register a client; returns it and its key (shown once, only its hash is kept).

    ``jurisdiction`` defaults to DISTRICT_CODE, ``rate_limit`` (e.g. ``600/hour;5000/day``)
    to OPEN311_CLIENT_LIMIT. Raises ValidationFailed for a taken name or a malformed limit.
    """
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ValidationFailed("客户端名称应为 1 至 64 个字符", code="invalid_client_name")
    if db.session.scalar(select(Open311Client.id).where(Open311Client.name == name)) is not None:
        raise ValidationFailed("客户端名称已存在", code="client_exists", details={"name": name})
    key = secrets.token_hex(32)  # no "-" or "_": safe in URLs, forms and shell arguments alike
    client = Open311Client(
        name=name,
        key_hash=token_hash(key),
        rate_limit=_checked_limit(rate_limit),
        jurisdiction=_checked_jurisdiction(jurisdiction),
    )
    db.session.add(client)
    db.session.commit()
    return client, key


def _checked_jurisdiction(jurisdiction):
    jurisdiction = (jurisdiction or registry.settings().DISTRICT_CODE).strip()
    if not jurisdiction or len(jurisdiction) > 32:
        raise ValidationFailed("jurisdiction 应为 1 至 32 个字符", code="invalid_jurisdiction")
    return jurisdiction


def _checked_limit(rate_limit):
    """A limit string as Flask-Limiter reads it, or None for the setting's default."""
    if not rate_limit:
        return None
    try:
        parse_many(rate_limit)
    except ValueError:
        raise ValidationFailed(
            "频率限制格式无效，例如 600/hour;5000/day", code="invalid_rate_limit", details={"limit": rate_limit}
        ) from None
    return rate_limit


def clients():
    return db.session.scalars(select(Open311Client).order_by(Open311Client.name)).all()


def revoke(name):
    """Revoke a client's key at once; 404 ``client_not_found``. Revoking twice keeps the first time."""
    client = db.session.scalar(select(Open311Client).where(Open311Client.name == name))
    if client is None:
        raise NotFound("未找到该 Open311 客户端", code="client_not_found", details={"name": name})
    client.revoked_at = client.revoked_at or utcnow()
    db.session.commit()
    return client


def live_client(api_key):
    """The unrevoked client holding ``api_key``; None for a missing, unknown or revoked key."""
    if not api_key:
        return None
    client = db.session.scalar(select(Open311Client).where(Open311Client.key_hash == token_hash(api_key)))
    return client if client is not None and client.revoked_at is None else None


def client_for_key(api_key):
    """The client an ``api_key`` belongs to; 403 as Open311 answers a bad key.

    ``api_key_required`` without one, ``invalid_api_key`` for one that is not a live client
    key — a login's bearer token included, even an admin's. Sets ``last_used_at``, saved
    with the report the key files.
    """
    if not api_key:
        raise Forbidden("缺少 api_key", code="api_key_required")
    client = live_client(api_key)
    if client is None:
        raise Forbidden("api_key 无效或已吊销", code="invalid_api_key")
    client.last_used_at = utcnow()
    return client


def check_may_post(client, jurisdiction_id):
    """403 ``jurisdiction_not_allowed`` unless the request's jurisdiction (default: the served one) is the client's."""
    wanted = jurisdiction_id or registry.settings().DISTRICT_CODE
    if wanted != client.jurisdiction:
        raise Forbidden(
            "该 api_key 不能向此 jurisdiction 提交",
            code="jurisdiction_not_allowed",
            details={"jurisdiction_id": wanted},
        )


def limit_of(client):
    """The client's own limit string, or OPEN311_CLIENT_LIMIT when it has none."""
    return client.rate_limit or registry.settings().OPEN311_CLIENT_LIMIT
