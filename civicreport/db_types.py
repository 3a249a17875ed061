"""Column types shared by the models."""

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

# The instants a client may name (query filters, cursors, statistics periods): far outside
# any real report and far inside what datetime holds, so a window or a previous period computed
# from one (a year either way at most) and its conversion to UTC never overflow into a 500.
EARLIEST = datetime(1000, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
INTEGER_RANGE = range(-(2**31), 2**31)  # what an Integer column holds on every backend
ID_MAX = INTEGER_RANGE[-1]  # an id column's largest value: PostgreSQL refuses a larger one with an error


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite keeps no time zone)."""

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


def utcnow():
    return datetime.now(UTC)
