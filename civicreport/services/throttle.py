"""Failed attempts at guessable secrets (passwords, receipt tokens), per account and per address.

The policy: ``THROTTLE_FAILURES`` failures of one key within ``THROTTLE_WINDOW_SECONDS``
lock that key for ``THROTTLE_LOCK_SECONDS``; each further lockout in a row doubles the lock,
up to ``THROTTLE_LOCK_MAX_SECONDS`` (a row of lockouts is forgotten once a new window starts
that long after the last lock ended). A locked key is refused with 429 ``too_many_attempts``
and ``Retry-After`` before any password is hashed, so a guesser neither guesses nor burns CPU.

Counters live in the ``throttle`` table, not in a process, so that every gunicorn worker
counts the same failures. They are read and written in a session of their own: a failure
stays counted when the request then fails, and counting one never commits the request's work
or releases its row locks. Services get the client address from the route (``remote_addr``,
behind ``TRUSTED_PROXIES`` made right by ProxyFix); an IPv6 address counts by its /64,
which one subscriber usually holds whole.
"""
import ipaddress
import logging
import math
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import RateLimited, TooManyAttempts
from ..extensions import db
from ..models import Throttle
from ..models.types import utcnow

log = logging.getLogger(__name__)

LOGIN_ACCOUNT = "login_account"  # the login name tried, known or not (a known user: its id)
LOGIN_ADDRESS = "login_ip"
RECEIPT_ADDRESS = "receipt_ip"  # wrong X-Receipt-Token headers and receipts looked up
MESSAGES = {
    LOGIN_ACCOUNT: "该账号登录失败次数过多，请稍后再试",
    LOGIN_ADDRESS: "当前网络登录失败次数过多，请稍后再试",
    RECEIPT_ADDRESS: "回执码错误次数过多，请稍后再试",
}


def init_app(app):
    """Answer ``TooManyAttempts`` in the one error shape, plus ``Retry-After``."""
    app.register_error_handler(TooManyAttempts, _with_retry_after)


def _with_retry_after(err):
    problem = RateLimited(err.message, code=err.code, details=err.details)
    response = current_app.make_response(current_app.handle_user_exception(problem))
    response.headers["Retry-After"] = str(err.details["retry_after"])
    return response


def address_key(address):
    """The counted form of a client address: IPv4 as it is, IPv6 as its /64; None when unknown."""
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return address or None
    return str(ipaddress.ip_network(f"{parsed}/64", strict=False) if parsed.version == 6 else parsed)


def keys(**named):
    """``keys(login_account="user:7", login_ip="10.0.0.7")`` → the (scope, key) pairs that have a key."""
    return [(scope, str(key)[:128]) for scope, key in named.items() if key]


def refuse_locked(pairs):
    """429 ``too_many_attempts`` with ``retry_after`` when any of the (scope, key) ``pairs`` is locked."""
    if not pairs:
        return
    now = utcnow()
    with Session(db.engine) as session:
        locked = [row for row in session.scalars(select(Throttle).where(_any_of(pairs)))
                  if row.locked_until and row.locked_until > now]
    if locked:
        row = max(locked, key=lambda r: r.locked_until)
        retry_after = max(1, math.ceil((row.locked_until - now).total_seconds()))
        log.warning("throttled %s %s: locked for %s s more", row.scope, row.key, retry_after)
        raise TooManyAttempts(MESSAGES[row.scope], details={"scope": row.scope, "retry_after": retry_after})


def record_failures(pairs, count=1):
    """Count ``count`` failures on each (scope, key) pair, locking those that reach the limit."""
    for scope, key in pairs:
        _record(scope, key, count)


def forget(pairs):
    """A success: the counters of these pairs start over (lockouts included)."""
    if pairs:
        with Session(db.engine) as session, session.begin():
            session.execute(delete(Throttle).where(_any_of(pairs)))


def _any_of(pairs):
    return or_(*((Throttle.scope == scope) & (Throttle.key == key) for scope, key in pairs))


def _record(scope, key, count):
    # The first failure of a key inserts its row; when another process inserted it first,
    # the unique constraint refuses ours and the second try updates theirs (locked FOR UPDATE).
    for _ in range(2):
        try:
            with Session(db.engine) as session, session.begin():
                row = session.scalar(select(Throttle).where(_any_of([(scope, key)])).with_for_update())
                if row is None:
                    row = Throttle(scope=scope, key=key, failures=0, lockouts=0, window_start=utcnow())
                    session.add(row)
                _fail(row, count)
            return
        except IntegrityError:
            continue


def _fail(row, count):
    config, now = current_app.config, utcnow()
    if now - row.window_start >= timedelta(seconds=config["THROTTLE_WINDOW_SECONDS"]):
        if row.locked_until is None or now - row.locked_until >= timedelta(seconds=config["THROTTLE_LOCK_MAX_SECONDS"]):
            row.lockouts = 0
        row.failures, row.window_start = 0, now
    row.failures += count
    if row.failures >= config["THROTTLE_FAILURES"]:
        row.lockouts += 1
        row.locked_until = now + timedelta(seconds=lock_seconds(row.lockouts))
        row.failures, row.window_start = 0, now
        log.warning("locked %s %s for %s s (lockout %s in a row)", row.scope, row.key,
                    lock_seconds(row.lockouts), row.lockouts)


def lock_seconds(lockouts):
    """The lock after the ``lockouts``-th lockout in a row: the base lock, doubled each time, capped."""
    config = current_app.config
    return min(config["THROTTLE_LOCK_SECONDS"] * 2 ** (lockouts - 1), config["THROTTLE_LOCK_MAX_SECONDS"])
