"""Statistics, rankings, 红黑榜 and 红黄牌, every figure checked against a hand count.

Two fixtures: cases driven through the real workflow over HTTP (this week), and a month of
past cases (October 2026, with September as the previous period) inserted straight into
the tables with their timelines, because the workflow cannot back-date events.
Office hours are 08:30–12:00 and 14:00–17:30 (7 working hours a day); 2026-10-01..07 is
the National Day holiday and 10-10 (Saturday) a 调休 working day.
"""

import csv
import io
from datetime import datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import box
from sqlalchemy import event, func, select

from civicreport.accounts.models import Unit
from civicreport.cases.deadlines import work_calendar
from civicreport.cases.models import Report, ReportEvent
from civicreport.db_types import utcnow
from civicreport.extensions import db
from civicreport.geo.geojson import to_geojson_text
from civicreport.reference.areas import Community, GridCellArea, Street
from civicreport.reference.grid import invalidate_grid_index
from civicreport.reporting import stats
from civicreport.reporting.models import StatsCaseMonth, StatsGroupMonth, StatsMonth
from civicreport.worktime import WorkingLine
from tests.factories import (
    COMMUNITY,
    INSIDE,
    STREET,
    make_geography,
    make_unit,
    make_user,
    photo_bytes,
)
from tests.helpers import assert_error, override_settings, post_report

ZONE = ZoneInfo("Asia/Shanghai")
STREET_B, COMMUNITY_B = "500110002", "500110002001"
CELL_A, CELL_B = f"{COMMUNITY}001", f"{COMMUNITY_B}001"
UNITS = {
    "cgj": "区城市管理局",
    "hw": "区环卫所",
    "sz": "区市政设施中心",
    "jxj": "区交巡警支队",
    "gd": "供电公司綦江分公司",
    "yl": "区园林绿化所",
    "sw": "区水务公司",
}
MONITORS = {
    "monitor-li": "李监督员",
    "monitor-zhao": "赵监督员",
    "monitor-wang": "王监督员",
    "monitor-chen": "陈监督员",
    "monitor-zhou": "周监督员",
}
STATUS_AFTER = {
    "submit": "submitted",
    "accept": "accepted",
    "reject": "rejected",
    "mark_duplicate": "duplicate",
    "dispatch": "dispatched",
    "claim": "in_progress",
    "return": "returned",
    "suspend": "suspended",
    "resolve": "resolved",
    "verify_fail": "rework",
    "verify_pass": "verified",
    "close": "closed",
    "rate": "rated",
}
_serial = count(1)


def at(text):
    """ "MM-DD HH:MM" in 2026, local time."""
    return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=ZONE)


def second_community():
    """文龙街道 百步梯社区 with one grid cell, away from the 4×4 test grid."""
    office = make_unit("st-wenlong", "street_office", "文龙街道办事处")
    db.session.add(Street(code=STREET_B, name="文龙街道", district_code="500110", territorial_unit_id=office.id))
    db.session.add(Community(code=COMMUNITY_B, name="百步梯社区", street_code=STREET_B))
    cell = box(106.6600, 29.0400, 106.6610, 29.0409)
    db.session.add(
        GridCellArea(
            code=CELL_B,
            community_code=COMMUNITY_B,
            boundary=to_geojson_text(cell),
            centroid_lat=cell.centroid.y,
            centroid_lon=cell.centroid.x,
        )
    )
    db.session.commit()
    invalidate_grid_index()


def insert_report(steps, *, cell=CELL_A, by=None, deadline=None):
    """A report whose timeline is ``steps``: (action, aware datetime[, event data]), oldest first.

    Rows are only inserted (events are append-only); the report row caches the last status,
    the last dispatched unit and ``deadline``. Back-dated events change settled months, so their
    stored rows are dropped, as the history loader does.
    """
    status, unit = None, None
    report = Report(
        public_id=f"T2026-{next(_serial):04d}",
        category_code="06010",
        description="测试案件",
        lat=INSIDE[0],
        lon=INSIDE[1],
        location_source="device",
        grid_code=cell,
        community_code=cell[:12],
        street_code=cell[:9],
        district_code="500110",
        status="submitted",
        created_at=steps[0][1],
        deadline_at=deadline,
        channel="monitor" if by else "citizen",
        reporter_user_id=by.id if by else None,
    )
    db.session.add(report)
    db.session.flush()
    for action, when, *data in steps:
        before, status = status, STATUS_AFTER[action]
        if action == "dispatch":
            unit = data[0]["unit"]
        db.session.add(
            ReportEvent(
                report_id=report.id,
                actor_user_id=by.id if by and action == "submit" else None,
                actor_role=("monitor" if by else "citizen") if action == "submit" else "supervisor",
                action=action,
                from_status=before,
                to_status=status,
                data=data[0] if data else None,
                created_at=when,
            )
        )
        db.session.flush()
    report.status = status
    report.unit_id = db.session.scalar(select(Unit.id).where(Unit.code == unit)) if unit else None
    stats.forget_settled()
    db.session.commit()
    return report


