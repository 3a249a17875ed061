"""marshmallow schemas: request validation in, views out. One module per resource.

The fields here are the ones every schema parses client input with, so each rule holds
at one place: lists are refused by their length before their items are looked at, and
instants are refused when UTC (every date-time column) cannot hold them.
"""

from datetime import UTC

from marshmallow import ValidationError, fields, validate

from civicreport.db_types import EARLIEST, LATEST
from civicreport.errors import ValidationFailed


def load_valid(schema, data):
    """``data`` loaded by ``schema``; raises ValidationFailed with marshmallow's field messages,
    which the error shape answers as 422 ``validation_failed``."""
    try:
        return schema.load(data)
    except ValidationError as err:
        raise ValidationFailed(details={"fields": err.messages}) from None


class BoundedList(fields.List):
    """A list of at most ``max_items`` (and at least ``min_items``), refused by its length
    before any item is validated: ``validate=Length`` runs only after every item was loaded,
    and a million media_ids took seconds. The bounds are documented as minItems/maxItems."""

    def __init__(self, cls_or_instance, *, max_items, min_items=None, **kwargs):
        self.bounds = validate.Length(min=min_items, max=max_items)
        super().__init__(cls_or_instance, validate=self.bounds, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (list, tuple)):
            self.bounds(value)
        return super()._deserialize(value, attr, data, **kwargs)


class CommaList(BoundedList):
    """``a,b`` or repeated query parameters, as a tuple of non-empty strings, bounded like any list."""

    def __init__(self, *, max_items, **kwargs):
        super().__init__(fields.String(), max_items=max_items, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        parts = value if isinstance(value, list) else [value]
        items = [p.strip() for part in parts for p in str(part).split(",") if p.strip()]
        return tuple(super()._deserialize(items, attr, data, **kwargs))


def utc_instant(moment):
    """An aware datetime as UTC; ValidationError outside ``EARLIEST``–``LATEST`` (the database
    layer failed with a 500 on 0001-01-01T00:00+08:00, before year 1 in UTC)."""
    if not EARLIEST <= moment < LATEST:
        raise ValidationError(f"时间须在 {EARLIEST.year} 年至 {LATEST.year} 年之间")
    return moment.astimezone(UTC)


class Instant(fields.AwareDateTime):
    """An ISO 8601 date-time with an offset (none is a 422), as UTC."""

    def __init__(self, **kwargs):
        super().__init__(default_timezone=None, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return utc_instant(super()._deserialize(value, attr, data, **kwargs))
