"""One SQLite file shared by the web server, the worker and a CLI command (`make run` beside
`flask load-demo --history`): WAL and a busy timeout on every connection, and a worker step
that meets a held write lock waits and retries quietly instead of printing a traceback.

The lock is held by a second, plain sqlite3 connection in another thread, on a real file."""

import logging
import sqlite3
import threading

import pytest
from sqlalchemy import text

from civicreport import create_app
from civicreport import extensions as extensions_module
from civicreport.delivery import worker
from civicreport.extensions import db


@pytest.fixture
def sqlite_app(tmp_path, monkeypatch):
    monkeypatch.setattr(extensions_module, "SQLITE_BUSY_MS", 200)  # a short wait, so the lock outlasts it
    monkeypatch.setattr(worker, "BUSY_PAUSE", 0.01)
    path = tmp_path / "shared.sqlite3"
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "STORAGE": "local", "MEDIA_ROOT": str(tmp_path / "m")})
    with app.app_context():
        db.session.execute(text("CREATE TABLE probe (n INTEGER)"))
        db.session.commit()
    return app, path


class HeldLock:
    """Another connection holding SQLite's write lock (BEGIN IMMEDIATE) until ``release``."""

    def __init__(self, path):
        self.path, self.held, self.release, self.done = path, threading.Event(), threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self):
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO probe VALUES (0)")
        self.held.set()
        self.release.wait(30)
        connection.execute("COMMIT")
        connection.close()
        self.done.set()

    def __enter__(self):
        self.thread.start()
        assert self.held.wait(10)
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(10)


def test_every_connection_gets_wal_and_the_busy_timeout(sqlite_app):
    app, _ = sqlite_app
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 200


def test_a_reader_is_not_blocked_by_a_held_write_lock(sqlite_app):
    app, path = sqlite_app
    with HeldLock(path), app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM probe")).scalar() == 0  # WAL: the old snapshot


def test_a_worker_step_that_meets_the_lock_retries_quietly(sqlite_app, caplog):
    app, path = sqlite_app
    attempts = []

    with HeldLock(path) as lock:

        def write_probe():
            attempts.append(len(attempts) + 1)
            if len(attempts) == 2:  # the first attempt met the lock; now the other process commits
                lock.release.set()
                assert lock.done.wait(10)
            db.session.execute(text("INSERT INTO probe VALUES (1)"))
            db.session.commit()

        with app.app_context(), caplog.at_level(logging.INFO, logger="civicreport.delivery.worker"):
            counts = worker.run_worker(once=True, jobs=(write_probe,), deliver=False)
            assert db.session.execute(text("SELECT count(*) FROM probe")).scalar() == 2

    assert counts["errors"] == 0 and attempts == [1, 2]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert any("retrying" in r.getMessage() for r in caplog.records)


def test_a_lock_held_past_every_retry_is_one_warning_line_not_a_traceback(sqlite_app, caplog):
    app, path = sqlite_app

    def write_probe():
        db.session.execute(text("INSERT INTO probe VALUES (1)"))
        db.session.commit()

    with HeldLock(path), app.app_context(), caplog.at_level(logging.INFO, logger="civicreport.delivery.worker"):
        counts = worker.run_worker(once=True, jobs=(write_probe,), deliver=False)

    assert counts["errors"] == 1
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "still locked" in warnings[0].getMessage() and not warnings[0].exc_info
