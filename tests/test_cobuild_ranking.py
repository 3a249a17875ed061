"""社区月度排名: parts, renormalised weights, shared ranks, 红灰旗, cards, settling, the quarter,
and the API (JSON, CSV, 月通报), every figure checked against a hand count.

October and November 2026 are inserted straight into the tables (the workflow cannot back-date).
Five communities of 古南街道, default weights cases 0.3 / tasks 0.4 / matters 0.15 / orders 0.15,
COBUILD_FLAG_SIZE 3, COBUILD_SETTLE_DAYS 5 (October settles 2026-11-06 00:00 local).
No case in either month: the case part is None everywhere (tested apart with ``case_part``).

October tasks: T1 all communities 10 points, T2 all 20, T3 for 长乐 and 沙溪 only 10.

| community | owed | accepted scores        | tasks            | 实事清单 due (on time) | orders rated (4–5) | card   |
|-----------|------|------------------------|------------------|------------------------|--------------------|--------|
| 长乐 A    | 40   | T1 10, T2 16, T3 10    | 36/40 = 90.00    | 2 (1) = 50.00          | 5, 3 → 1/2 = 50.00 | —      |
| 沙溪 B    | 40   | T1 8 (T2 returned)     | 8/40 = 20.00     | 1 (1) = 100.00         | none → None        | yellow |
| 通惠 C    | 30   | T1 10, T2 20           | 30/30 = 100.00   | none → None            | 4, 4, 5 → 100.00   | —      |
| 古南 D    | 30   | (T1 awaiting review)   | 0/30 = 0.00      | 1 open (+1 dropped) 0  | 2 → 0/1 = 0.00     | red    |
| 新街 E    | 30   | nothing declared       | 0/30 = 0.00      | none → None            | none → None        | yellow |

Scores (weights of the None parts shared out):
    A (0.4×90 + 0.15×50 + 0.15×50) / 0.7 = 51 / 0.7 = 72.857… → 72.86
    B (0.4×20 + 0.15×100) / 0.55 = 23 / 0.55 = 41.818… → 41.82
    C (0.4×100 + 0.15×100) / 0.55 = 100.00
    D (0.4×0 + 0.15×0 + 0.15×0) / 0.7 = 0.00;   E 0.4×0 / 0.4 = 0.00
Ranks C 1, A 2, B 3, D 4, E 4. Ranked 5, so n = min(3, 5 // 2) = 2: 红旗 C and A (rank ≤ 2);
from the bottom D and E share rank 1, B is 3: 灰旗 D and E.

November: one task for all, 10 points; A accepted 10 (100), B accepted 10 (100), C's returned (0),
D and E nothing (0); C gets a yellow card. Scores: A 100, B 100, C 0, D 0, E 0.
Quarter 2026-Q4 (December begun, nothing in it: every score None, not counted):
    A (72.86 + 100) / 2 = 86.43;  B (41.82 + 100) / 2 = 70.91;  C (100 + 0) / 2 = 50.00;  D 0;  E 0
    ranks A 1, B 2, C 3, D 4, E 4; 红旗 A, B; 灰旗 D, E; cards: B yellow, C yellow, D red, E yellow;
    A's task part (90 + 100) / 2 = 95.00, its 实事清单 part 50.00 (October alone).
"""

import csv
import io
from datetime import date, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from civicreport.accounts import auth
from civicreport.accounts.models import User, UserArea
from civicreport.cobuilding import ranking
from civicreport.cobuilding.models import (
    Card,
    CardMonth,
    Declaration,
    Matter,
    NeedOrder,
    NeedOrderEvent,
    RankingMonth,
    RankingRow,
    Task,
    TaskCommunity,
)
from civicreport.extensions import db
from civicreport.reference.areas import Community
from civicreport.reporting.stats import Period
from tests.factories import COMMUNITY, STREET, make_geography, make_user
from tests.helpers import assert_error, override_settings

