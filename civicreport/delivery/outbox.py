"""Transactional outbox: notifications queued with the change, delivered later with retries.

``enqueue`` only adds a row to the caller's session, so the notification commits
or rolls back together with the change that caused it and never touches the
network. ``deliver_due`` (run by the worker) sends what is due.

Delivery is at least once. A message is marked ``sent`` in the same transaction
that claimed it, after the sender returned; if the worker dies between the two
(killed mid-request, database gone), the row stays ``pending`` and is sent
again later. Receivers de-duplicate on the message id, which webhooks carry in
``X-Civicreport-Delivery`` (and e-mails in the header of the same name).
"""

import json
import logging
from datetime import date, datetime

from sqlalchemy import select, update

from civicreport import registry
from civicreport.accounts.models import Unit
from civicreport.db_types import utcnow
from civicreport.delivery.models import OutboxMessage
from civicreport.delivery.retry import backoff
from civicreport.delivery.senders import DeliveryFailed
from civicreport.extensions import db
from civicreport.reference.lookup import require_unit

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 500


def enqueue(topic, payload, *, report=None, unit=None, method=None, target=None):
    """Add a pending message to the current session (no commit, no network).

    ``method`` defaults to the unit's delivery method ('log' without a unit);
    ``target`` defaults to the unit's target when the method is the unit's.
    Dates in ``payload`` become ISO text; any other value JSON cannot hold
    raises ``TypeError`` here rather than at commit.
    """
    method = method or (unit.delivery_method if unit else "log")
    if target is None and unit is not None and method == unit.delivery_method:
        target = unit.delivery_target
    message = OutboxMessage(
        topic=topic,
        payload=_jsonable(payload),
        method=method,
        target=target,
        report_id=_id_of(report),
        unit_id=_id_of(unit),
        status="pending",
        attempts=0,
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    return message


def _jsonable(payload):
    return json.loads(json.dumps(payload, ensure_ascii=False, default=_iso))


def _iso(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _id_of(row):
    """The row's primary key, flushing first when the row is new."""
    if row is None:
        return None
    if row.id is None:
        db.session.flush()
    return row.id


def deliver_due(now=None, limit=50):
    """Send up to ``limit`` due messages, oldest due first; return counts sent/retried/dead.

    Each message is claimed, sent and recorded in its own transaction, so one
    failure never undoes another's result. On PostgreSQL the claim is
    ``FOR UPDATE SKIP LOCKED`` and the row lock is held while sending: two
    workers never send the same message. (SQLite has no row locks; run one
    worker there.) Sender errors of any kind are recorded on the message, not
    raised; database errors are raised after rolling back.
    """
    now = now or utcnow()
    counts = {"sent": 0, "retried": 0, "dead": 0}
    for _ in range(limit):
        message = _claim_next(now)
        if message is None:
            break
        outcome = _deliver(message, now)
        try:
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        counts[outcome] += 1
    return counts


def _claim_next(now):
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)  # SQLAlchemy leaves this out on SQLite
    )
    return db.session.scalars(query).first()


def _deliver(message, now):
    """Send one message and update its row; return 'sent', 'retried' or 'dead'."""
    try:
        _sender_for(message).send(message)
    except Exception as err:  # a buggy sender must not stop the worker either
        reason = err.reason if isinstance(err, DeliveryFailed) else f"{type(err).__name__}: {err}"
        return _record_failure(message, now, reason)
    message.status = "sent"
    message.sent_at = now
    message.last_error = None
    return "sent"


def _sender_for(message):
    sender = registry.current().senders.get(message.method)
    if sender is None:
        raise DeliveryFailed(f"unknown delivery method {message.method!r}")
    return sender


def _record_failure(message, now, reason):
    config = registry.settings()
    message.attempts += 1
    message.last_error = reason[:MAX_ERROR_CHARS]
    if message.attempts >= config.OUTBOX_MAX_ATTEMPTS:
        message.status = "dead"
        log.error("outbox #%s %s dead after %s attempts: %s", message.id, message.topic, message.attempts, reason)
        return "dead"
    message.next_attempt_at = now + backoff(
        message.attempts, config.OUTBOX_BACKOFF_SECONDS, config.OUTBOX_BACKOFF_MAX_SECONDS
    )
    log.warning(
        "outbox #%s %s attempt %s failed (%s); next at %s",
        message.id,
        message.topic,
        message.attempts,
        reason,
        message.next_attempt_at,
    )
    return "retried"


def dead_messages(unit_code=None):
    """[(message, unit code or None)] of the messages that used up their attempts, oldest
    first; only ``unit_code``'s when given. Raises NotFound(unit_not_found)."""
    query = (
        select(OutboxMessage, Unit.code)
        .outerjoin(Unit, OutboxMessage.unit_id == Unit.id)
        .where(OutboxMessage.status == "dead")
        .order_by(OutboxMessage.id)
    )
    if unit_code is not None:
        query = query.where(OutboxMessage.unit_id == require_unit(unit_code).id)
    return db.session.execute(query).all()


def requeue_dead(ids=(), unit_code=None, now=None):
    """Make dead messages pending again with a fresh set of attempts, due at ``now``;
    returns how many. Narrowed to ``ids`` and to ``unit_code``'s messages when given;
    ``last_error`` stays until the next attempt. Raises NotFound(unit_not_found).
    """
    query = update(OutboxMessage).where(OutboxMessage.status == "dead")
    if ids:
        query = query.where(OutboxMessage.id.in_(ids))
    if unit_code is not None:
        query = query.where(OutboxMessage.unit_id == require_unit(unit_code).id)
    count = db.session.execute(
        query.values(status="pending", attempts=0, next_attempt_at=now or utcnow()).execution_options(
            synchronize_session=False
        )
    ).rowcount
    db.session.commit()
    log.info("outbox: %d dead message(s) requeued", count)
    return count
