"""Readiness: is the database answering and the store reachable, each within its timeout."""

from sqlalchemy import text

from civicreport import registry
from civicreport.errors import AppError, ServiceUnavailable
from civicreport.extensions import db
from civicreport.media.errors import MediaError


def health():
    """Check the database (``SELECT 1``) and storage (one bounded probe).

    Both checks run even when the first fails, and each is bounded by a timeout
    (DB_CONNECT_TIMEOUT, HEALTH_TIMEOUT), so a dead dependency makes this answer
    quickly. Raises ServiceUnavailable ``unhealthy`` with ``status: degraded`` and
    every check in its details when either is down.
    """
    checks = {"database": _check(_ping_database), "storage": _check(lambda: registry.current().storage.check())}
    if any(value != "ok" for value in checks.values()):
        raise ServiceUnavailable("依赖服务不可用", code="unhealthy", details={"status": "degraded", "checks": checks})
    return checks


def _ping_database():
    try:
        db.session.execute(text("SELECT 1"))
    finally:
        db.session.rollback()  # a health probe holds no transaction open


def _check(probe):
    try:
        probe()
    except Exception as exc:  # any failure is a finding to report, never a 500
        return f"error: {exc.code if isinstance(exc, (AppError, MediaError)) else type(exc).__name__}"
    return "ok"