ZONE = ZoneInfo("Asia/Shanghai")
A, B, C, D, E = COMMUNITY, f"{STREET}002", f"{STREET}003", f"{STREET}004", f"{STREET}005"
NAMES = {B: "沙溪社区", C: "通惠社区", D: "古南社区", E: "新街社区"}
OCTOBER, NOVEMBER, DECEMBER = (Period.month(2026, month) for month in (10, 11, 12))
_serial = count(1)


def at(text):
    """ "MM-DD HH:MM" in 2026, local time."""
    return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=ZONE)


def task(month, points, communities=None):
    row = Task(
        month=month.start,
        title=f"任务 {points} 分",
        points=points,
        due_at=datetime.combine(month.end - timedelta(days=1), datetime.min.time(), ZONE),
        all_communities=communities is None,
    )
    row.communities = [TaskCommunity(community_code=code) for code in communities or ()]
    db.session.add(row)
    db.session.flush()
    return row


def declare(task_row, community, status, score=None, reviewed=None):
    submitted = at(f"{task_row.month:%m}-25 10:00")
    db.session.add(
        Declaration(
            task_id=task_row.id,
            community_code=community,
            status=status,
            text="已完成",
            first_submitted_at=submitted,
            submitted_at=submitted,
            score=score,
            reviewed_at=at(reviewed)
            if reviewed
            else (submitted + timedelta(days=2) if status != "submitted" else None),
        )
    )


def matter(community, unit, due, status, done=None):
    db.session.add(
        Matter(
            community_code=community,
            unit_id=unit.id,
            title="实事",
            due_on=date.fromisoformat(f"2026-{due}"),
            status=status,
            done_at=at(done) if done else None,
        )
    )


def rated_order(community, rating, when):
    order = NeedOrder(public_id=f"O2026-{next(_serial):04d}", description="帮忙", community_code=community)
    db.session.add(order)
    db.session.flush()
    for action, moment in (("submit", at(when) - timedelta(days=1)), ("rate", at(when))):
        data = {"rating": rating} if action == "rate" else None
        db.session.add(
            NeedOrderEvent(order_id=order.id, actor_role="citizen", action=action, data=data, created_at=moment)
        )
    order.rating = rating


def card(community, month, color, reason):
    db.session.add(
        Card(month=month.start, community_code=community, color=color, reason=reason, created_at=at("11-02 09:00"))
    )


@pytest.fixture
def autumn(ctx):
    """October and November as the module docstring tabulates them."""
    office = make_geography()
    for code, name in NAMES.items():
        db.session.add(Community(code=code, name=name, street_code=STREET))
    db.session.flush()
    t1, t2, t3 = task(OCTOBER, 10), task(OCTOBER, 20), task(OCTOBER, 10, [A, B])
    for row, community, status, score in [
        (t1, A, "accepted", 10),
        (t2, A, "accepted", 16),
        (t3, A, "accepted", 10),
        (t1, B, "accepted", 8),
        (t2, B, "returned", None),
        (t1, C, "accepted", 10),
        (t2, C, "accepted", 20),
        (t1, D, "submitted", None),
    ]:
        declare(row, community, status, score)
    matter(A, office, "10-15", "done", done="10-15 16:00")
    matter(A, office, "10-20", "done", done="10-22 09:00")
    matter(B, office, "10-31", "done", done="10-30 09:00")
    matter(D, office, "10-10", "in_progress")
    matter(D, office, "10-12", "dropped")
    matter(C, office, "11-03", "open")  # due in November: not October's
    for community, rating in [(A, 5), (A, 3), (C, 4), (C, 4), (C, 5), (D, 2)]:
        rated_order(community, rating, f"10-{10 + rating:02d} 10:00")
    card(B, OCTOBER, "yellow", "returned")
    card(D, OCTOBER, "yellow", "missing")
    card(D, OCTOBER, "red", "severe")
    card(E, OCTOBER, "yellow", "missing")
    november = task(NOVEMBER, 10)
    declare(november, A, "accepted", 10)
    declare(november, B, "accepted", 10)
    declare(november, C, "returned")
    card(C, NOVEMBER, "yellow", "returned")
    db.session.add_all(CardMonth(month=month.start) for month in (OCTOBER, NOVEMBER, DECEMBER))  # judged already
    db.session.commit()
    return office


