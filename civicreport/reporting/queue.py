"""The supervisor / unit queue: filters, visibility by role, keyset pages stable under inserts.

A cursor names the sort it belongs to and the sort key of the last row shown, so new
reports arriving between two page requests never shift or repeat rows.
"""

import base64
import json
import threading
import time
from dataclasses import astuple, dataclass, replace
from datetime import datetime

from sqlalchemy import and_, case, func, literal, select, true, tuple_
from sqlalchemy.orm import selectinload

from civicreport import registry
from civicreport.accounts.access import case_scope
from civicreport.accounts.models import Unit
from civicreport.cases.models import Report
from civicreport.cases.public_point import cell_centre, coarse_clause, in_bbox_clause
from civicreport.cases.status import CLOCK_RUNNING
from civicreport.db_types import EARLIEST, INTEGER_RANGE, LATEST, UTCDateTime, utcnow
from civicreport.errors import ValidationFailed
from civicreport.extensions import db
from civicreport.reference.categories import Category

SORTS = ("created", "deadline", "priority")


@dataclass
class Filters:
    statuses: tuple = ()
    category: str | None = None
    group: str | None = None
    grid: str | None = None
    community: str | None = None
    street: str | None = None
    unit: str | None = None
    overdue: bool | None = None
    warning: bool | None = None
    evidence_flag: bool | None = None  # photo GPS/time did not fit the report (see cases.evidence)
    bbox: tuple | None = None  # (min lon, min lat, max lon, max lat)
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None
    sort: str = "created"
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class Page:
    reports: list
    next_cursor: str | None
    now: datetime  # the instant overdue/warning were judged at


def search(filters, user, now=None):
    """One page of reports ``user`` may see, after ``filters.cursor``.

    Raises Forbidden for roles without a queue and ValidationFailed for a bad cursor.
    """
    now = now or utcnow()
    reports, cursor = _page(select(Report).where(*case_scope(user), *_conditions(filters, now, user)), filters)
    return Page(reports, cursor, now)


@dataclass(frozen=True)
class Totals:
    """The whole filter, not one page: how many cases, how many overdue, and where they lie."""

    count: int
    overdue: int
    bbox: tuple | None  # (min lon, min lat, max lon, max lat); None when nothing matched


_TOTALS_KEPT = 256  # filters remembered at once; the oldest is dropped first
_totals_cache: dict = {}
_totals_lock = threading.Lock()


def totals(filters, user, now=None):
    """``Totals`` of every report ``user`` may see under ``filters`` (cursor, sort, limit ignored).

    One aggregate query, reused for QUEUE_TOTALS_SECONDS per user and filter: the console asks
    again on every filter change and "加载更多", and the count need not be to the second.
    """
    seconds = registry.settings().QUEUE_TOTALS_SECONDS
    key = (user.id if user else None, astuple(replace(filters, sort="created", limit=0, cursor=None)))
    with _totals_lock:
        kept = _totals_cache.get(key)
    if seconds and kept and time.monotonic() - kept[0] < seconds:
        return kept[1]
    found = _count(filters, user, now or utcnow())
    if seconds:
        with _totals_lock:
            if len(_totals_cache) >= _TOTALS_KEPT:
                _totals_cache.pop(next(iter(_totals_cache)))
            _totals_cache[key] = (time.monotonic(), found)
    return found


def _count(filters, user, now):
    """The totals in one aggregate; the extent of the cases ``user`` sees only by their cells
    (cases.public_point.coarse_clause) is taken over their cells' centres, so it pins none of them."""
    overdue = and_(Report.status.in_(CLOCK_RUNNING), Report.deadline_at < now)
    where = [*case_scope(user), *_conditions(filters, now, user)]
    coarse = coarse_clause(user)
    precise = true() if coarse is None else ~coarse
    row = db.session.execute(
        select(
            func.count(Report.id),
            func.coalesce(func.sum(case((overdue, 1), else_=0)), 0),
            *(agg(case((precise, column))) for agg in (func.min, func.max) for column in (Report.lon, Report.lat)),
        ).where(*where)
    ).one()
    count, late, *extent = row
    points = [] if coarse is None else db.session.execute(select(Report.lat, Report.lon).where(*where, coarse)).all()
    return Totals(count, int(late), _extent(extent, [cell_centre(lat, lon) for lat, lon in points]))


def _extent(found, centres):
    """(min lon, min lat, max lon, max lat) of the aggregate ``found`` and of ``centres`` [(lat, lon)]."""
    west, south, east, north = found
    lons = [v for v in (west, east, *(lon for _, lon in centres)) if v is not None]
    lats = [v for v in (south, north, *(lat for lat, _ in centres)) if v is not None]
    return (min(lons), min(lats), max(lons), max(lats)) if lons else None


