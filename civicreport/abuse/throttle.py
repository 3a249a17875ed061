"""Attempts at guessable secrets (passwords, receipt tokens), per account and per address.

The policy: ``THROTTLE_FAILURES`` attempts of one key within ``THROTTLE_WINDOW_SECONDS``
lock that key for ``THROTTLE_LOCK_SECONDS``; each further lockout in a row doubles the lock,
up to ``THROTTLE_LOCK_MAX_SECONDS`` (a row of lockouts is forgotten once a new window starts
that long after the last lock ended). A locked key is refused with 429 ``too_many_attempts``
and ``Retry-After`` before any password is hashed, so a guesser neither guesses nor burns CPU.

An attempt is counted (``reserve``) BEFORE the secret is checked, by one atomic
``UPDATE … SET failures = failures + 1 … RETURNING``: checking first and counting after let
parallel guesses through between the two. A right secret then gives its attempt back
(``succeeded``): only failures stay counted. Every change is one conditional UPDATE, so
parallel requests can neither lose counts nor lock a key twice, on SQLite and PostgreSQL.

Counters live in the ``throttle`` table, not in a process, so that every gunicorn worker
counts the same failures. They are written through an engine of their own: a failure stays
counted when the request then fails, counting never commits the request's work or releases
its row locks, and a request that holds a pooled connection never waits for a second one
from the same pool (40 parallel logins used to exhaust it). Services get the client address
from the route (``remote_addr``, behind ``TRUSTED_PROXIES`` made right by ProxyFix); an
IPv6 address counts by its /64, which one subscriber usually holds whole.
"""

import functools
import ipaddress
import logging
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, create_engine, make_url, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from civicreport import registry
from civicreport.abuse.models import Throttle
from civicreport.db_types import utcnow
from civicreport.errors import RateLimited, ServiceUnavailable, TooManyAttempts
from civicreport.extensions import db

log = logging.getLogger(__name__)

LOGIN_ACCOUNT = "login_account"  # the login name tried, known or not (a known user: its id)
LOGIN_ADDRESS = "login_ip"
RECEIPT_ADDRESS = "receipt_ip"  # wrong X-Receipt-Token headers and receipts looked up
CODE_CASE = "code_case"  # short receipt codes tried on one case (cases.receipt_codes)
CODE_ADDRESS = "code_ip"  # short receipt codes tried from one address
MESSAGES = {
    LOGIN_ACCOUNT: "该账号登录失败次数过多，请稍后再试",
    LOGIN_ADDRESS: "当前网络登录失败次数过多，请稍后再试",
    RECEIPT_ADDRESS: "回执码错误次数过多，请稍后再试",
    CODE_CASE: "该案件的查询码错误次数过多，请稍后再试",
    CODE_ADDRESS: "查询码错误次数过多，请稍后再试",
}
# The counters' own pool: a few connections suffice, each held for one short transaction.
POOL = {"pool_size": 2, "max_overflow": 6, "pool_timeout": 10}
_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def init_app(app):
    """Answer ``TooManyAttempts`` in the one error shape, plus ``Retry-After``; make the counters' engine."""
    app.register_error_handler(TooManyAttempts, functools.partial(_with_retry_after, app))
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    options = {**app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}), **POOL}
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            return  # an in-memory database lives in one engine: the counters share the app's
        # One writer at a time: under a burst, wait for the write lock as long as for a pooled
        # connection (SQLite's 5 s made 1 of 40 parallel logins a 503).
        options["connect_args"] = {"timeout": POOL["pool_timeout"]}
    registry.of(app).throttle_engine = create_engine(url, **options)


def _with_retry_after(app, err):
    problem = RateLimited(err.message, code=err.code, details=err.details)
    response = app.make_response(app.handle_user_exception(problem))
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


@dataclass(frozen=True)
class Held:
    """One attempt counted on one key, and what giving it back restores."""

    scope: str
    key: str
    window_start: datetime  # the window it was counted in
    locked_until: datetime | None = None  # the lock this attempt set, if it was the last one allowed
    before: dict = field(default_factory=dict)  # the counter as it was before that lock


def reserve(pairs):
    """Count one attempt on each (scope, key) pair before the secret is checked; returns the
    attempts held, for ``succeeded``. 429 ``too_many_attempts`` when any pair is locked or has no
    attempt left in its window: then nothing is counted and nothing must be checked.
    """
    now = utcnow()
    with _transaction() as conn:
        return [_take(conn, scope, key, now) for scope, key in sorted(set(pairs))]


def succeeded(held, reset=()):
    """The secret was right: the counters of the ``reset`` pairs start over (lockouts included),
    every other key held gets its attempt back, so a success never counts as a failure."""
    reset, now = set(reset), utcnow()
    with _transaction() as conn:
        if reset:
            # Zeroed, not deleted: a parallel reservation that found the row keeps finding it.
            conn.execute(
                update(Throttle)
                .where(_any_of(reset))
                .values(failures=0, window_start=now, lockouts=0, locked_until=None)
            )
        for attempt in held:
            if (attempt.scope, attempt.key) not in reset:
                _give_back(conn, attempt)