def by_code(table):
    return {row["code"]: row for row in table.rows}


OCTOBER_EXPECTED = {
    C: (100.0, 1, "red", None, {"cases": None, "tasks": 100.0, "matters": None, "orders": 100.0}),
    A: (72.86, 2, "red", None, {"cases": None, "tasks": 90.0, "matters": 50.0, "orders": 50.0}),
    B: (41.82, 3, None, "yellow", {"cases": None, "tasks": 20.0, "matters": 100.0, "orders": None}),
    D: (0.0, 4, "grey", "red", {"cases": None, "tasks": 0.0, "matters": 0.0, "orders": 0.0}),
    E: (0.0, 4, "grey", "yellow", {"cases": None, "tasks": 0.0, "matters": None, "orders": None}),
}


def test_october_against_the_hand_count(autumn):
    table = ranking.month_ranking(OCTOBER, now=at("11-03 12:00"))
    assert not table.settled and table.label == "2026-10"
    assert [row["code"] for row in table.rows] == [C, A, B, D, E]
    for code, (score, rank, flag, card_color, parts) in OCTOBER_EXPECTED.items():
        row = by_code(table)[code]
        assert (row["score"], row["rank"], row["flag"], row["card"], row["parts"]) == (
            score,
            rank,
            flag,
            card_color,
            parts,
        ), code
    a = by_code(table)[A]
    assert a["figures"]["tasks"] == {"tasks": 3, "points": 40, "declared": 3, "accepted": 3, "scored": 36}
    assert a["figures"]["matters"] == {"due": 2, "on_time": 1}
    assert a["figures"]["orders"] == {"rated": 2, "satisfied": 1}
    assert (a["name"], a["street_name"]) == ("长乐社区", "古南街道")
    assert [e["code"] for e in table.red_flags] == [C, A]
    assert [e["code"] for e in table.grey_flags] == [E, D]  # worst first: listed from the bottom


def test_the_weights_come_from_the_settings(autumn, app, monkeypatch):
    override_settings(
        app,
        monkeypatch,
        COBUILD_WEIGHT_CASES=0.0,
        COBUILD_WEIGHT_TASKS=1.0,
        COBUILD_WEIGHT_MATTERS=0.0,
        COBUILD_WEIGHT_ORDERS=0.0,
        COBUILD_FLAG_SIZE=1,
    )
    table = ranking.month_ranking(OCTOBER, now=at("11-03 12:00"))
    assert {row["code"]: row["score"] for row in table.rows} == {C: 100.0, A: 90.0, B: 20.0, D: 0.0, E: 0.0}
    assert table.weights == {"cases": 0.0, "tasks": 1.0, "matters": 0.0, "orders": 0.0}
    # n = min(1, 2): C alone is red; D and E share the last place, so both are grey.
    assert {row["code"]: row["flag"] for row in table.rows} == {C: "red", A: None, B: None, D: "grey", E: "grey"}