def handled(
    unit,
    dispatched,
    resolved=None,
    *,
    deadline=None,
    closed=True,
    rating=None,
    rework=False,
    suspended=None,
    cell=CELL_A,
    by=None,
):
    """The usual loop: submitted 30 and accepted 20 minutes before the dispatch, claimed 10 after;
    with ``rework`` a first resolve (+20 min) fails verification (+25 min); a close comes 20 minutes
    after the (last) resolve and a rating 30 minutes after it. ``deadline`` defaults to 17:30 of
    the dispatch day."""
    start = at(dispatched)
    steps = [
        ("submit", start - timedelta(minutes=30)),
        ("accept", start - timedelta(minutes=20)),
        ("dispatch", start, {"unit": unit.code}),
        ("claim", start + timedelta(minutes=10)),
    ]
    if suspended:
        steps.append(("suspend", at(suspended)))
    if resolved:
        done = at(resolved)
        if rework:
            steps += [("resolve", start + timedelta(minutes=20)), ("verify_fail", start + timedelta(minutes=25))]
        steps.append(("resolve", done))
        if closed:
            steps += [("verify_pass", done + timedelta(minutes=10)), ("close", done + timedelta(minutes=20))]
        if rating:
            steps.append(("rate", done + timedelta(minutes=30), {"rating": rating}))
    due = at(deadline) if deadline else start.replace(hour=17, minute=30)
    return insert_report(steps, cell=cell, by=by, deadline=due)


def triaged(action, when, *, cell=CELL_A, by=None):
    """A report filed at ``when`` and then rejected, merged as a duplicate, or left waiting."""
    start = at(when)
    steps = [("submit", start)]
    if action == "reject":
        steps.append(("reject", start + timedelta(hours=1)))
    if action == "mark_duplicate":
        steps += [("accept", start + timedelta(minutes=30)), ("mark_duplicate", start + timedelta(hours=1))]
    return insert_report(steps, cell=cell, by=by)