def _conditions(f, now, user):
    conditions = []
    if f.statuses:
        conditions.append(Report.status.in_(f.statuses))
    if f.category:
        conditions.append(Report.category_code == f.category)
    if f.group:
        conditions.append(Report.category_code.in_(select(Category.code).where(Category.group == f.group)))
    for column, value in (
        (Report.grid_code, f.grid),
        (Report.community_code, f.community),
        (Report.street_code, f.street),
    ):
        if value:
            conditions.append(column == value)
    if f.unit:
        conditions.append(Report.unit_id.in_(select(Unit.id).where(Unit.code == f.unit)))
    if f.overdue is not None:
        conditions.append(_flag(Report.deadline_at < now, f.overdue))
    if f.warning is not None:
        conditions.append(_flag(Report.warning_at <= now, f.warning))
    if f.evidence_flag is not None:
        conditions.append(Report.evidence_flagged.is_(f.evidence_flag))
    if f.bbox:
        conditions.append(in_bbox_clause(f.bbox, user))  # a monitor's behaviour cases by their cells
    if f.since:
        conditions.append(Report.created_at >= f.since)
    if f.until:
        conditions.append(Report.created_at < f.until)
    if f.text:
        conditions.append(Report.description.ilike(f"%{_escape_like(f.text)}%", escape="\\"))
    return conditions


def _flag(condition, wanted):
    running = and_(Report.status.in_(CLOCK_RUNNING), condition)
    return running if wanted else ~running


def _escape_like(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _page(query, f):
    """Fetch ``limit`` rows after the cursor in the chosen order, and the next cursor."""
    resume = _decode_cursor(f.cursor, f.sort)
    rows = []
    for phase, segment in enumerate(_segments(f.sort)):
        if resume and resume[0] > phase:
            continue
        part = query if segment.where is None else query.where(segment.where)
        if resume and resume[0] == phase:
            part = part.where(segment.after(resume[1]))
        rows += [
            (phase, r)
            for r in db.session.scalars(part.order_by(*segment.order).limit(f.limit - len(rows) + 1).options(*_LOADS))
        ]
        if len(rows) > f.limit:
            break
        resume = None
    if len(rows) <= f.limit:
        return [r for _, r in rows], None
    rows = rows[: f.limit]
    return [r for _, r in rows], _encode_cursor(f.sort, *rows[-1])


_LOADS = (
    selectinload(Report.media),
    selectinload(Report.category),
    selectinload(Report.unit),
    selectinload(Report.community),
    selectinload(Report.street),
)


@dataclass(frozen=True)
class _Segment:
    """A run of rows in one order; ``keys`` are the columns the cursor remembers."""

    where: object
    keys: tuple
    descending: bool

    @property
    def order(self):
        return tuple(k.desc() if self.descending else k.asc() for k in self.keys)

    def after(self, values):
        bound = tuple_(*(literal(v, k.type) for k, v in zip(self.keys, values, strict=True)))
        return tuple_(*self.keys) < bound if self.descending else tuple_(*self.keys) > bound

    def key_of(self, report):
        return [getattr(report, k.key) for k in self.keys]


def _segments(sort):
    """The phases of a sort; deadline order lists cases without a deadline last, by id."""
    if sort == "created":
        return [_Segment(None, (Report.created_at, Report.id), True)]
    if sort == "priority":
        return [_Segment(None, (Report.priority, Report.created_at, Report.id), True)]
    return [
        _Segment(Report.deadline_at.is_not(None), (Report.deadline_at, Report.id), False),
        _Segment(Report.deadline_at.is_(None), (Report.id,), False),
    ]


def _encode_cursor(sort, phase, report):
    key = _segments(sort)[phase].key_of(report)
    plain = [sort, phase] + [v.isoformat() if isinstance(v, datetime) else v for v in key]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _decode_cursor(cursor, sort):
    """(phase, key values) from an opaque cursor; 422 ``invalid_cursor`` when it does not fit.

    The client holds the cursor, so each value is checked against its column here: a naive or
    far-off time, or an integer the column cannot hold, failed at the database as a 500.
    """
    if not cursor:
        return None
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        name, phase, *values = plain
        segments = _segments(sort)
        if name != sort or type(phase) is not int or phase not in range(len(segments)):
            raise ValueError("cursor belongs to another sort")
        keys = segments[phase].keys
        if len(values) != len(keys):
            raise ValueError("cursor does not fit its sort")
        return phase, [_revive(value, key) for value, key in zip(values, keys, strict=True)]
    except (ValueError, TypeError):
        raise ValidationFailed("分页游标无效", code="invalid_cursor") from None


def _revive(value, column):
    """A cursor value as ``column`` holds it; ValueError/TypeError when it cannot be one."""
    if isinstance(column.type, UTCDateTime):
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None or not EARLIEST <= moment < LATEST:
            raise ValueError("cursor time must be aware and in range")
        return moment
    if type(value) is not int or value not in INTEGER_RANGE:
        raise ValueError("cursor integer out of range")
    return value


def page_limit(requested):
    return max(1, min(requested, registry.settings().QUEUE_PAGE_MAX))
