"""Flask extensions, created unbound and attached in ``create_app``."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()


def on_postgresql():
    """Whether the session's database is PostgreSQL, where planner settings and ANALYZE exist."""
    return db.session.get_bind().dialect.name == "postgresql"


# How long a SQLite connection waits for another process's write lock before "database is locked".
# pysqlite's default of 5 s was too short beside `flask load-demo --history`, whose history
# commits hold the lock for seconds at a time while the worker polls the outbox.
SQLITE_BUSY_MS = 30_000


def tune_sqlite(app):
    """On a SQLite database, every new connection gets WAL (readers no longer block the one
    writer, nor the writer them) and a 30 s busy timeout, so the web server, the worker and a
    CLI command can share the file. Other databases are left alone."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(connection, record):
    cursor = connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")  # kept in the file; an in-memory database answers "memory"
    cursor.close()


def database_busy(exc):
    """Whether ``exc`` is SQLite's lock timeout (or a WAL snapshot gone stale), which a retry cures."""
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


# Moving windows: "20/minute" means any 60 seconds, so a burst across a minute boundary
# cannot double it. Every limit brings its own key (see web.rate_limits); storage comes
# from RATELIMIT_STORAGE_URL in ``rate_limits.init_app``.
limiter = Limiter(key_func=get_remote_address, strategy="moving-window")
