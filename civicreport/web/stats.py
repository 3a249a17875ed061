"""Statistics for leaders: rankings, 红黑榜 and 红黄牌 per unit, area and monitor, as JSON or CSV.

A unit's row and its 红榜/黑榜 entry also carry its 吹哨报到 figures (``whistle_*``: 报到
punctuality and 一体评议 scores, defined in ``oversight.whistle_stats``), merged here because the
reporting layer sits below the oversight layer; they are shown beside the ranking, which stays
the cases'.

The period is ``month=YYYY-MM`` (default: the current local month) or ``from=YYYY-MM-DD``
and ``to=YYYY-MM-DD`` (``to`` excluded, at most 366 days). ``format=csv`` gives a UTF-8 file
with a BOM (so Excel reads the Chinese headers) as an attachment. Bad parameters are 422.
"""

import csv
import io
import re
from datetime import date, timedelta
from urllib.parse import quote

from flask import Blueprint, Response, request

from civicreport import registry
from civicreport.db_types import EARLIEST, LATEST, utcnow
from civicreport.errors import ValidationFailed
from civicreport.oversight import whistle_stats
from civicreport.reporting import stats
from civicreport.reporting.schemas.stats import (
    AreaStatsQuerySchema,
    StatsQuerySchema,
    StatsTableSchema,
)
from civicreport.web import allow
from civicreport.web.openapi import doc

bp = Blueprint("stats", __name__, url_prefix="/api/v1")

READERS = ("leader", "admin", "supervisor")
FORMATS = ("json", "csv")
MEDIA_TYPES = ("application/json", "text/csv")
MAX_DAYS = 366
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# The pair rules of month/from/to, which a query string's schema cannot state.
PERIOD_REFUSALS = {
    "invalid_period": "from 与 to 须同时提供且 to 晚于 from；month 不能与 from/to 同用",
    "period_too_long": f"from 至 to 最长 {MAX_DAYS} 天",
    "invalid_date": "日期须为 YYYY-MM-DD，年份 1000–8999",
}
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@bp.get("/stats/units")
@allow(*READERS)
@doc("单位考评与红黑榜", query=StatsQuerySchema, response=StatsTableSchema, media=MEDIA_TYPES, refusals=PERIOD_REFUSALS)
def units():
    period, fmt = _query(StatsQuerySchema)
    return _respond(_with_whistles(stats.unit_stats(period)), fmt)


def _with_whistles(table):
    """``table`` with each unit's whistle figures in its row and its 红榜/黑榜 entry."""
    figures = whistle_stats.unit_figures(table.period)
    merged = {}
    for row in table.rows:
        merged[row["code"]] = {f"whistle_{k}": v for k, v in figures.get(row["code"], whistle_stats.empty()).items()}
        row.update(merged[row["code"]])
    for entry in table.red_list + table.black_list:
        entry.update(merged[entry["code"]])
    return table


@bp.get("/stats/areas")
@allow(*READERS)
@doc(
    "街道/社区/网格考评与红黑榜",
    query=AreaStatsQuerySchema,
    response=StatsTableSchema,
    media=MEDIA_TYPES,
    refusals=PERIOD_REFUSALS,
)
def areas():
    period, fmt = _query(AreaStatsQuerySchema)
    level = request.args.get("level", "community")
    if level not in stats.LEVELS:
        raise ValidationFailed(
            "区域层级须为 district、street、community 或 grid",
            code="invalid_level",
            details={"level": level, "levels": list(stats.LEVELS)},
        )
    return _respond(stats.area_stats(period, level), fmt)


@bp.get("/stats/monitors")
@allow(*READERS)
@doc("监督员考评", query=StatsQuerySchema, response=StatsTableSchema, media=MEDIA_TYPES, refusals=PERIOD_REFUSALS)
def monitors():
    period, fmt = _query(StatsQuerySchema)
    return _respond(stats.monitor_stats(period), fmt)


def _query(schema):
    """(period, format) from the query string; ValidationFailed (422) when either is malformed, or
    for a parameter that ``schema`` (the document's) does not name, as schema-loaded queries answer."""
    unknown = sorted(set(request.args) - {field.data_key or name for name, field in schema().fields.items()})
    if unknown:
        raise ValidationFailed(details={"fields": dict.fromkeys(unknown, ["Unknown field."])})
    fmt = request.args.get("format", "json")
    if fmt not in FORMATS:
        raise ValidationFailed("导出格式须为 json 或 csv", code="invalid_format", details={"format": fmt})
    return _period(request.args.get("month"), request.args.get("from"), request.args.get("to")), fmt


def _period(month, start, end):
    """The period the parameters name; 422 ``invalid_month``/``invalid_date``/``invalid_period``/``period_too_long``."""
    if month is not None and (start is not None or end is not None):
        raise ValidationFailed("month 与 from/to 不能同时使用", code="invalid_period")
    if start is None and end is None:
        return _month(month) if month is not None else _current_month()
    if start is None or end is None:
        raise ValidationFailed("from 与 to 须同时提供", code="invalid_period", details={"from": start, "to": end})
    first, after = _day(start, "from"), _day(end, "to")
    if after <= first:
        raise ValidationFailed("结束日期须晚于开始日期", code="invalid_period", details={"from": start, "to": end})
    if after - first > timedelta(days=MAX_DAYS):
        raise ValidationFailed(f"统计区间最长 {MAX_DAYS} 天", code="period_too_long", details={"max_days": MAX_DAYS})
    return stats.Period(first, after)


