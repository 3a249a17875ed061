"""marshmallow schemas: request validation in, views out. One module per resource.

The fields here are the ones every schema parses client input with, so each rule holds
at one place: lists are refused by their length before their items are looked at, and
instants are refused when UTC (every date-time column) cannot hold them.
"""

import re
from datetime import UTC, date

from marshmallow import ValidationError, fields, validate

from civicreport.db_types import EARLIEST, LATEST
from civicreport.errors import ValidationFailed

# What a client may send as ``Idempotency-Key``: visible ASCII, as a UUID or any token it makes.
# Header bytes outside ASCII reach the app as Latin-1 mojibake (“3f1c…” arrived as ``3f1cÃ¢Â€Â¦``),
# so they are refused with this format in the message rather than kept as a key nobody could repeat.
IDEMPOTENCY_KEY = re.compile(r"[!-~]{1,100}")
IDEMPOTENCY_KEY_FORMAT = "1–100 个可见 ASCII 字符（字母、数字或 !-~ 中的符号，不含空格和中文），如一个 UUID"


def idempotency_key(key):
    """``key`` when it is a valid ``Idempotency-Key``, None for none; else 422 ``invalid_idempotency_key``
    naming the expected format."""
    if not key:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise ValidationFailed(
            f"Idempotency-Key 格式无效：须为 {IDEMPOTENCY_KEY_FORMAT}",
            code="invalid_idempotency_key",
            details={"header": "Idempotency-Key", "pattern": IDEMPOTENCY_KEY.pattern},
        )
    return key


# WGS-84/GCJ-02/BD-09 degrees; beyond them the coordinate transforms refused with invalid_coordinates.
LATITUDE = validate.Range(min=-90, max=90, error="纬度须在 -90 至 90 之间")
LONGITUDE = validate.Range(min=-180, max=180, error="经度须在 -180 至 180 之间")

_NUMBER = r" *-?\d{1,3}(\.\d+)? *"
BBOX = rf"^({_NUMBER}(,{_NUMBER}){{3}})?$"  # blank: no bbox
BBOX_RANGE = "−180 ≤ 最小经度 ≤ 最大经度 ≤ 180，−90 ≤ 最小纬度 ≤ 最大纬度 ≤ 90"