@pytest.fixture
def october(ctx):
    """October 2026 (and a little of September) for seven units, two communities, five monitors.

    Unit cases (dispatch → resolve, working hours; deadline 17:30 of the dispatch day unless given):

    | case | unit | dispatched | resolved        | hours | deadline   | on time | closed | rating | notes |
    |------|------|------------|-----------------|-------|------------|---------|--------|--------|-------|
    | c1   | cgj  | 10-12 09:00| 10-12 11:00     | 2.0   |            | yes     | yes    | 5      | by 李 |
    | c2   | cgj  | 10-13 09:00| 10-13 12:00     | 3.0   |            | yes     | yes    | 4      | by 李 |
    | c3   | cgj  | 10-14 09:00| 10-14 10:00     | 1.0   |            | yes     | yes    |        | by 李 |
    | c25  | cgj  | 10-19 10:00| 10-19 11:00     | 1.0   |            | yes     | yes    |        | first sent to sw 09:00, returned; counts for cgj only |
    | c4   | hw   | 10-12 09:00| 10-12 15:00     | 4.0   |            | yes     | yes    | 3      | by 赵 |
    | c5   | hw   | 10-13 09:00| 10-13 10:30     | 1.5   |            | yes     | yes    | 5      |       |
    | c6   | hw   | 10-14 09:00| 10-14 11:30     | 2.5   |            | yes     | no     |        |       |
    | c7   | sz   | 10-16 16:00| 10-19 09:30 Mon | 2.5   | 10-19 12:00| yes     | yes    |        | Fri 1.5 h + Mon 1 h; by 赵 |
    | c8   | sz   | 10-12 09:00| 10-12 16:00     | 5.0   |            | yes     | yes    |        | one 返工 |
    | c9   | sz   | 10-13 09:00| 10-13 09:30     | 0.5   |            | yes     | yes    |        |       |
    | c10  | sz   | 10-14 09:00| 10-14 10:00     | 1.0   |            | yes     | yes    |        |       |
    | c11  | sz   | 10-15 09:00| 10-15 14:30     | 3.5   | 10-15 12:00| LATE    | yes    |        |       |
    | c26  | sz   | 10-30 17:00| 11-02 09:00     | –     | 11-02 12:00| not due | no     |        | resolved after the cut-off |
    | c12  | jxj  | 10-12 09:00| 10-12 10:30     | 1.5   |            | yes     | yes    |        | B; by 赵 |
    | c13  | jxj  | 10-13 09:00| 10-13 10:00     | 1.0   |            | yes     | yes    |        | B |
    | c14  | jxj  | 10-14 09:00| 10-14 10:00     | 1.0   |            | yes     | yes    |        | B |
    | c15  | jxj  | 10-15 09:00| 10-16 09:30     | 7.5   | 10-15 12:00| LATE    | yes    |        | B |
    | c16  | gd   | 10-12 09:00| 10-12 10:00     | 1.0   |            | yes     | yes    |        | B; by 王 |
    | c17  | gd   | 10-13 09:00| 10-13 10:00     | 1.0   |            | yes     | yes    |        | B |
    | c18  | gd   | 10-14 09:00| 10-14 15:00     | 4.0   | 10-14 12:00| LATE    | yes    |        | B |
    | c19  | gd   | 10-15 09:00| –               | –     |            | 挂账     | no     |        | B; suspended 10:00: not due |
    | c20  | yl   | 10-12 09:00| 10-12 10:00     | 1.0   |            | yes     | yes    | 2      | B; by 陈 |
    | c21  | yl   | 10-13 09:00| 10-13 14:30     | 3.5   | 10-13 12:00| LATE    | yes    |        | B |
    | c22  | yl   | 10-14 09:00| –               | –     |            | LATE    | no     |        | B; still in progress: overdue now |
    | c23  | sw   | 10-12 09:00| 10-12 15:00     | 4.0   | 10-12 12:00| LATE    | yes    |        | B |
    | c24  | sw   | 10-13 09:00| 10-13 15:00     | 4.0   | 10-13 12:00| LATE    | yes    |        | B |
    | s1-3 | jxj  | 09-07..09  | same day 10:00  |       |            | yes ×3  | yes    |        | B; September |
    | s4-6 | gd   | 09-07..09  | 10:00/10:00/15:00|      | s6 12:00   | 2 of 3  | yes    |        | B; September |
    | s7   | cgj  | 09-30 09:00| 10-12 10:00     |       |            | LATE    | no     |        | September cohort, not October's |

    Monitor reports besides the ones marked above: 李 one rejected (A); 赵 one rejected (B);
    王 one accepted then merged as a duplicate (A) and one still waiting (B); 周 none.
    Cases without a B are in 古南街道 长乐社区 (A), cell 001.
    """  # noqa: E501 -- the hand-count table above keeps one case a row
    make_geography()
    second_community()
    units = {code: make_unit(code, "other", name) for code, name in UNITS.items()}
    people = {code: make_user(code, "monitor")[0] for code in MONITORS}
    for code, user in people.items():
        user.display_name = MONITORS[code]
    db.session.commit()
    u, m, b = units, people, CELL_B
    handled(u["cgj"], "10-12 09:00", "10-12 11:00", rating=5, by=m["monitor-li"])
    handled(u["cgj"], "10-13 09:00", "10-13 12:00", rating=4, by=m["monitor-li"])
    handled(u["cgj"], "10-14 09:00", "10-14 10:00", by=m["monitor-li"])
    insert_report(
        [
            ("submit", at("10-19 08:30")),
            ("accept", at("10-19 08:40")),
            ("dispatch", at("10-19 09:00"), {"unit": u["sw"].code}),
            ("return", at("10-19 09:30")),
            ("dispatch", at("10-19 10:00"), {"unit": u["cgj"].code}),
            ("claim", at("10-19 10:10")),
            ("resolve", at("10-19 11:00")),
            ("verify_pass", at("10-19 11:10")),
            ("close", at("10-19 11:20")),
        ],
        deadline=at("10-19 17:30"),
    )
    handled(u["hw"], "10-12 09:00", "10-12 15:00", rating=3, by=m["monitor-zhao"])
    handled(u["hw"], "10-13 09:00", "10-13 10:30", rating=5)
    handled(u["hw"], "10-14 09:00", "10-14 11:30", closed=False)
    handled(u["sz"], "10-16 16:00", "10-19 09:30", deadline="10-19 12:00", by=m["monitor-zhao"])
    handled(u["sz"], "10-12 09:00", "10-12 16:00", rework=True)
    handled(u["sz"], "10-13 09:00", "10-13 09:30")
    handled(u["sz"], "10-14 09:00", "10-14 10:00")
    handled(u["sz"], "10-15 09:00", "10-15 14:30", deadline="10-15 12:00")
    handled(u["sz"], "10-30 17:00", "11-02 09:00", deadline="11-02 12:00")
    handled(u["jxj"], "10-12 09:00", "10-12 10:30", cell=b, by=m["monitor-zhao"])
    handled(u["jxj"], "10-13 09:00", "10-13 10:00", cell=b)
    handled(u["jxj"], "10-14 09:00", "10-14 10:00", cell=b)
    handled(u["jxj"], "10-15 09:00", "10-16 09:30", deadline="10-15 12:00", cell=b)
    handled(u["gd"], "10-12 09:00", "10-12 10:00", cell=b, by=m["monitor-wang"])
    handled(u["gd"], "10-13 09:00", "10-13 10:00", cell=b)
    handled(u["gd"], "10-14 09:00", "10-14 15:00", deadline="10-14 12:00", cell=b)
    handled(u["gd"], "10-15 09:00", suspended="10-15 10:00", cell=b)
    handled(u["yl"], "10-12 09:00", "10-12 10:00", rating=2, cell=b, by=m["monitor-chen"])
    handled(u["yl"], "10-13 09:00", "10-13 14:30", deadline="10-13 12:00", cell=b)
    handled(u["yl"], "10-14 09:00", cell=b)
    handled(u["sw"], "10-12 09:00", "10-12 15:00", deadline="10-12 12:00", cell=b)
    handled(u["sw"], "10-13 09:00", "10-13 15:00", deadline="10-13 12:00", cell=b)
    for day in ("07", "08", "09"):
        handled(u["jxj"], f"09-{day} 09:00", f"09-{day} 10:00", cell=b)
    handled(u["gd"], "09-07 09:00", "09-07 10:00", cell=b)
    handled(u["gd"], "09-08 09:00", "09-08 10:00", cell=b)
    handled(u["gd"], "09-09 09:00", "09-09 15:00", deadline="09-09 12:00", cell=b)
    handled(u["cgj"], "09-30 09:00", "10-12 10:00", closed=False)
    triaged("reject", "10-20 09:00", by=m["monitor-li"])
    triaged("reject", "10-20 09:00", cell=b, by=m["monitor-zhao"])
    triaged("mark_duplicate", "10-21 09:00", by=m["monitor-wang"])
    triaged("pending", "10-31 23:00", cell=b, by=m["monitor-wang"])
    return units


