"""Column types the migrations use, frozen as they were when those migrations were written.

A migration is history: it must build the same schema whatever the app's code later becomes, so
the versions import these copies instead of ``civicreport.db_types`` (tests/test_migrations.py
fails if one imports ``civicreport``). alembic.ini puts this folder on ``sys.path``
(``prepend_sys_path``), which is how ``import frozen_types`` resolves from every entry point.
A changed column type gets a new class here and a new migration; these never change.
"""

from datetime import UTC

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend, stored naive (SQLite keeps no time zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)
