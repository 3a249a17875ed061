"""A month of 社区文明共建 walked end to end over the API: tasks issued → two communities declare,
one late, one returned and re-submitted → cards → the ranking with its flags, checked against the
hand count below.

The month M is the one the test runs in (its API steps happen now); the month's end, judging
and settling are reached by handing ``now`` to the domain functions. Three communities of 古南
街道: X 长乐社区 (the test grid, where the cases are), Y 沙溪社区 and Z 通惠社区. Default
settings: weights cases 0.3 / tasks 0.4 / matters 0.15 / orders 0.15, COBUILD_FLAG_SIZE 3,
COBUILD_SETTLE_DAYS 5, STATS_MIN_CASES 3.

Cases of X in M (through the workflow, each resolved at once, well before its deadline):
    case 1  closed, rated 5          case 2  closed, rated 3
    case 3  resolved, 核查不通过 (返工), resolved again, closed, not rated
    按期结案率 3/3 = 1.0;  返工率 1/3 = 0.3333;  满意率 1/2 = 0.5
    case part X = 100 × (0.5 × 1.0 + 0.2 × (1 − 0.3333) + 0.3 × 0.5) = 100 × 0.78334 = 78.33
    Y and Z have no case: case part None.

Tasks of M (issued by the office, a supervisor):
    T1  for X only,   10 points, due an hour ago (so X's declaration is late)
    T2  for Y only,   10 points, due on the 3rd of the next month, 18:00
    T3  for all,      20 points, due as T2
Declarations (community staff), reviews (the office):
    X  T1  submitted after its due time (late) → accepted, score 8
    X  T3  submitted in time                   → accepted, score 20
    Y  T2  submitted → returned ("照片不清晰") → re-submitted within its deadline → accepted, 9
    Y  T3  submitted in time                   → accepted, score 15
    Z  T3  nothing
Task part = accepted scores / points owed:
    X (8 + 20) / (10 + 20) = 28 / 30 = 93.33;  Y (9 + 15) / (10 + 20) = 24 / 30 = 80.00;
    Z 0 / 20 = 0.00
No 实事清单 item and no needs order: both parts None for everyone.

Cards (judged once the cut-off, the 3rd of the next month 18:00, has passed):
    X yellow (late, T1);  Y none (returned, but accepted by the cut-off);  Z yellow (missing, T3)

Scores (the weights of the None parts shared out over the present ones):
    X (0.3 × 78.33 + 0.4 × 93.33) / 0.7 = (23.499 + 37.332) / 0.7 = 60.831 / 0.7 = 86.901… → 86.90
    Y 0.4 × 80.00 / 0.4 = 80.00
    Z 0.4 × 0.00 / 0.4 = 0.00
Ranking: X 1, Y 2, Z 3. Three ranked, so n = min(3, 3 // 2) = 1: 红旗 X, 灰旗 Z.
    | rank | community | score | cases | tasks | matters | orders | flag | card   |
    | 1    | 长乐社区  | 86.90 | 78.33 | 93.33 | —       | —      | red  | yellow |
    | 2    | 沙溪社区  | 80.00 | —     | 80.00 | —       | —      | —    | —      |
    | 3    | 通惠社区  | 0.00  | —     | 0.00  | —       | —      | grey | yellow |
The month settles 5 days after the cut-off (the 8th of the next month, 18:00); stored then, it
does not move when a declaration is changed afterwards.
"""

import io
from datetime import datetime, time, timedelta

import pytest

from civicreport import registry
from civicreport.accounts import auth
from civicreport.cobuilding import ranking
from civicreport.cobuilding.models import Declaration
from civicreport.db_types import utcnow
from civicreport.extensions import db
from civicreport.reference.areas import Community
from civicreport.reporting.stats import Period
from tests.factories import COMMUNITY, STREET, photo_bytes

X, Y, Z = COMMUNITY, f"{STREET}002", f"{STREET}003"

EXPECTED = [  # code, score, rank, parts (cases, tasks, matters, orders), flag, card
    (X, 86.9, 1, (78.33, 93.33, None, None), "red", "yellow"),
    (Y, 80.0, 2, (None, 80.0, None, None), None, None),
    (Z, 0.0, 3, (None, 0.0, None, None), "grey", "yellow"),
]


def staff_of(code, name):
    user = auth.create_user(name, "community_staff", areas=[code])
    return {"Authorization": f"Bearer {auth.issue_token(user)}"}


