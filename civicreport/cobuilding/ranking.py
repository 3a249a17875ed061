"""社区月度排名 (红黑榜, 红灰旗) and the quarter's 季度考核: one score per community and month from
four weighted parts, each shown.

These definitions are what the communities are judged by; change them only on purpose.

Month and cut-off
    A month is a calendar month in local dates (``TIMEZONE``, ``reporting.stats.Period``). Every
    community of the district (the ``community`` table) has a row. The month settles
    ``COBUILD_SETTLE_DAYS`` days after the later of its end and its tasks' latest due time (the
    cut-off of its 红黄牌, ``cobuilding.cards``): late declarations are reviewed in those days.
    Its ranking is then stored once in ``cobuild_ranking_month`` / ``cobuild_ranking`` with the
    weights used, and read from then on, never computed again. Declarations count as they stood
    at that settling instant, so the stored month does not depend on when the worker ran; a
    month not settled yet is computed on demand, as it stands now (``settled`` false). Months
    that have not begun are refused.

Parts (each 0–100 to two places, None when there is nothing to measure)
    cases    案件办理: the community's cases of the month as ``reporting.stats.area_stats`` counts
             them (reports filed in the month and the community), from three rates:
             100 × (0.5 × 按期结案率 + 0.2 × (1 − 返工率) + 0.3 × 满意率), the weights of the
             rates that are None (no case due, resolved or rated) shared out over the others
             (divided by the sum of the weights present). None with fewer than
             ``STATS_MIN_CASES`` accepted cases (too few to judge, as for the case 红黑榜) or
             no rate defined.
    tasks    月度任务: 100 × (sum of the scores of the community's accepted declarations) /
             (sum of the points of the month's tasks that cover the community: all communities,
             or those it lists), at most 100. A task not declared, a declaration waiting for
             review or returned, scores 0. None when no task of the month covers the community.
    matters  实事清单按期办结率: 100 × (items done by their deadline) / (items of the community
             due in the month, dropped items left out). None when no item falls due.
    orders   点单满意率: 100 × (needs orders rated 4 or 5) / (orders of the community rated in the
             month). None when none was rated.

Score
    score = Σ weight × part / Σ weight, over the parts that are not None: the weights of the
    missing parts are shared out over the present ones in proportion. Weights: the settings
    ``COBUILD_WEIGHT_CASES/TASKS/MATTERS/ORDERS`` (at least 0, summing to 1). Rounded to two
    places. None when every part is None (or every present part weighs 0).

Ranking, 红旗 and 灰旗
    Communities with a score are ranked, higher first; equal scores share a rank (1, 2, 2, 4) and
    are listed by code; those without a score follow, rank None. ``n = min(COBUILD_FLAG_SIZE,
    ranked // 2)``: a 红旗 (``flag`` red) for a rank of at most n, a 灰旗 (grey) for a rank counted
    from the bottom (ties shared the same way) of at most n. Ties at the edge share the flag, so
    there may be more than n; a community that would get both (all tied) gets neither.

Card
    The community's 红黄牌 of the month (``cobuilding.cards``, judged on demand once the month is
    past its cut-off): red if any card is red, else yellow if any is yellow, else None (also
    before the month is judged). Shown beside the rank; it does not change the score (the task
    part already counts what the card punishes).

Quarter (季度考核)
    The three months of the quarter that have begun, each as above (settling the settled ones).
    A community's quarter score is the mean of its monthly scores that are not None; each part
    the mean of its monthly parts that are not None; card the worst of its months' (red beats
    yellow); ``months`` says how many months scored. Ranks and flags are recomputed on the quarter
    scores by the rules above. The quarter is settled when its three months are.

How it is computed
    Each part for every community at once: ``area_stats``'s queries, three grouped queries for
    the tasks, one read of the month's 实事清单 items (``matters.on_time_counts``), one walk of
    the month's orders (``order_stats.community_figures``), one of the cards; no query per
    community. A settled month is one read of its stored rows.
"""

from dataclasses import dataclass
from datetime import timedelta
from statistics import fmean

from sqlalchemy import and_, case, delete, func, select
from sqlalchemy.exc import IntegrityError