@contextmanager
def _transaction():
    # A pool or database that cannot answer in time is a 503, never a 500 or an uncounted guess.
    try:
        with (registry.current().throttle_engine or db.engine).begin() as conn:
            yield conn
    except (PoolTimeout, OperationalError) as err:
        log.warning("throttle counters unavailable: %s", err)
        raise ServiceUnavailable("服务繁忙，请稍后重试", code="throttle_unavailable") from err


def _any_of(pairs):
    return or_(*(_row(scope, key) for scope, key in pairs))


def _row(scope, key):
    return (Throttle.scope == scope) & (Throttle.key == key)


def _take(conn, scope, key, now):
    config, row = registry.settings(), _row(scope, key)
    unlocked = or_(Throttle.locked_until.is_(None), Throttle.locked_until <= now)
    conn.execute(
        _INSERT[conn.dialect.name](Throttle.__table__)
        .values(scope=scope, key=key, failures=0, lockouts=0, window_start=now)
        .on_conflict_do_nothing()
    )
    conn.execute(
        update(Throttle)
        .where(row, unlocked, Throttle.window_start <= now - timedelta(seconds=config.THROTTLE_WINDOW_SECONDS))
        .values(
            failures=0,
            window_start=now,
            lockouts=case(
                (
                    or_(
                        Throttle.locked_until.is_(None),
                        Throttle.locked_until <= now - timedelta(seconds=config.THROTTLE_LOCK_MAX_SECONDS),
                    ),
                    0,
                ),
                else_=Throttle.lockouts,
            ),
        )
    )
    counted = conn.execute(
        update(Throttle)
        .where(row, unlocked, Throttle.failures < config.THROTTLE_FAILURES)
        .values(failures=Throttle.failures + 1)
        .returning(Throttle.failures, Throttle.window_start, Throttle.lockouts, Throttle.locked_until)
    ).one_or_none()
    if counted is None:
        raise _refusal(conn, scope, key, now)
    if counted.failures < config.THROTTLE_FAILURES:
        return Held(scope, key, counted.window_start)
    return _lock(conn, scope, key, now, counted)


def _lock(conn, scope, key, now, counted):
    # The last attempt the window allows: it goes ahead, and the key is locked behind it.
    until = now + timedelta(seconds=lock_seconds(counted.lockouts + 1))
    conn.execute(
        update(Throttle)
        .where(_row(scope, key))
        .values(failures=0, window_start=now, lockouts=Throttle.lockouts + 1, locked_until=until)
    )
    log.warning(
        "locked %s %s for %s s (lockout %s in a row)",
        scope,
        key,
        lock_seconds(counted.lockouts + 1),
        counted.lockouts + 1,
    )
    return Held(
        scope,
        key,
        now,
        until,
        {
            "failures": counted.failures - 1,
            "window_start": counted.window_start,
            "lockouts": counted.lockouts,
            "locked_until": counted.locked_until,
        },
    )


def _give_back(conn, attempt):
    # Only into the window (or lock) it was taken from: a counter started over keeps its count.
    if attempt.locked_until is None:
        conn.execute(
            update(Throttle)
            .where(
                _row(attempt.scope, attempt.key), Throttle.window_start == attempt.window_start, Throttle.failures > 0
            )
            .values(failures=Throttle.failures - 1)
        )
    else:
        conn.execute(
            update(Throttle)
            .where(_row(attempt.scope, attempt.key), Throttle.locked_until == attempt.locked_until)
            .values(**attempt.before)
        )


def _refusal(conn, scope, key, now):
    config = registry.settings()
    row = conn.execute(select(Throttle.locked_until, Throttle.window_start).where(_row(scope, key))).one()
    # Not locked but out of attempts only when THROTTLE_FAILURES was lowered: the window's end.
    until = (
        row.locked_until
        if row.locked_until and row.locked_until > now
        else row.window_start + timedelta(seconds=config.THROTTLE_WINDOW_SECONDS)
    )
    retry_after = max(1, math.ceil((until - now).total_seconds()))
    log.warning("throttled %s %s: locked for %s s more", scope, key, retry_after)
    return TooManyAttempts(MESSAGES[scope], details={"scope": scope, "retry_after": retry_after})


def lock_seconds(lockouts):
    """The lock after the ``lockouts``-th lockout in a row: the base lock, doubled each time, capped."""
    config = registry.settings()
    return min(config.THROTTLE_LOCK_SECONDS * 2 ** (lockouts - 1), config.THROTTLE_LOCK_MAX_SECONDS)