OCTOBER = stats.Period.month(2026, 10)
UNIT_FIELDS = (
    "received",
    "claimed",
    "resolved",
    "closed",
    "closure_rate",
    "suspended",
    "due",
    "on_time",
    "on_time_rate",
    "reworked",
    "rework_rate",
    "avg_handling_hours",
    "rated",
    "satisfied",
    "satisfaction_rate",
    "overdue_now",
    "previous_on_time_rate",
    "rank",
    "card",
)
# Hand count per unit, October 2026, from the fixture table. on-time = on_time / due.
EXPECTED_UNITS = {
    # columns: recv claim res clos clos% susp due ontime ontime% rew rew% hours rated sat sat% overdue prev% rank card
    "cgj": (4, 4, 4, 4, 1.0, 0, 4, 4, 1.0, 0, 0.0, 1.75, 2, 2, 1.0, 0, 0.0, 1, None),
    # cgj avg (2+3+1+1)/4; September: s7 due and late → 0/1, not ranked there (1 case)
    "hw": (3, 3, 3, 2, 0.6667, 0, 3, 3, 1.0, 0, 0.0, 2.67, 2, 1, 0.5, 0, None, 2, None),
    # hw avg (4+1.5+2.5)/3 = 2.667; ranked below cgj: same on-time rate, lower closure rate
    "sz": (6, 6, 5, 5, 0.8333, 0, 5, 4, 0.8, 1, 0.2, 2.5, 0, 0, None, 0, None, 3, None),
    # sz avg (2.5+5+0.5+1+3.5)/5; c26 received but neither resolved nor due by the cut-off; 80 % is no card
    "jxj": (4, 4, 4, 4, 1.0, 0, 4, 3, 0.75, 0, 0.0, 2.75, 0, 0, None, 0, 1.0, 4, "yellow"),
    # jxj avg (1.5+1+1+7.5)/4; yellow now, September 100 %: stays yellow
    "gd": (4, 4, 3, 3, 0.75, 1, 3, 2, 0.6667, 0, 0.0, 2.0, 0, 0, None, 0, 0.6667, 5, "red"),
    # gd: c19 suspended is left out of due (2/3, not 2/4); yellow now and in September → red
    "yl": (3, 3, 2, 2, 0.6667, 0, 3, 1, 0.3333, 0, 0.0, 2.25, 1, 0, 0.0, 1, None, 6, "red"),
    # yl: c22 unresolved past its deadline is due, late and overdue now; 33 % < 60 % → red
    "sw": (2, 2, 2, 2, 1.0, 0, 2, 0, 0.0, 0, 0.0, 4.0, 0, 0, None, 0, None, None, None),
    # sw: two cases (the returned c25 is not one of them) → listed, not ranked, no card
}