def photo(client, headers):
    answer = client.post(
        "/api/v1/media",
        headers=headers,
        data={"photo": (io.BytesIO(photo_bytes(color=(200, 160, 90))), "done.jpg")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["id"]


def ok(response, status=200):
    assert response.status_code == status, response.get_json()
    return response.get_json()


def cases_of_x(loop):
    """The three cases of the docstring, through the workflow."""
    for rating, rework in ((5, False), (3, False), (None, True)):
        rid = loop.to_state("resolved")
        if rework:
            loop.ok(rid, "monitor", "verify_fail", note="未清理干净")
            loop.ok(rid, "own_staff", "resolve", media_ids=[loop.upload()])
        loop.ok(rid, "monitor", "verify_pass")
        loop.ok(rid, "supervisor", "close")
        if rating:
            loop.ok(rid, "receipt", "rate", rating=rating)


def local(moment):
    return moment.astimezone(registry.current().zone)


@pytest.fixture
def month(loop):
    """The month the test runs in; the test grid (X) and two more communities of 古南街道."""
    db.session.add_all(
        [Community(code=Y, name="沙溪社区", street_code=STREET), Community(code=Z, name="通惠社区", street_code=STREET)]
    )
    db.session.commit()
    today = local(utcnow()).date()
    return Period.month(today.year, today.month)


def test_a_month_walked_from_tasks_to_flags(month, loop, client):
    office, leader = loop.people["supervisor"], loop.people["leader"]
    staff = {X: staff_of(X, "cs-changle"), Y: staff_of(Y, "cs-shaxi"), Z: staff_of(Z, "cs-tonghui")}
    cases_of_x(loop)

    start = datetime.combine(month.start, time.min, registry.current().zone)
    past_due = max(start, local(utcnow()) - timedelta(hours=1))
    next_due = datetime.combine(month.end + timedelta(days=2), time(18, 0), registry.current().zone)
    label = f"{month.start:%Y-%m}"

    def issue(title, communities, points, due):
        body = {"month": label, "title": title, "communities": communities, "points": points, "due": due.isoformat()}
        return ok(client.post("/api/v1/tasks", json=body, headers=office), 201)["id"]

    t1 = issue("门前三包责任落实", [X], 10, past_due)
    t2 = issue("背街小巷环境整治", [Y], 10, next_due)
    t3 = issue("文明劝导志愿服务", "all", 20, next_due)

    def declare(task_id, code, text="已按要求完成，附现场照片"):
        body = {"text": text, "media_ids": [photo(client, staff[code])]}
        return ok(client.post(f"/api/v1/tasks/{task_id}/declarations", json=body, headers=staff[code]), 201)

    def review(declaration, decision, **fields):
        body = {"decision": decision, **fields}
        return ok(client.post(f"/api/v1/declarations/{declaration['id']}/review", json=body, headers=office))

    late = declare(t1, X)
    assert late["late"] is True
    review(late, "accept", score=8)
    review(declare(t3, X), "accept", score=20)
    returned = review(declare(t2, Y), "return", note="照片不清晰，请补充整改后照片")
    assert returned["status"] == "returned"
    again = declare(t2, Y, "已补充整改后照片")
    assert again["id"] == returned["id"] and again["status"] == "submitted" and again["late"] is False
    assert review(again, "accept", score=9)["status"] == "accepted"
    review(declare(t3, Y), "accept", score=15)

    # During the month: computed live, no card yet (judged after the cut-off).
    live = ok(client.get(f"/api/v1/rankings/communities?month={label}", headers=leader))
    assert live["settled"] is False
    assert [(r["code"], r["score"], r["rank"], r["flag"], r["card"]) for r in live["rows"]] == [
        (code, score, rank, flag, None) for code, score, rank, _, flag, _ in EXPECTED
    ]

    # After the cut-off and the settle days: the cards are judged and the month stored.
    settles = ranking.settles_at(month)
    assert local(settles) == next_due + timedelta(days=5)
    table = ranking.month_ranking(month, now=settles + timedelta(minutes=1))
    assert table.settled
    got = [
        (r["code"], r["score"], r["rank"], tuple(r["parts"][p] for p in ranking.PARTS), r["flag"], r["card"])
        for r in table.rows
    ]
    assert got == EXPECTED
    cards = ok(client.get(f"/api/v1/cards?month={label}", headers=office))
    assert {(c["community_code"], c["color"], c["reason"]) for c in cards["cards"]} == {
        (X, "yellow", "late"),
        (Z, "yellow", "missing"),
    }

    # Settled: the API reads the stored month, and a later change to a declaration moves nothing.
    changed = db.session.get(Declaration, late["id"])
    changed.score = 10
    db.session.commit()
    stored = ok(client.get(f"/api/v1/rankings/communities?month={label}", headers=leader))
    assert stored["settled"] is True
    assert [(r["code"], r["score"], r["rank"], r["flag"], r["card"]) for r in stored["rows"]] == [
        (code, score, rank, flag, card) for code, score, rank, _, flag, card in EXPECTED
    ]
    assert stored["rows"][0]["figures"]["tasks"]["scored"] == 28
    assert [e["code"] for e in stored["red_flags"]] == [X] and [e["code"] for e in stored["grey_flags"]] == [Z]
    report = client.get(f"/console/cobuild/report?month={label}", headers=leader).get_data(as_text=True)
    assert "长乐社区（第 1 名）" in report and "通惠社区（第 3 名）" in report and "86.90" in report
