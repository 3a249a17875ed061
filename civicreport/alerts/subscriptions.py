"""Subscribing an e-mail address to an area: double opt-in, one-click unsubscribe.

Subscribing never tells the caller whether the address already follows the area (the answer is
the same either way) and sends nothing to an address already confirmed for it; a pending one gets
a fresh link. The confirmation link carries a random token of which only the SHA-256 is stored.
The unsubscribe link, in every e-mail, carries an HMAC of the subscription under SECRET_KEY
instead: the worker writes digests long after the token is gone, and a copy of the database alone
cannot forge it. Links start with PUBLIC_URL (the worker has no request to take a host from).
"""

import hashlib
import hmac
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import select

from civicreport import registry
from civicreport.alerts.models import AreaSubscription
from civicreport.alerts.public_reports import Area, area_of_code, circle
from civicreport.db_types import INTEGER_RANGE, utcnow
from civicreport.delivery.outbox import enqueue
from civicreport.errors import NotFound
from civicreport.extensions import db

CONFIRM_DAYS = 3
DEV_ORIGIN = "http://localhost:5000"  # links when PUBLIC_URL is blank (development)
CONFIRM_PATH = "/alerts/confirm"
UNSUBSCRIBE_PATH = "/alerts/unsubscribe"


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def link(path, **query):
    """An absolute link into the app for an e-mail."""
    return f"{registry.settings().PUBLIC_URL or DEV_ORIGIN}{path}?{urlencode(query)}"


def unsubscribe_signature(subscription):
    key = registry.settings().SECRET_KEY.encode()
    return hmac.new(key, f"unsubscribe:{subscription.id}:{subscription.token_hash}".encode(), "sha256").hexdigest()


def unsubscribe_link(subscription):
    return link(UNSUBSCRIBE_PATH, id=subscription.id, sig=unsubscribe_signature(subscription))


def area_of(subscription):
    if subscription.area_kind == "circle":
        return circle(subscription.lat, subscription.lon, subscription.radius_m)
    return area_of_code(subscription.area_code)


def subscribe(email, area: Area):
    """Record a pending subscription (or refresh a pending one) and queue its confirmation e-mail;
    nothing for an address that already follows the area. Commits."""
    existing = db.session.scalars(_same(email, area)).first()
    if existing is not None and existing.active:
        return
    subscription = existing or AreaSubscription(
        email=email, area_kind=area.kind, area_code=area.code, lat=area.lat, lon=area.lon, radius_m=area.radius_m
    )
    token = secrets.token_urlsafe(32)
    subscription.token_hash, subscription.created_at = _digest(token), utcnow()
    db.session.add(subscription)
    db.session.flush()
    enqueue("area_confirm", _confirm_payload(subscription, area, token), method="email", target=email)
    db.session.commit()


def _same(email, area):
    return select(AreaSubscription).where(
        AreaSubscription.email == email,
        AreaSubscription.area_kind == area.kind,
        AreaSubscription.area_code == area.code if area.code else AreaSubscription.area_code.is_(None),
        AreaSubscription.lat == area.lat if area.lat is not None else AreaSubscription.lat.is_(None),
        AreaSubscription.lon == area.lon if area.lon is not None else AreaSubscription.lon.is_(None),
        AreaSubscription.radius_m == area.radius_m if area.radius_m else AreaSubscription.radius_m.is_(None),
        AreaSubscription.unsubscribed_at.is_(None),
    )


def _confirm_payload(subscription, area, token):
    return {
        "message": (
            f"您（或有人以您的邮箱）订阅了“{area.name}”的随手拍公开案件提醒。"
            f"请在 {CONFIRM_DAYS} 天内打开下面的确认链接，确认后才会收到提醒；如非本人操作，请忽略本邮件。"
        ),
        "confirm_url": link(CONFIRM_PATH, token=token),
        "unsubscribe_url": unsubscribe_link(subscription),
    }


def pending_by_token(token):
    """The subscription a confirmation token names, still pending and not expired; 404 otherwise."""
    subscription = db.session.scalars(
        select(AreaSubscription).where(AreaSubscription.token_hash == _digest(token or ""))
    ).first()
    expired = subscription is None or subscription.created_at < utcnow() - timedelta(days=CONFIRM_DAYS)
    if expired or subscription.unsubscribed_at is not None:
        raise NotFound("确认链接无效或已过期，请重新订阅", code="subscription_not_found")
    return subscription


def confirm(token):
    """Confirm the subscription (again: harmless); alerts cover reports from now on. Commits."""
    subscription = pending_by_token(token)
    subscription.confirmed_at = subscription.confirmed_at or utcnow()
    db.session.commit()
    return subscription


def unsubscribe(subscription_id, signature):
    """End the subscription the signed link names (again: harmless); 404 for a wrong link. Commits."""
    known = isinstance(subscription_id, int) and 0 < subscription_id in INTEGER_RANGE
    subscription = db.session.get(AreaSubscription, subscription_id) if known else None
    if subscription is None or not hmac.compare_digest(unsubscribe_signature(subscription), signature or ""):
        raise NotFound("退订链接无效", code="subscription_not_found")
    subscription.unsubscribed_at = subscription.unsubscribed_at or utcnow()
    db.session.commit()
    return subscription