def fetch(client, path, headers, **params):
    response = client.get(path, query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response


def test_unit_figures_rankings_and_cards(october, client):
    _, leader = make_user("leader", "leader")
    body = fetch(client, "/api/v1/stats/units", leader, month="2026-10").get_json()
    assert body["period"] == {"from": "2026-10-01", "to": "2026-11-01"}
    rows = {row["code"]: row for row in body["rows"]}
    assert rows.keys() == set(UNITS) | {"st-gunan", "st-wenlong"}
    for code, expected in EXPECTED_UNITS.items():
        assert tuple(rows[code][f] for f in UNIT_FIELDS) == expected, code
        assert rows[code]["name"] == UNITS[code]
    assert [row["code"] for row in body["rows"]] == [
        "cgj",
        "hw",
        "sz",
        "jxj",
        "gd",
        "yl",
        "st-gunan",
        "st-wenlong",
        "sw",
    ]
    # Beside rank, code and name an entry carries the unit's whistle figures (tests/test_whistles.py).
    assert [{k: e[k] for k in ("rank", "code", "name")} for e in body["red_list"]] == [
        {"rank": 1, "code": "cgj", "name": "区城市管理局"},
        {"rank": 2, "code": "hw", "name": "区环卫所"},
        {"rank": 3, "code": "sz", "name": "区市政设施中心"},
    ]
    assert [(e["rank"], e["code"]) for e in body["black_list"]] == [(6, "yl"), (5, "gd"), (4, "jxj")]
    assert rows["st-gunan"]["received"] == 0 and rows["st-gunan"]["on_time_rate"] is None


def test_rank_size_and_minimum_cases_are_configurable(october, app, monkeypatch):
    override_settings(app, monkeypatch, STATS_RANK_SIZE=1, STATS_MIN_CASES=2)
    table = stats.unit_stats(OCTOBER)
    rows = {row["code"]: row for row in table.rows}
    # sw (2 cases, 0 % on time) is now ranked: last, and its 0 % earns a red card.
    assert (rows["sw"]["rank"], rows["sw"]["card"]) == (7, "red")
    assert [e["code"] for e in table.red_list] == ["cgj"] and [e["code"] for e in table.black_list] == ["sw"]


def test_september_is_its_own_cohort(october):
    rows = {row["code"]: row for row in stats.unit_stats(stats.Period.month(2026, 9)).rows}
    # jxj 3/3, gd 2/3 (yellow), cgj: s7 dispatched 09-30, not resolved by the cut-off, late.
    assert (rows["jxj"]["on_time_rate"], rows["jxj"]["card"], rows["jxj"]["rank"]) == (1.0, None, 1)
    assert (rows["gd"]["on_time_rate"], rows["gd"]["card"], rows["gd"]["rank"]) == (0.6667, "yellow", 2)
    assert (rows["cgj"]["received"], rows["cgj"]["due"], rows["cgj"]["on_time"], rows["cgj"]["rank"]) == (1, 1, 0, None)


AREA_FIELDS = (
    "received",
    "accepted",
    "dispatched",
    "resolved",
    "closed",
    "closure_rate",
    "suspended",
    "due",
    "on_time",
    "on_time_rate",
    "reworked",
    "rework_rate",
    "avg_handling_hours",
    "rated",
    "satisfied",
    "satisfaction_rate",
    "overdue_now",
    "previous_on_time_rate",
    "rank",
    "card",
)
# Hand count per community, October 2026 (reports submitted in October in the area).
# A 长乐: c1-c3, c25, c4-c6, c7-c11, c26 (13 cases) + 李's rejected + 王's duplicate = 15 filed, 13 accepted.
#   resolved 12 (c26 after the cut-off), closed 11 (c6 open) → 11/13; due 12, on time 11 (c11 late);
#   hours (2+3+1+1 + 4+1.5+2.5 + 2.5+5+0.5+1+3.5)/12 = 27.5/12 = 2.29; rated c1 5, c2 4, c4 3, c5 5 → 3/4;
#   September: s7 only (1 accepted → not ranked then), 0/1 on time.
# B 百步梯: jxj 4, gd 4, yl 3, sw 2 = 13 cases + 赵's rejected + 王's waiting = 15 filed, 13 accepted.
#   resolved 4+3+2+2 = 11, closed 11; suspended 1 (c19); due 11 + c22 = 12, on time 3+2+1+0 = 6 → 50 % → red;
#   hours (11 + 6 + 4.5 + 8)/11 = 2.68; rated c20 2 → 0/1; overdue now c22; September 5/6 on time.
EXPECTED_AREAS = {
    COMMUNITY: (15, 13, 13, 12, 11, 0.8462, 0, 12, 11, 0.9167, 1, 0.0833, 2.29, 4, 3, 0.75, 0, 0.0, 1, None),
    COMMUNITY_B: (15, 13, 13, 11, 11, 0.8462, 1, 12, 6, 0.5, 0, 0.0, 2.68, 1, 0, 0.0, 1, 0.8333, 2, "red"),
}


def test_area_figures_per_community_street_and_grid(october, client):
    _, supervisor = make_user("sup", "supervisor")
    body = fetch(client, "/api/v1/stats/areas", supervisor, month="2026-10", level="community").get_json()
    rows = {row["code"]: row for row in body["rows"]}
    for code, expected in EXPECTED_AREAS.items():
        assert tuple(rows[code][f] for f in AREA_FIELDS) == expected, code
    assert rows[COMMUNITY]["name"] == "长乐社区" and rows[COMMUNITY_B]["name"] == "百步梯社区"
    assert [e["code"] for e in body["red_list"]] == [COMMUNITY]
    assert [e["code"] for e in body["black_list"]] == [COMMUNITY_B]

    streets = fetch(client, "/api/v1/stats/areas", supervisor, month="2026-10", level="street").get_json()
    by_street = {row["code"]: row for row in streets["rows"]}
    assert by_street[STREET]["name"] == "古南街道" and by_street[STREET_B]["name"] == "文龙街道"
    for street, community in ((STREET, COMMUNITY), (STREET_B, COMMUNITY_B)):
        assert [by_street[street][f] for f in AREA_FIELDS] == [rows[community][f] for f in AREA_FIELDS]

    grid = fetch(client, "/api/v1/stats/areas", supervisor, month="2026-10", level="grid").get_json()
    cells = {row["code"]: row for row in grid["rows"]}
    assert len(cells) == 17  # the 16 test cells and B's one: every cell is listed
    assert cells[CELL_A]["name"] == "长乐社区001号网格" and cells[CELL_A]["received"] == 15
    assert cells[f"{COMMUNITY}002"]["received"] == 0 and cells[f"{COMMUNITY}002"]["rank"] is None


# Hand count per monitor, October 2026: filed / valid (accepted, not merged) / rejected / merged.
# 李 c1-c3 + a rejected one: 4/3/1/0 → 75 %; 赵 c4, c7, c12 + a rejected one: 4/3/1/0 → 75 %, same
# score as 李 (valid rate, then reports filed), so both rank 1, listed by account; 王 c16, a merged
# duplicate and one still waiting: 3/1/0/1 → 33 %, rank 3; 陈 one report: not ranked; 周 nothing.
EXPECTED_MONITORS = [
    ("monitor-li", 4, 3, 1, 0, 0.75, 1),
    ("monitor-zhao", 4, 3, 1, 0, 0.75, 1),
    ("monitor-wang", 3, 1, 0, 1, 0.3333, 3),
    ("monitor-chen", 1, 1, 0, 0, 1.0, None),
    ("monitor-zhou", 0, 0, 0, 0, None, None),
]


def test_monitor_figures_and_shared_ranks(october, client):
    _, admin = make_user("admin", "admin")
    body = fetch(client, "/api/v1/stats/monitors", admin, month="2026-10").get_json()
    got = [
        (r["code"], r["filed"], r["valid"], r["rejected"], r["duplicate"], r["valid_rate"], r["rank"])
        for r in body["rows"]
    ]
    assert got == EXPECTED_MONITORS
    assert body["rows"][0]["name"] == "李监督员" and body["rows"][0]["card"] is None
    assert [e["code"] for e in body["red_list"]] == ["monitor-li"]
    assert [e["code"] for e in body["black_list"]] == ["monitor-wang"]


def test_csv_export_has_bom_chinese_headers_and_lists(october, client):
    _, leader = make_user("leader", "leader")
    response = fetch(client, "/api/v1/stats/units", leader, month="2026-10", format="csv")
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="stats-units-2026-10.csv"')
    assert "filename*=UTF-8''%E5%8D%95%E4%BD%8D%E8%80%83%E8%AF%84_2026-10.csv" in disposition  # 单位考评
    assert response.data.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(response.data[3:].decode("utf-8"))))
    assert list(table[0])[:5] == ["排名", "单位编码", "单位名称", "派遣数", "接单数"]
    assert list(table[0])[-3:] == ["上期按期结案率", "红黄牌", "榜单"]
    rows = {row["单位编码"]: row for row in table}
    assert (rows["cgj"]["排名"], rows["cgj"]["按期结案率"], rows["cgj"]["榜单"]) == ("1", "100.0%", "红榜")
    assert (rows["gd"]["按期结案率"], rows["gd"]["红黄牌"], rows["gd"]["榜单"]) == ("66.7%", "红牌", "黑榜")
    assert (rows["jxj"]["红黄牌"], rows["sz"]["平均处置时长（工作小时）"], rows["sz"]["满意率"]) == ("黄牌", "2.50", "")
    assert (rows["sw"]["排名"], rows["sw"]["榜单"], rows["sw"]["派遣数"]) == ("", "", "2")

    areas = fetch(
        client, "/api/v1/stats/areas", leader, level="grid", format="csv", **{"from": "2026-10-01", "to": "2026-10-16"}
    )
    assert 'filename="stats-areas-grid-2026-10-01_2026-10-16.csv"' in areas.headers["Content-Disposition"]
    assert next(csv.reader(io.StringIO(areas.data[3:].decode("utf-8"))))[:4] == [
        "排名",
        "区域编码",
        "区域名称",
        "上报数",
    ]
    monitors = fetch(client, "/api/v1/stats/monitors", leader, month="2026-10", format="csv")
    header = next(csv.reader(io.StringIO(monitors.data.decode("utf-8-sig"))))
    assert header == ["排名", "账号", "姓名", "上报数", "有效数", "不予受理数", "合并重复数", "有效上报率", "榜单"]