@pytest.mark.parametrize(
    "scores, size, ranks, flags",
    [
        ([90, 80, 80, 70], 2, [1, 2, 2, 4], ["red", None, None, "grey"]),  # the tied 80s would get both
        ([5, 5, 5, 5], 3, [1, 1, 1, 1], [None] * 4),  # all tied: nothing to tell apart
        ([90, 80, 70, 60, 50], 3, [1, 2, 3, 4, 5], ["red", "red", None, "grey", "grey"]),  # n = 5 // 2
        ([90, None, 70], 3, [1, None, 2], ["red", None, "grey"]),  # unscored: no rank, no flag
        ([90], 3, [1], [None]),  # one ranked: n = 0
        ([90, 80, 70, 60], 0, [1, 2, 3, 4], [None] * 4),
    ],
)
def test_shared_ranks_and_flags(scores, size, ranks, flags):
    rows = [{"code": f"c{index}", "score": value} for index, value in enumerate(scores)]
    ranking.rank_rows(rows, size)
    assert [row["rank"] for row in rows] == ranks
    assert [row["flag"] for row in rows] == flags


@pytest.mark.parametrize(
    "figures, part",
    [
        # 100 × (0.5 × 1 + 0.2 × (1 − 0.3333) + 0.3 × 0.5) = 78.334 → 78.33
        ({"accepted": 3, "on_time_rate": 1.0, "rework_rate": 0.3333, "satisfaction_rate": 0.5}, 78.33),
        # no rating: 100 × (0.5 × 0.8 + 0.2 × 1) / 0.7 = 85.714… → 85.71
        ({"accepted": 5, "on_time_rate": 0.8, "rework_rate": 0.0, "satisfaction_rate": None}, 85.71),
        ({"accepted": 2, "on_time_rate": 1.0, "rework_rate": 0.0, "satisfaction_rate": 1.0}, None),  # < 3 cases
        ({"accepted": 4, "on_time_rate": None, "rework_rate": None, "satisfaction_rate": None}, None),
    ],
)
def test_case_part(ctx, figures, part):
    assert ranking.case_part(figures)[0] == part


def test_score_shares_out_the_missing_parts():
    weights = {"cases": 0.3, "tasks": 0.4, "matters": 0.15, "orders": 0.15}
    # (0.3 × 80 + 0.15 × 60) / 0.45 = 33 / 0.45 = 73.333… → 73.33
    assert ranking.score({"cases": 80, "tasks": None, "matters": None, "orders": 60}, weights) == 73.33
    assert ranking.score(dict.fromkeys(weights), weights) is None
    assert ranking.score({"cases": 50, "tasks": None, "matters": None, "orders": None}, {**weights, "cases": 0}) is None


def test_a_settled_month_is_stored_once_and_never_recomputed(autumn, app, monkeypatch):
    before = ranking.month_ranking(OCTOBER, now=at("11-05 23:00"))
    assert not before.settled and db.session.scalar(select(func.count()).select_from(RankingMonth)) == 0
    settled = ranking.month_ranking(OCTOBER, now=at("11-06 00:00"))
    assert settled.settled and settled.rows == before.rows
    # Later: a declaration's score is changed, another is accepted, the weights change.
    declaration = db.session.scalar(select(Declaration).where(Declaration.community_code == E))
    assert declaration is None
    changed = db.session.scalar(select(Declaration).where(Declaration.community_code == B, Declaration.score == 8))
    changed.score = 10
    db.session.commit()
    override_settings(
        app,
        monkeypatch,
        COBUILD_WEIGHT_CASES=0.25,
        COBUILD_WEIGHT_TASKS=0.25,
        COBUILD_WEIGHT_MATTERS=0.25,
        COBUILD_WEIGHT_ORDERS=0.25,
    )
    again = ranking.month_ranking(OCTOBER, now=at("12-20 00:00"))
    assert again.rows == before.rows and again.settled
    assert again.weights == {"cases": 0.3, "tasks": 0.4, "matters": 0.15, "orders": 0.15}  # as settled
    assert ranking.settle(OCTOBER, now=at("12-20 00:00")) is False
    assert db.session.scalar(select(func.count()).select_from(RankingRow)) == 5


