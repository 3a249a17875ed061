"""The background worker: deliver due outbox messages, run periodic jobs, sleep, repeat."""

import logging
import signal
import threading
import time
from contextlib import contextmanager

from civicreport import registry
from civicreport.delivery.outbox import deliver_due
from civicreport.extensions import database_busy, db

log = logging.getLogger(__name__)
BUSY_RETRIES = 3  # SQLite "database is locked" (another process held the write lock past the busy timeout)
BUSY_PAUSE = 0.5  # seconds, times the attempt


def run_worker(*, once=False, interval=None, jobs=(), deliver=True):
    """Run rounds of ``deliver_due()`` then each job in ``jobs`` (no-argument callables); with
    ``deliver=False`` rounds of the jobs alone (``flask settle``, the month-end settling beside the worker).

    Needs an app context. ``once=True`` runs one round and returns its counts
    (sent/retried/dead plus ``errors``, the number of steps that raised).
    Otherwise it loops every ``interval`` seconds (default WORKER_INTERVAL)
    until SIGTERM or SIGINT, finishing the current step first, and returns
    None. A step that raises is logged and rolled back; the others still run.
    """
    steps = (deliver_due, *jobs) if deliver else tuple(jobs)
    if once:
        return _run_round(steps)
    interval = registry.settings().WORKER_INTERVAL if interval is None else interval
    stop = threading.Event()
    with _stop_on_signals(stop):
        log.info("worker started; round every %ss", interval)
        while not stop.is_set():
            _run_round(steps, stop)
            stop.wait(interval)
    log.info("worker stopped")
    return None


def _run_round(steps, stop=None):
    """One round; returns deliver_due's counts and ``errors``. Never raises an Exception."""
    counts = {"sent": 0, "retried": 0, "dead": 0, "errors": 0}
    for step in steps:
        if stop is not None and stop.is_set():
            break
        name = getattr(step, "__name__", step)
        try:
            result = _patiently(step)
        except Exception as exc:
            if database_busy(exc):  # an expected wait on SQLite, not a fault: one line, next round retries
                log.warning("worker step %s: SQLite database still locked by another process; next round", name)
            else:
                log.exception("worker step %s failed", name)
            db.session.rollback()
            counts["errors"] += 1
            continue
        if step is deliver_due:
            counts.update(result)
    return counts


def _patiently(step):
    """``step()``, run again after a short pause while SQLite says the database is locked:
    ``load-demo --history`` beside the worker printed three such tracebacks a run."""
    for attempt in range(1, BUSY_RETRIES):
        try:
            return step()
        except Exception as exc:
            if not database_busy(exc):
                raise
            db.session.rollback()
            log.info("worker step %s: SQLite database locked; retrying", getattr(step, "__name__", step))
            time.sleep(BUSY_PAUSE * attempt)
    return step()


@contextmanager
def _stop_on_signals(stop):
    """Make SIGTERM/SIGINT set ``stop`` (main thread only); restore the old handlers after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = (signal.SIGTERM, signal.SIGINT)
    previous = {signum: signal.signal(signum, lambda signum, frame: stop.set()) for signum in wanted}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