def test_statistics_take_a_fixed_number_of_queries(october):
    statements = []

    def record(*args):
        statements.append(args[2])

    def queries(period, now=None):
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            stats.unit_stats(period, now)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return len(statements)

    live = queries(OCTOBER, NOVEMBER_FIRST)
    stats.settle_months()  # September and October
    small = queries(OCTOBER)
    handled(october["cgj"], "10-20 09:00", "10-20 10:00")
    handled(october["hw"], "10-21 09:00", "10-21 10:00")
    stats.settle_months()
    assert queries(OCTOBER) == small <= 8  # PostgreSQL adds one set_config
    assert queries(OCTOBER, NOVEMBER_FIRST) == live <= 8


# October has ended but not settled: figures come straight from the timeline.
NOVEMBER_FIRST = at("11-01 00:30")


def without_now(table):
    return [{k: v for k, v in row.items() if k != "overdue_now"} for row in table.rows]


@pytest.mark.parametrize(
    "figures",
    [
        stats.unit_stats,
        stats.monitor_stats,
        lambda period, now=None: stats.area_stats(period, "community", now),
        lambda period, now=None: stats.area_stats(period, "grid", now),
    ],
    ids=["units", "monitors", "communities", "grid"],
)
def test_a_settled_month_reads_the_same_figures_as_the_timeline(october, figures):
    live = figures(OCTOBER, NOVEMBER_FIRST)
    settling = figures(OCTOBER)  # ended, not settled yet: computed from the timeline, and said so
    assert (live.state, settling.state) == ("live", "settling")
    assert OCTOBER.start not in set(db.session.scalars(select(StatsMonth.month)))
    stats.settle_months(chunk=7)  # several chunks
    stored = figures(OCTOBER)
    assert stored.state == "settled"
    assert db.session.scalar(select(StatsMonth.cases).where(StatsMonth.month == OCTOBER.start)) > 30
    assert db.session.scalar(select(func.count()).select_from(StatsGroupMonth)) > 0
    assert without_now(stored) == without_now(live) == without_now(settling)
    assert (stored.red_list, stored.black_list) == (live.red_list, live.black_list)