def test_a_review_after_the_settling_instant_does_not_count_however_late_it_settles(autumn):
    waiting = db.session.scalar(select(Declaration).where(Declaration.community_code == D))
    waiting.status, waiting.score, waiting.reviewed_at = "accepted", 10, at("11-10 09:00")
    db.session.commit()
    assert by_code(ranking.month_ranking(OCTOBER, now=at("11-11 00:00")))[D]["parts"]["tasks"] == 0.0
    # Within the grace days it counts, on demand.
    waiting.reviewed_at = at("11-04 09:00")
    db.session.commit()
    ranking.forget_settled()
    live = ranking.month_ranking(OCTOBER, now=at("11-04 12:00"))
    assert by_code(live)[D]["parts"]["tasks"] == round(100 * 10 / 30, 2)


def test_the_worker_settles_the_last_two_months_once_due(autumn):
    # September (nothing in it) is due; October is in its grace days.
    assert ranking.settle_closed_months(at("11-05 12:00")) == [OCTOBER.previous().start]
    assert ranking.settle_closed_months(at("12-03 12:00")) == [OCTOBER.start]  # November's not over
    assert ranking.settle_closed_months(at("12-06 00:00")) == [NOVEMBER.start]
    assert ranking.settle_closed_months(at("12-07 00:00")) == []


def test_the_quarter_against_the_hand_count(autumn):
    table = ranking.quarter_ranking(2026, 4, now=at("12-07 12:00"))
    assert table.label == "2026-Q4" and not table.settled  # December is live
    assert [month.start for month in table.months] == [OCTOBER.start, NOVEMBER.start, DECEMBER.start]
    expected = {
        A: (86.43, 1, "red", None),
        B: (70.91, 2, "red", "yellow"),
        C: (50.0, 3, None, "yellow"),
        D: (0.0, 4, "grey", "red"),
        E: (0.0, 4, "grey", "yellow"),
    }
    assert {row["code"]: (row["score"], row["rank"], row["flag"], row["card"]) for row in table.rows} == expected
    a = by_code(table)[A]
    assert a["parts"] == {"cases": None, "tasks": 95.0, "matters": 50.0, "orders": 50.0} and a["months"] == 2


def test_months_not_begun_are_refused(autumn):
    with pytest.raises(Exception) as refused:
        ranking.month_ranking(DECEMBER, now=at("11-30 12:00"))
    assert refused.value.code == "future_month"
    assert len(ranking.quarter_ranking(2026, 4, now=at("11-30 12:00")).months) == 2


@pytest.fixture
def readers(autumn):
    return {
        "leader": make_user("leader", "leader")[1],
        "unit_staff": make_user("staff", "unit_staff", "st-gunan")[1],
        "anonymous": {},
    }


def test_the_api_answers_the_month_and_the_quarter(readers, client):
    answer = client.get("/api/v1/rankings/communities?month=2026-10", headers=readers["leader"])
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["month"] == "2026-10" and body["months"] == ["2026-10"] and body["settled"] is True
    assert [(row["code"], row["score"], row["rank"], row["flag"], row["card"]) for row in body["rows"]] == [
        (code, *expected[:4]) for code, expected in OCTOBER_EXPECTED.items()
    ]
    assert body["rows"][0]["parts"] == OCTOBER_EXPECTED[C][4]
    assert [entry["code"] for entry in body["red_flags"]] == [C, A]
    quarter = client.get("/api/v1/rankings/communities?quarter=2026-Q4", headers=readers["leader"]).get_json()
    assert quarter["quarter"] == "2026-Q4" and quarter["rows"][0]["code"] == A


def test_csv_has_a_bom_chinese_headers_and_the_parts(readers, client):
    answer = client.get("/api/v1/rankings/communities?month=2026-10&format=csv", headers=readers["leader"])
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert answer.data.startswith("\ufeff".encode())
    assert "filename*=UTF-8''" in answer.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert rows[0] == [
        "排名",
        "社区代码",
        "社区",
        "街道",
        "综合得分",
        "案件办理",
        "月度任务",
        "实事清单",
        "点单服务",
        "红灰旗",
        "红黄牌",
        "状态",
    ]
    assert rows[1] == ["1", C, "通惠社区", "古南街道", "100.0", "", "100.0", "", "100.0", "红旗", "", "已结算"]
    assert rows[4] == ["4", D, "古南社区", "古南街道", "0.0", "", "0.0", "0.0", "0.0", "灰旗", "红牌", "已结算"]


