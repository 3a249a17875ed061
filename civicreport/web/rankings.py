"""The 社区月度排名 for leaders and the campaign office: a month or a quarter as JSON or CSV, and
the printable 月通报 (A4 HTML).

Readers are leaders and the office (supervisor, admin), as for the case 红黑榜: the ranking is
the office's to publish; community staff see their own tasks, declarations and cards.
"""

import csv
import io
from urllib.parse import quote

from flask import Blueprint, Response, render_template, request

from civicreport import registry
from civicreport.cobuilding import ranking
from civicreport.cobuilding.schemas.ranking import RankingQuerySchema, RankingSchema, ReportQuerySchema
from civicreport.cobuilding.status import CARDS, FLAGS
from civicreport.db_types import utcnow
from civicreport.reporting.stats import Period
from civicreport.schema_fields import load_valid
from civicreport.web import allow
from civicreport.web.openapi import doc
from civicreport.web.signed_links import opens_by_link

bp = Blueprint("rankings", __name__, url_prefix="/api/v1")
pages = Blueprint("ranking_pages", __name__)

READERS = ("leader", "supervisor", "admin")
PART_LABELS = {"cases": "案件办理", "tasks": "月度任务", "matters": "实事清单", "orders": "点单服务"}


@bp.get("/rankings/communities")
@allow(*READERS)
@doc(
    "社区月度排名（红灰旗）与季度考核",
    description="month=YYYY-MM 为月度排名（默认本月），quarter=YYYY-Qn 为季度考核；已结算的月份不再变化。",
    query=RankingQuerySchema,
    response=RankingSchema,
    media=("application/json", "text/csv"),
    refusals={"invalid_period": "month 与 quarter 只能用一个", "future_month": "月份或季度须已开始"},
)
def communities():
    query = load_valid(RankingQuerySchema(), request.args.to_dict())
    table = ranking.quarter_ranking(*query["quarter"]) if "quarter" in query else ranking.month_ranking(_month(query))
    return _csv(table) if query["format"] == "csv" else _json(table)


@pages.get("/console/cobuild/report")
@opens_by_link
@allow(*READERS)
def monthly_report():
    """The 月通报 of a month, printable on A4 (the console opens it by a signed link, web.signed_links)."""
    table = ranking.month_ranking(_month(load_valid(ReportQuerySchema(), request.args.to_dict())))
    return render_template(
        "console/cobuild_report.html",
        table=table,
        parts=PART_LABELS,
        flags=FLAGS,
        cards=CARDS,
        weights={part: round(weight * 100) for part, weight in table.weights.items()},
        rules=_rules(),
        issued=utcnow().astimezone(registry.current().zone),
    )


def _rules():
    cfg = registry.settings()
    return {
        "min_cases": cfg.STATS_MIN_CASES,
        "flag_size": cfg.COBUILD_FLAG_SIZE,
        "settle_days": cfg.COBUILD_SETTLE_DAYS,
    }


def _month(query):
    if "month" in query:
        return Period.month(query["month"].year, query["month"].month)
    today = utcnow().astimezone(registry.current().zone).date()
    return Period.month(today.year, today.month)


def _json(table):
    period = {"quarter" if "Q" in table.label else "month": table.label}
    return {
        **period,
        "months": [f"{month.start:%Y-%m}" for month in table.months],
        "settled": table.settled,
        "weights": table.weights,
        "rows": table.rows,
        "red_flags": table.red_flags,
        "grey_flags": table.grey_flags,
    }


def _shown(value):
    return "" if value is None else value


COLUMNS = [
    ("排名", lambda row: _shown(row["rank"])),
    ("社区代码", lambda row: row["code"]),
    ("社区", lambda row: row["name"]),
    ("街道", lambda row: _shown(row["street_name"])),
    ("综合得分", lambda row: _shown(row["score"])),
    *((label, lambda row, part=part: _shown(row["parts"][part])) for part, label in PART_LABELS.items()),
    ("红灰旗", lambda row: FLAGS.get(row["flag"], "")),
    ("红黄牌", lambda row: CARDS.get(row["card"], "")),
]


def _csv(table):
    """The ranking as an Excel-friendly CSV attachment: a BOM, Chinese headers, a 结算 column."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header for header, _ in COLUMNS] + ["状态"])
    state = "已结算" if table.settled else "未结算"
    for row in table.rows:
        writer.writerow([cell(row) for _, cell in COLUMNS] + [state])
    chinese = quote(f"社区{'季度考核' if 'Q' in table.label else '月度排名'}_{table.label}.csv")
    disposition = f"attachment; filename=\"community-ranking-{table.label}.csv\"; filename*=UTF-8''{chinese}"
    return Response(
        ("\ufeff" + out.getvalue()).encode("utf-8"), mimetype="text/csv", headers={"Content-Disposition": disposition}
    )