def test_the_settling_job_settles_each_ended_month_once(october):
    now = at("12-02 09:00")
    september = OCTOBER.previous().start
    assert stats.settle_months(now) == [OCTOBER.end, OCTOBER.start, september]  # newest first
    assert stats.settle_months(now) == []
    stats.forget_settled()
    db.session.commit()
    # Just after midnight a month has ended but a late commit may still be stamped inside it.
    assert stats.settle_months(at("12-01 00:30")) == [OCTOBER.start, september]
    assert stats.settle_months(now) == [OCTOBER.end]
    rows = db.session.scalar(
        select(func.count()).select_from(StatsCaseMonth).where(StatsCaseMonth.month == OCTOBER.start)
    )
    assert rows == db.session.scalar(select(StatsMonth.cases).where(StatsMonth.month == OCTOBER.start))


def test_a_month_in_progress_is_never_stored(loop):
    today = utcnow().astimezone(ZONE).date()
    stats.settle_months()
    assert stats.unit_stats(stats.Period.month(today.year, today.month)).state == "live"
    assert today.replace(day=1) not in set(db.session.scalars(select(StatsMonth.month)))


@pytest.mark.parametrize(
    "start, end",
    [
        ("09-30 16:00", "10-09 09:30"),  # across the National Day holiday
        ("10-09 17:00", "10-12 08:45"),  # over the 调休 Saturday 10-10 and Sunday 10-11
        ("10-12 12:30", "10-12 13:30"),  # the lunch break only
        ("10-12 07:00", "10-12 23:00"),  # a whole working day
        ("10-12 11:00", "10-12 10:00"),  # reversed: nothing
    ],
)
def test_working_time_line_agrees_with_the_calendar(ctx, start, end):
    calendar = work_calendar()
    line = WorkingLine(calendar, min(at(start), at(end)).date())
    assert line.hours(at(start), at(end)) * 60 == pytest.approx(calendar.between(at(start), at(end)))