def test_the_printable_report(readers, client):
    page = client.get("/console/cobuild/report?month=2026-10", headers=readers["leader"])
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "2026年10月社区文明共建月度通报" in text and "本月排名已结算" in text
    assert "通惠社区（第 1 名）" in text and "新街社区（第 4 名）" in text
    assert "cobuild_report.css" in text and "权重 40%" in text


@pytest.mark.parametrize("who, status", [("unit_staff", 403), ("anonymous", 401)])
def test_only_leaders_and_the_office_read(readers, client, who, status):
    for path in ("/api/v1/rankings/communities?month=2026-10", "/console/cobuild/report?month=2026-10"):
        assert client.get(path, headers=readers[who]).status_code == status


def test_community_staff_do_not_read_the_ranking(autumn, client):
    """The 通报 is the office's to publish; a community sees its own tasks and cards elsewhere."""
    staff = User(name="cs", display_name="社区干部", role="community_staff", areas=[UserArea(code=A)])
    db.session.add(staff)
    db.session.commit()
    headers = {"Authorization": f"Bearer {auth.issue_token(staff)}"}
    assert_error(client.get("/api/v1/rankings/communities?month=2026-10", headers=headers), 403, "forbidden")


@pytest.mark.parametrize(
    "query, code",
    [
        ("month=2026-13", "validation_failed"),
        ("month=26-10", "validation_failed"),
        ("month=0999-10", "validation_failed"),
        ("quarter=2026-Q5", "validation_failed"),
        ("month=2026-10&quarter=2026-Q4", "invalid_period"),  # named in the document's x-refusals
        ("month=2026-10&format=xml", "validation_failed"),
        ("month=2099-01", "future_month"),
        ("quarter=2099-Q1", "future_month"),
    ],
)
def test_bad_parameters_are_422(readers, client, query, code):
    assert_error(client.get(f"/api/v1/rankings/communities?{query}", headers=readers["leader"]), 422, code)


def test_a_task_due_in_the_following_month_puts_settling_off(autumn):
    """The month settles COBUILD_SETTLE_DAYS after its cards' cut-off: here a task due on 12-10."""
    task(NOVEMBER, 5).due_at = at("12-10 18:00")
    db.session.commit()
    assert ranking.settles_at(NOVEMBER) == at("12-15 18:00")
    assert not ranking.month_ranking(NOVEMBER, now=at("12-07 00:00")).settled
    assert ranking.month_ranking(NOVEMBER, now=at("12-15 18:00")).settled


def test_without_a_month_the_current_one_is_answered_live(readers, client):
    today = datetime.now(ZONE).date()
    body = client.get("/api/v1/rankings/communities", headers=readers["leader"]).get_json()
    assert body["month"] == f"{today:%Y-%m}" and body["settled"] is False
    assert {row["code"] for row in body["rows"]} == {A, B, C, D, E}
    page = client.get("/console/cobuild/report", headers=readers["leader"]).get_data(as_text=True)
    assert f"{today.year}年{today.month}月社区文明共建月度通报" in page and "尚未结算" in page


def test_the_worker_round_settles_the_months_before_this_one(autumn, app):
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert "errors=0" in result.output, result.output
    this_month = Period.month(datetime.now(ZONE).year, datetime.now(ZONE).month)
    last = this_month.previous()
    stored = set(db.session.scalars(select(RankingMonth.month)))
    assert last.previous().start in stored and stored <= {last.start, last.previous().start}