from civicreport import registry
from civicreport.cobuilding import cards, matters, order_stats
from civicreport.cobuilding.models import (
    Declaration,
    RankingMonth,
    RankingRow,
    Task,
    TaskCommunity,
)
from civicreport.db_types import utcnow
from civicreport.errors import ValidationFailed
from civicreport.extensions import db
from civicreport.reference.areas import Community, Street
from civicreport.reporting.stats import Period, area_stats

PARTS = ("cases", "tasks", "matters", "orders")
WEIGHT_SETTINGS = {
    "cases": "COBUILD_WEIGHT_CASES",
    "tasks": "COBUILD_WEIGHT_TASKS",
    "matters": "COBUILD_WEIGHT_MATTERS",
    "orders": "COBUILD_WEIGHT_ORDERS",
}
# The case part's rates and their weights; rework counts as (1 − rework rate).
CASE_RATES = {"on_time_rate": 0.5, "rework_rate": 0.2, "satisfaction_rate": 0.3}
_CARD_ORDER = (None, "yellow", "red")


@dataclass
class Ranking:
    """A month's or a quarter's ranking: rows ranked first, the flagged communities, and whether
    it is settled (stored; never changes again)."""

    label: str  # "2026-11" or "2026-Q4"
    months: list
    settled: bool
    weights: dict
    rows: list

    @property
    def red_flags(self):
        return [_entry(row) for row in self.rows if row["flag"] == "red"]

    @property
    def grey_flags(self):
        return [_entry(row) for row in reversed(self.rows) if row["flag"] == "grey"]


def month_ranking(period, now=None):
    """The ranking of the calendar month ``period``: stored if settled (storing it first if it is
    due), else computed now. ValidationFailed (422 ``future_month``) for a month not begun."""
    now = now or utcnow()
    _refuse_future(period, now)
    settle(period, now)
    label = f"{period.start:%Y-%m}"
    marker = db.session.get(RankingMonth, period.start)
    if marker is not None:
        return Ranking(label, [period], True, marker.weights, _named(_stored_rows(period)))
    return Ranking(label, [period], False, weights(), _named(_live_rows(period, now)))


def quarter_ranking(year, quarter, now=None):
    """The 季度考核 of quarter 1–4 of ``year``: its begun months combined as the module says."""
    now = now or utcnow()
    first = Period.month(year, 3 * quarter - 2)
    _refuse_future(first, now)
    months = [first, Period.month(year, 3 * quarter - 1), Period.month(year, 3 * quarter)]
    begun = [month for month in months if not _future(month, now)]
    tables = [month_ranking(month, now) for month in begun]
    rows = _combined([table.rows for table in tables])
    rank_rows(rows, registry.settings().COBUILD_FLAG_SIZE)
    settled = len(tables) == 3 and all(table.settled for table in tables)
    return Ranking(f"{year}-Q{quarter}", begun, settled, tables[-1].weights, _named(_ordered(rows)))


def weights():
    """The parts' weights from the settings, as stored with a settled month."""
    cfg = registry.settings()
    return {part: getattr(cfg, name) for part, name in WEIGHT_SETTINGS.items()}


def settle(period, now=None):
    """Store the month's ranking once it has settled, unless stored already; commits. True when
    stored by this call. Two processes settling one month race on the month's key: the loser
    rolls back and reads the winner's rows."""
    now = now or utcnow()
    if now < settles_at(period) or db.session.get(RankingMonth, period.start) is not None:
        return False
    rows = _live_rows(period, now)  # first: the case figures it reads may commit their own month
    try:
        db.session.add(RankingMonth(month=period.start, weights=weights(), settled_at=now))
        db.session.flush()
        db.session.add_all(_stored(period.start, row) for row in rows)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def settle_closed_months(now=None):
    """The worker's job: store the last two months' rankings once settled. Returns their starts."""
    now = now or utcnow()
    today = now.astimezone(registry.current().zone).date()
    last = Period.month(today.year, today.month).previous()
    return [month.start for month in (last.previous(), last) if settle(month, now)]


def forget_settled():
    """Drop every stored month (a loader that backfills the past); they are stored again when due."""
    db.session.execute(delete(RankingRow))
    db.session.execute(delete(RankingMonth))


def settles_at(period):
    """The instant the month's ranking is stored: ``COBUILD_SETTLE_DAYS`` after the later of the
    month's end and its tasks' latest due time."""
    end = period.instants(registry.current().zone)[1]
    due = db.session.scalar(select(func.max(Task.due_at)).where(Task.month == period.start))
    return max(end, due or end) + timedelta(days=registry.settings().COBUILD_SETTLE_DAYS)