def _month(text):
    """The month ``YYYY-MM`` names, in years ``EARLIEST``–``LATEST`` (year 9999 failed as a 500)."""
    match = _MONTH.match(text)
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) not in range(EARLIEST.year, LATEST.year):
        raise ValidationFailed(
            f"月份须为 YYYY-MM（{EARLIEST.year}–{LATEST.year - 1} 年）",
            code="invalid_month",
            details={"month": text, "years": [EARLIEST.year, LATEST.year - 1]},
        )
    return stats.Period.month(int(match[1]), int(match[2]))


def _day(text, name):
    """The date ``YYYY-MM-DD`` names, from ``EARLIEST`` to before ``LATEST``."""
    try:
        if not _DAY.match(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
        if not EARLIEST.date() <= day < LATEST.date():
            raise ValueError(text)
        return day
    except ValueError:
        raise ValidationFailed(
            f"日期须为 YYYY-MM-DD（{EARLIEST.year}–{LATEST.year - 1} 年）",
            code="invalid_date",
            details={name: text, "years": [EARLIEST.year, LATEST.year - 1]},
        ) from None


def _current_month():
    today = utcnow().astimezone(registry.current().zone).date()
    return stats.Period.month(today.year, today.month)


def _respond(table, fmt):
    if fmt == "csv":
        return _csv(table)
    previous = table.period.previous()
    return {
        "period": {"from": table.period.start.isoformat(), "to": table.period.end.isoformat()},
        "previous_period": {"from": previous.start.isoformat(), "to": previous.end.isoformat()},
        "rows": table.rows,
        "red_list": table.red_list,
        "black_list": table.black_list,
        "state": table.state,
    }


def _percent(value):
    return "" if value is None else f"{value * 100:.1f}%"


def _hours(value):
    return "" if value is None else f"{value:.2f}"


def _card(value):
    return {"red": "红牌", "yellow": "黄牌"}.get(value, "")


def _plain(value):
    return "" if value is None else value


_CASE_TAIL = [
    ("处置数", "resolved", _plain),
    ("结案数", "closed", _plain),
    ("结案率", "closure_rate", _percent),
    ("应结案数", "due", _plain),
    ("按期结案数", "on_time", _plain),
    ("按期结案率", "on_time_rate", _percent),
    ("挂账数", "suspended", _plain),
    ("返工数", "reworked", _plain),
    ("返工率", "rework_rate", _percent),
    ("平均处置时长（工作小时）", "avg_handling_hours", _hours),
    ("评价数", "rated", _plain),
    ("满意数", "satisfied", _plain),
    ("满意率", "satisfaction_rate", _percent),
    ("当前超期数", "overdue_now", _plain),
    ("上期按期结案率", "previous_on_time_rate", _percent),
    ("红黄牌", "card", _card),
]
COLUMNS = {
    "units": [
        ("排名", "rank", _plain),
        ("单位编码", "code", _plain),
        ("单位名称", "name", _plain),
        ("派遣数", "received", _plain),
        ("接单数", "claimed", _plain),
    ]
    + _CASE_TAIL[:-2]
    + [
        ("吹哨召集数", "whistle_summoned", _plain),
        ("按时报到数", "whistle_checked_in_on_time", _plain),
        ("报到超时数", "whistle_late", _plain),
        ("报到及时率", "whistle_checkin_rate", _percent),
        ("评议数", "whistle_rated", _plain),
        ("评议平均分", "whistle_mean_rating", _plain),
    ]
    + _CASE_TAIL[-2:],
    "areas": [
        ("排名", "rank", _plain),
        ("区域编码", "code", _plain),
        ("区域名称", "name", _plain),
        ("上报数", "received", _plain),
        ("受理数", "accepted", _plain),
        ("派遣数", "dispatched", _plain),
    ]
    + _CASE_TAIL,
    "monitors": [
        ("排名", "rank", _plain),
        ("账号", "code", _plain),
        ("姓名", "name", _plain),
        ("上报数", "filed", _plain),
        ("有效数", "valid", _plain),
        ("不予受理数", "rejected", _plain),
        ("合并重复数", "duplicate", _plain),
        ("有效上报率", "valid_rate", _percent),
    ],
}
TITLES = {
    "units": "单位考评",
    "areas:street": "街道考评",
    "areas:community": "社区考评",
    "areas:grid": "网格考评",
    "monitors": "监督员考评",
}


def _csv(table):
    """The table as an Excel-friendly CSV attachment: BOM, Chinese headers, a 榜单 column."""
    columns = COLUMNS[table.kind.split(":")[0]]
    lists = {row["code"]: "红榜" for row in table.red_list} | {row["code"]: "黑榜" for row in table.black_list}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header for header, _, _ in columns] + ["榜单"])
    for row in table.rows:
        writer.writerow([show(row[key]) for _, key, show in columns] + [lists.get(row["code"], "")])
    period = table.period
    label = f"{period.start:%Y-%m}" if period.is_month() else f"{period.start}_{period.end}"
    ascii_name = f"stats-{table.kind.replace(':', '-')}-{label}.csv"
    chinese_name = quote(f"{TITLES[table.kind]}_{label}.csv")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{chinese_name}"
    return Response(
        ("\ufeff" + out.getvalue()).encode("utf-8"), mimetype="text/csv", headers={"Content-Disposition": disposition}
    )