def test_cases_driven_through_the_workflow(loop, client):
    """This week's cases, made over HTTP; the period is from yesterday to the day after tomorrow.

    | case | path                                                           | counts as                      |
    |------|----------------------------------------------------------------|--------------------------------|
    | r1   | closed and rated 5                                             | resolved, closed, on time, 满意 |
    | r2   | resolve → verify_fail → resolve → verify_pass → close          | resolved, closed, on time, 返工 |
    | r3   | dispatched, claimed, then 挂账                                  | suspended: not due             |
    | r4   | claimed, deadline 4 working hours ahead                        | not due                        |
    | r5   | filed by the monitor and rejected                              | monitor: filed 1, valid 0      |
    cgj: received 4, claimed 4, resolved 2, closed 2 (50 %), due 2, on time 2 (100 %), rework 1/2,
    rated 1, satisfied 1. Only one unit is ranked, so both lists are empty.
    """
    r1 = loop.to_state("closed")
    loop.ok(r1, "receipt", "rate", rating=5)
    r2 = loop.to_state("resolved")
    loop.ok(r2, "monitor", "verify_fail", note="仍有残留")
    loop.ok(r2, "own_staff", "resolve", media_ids=[loop.upload()])
    loop.ok(r2, "monitor", "verify_pass")
    loop.ok(r2, "supervisor", "close")
    r3 = loop.to_state("in_progress")
    loop.ok(r3, "supervisor", "suspend", note="等待施工许可")
    loop.to_state("in_progress")
    r5 = post_report(
        client, [photo_bytes(gps=INSIDE)], headers=loop.people["monitor"], category="06010", description="占道经营"
    ).get_json()["id"]
    loop.ok(r5, "supervisor", "reject", note="不属于受理范围")

    today = utcnow().astimezone(ZONE).date()
    week = {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=2)).isoformat()}
    body = fetch(client, "/api/v1/stats/units", loop.people["leader"], **week).get_json()
    cgj = next(row for row in body["rows"] if row["code"] == "cgj")
    assert {
        k: cgj[k]
        for k in (
            "received",
            "claimed",
            "resolved",
            "closed",
            "closure_rate",
            "suspended",
            "due",
            "on_time",
            "on_time_rate",
            "reworked",
            "rework_rate",
            "rated",
            "satisfied",
            "satisfaction_rate",
            "overdue_now",
            "rank",
            "card",
        )
    } == {
        "received": 4,
        "claimed": 4,
        "resolved": 2,
        "closed": 2,
        "closure_rate": 0.5,
        "suspended": 1,
        "due": 2,
        "on_time": 2,
        "on_time_rate": 1.0,
        "reworked": 1,
        "rework_rate": 0.5,
        "rated": 1,
        "satisfied": 1,
        "satisfaction_rate": 1.0,
        "overdue_now": 0,
        "rank": 1,
        "card": None,
    }
    assert cgj["avg_handling_hours"] >= 0
    assert body["red_list"] == [] and body["black_list"] == []

    community = fetch(client, "/api/v1/stats/areas", loop.people["leader"], level="community", **week).get_json()
    area = next(row for row in community["rows"] if row["code"] == COMMUNITY)
    assert (area["received"], area["accepted"], area["dispatched"], area["closed"]) == (5, 4, 4, 2)
    monitors = fetch(client, "/api/v1/stats/monitors", loop.people["admin"], **week).get_json()
    assert [(r["code"], r["filed"], r["valid"], r["rejected"]) for r in monitors["rows"]] == [("monitor", 1, 0, 1)]

    current = fetch(client, "/api/v1/stats/units", loop.people["leader"]).get_json()
    assert current["period"]["from"] == today.replace(day=1).isoformat()


@pytest.mark.parametrize("path", ["/api/v1/stats/units", "/api/v1/stats/areas", "/api/v1/stats/monitors"])
def test_only_leaders_admins_and_supervisors_may_read(loop, client, path):
    assert_error(client.get(path), 401, "unauthorized")
    for who in ("citizen", "monitor", "own_staff"):
        assert_error(client.get(path, headers=loop.people[who]), 403, "forbidden")
    for who in ("leader", "admin", "supervisor"):
        assert client.get(path, headers=loop.people[who]).status_code == 200


@pytest.mark.parametrize(
    "params, code",
    [
        ({"month": "2026-13"}, "invalid_month"),
        ({"month": "2026-1"}, "invalid_month"),
        ({"month": "latest"}, "invalid_month"),
        ({"month": "0000-05"}, "invalid_month"),
        ({"from": "2026-10-01"}, "invalid_period"),
        ({"from": "2026-10-05", "to": "2026-10-01"}, "invalid_period"),
        ({"month": "2026-10", "from": "2026-10-01", "to": "2026-10-05"}, "invalid_period"),
        ({"from": "2026-02-30", "to": "2026-03-05"}, "invalid_date"),
        ({"from": "20261001", "to": "2026-10-05"}, "invalid_date"),
        ({"from": "2025-01-01", "to": "2026-10-05"}, "period_too_long"),
        ({"format": "xlsx"}, "invalid_format"),
        ({"level": "province"}, "invalid_level"),
        ({"colour": "red"}, "validation_failed"),  # the document names no such parameter
        ({"": "0"}, "validation_failed"),  # schemathesis sent this one
    ],
)
def test_bad_parameters_are_422(loop, client, params, code):
    assert_error(client.get("/api/v1/stats/areas", query_string=params, headers=loop.people["leader"]), 422, code)