def rank_rows(rows, flag_size):
    """Set ``rank`` and ``flag`` on ``rows`` (dicts with ``code`` and ``score``) as the module says."""
    ranked = sorted((row for row in rows if row["score"] is not None), key=lambda row: row["code"])
    ranked.sort(key=lambda row: row["score"], reverse=True)
    for row in rows:
        row["rank"], row["flag"] = None, None
    top = _shared_ranks([row["score"] for row in ranked])
    bottom = _shared_ranks([row["score"] for row in reversed(ranked)])[::-1]
    size = min(flag_size, len(ranked) // 2)
    for row, rank, rank_from_bottom in zip(ranked, top, bottom, strict=True):
        red, grey = rank <= size, rank_from_bottom <= size
        row["rank"] = rank
        row["flag"] = "red" if red and not grey else "grey" if grey and not red else None


def _shared_ranks(scores):
    """Ranks of ``scores`` in their order, equal neighbours sharing one: [9, 8, 8, 7] → [1, 2, 2, 4]."""
    ranks = []
    for position, score in enumerate(scores):
        ranks.append(ranks[-1] if position and scores[position - 1] == score else position + 1)
    return ranks


def _refuse_future(period, now):
    if _future(period, now):
        raise ValidationFailed(
            "该月份尚未开始，没有排名", code="future_month", details={"month": f"{period.start:%Y-%m}"}
        )


def _future(period, now):
    return period.instants(registry.current().zone)[0] > now


def _live_rows(period, now):
    """Every community's parts, score and card for ``period`` as things stand at the cut-off, ranked."""
    cut_off = min(now, settles_at(period))
    measured = {
        "cases": _case_parts(period, now),
        "tasks": _task_parts(period.start, cut_off),
        "matters": _matter_parts(period),
        "orders": _order_parts(period, now),
    }
    colors = _cards(period.start, now)
    share = weights()
    rows = []
    for code in db.session.scalars(select(Community.code)):
        found = {part: measured[part].get(code, (None, {})) for part in PARTS}
        parts = {part: part_figures[0] for part, part_figures in found.items()}
        figures = {part: part_figures[1] for part, part_figures in found.items()}
        rows.append({"code": code, "score": score(parts, share), "parts": parts, "figures": figures})
        rows[-1]["card"] = colors.get(code)
    rank_rows(rows, registry.settings().COBUILD_FLAG_SIZE)
    return _ordered(rows)


def score(parts, share):
    """The weighted mean of the parts present, to two places; None when none is (or all weigh 0)."""
    present = {part: value for part, value in parts.items() if value is not None}
    total = sum(share[part] for part in present)
    if not total:
        return None
    return round(sum(share[part] * value for part, value in present.items()) / total, 2)


def case_part(row):
    """(part, figures) from a community's ``area_stats`` row, by ``CASE_RATES``."""
    rates = {name: row[name] for name in CASE_RATES}
    figures = {"accepted": row["accepted"], **rates}
    present = {name: rate for name, rate in rates.items() if rate is not None}
    if row["accepted"] < registry.settings().STATS_MIN_CASES or not present:
        return None, figures
    good = {name: 1 - rate if name == "rework_rate" else rate for name, rate in present.items()}
    total = sum(CASE_RATES[name] for name in good)
    return round(100 * sum(CASE_RATES[name] * rate for name, rate in good.items()) / total, 2), figures


def _case_parts(period, now):
    return {row["code"]: case_part(row) for row in area_stats(period, "community", now=now).rows}


def _task_parts(month, cut_off):
    """(part, figures) per community covered by a task of ``month``: points owed, scores earned."""
    owed = {}
    general = db.session.execute(
        select(func.count(), func.sum(Task.points)).where(Task.month == month, Task.all_communities.is_(True))
    ).one()
    listed = db.session.execute(
        select(TaskCommunity.community_code, func.count(), func.sum(Task.points))
        .join(Task, Task.id == TaskCommunity.task_id)
        .where(Task.month == month, Task.all_communities.is_(False))
        .group_by(TaskCommunity.community_code)
    )
    for code, tasks, points in listed:
        owed[code] = (tasks, points)
    accepted = and_(Declaration.status == "accepted", Declaration.reviewed_at < cut_off)
    earned = db.session.execute(
        select(
            Declaration.community_code,
            func.count(),
            func.sum(case((accepted, 1), else_=0)),
            func.sum(case((accepted, Declaration.score), else_=0)),
        )
        .join(Task, Task.id == Declaration.task_id)
        .where(Task.month == month, Declaration.first_submitted_at < cut_off)
        .group_by(Declaration.community_code)
    )
    done = {code: (declared, taken or 0, scored or 0) for code, declared, taken, scored in earned}
    codes = set(owed) | (set(db.session.scalars(select(Community.code))) if general[0] else set())
    return {code: _task_part(general, owed.get(code, (0, 0)), done.get(code, (0, 0, 0))) for code in codes}


def _task_part(general, listed, done):
    tasks, points = general[0] + listed[0], (general[1] or 0) + (listed[1] or 0)
    declared, accepted, scored = done
    figures = {"tasks": tasks, "points": points, "declared": declared, "accepted": accepted, "scored": scored}
    return (round(min(100, 100 * scored / points), 2) if points else None), figures


def _matter_parts(period):
    """(part, figures) per community with 实事清单 items due in the month (``matters.on_time_counts``)."""
    return {
        code: (round(100 * on_time / due, 2), {"due": due, "on_time": on_time})
        for code, (on_time, due) in matters.on_time_counts(period.start).items()
    }


def _order_parts(period, now):
    """(part, figures) per community with needs orders rated in the month (``order_stats``)."""
    return {
        code: (
            round(100 * figures["satisfaction_rate"], 2),
            {"rated": figures["rated"], "satisfied": figures["satisfied"]},
        )
        for code, figures in order_stats.community_figures(period, now).items()
        if figures["rated"]
    }


def _cards(month, now):
    """The worst card per community of ``month`` (red beats yellow), judging the month first if due."""
    cards.judge(month, now)
    worst = {}
    for card in cards.of_month(month):
        worst[card.community_code] = max(worst.get(card.community_code), card.color, key=_CARD_ORDER.index)
    return worst


def _stored(month, row):
    return RankingRow(
        month=month,
        community_code=row["code"],
        score=row["score"],
        rank=row["rank"],
        case_part=row["parts"]["cases"],
        task_part=row["parts"]["tasks"],
        matter_part=row["parts"]["matters"],
        order_part=row["parts"]["orders"],
        figures=row["figures"],
        flag=row["flag"],
        card=row["card"],
    )


def _stored_rows(period):
    stored = db.session.scalars(select(RankingRow).where(RankingRow.month == period.start))
    return _ordered(
        [
            {
                "code": row.community_code,
                "score": row.score,
                "parts": dict(zip(PARTS, (row.case_part, row.task_part, row.matter_part, row.order_part), strict=True)),
                "figures": row.figures,
                "rank": row.rank,
                "flag": row.flag,
                "card": row.card,
            }
            for row in stored
        ]
    )


def _combined(months):
    """Quarter rows from the months' rows: means of what each month measured, the worst card."""
    by_code = {}
    for rows in months:
        for row in rows:
            by_code.setdefault(row["code"], []).append(row)
    return [_quarter_row(code, rows) for code, rows in by_code.items()]


def _quarter_row(code, rows):
    def mean(values):
        present = [value for value in values if value is not None]
        return round(fmean(present), 2) if present else None

    return {
        "code": code,
        "score": mean(row["score"] for row in rows),
        "parts": {part: mean(row["parts"][part] for row in rows) for part in PARTS},
        "months": sum(row["score"] is not None for row in rows),
        "card": max((row["card"] for row in rows), key=_CARD_ORDER.index),
    }


def _ordered(rows):
    """Ranked rows by rank then code, then the unranked by code."""
    return sorted(rows, key=lambda row: (row["rank"] is None, row["rank"] or 0, row["code"]))


def _named(rows):
    """``rows`` with each community's name and its street's code and name."""
    names = {
        code: (name, street_code, street)
        for code, name, street_code, street in db.session.execute(
            select(Community.code, Community.name, Street.code, Street.name).join(Street)
        )
    }
    for row in rows:
        row["name"], row["street_code"], row["street_name"] = names.get(row["code"], (row["code"], None, None))
    return rows


def _entry(row):
    return {"rank": row["rank"], "code": row["code"], "name": row["name"]}