class Bbox(fields.String):
    """``west,south,east,north`` (WGS-84) as four floats; blank is no bbox (None), as if absent.

    The pattern is the whole format rule and the document states it; an inverted or
    out-of-range box is its own 422 ``bbox_out_of_range``, which an operation names in
    ``x-refusals``. The public map and the staff queue read bboxes with this one field."""

    def __init__(self, **kwargs):
        description = f"最小经度,最小纬度,最大经度,最大纬度（WGS-84；{BBOX_RANGE}）；空值即不限"
        metadata = {"description": description, "pattern": BBOX, **kwargs.pop("metadata", {})}
        super().__init__(load_default=None, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not re.fullmatch(BBOX, text):
            raise ValidationError("bbox 须为 最小经度,最小纬度,最大经度,最大纬度 四个数")
        if not text:
            return None
        west, south, east, north = (float(v) for v in text.split(","))
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            refusal = f"bbox 范围无效：须 {BBOX_RANGE}"
            raise ValidationFailed(refusal, code="bbox_out_of_range", details={"bbox": text})
        return west, south, east, north


def lat_lon_pair_refused():
    """422 ``lat_lon_pair``: its own code, since a multipart form cannot state the pair rule in
    OpenAPI and the document names it instead."""
    message = "lat 和 lon 必须同时提供"
    return ValidationFailed(message, code="lat_lon_pair", details={"fields": {"lat": [message]}})


def both_or_neither(first, second):
    """JSON Schema (OpenAPI 3.0) for a schema's ``OPENAPI_RULES``: ``first`` and ``second`` are
    both numbers, or both absent or null (the ``lat_and_lon_together`` rule)."""
    unset = {"nullable": True, "enum": [None]}
    return {
        "anyOf": [
            {"required": [first, second], "properties": {first: {"type": "number"}, second: {"type": "number"}}},
            {"properties": {first: unset, second: unset}},
        ]
    }


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
    """``a,b`` or repeated query parameters, as a tuple of non-empty strings, bounded like any list.

    With ``choices``, each value must match the pattern the OpenAPI document states (at most
    ``max_items`` parts of the choices, blank parts and spaces allowed), so the document and
    the server refuse the same strings."""

    def __init__(self, *, max_items, choices=None, **kwargs):
        self.pattern, self.choices = None, tuple(choices or ())
        if choices:
            item = "(" + "|".join(re.escape(c) for c in choices) + ")?"
            self.pattern = re.compile(rf"^ *{item} *(, *{item} *){{0,{max_items - 1}}}$")
            kwargs["metadata"] = {"pattern": self.pattern.pattern, **kwargs.get("metadata", {})}
        super().__init__(fields.String(), max_items=max_items, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        parts = value if isinstance(value, list) else [value]
        if self.pattern and not all(self.pattern.fullmatch(str(part)) for part in parts):
            raise ValidationError(f"逗号分隔，至多 {self.bounds.max} 项，每项为 {'、'.join(self.choices)} 之一")
        items = [p.strip() for part in parts for p in str(part).split(",") if p.strip()]
        return tuple(super()._deserialize(items, attr, data, **kwargs))


def year_pattern(first, last):
    """A regular expression for the four-digit years ``first``–``last``: 2000–2099 is ``20\\d{2}``,
    so the OpenAPI document can state a year range that a date's format cannot."""
    return "(" + "|".join(_digit_ranges(f"{first:04d}", f"{last:04d}")) + ")"


class Month(fields.String):
    """``YYYY-MM`` as the month's first day, in ``years`` (first, last); the pattern is the whole
    rule (years and months 01–12), so that the OpenAPI document states it."""

    def __init__(self, *, years=(2000, 8999), **kwargs):
        self.years = years
        self.rule = re.compile(rf"^{year_pattern(*years)}-(0[1-9]|1[0-2])$")
        metadata = {"pattern": self.rule.pattern, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        match = self.rule.match(super()._deserialize(value, attr, data, **kwargs))
        if not match:
            raise ValidationError(f"月份须为 YYYY-MM（{self.years[0]}–{self.years[1]} 年）")
        return date(int(match[1]), int(match[2]), 1)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.strftime("%Y-%m")


def _digit_ranges(low, high):
    rest = len(low) - 1
    if low == high:
        return [low]
    if low[1:] == "0" * rest and high[1:] == "9" * rest:
        head = low[0] if low[0] == high[0] else f"[{low[0]}-{high[0]}]"
        return [head + (rf"\d{{{rest}}}" if rest else "")]
    if low[0] == high[0]:
        return [low[0] + tail for tail in _digit_ranges(low[1:], high[1:])]
    middle = [f"[{int(low[0]) + 1}-{int(high[0]) - 1}]\\d{{{rest}}}"] if int(high[0]) - int(low[0]) > 1 else []
    below = [low[0] + tail for tail in _digit_ranges(low[1:], "9" * rest)]
    return below + middle + [high[0] + tail for tail in _digit_ranges("0" * rest, high[1:])]


# The days staff enter and ask about (deadlines, meetings, as-of dates): any real record's day,
# and the day after it (the end of a day, the next month) is a date too.
DAY_YEARS = (2000, 2099)
DAYS = validate.Range(
    min=date(DAY_YEARS[0], 1, 1), max=date(DAY_YEARS[1], 12, 31), error="日期须在 2000 年至 2099 年之间"
)


class Day(fields.Date):
    """A calendar day in ``DAY_YEARS``; the document's pattern states the years."""

    def __init__(self, **kwargs):
        metadata = {"pattern": f"^{year_pattern(*DAY_YEARS)}-", **kwargs.pop("metadata", {})}
        super().__init__(validate=DAYS, metadata=metadata, **kwargs)


def utc_instant(moment):
    """An aware datetime as UTC; ValidationError for a year, as written, outside ``EARLIEST``–``LATEST``
    (the database layer failed with a 500 on 0001-01-01T00:00+08:00, before year 1 in UTC; a
    written year of 1000 or more is past year 1 in UTC whatever its offset). The year as written is
    what the document's pattern can state."""
    if not EARLIEST.year <= moment.year < LATEST.year:
        raise ValidationError(f"时间须在 {EARLIEST.year} 年至 {LATEST.year} 年之间")
    return moment.astimezone(UTC)


class Instant(fields.AwareDateTime):
    """An ISO 8601 date-time with an offset (none is a 422), as UTC."""

    def __init__(self, **kwargs):
        metadata = {"pattern": f"^{year_pattern(EARLIEST.year, LATEST.year - 1)}-", **kwargs.pop("metadata", {})}
        super().__init__(default_timezone=None, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return utc_instant(super()._deserialize(value, attr, data, **kwargs))
