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
    every check in its details when either is down; its message carries what the failing
    checks say (a missing S3 bucket: run ``flask storage init``).
    """
    results = {"database": _check(_ping_database), "storage": _check(lambda: registry.current().storage.check())}
    checks = {name: status for name, (status, _) in results.items()}
    if any(value != "ok" for value in checks.values()):
        said = "；".join(message for _, message in results.values() if message)
        message = f"依赖服务不可用：{said}" if said else "依赖服务不可用"
        raise ServiceUnavailable(message, code="unhealthy", details={"status": "degraded", "checks": checks})
    return checks


def _ping_database():
    try:
        db.session.execute(text("SELECT 1"))
    finally:
        db.session.rollback()  # a health probe holds no transaction open


def _check(probe):
    """``("ok", None)``, or ``("error: <code>", what the failure says to an operator or None)``."""
    try:
        probe()
    except Exception as exc:  # any failure is a finding to report, never a 500
        if isinstance(exc, (AppError, MediaError)):
            return f"error: {exc.code}", exc.message
        return f"error: {type(exc).__name__}", None
    return "ok", None
