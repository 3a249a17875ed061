"""Monthly tasks, month-end declarations and 红黄牌 over the API (issue 21, 月初安排 / 月底申报).

The services' clock is set by the ``clock`` fixture, so lateness and each card rule are tested
at chosen local times; photos are real uploads through ``POST /api/v1/media`` with EXIF time
and GPS made with Pillow.
"""

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import box
from sqlalchemy import select

from civicreport.accounts import auth
from civicreport.accounts.models import User, UserArea
from civicreport.cobuilding import cards, declarations, tasks
from civicreport.cobuilding.models import Card, DeclarationEvent
from civicreport.delivery.models import OutboxMessage
from civicreport.extensions import db
from civicreport.geo.geojson import to_geojson_text
from civicreport.reference.areas import Community
from tests.factories import COMMUNITY, FAR_AWAY, GRID_BOX, INSIDE, STREET, make_user, photo_bytes
from tests.helpers import assert_error, override_settings

ZONE = ZoneInfo("Asia/Shanghai")
OTHER = "500110001002"  # 沙溪社区: no boundary, so no photo is far from it
THIRD = "500110001003"
NOV, OCT, DEC = "2026-11", "2026-10", "2026-12"


def local(text):
    """``YYYY-MM-DD HH:MM`` in 綦江 as an aware UTC datetime."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZONE).astimezone(UTC)


class Clock:
    """The co-building services' ``utcnow``, set by the test."""

    def __init__(self, monkeypatch):
        self.now = local("2026-11-10 09:00")
        for module in (tasks, declarations, cards):
            monkeypatch.setattr(module, "utcnow", lambda: self.now)

    def set(self, text):
        self.now = local(text)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def _community_staff(name, community):
    user = User(name=name, role="community_staff", display_name=f"{name}工作人员", areas=[UserArea(code=community)])
    db.session.add(user)
    db.session.commit()
    return {"Authorization": f"Bearer {auth.issue_token(user)}"}


@pytest.fixture
def people(grid, client, clock):
    """The office, two communities' staff, a leader and a unit; 长乐社区 has the grid's box as boundary."""
    south, west, north, east = GRID_BOX
    db.session.get(Community, COMMUNITY).boundary = to_geojson_text(box(west, south, east, north))
    db.session.add(Community(code=OTHER, name="沙溪社区", street_code=STREET))
    db.session.add(Community(code=THIRD, name="东林社区", street_code=STREET))
    db.session.commit()
    return {
        "office": make_user("sup", "supervisor")[1],
        "admin": make_user("admin", "admin")[1],
        "leader": make_user("leader", "leader")[1],
        "unit": make_user("staff-cgj", "unit_staff", "st-gunan")[1],
        "staff": _community_staff("changle", COMMUNITY),
        "other": _community_staff("shaxi", OTHER),
        "anonymous": {},
    }


class Api:
    def __init__(self, client, people):
        self.client = client
        self.people = people

    def issue(self, month=NOV, **fields):
        body = {"month": month, "title": "背街小巷环境整治", "points": 10, **fields}
        response = self.client.post("/api/v1/tasks", json=body, headers=self.people["office"])
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def upload(self, who="staff", taken=datetime(2026, 11, 20, 9, 30), gps=INSIDE):
        photo = photo_bytes((64, 48), gps=gps, taken=taken, color=(40, 120, 40))
        response = self.client.post(
            "/api/v1/media",
            headers=self.people[who],
            data={"photo": (io.BytesIO(photo), "d.jpg")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def declare(self, task_id, who="staff", media_ids=None, **photo):
        media_ids = media_ids if media_ids is not None else [self.upload(who, **photo)]
        body = {"text": "已完成背街小巷清扫，照片为证", "media_ids": media_ids}
        return self.client.post(f"/api/v1/tasks/{task_id}/declarations", json=body, headers=self.people[who])

    def declared(self, task_id, who="staff", **photo):
        response = self.declare(task_id, who, **photo)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def review(self, declaration_id, who="office", **body):
        return self.client.post(f"/api/v1/declarations/{declaration_id}/review", json=body, headers=self.people[who])

    def reviewed(self, declaration_id, **body):
        response = self.review(declaration_id, **body)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def get(self, path, who="office"):
        response = self.client.get(path, headers=self.people[who])
        assert response.status_code == 200, response.get_json()
        return response.get_json()


@pytest.fixture
def api(client, people):
    return Api(client, people)


# --- tasks ---------------------------------------------------------------------------------


def test_a_task_is_issued_for_all_communities_due_at_the_months_end_and_announced(api):
    task = api.issue(indicator="A-3-2")
    assert task["communities"] == "all" and task["month"] == NOV and task["indicator"] == "A-3-2"
    assert task["due_at"] == local("2026-11-30 18:00").isoformat()
    notice = db.session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "task_issued")).one()
    assert notice.payload["task"] == task["id"] and "2026-11-30 18:00" in notice.payload["message"]
    assert [t["id"] for t in api.get(f"/api/v1/tasks?month={NOV}", "staff")["tasks"]] == [task["id"]]
    assert api.get(f"/api/v1/tasks?month={OCT}")["tasks"] == []


def test_community_staff_see_only_the_tasks_of_their_community(api, client, people):
    mine = api.issue(communities=[COMMUNITY], due=local("2026-11-25 12:00").isoformat())
    theirs = api.issue(communities=[OTHER])
    assert mine["communities"] == [COMMUNITY] and mine["due_at"] == local("2026-11-25 12:00").isoformat()
    assert [t["id"] for t in api.get("/api/v1/tasks", "staff")["tasks"]] == [mine["id"]]
    assert [t["id"] for t in api.get("/api/v1/tasks", "leader")["tasks"]] == [mine["id"], theirs["id"]]
    response = client.get(f"/api/v1/tasks/{theirs['id']}", headers=people["staff"])
    assert_error(response, 403, "community_not_covered")


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("staff", 403, "forbidden"),
        ("leader", 403, "forbidden"),
        ("unit", 403, "forbidden"),
        ("anonymous", 401, "unauthorized"),
    ],
)
def test_only_the_office_issues_tasks(client, people, who, status, code):
    response = client.post("/api/v1/tasks", json={"month": NOV, "title": "t", "points": 5}, headers=people[who])
    assert_error(response, status, code)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"month": "2026-13"}, "validation_failed"),
        ({"month": "202611"}, "validation_failed"),
        ({"points": 0}, "validation_failed"),
        ({"title": ""}, "validation_failed"),
        ({"communities": []}, "validation_failed"),
        ({"communities": ["5001"]}, "validation_failed"),
        ({"communities": "some"}, "validation_failed"),
        ({"due": "2026-11-30T18:00"}, "validation_failed"),  # no offset
        ({"surprise": 1}, "validation_failed"),
        ({"communities": ["500110001999"]}, "unknown_community"),
        ({"due": "2026-10-31T12:00:00+08:00"}, "invalid_due"),
        ({"due": "2027-01-01T00:00:00+08:00"}, "invalid_due"),
    ],
)
def test_bad_task_input_is_422(client, people, fields, code):
    body = {"month": NOV, "title": "背街小巷", "points": 10, **fields}
    assert_error(client.post("/api/v1/tasks", json=body, headers=people["office"]), 422, code)


def test_a_bounded_supervisor_issues_only_to_his_communities(app, client, people):
    user, header = make_user("sup-other", "supervisor")
    user.areas = [UserArea(code=OTHER)]
    db.session.commit()
    body = {"month": NOV, "title": "t", "points": 5}
    assert_error(client.post("/api/v1/tasks", json=body, headers=header), 403, "community_not_covered")
    body["communities"] = [COMMUNITY]
    assert_error(client.post("/api/v1/tasks", json=body, headers=header), 403, "community_not_covered")
    body["communities"] = [OTHER]
    assert client.post("/api/v1/tasks", json=body, headers=header).status_code == 201


def test_unknown_ids_are_404(api, client, people):
    assert_error(client.get("/api/v1/tasks/999", headers=people["office"]), 404, "task_not_found")
    assert_error(api.declare(999), 404, "task_not_found")
    assert_error(client.get("/api/v1/declarations/999", headers=people["office"]), 404, "declaration_not_found")
    assert_error(api.review(999, decision="accept", score=1), 404, "declaration_not_found")


# --- declarations --------------------------------------------------------------------------


def test_a_declaration_in_time_is_submitted_with_its_photos_and_shown_on_the_task(api, clock):
    task = api.issue()
    clock.set("2026-11-28 10:00")
    body = api.declared(task["id"])
    assert body["status"] == "submitted" and body["late"] is False and body["evidence_flags"] == []
    assert body["community_code"] == COMMUNITY and body["community_name"] == "长乐社区"
    [event] = body["timeline"]
    assert event["action"] == "submit" and event["actor"] == "changle工作人员" and len(event["photos"]) == 1
    assert event["photos"][0]["url"] and event["photos"][0]["taken_at"]
    board = {row["community_code"]: row for row in api.get(f"/api/v1/tasks/{task['id']}")["declarations"]}
    assert board[COMMUNITY]["status"] == "submitted" and board[COMMUNITY]["allowed_actions"] == ["accept", "return"]
    assert board[OTHER]["status"] is None and board[OTHER]["status_label"] == "未申报"
    mine = api.get(f"/api/v1/tasks/{task['id']}", "staff")["declarations"]
    assert [row["community_code"] for row in mine] == [COMMUNITY] and mine[0]["allowed_actions"] == []
    assert api.get(f"/api/v1/tasks/{task['id']}", "other")["declarations"][0]["allowed_actions"] == ["submit"]


def test_a_declaration_after_the_due_time_is_late(api, clock):
    task = api.issue()
    clock.set("2026-11-30 18:01")
    body = api.declared(task["id"])
    assert body["late"] is True and body["timeline"][0]["data"]["late"] is True


@pytest.mark.parametrize("status", ["submitted", "accepted"])
def test_a_second_declaration_while_submitted_or_accepted_is_409(api, status):
    task = api.issue()
    first = api.declared(task["id"])
    if status == "accepted":
        api.reviewed(first["id"], decision="accept", score=8)
    error = assert_error(api.declare(task["id"]), 409, "invalid_transition")
    assert error["details"]["status"] == status and error["details"]["allowed_actions"] == []


@pytest.mark.parametrize("who", ["office", "admin", "leader", "unit"])
def test_only_community_staff_declare(api, who):
    task = api.issue()
    assert_error(api.declare(task["id"], who, media_ids=["x"]), 403, "forbidden")


def test_community_staff_declare_only_tasks_of_their_community(api):
    task = api.issue(communities=[COMMUNITY])
    assert_error(api.declare(task["id"], "other"), 403, "community_not_covered")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"text": "x"}, "validation_failed"),
        ({"text": "", "media_ids": ["a"]}, "validation_failed"),
        ({"text": "x", "media_ids": []}, "validation_failed"),
        ({"text": "x", "media_ids": ["a"] * 7}, "validation_failed"),
        ({"text": "x", "media_ids": ["a", "a"]}, "duplicate_media_ids"),
    ],
)
def test_bad_declaration_input_is_422(api, client, people, body, code):
    task = api.issue()
    if code == "duplicate_media_ids":
        media = api.upload()
        body = {**body, "media_ids": [media, media]}
    response = client.post(f"/api/v1/tasks/{task['id']}/declarations", json=body, headers=people["staff"])
    assert_error(response, 422, code)


def test_a_photo_of_someone_else_or_already_used_is_409(api):
    task = api.issue()
    foreign = api.upload("other")
    assert_error(api.declare(task["id"], media_ids=[foreign]), 409, "media_unavailable")
    mine = api.upload()
    api.declared(task["id"], media_ids=[mine])
    second = api.issue(title="第二项")
    assert_error(api.declare(second["id"], media_ids=[mine]), 409, "media_unavailable")


@pytest.mark.parametrize(
    ("who", "photo", "flags"),
    [
        ("staff", {}, []),
        ("staff", {"taken": datetime(2026, 10, 31, 23, 50)}, ["photo_outside_month"]),
        ("staff", {"taken": datetime(2026, 12, 1, 0, 10)}, ["photo_outside_month"]),
        ("staff", {"gps": FAR_AWAY}, ["photo_far"]),
        ("staff", {"gps": (29.0300, 106.6400 - 0.004)}, []),  # ~390 m west of the boundary: within 500 m
        ("staff", {"gps": FAR_AWAY, "taken": datetime(2026, 9, 1, 9, 0)}, ["photo_far", "photo_outside_month"]),
        ("other", {"gps": FAR_AWAY}, []),  # 沙溪社区 has no boundary: nothing to measure against
    ],
)
def test_evidence_is_flagged_not_refused(api, who, photo, flags):
    task = api.issue()
    body = api.declared(task["id"], who, **photo)
    assert body["status"] == "submitted" and body["evidence_flags"] == flags


def test_the_radius_is_a_setting(app, api, monkeypatch):
    override_settings(app, monkeypatch, COBUILD_DECLARATION_RADIUS_M=100.0)
    task = api.issue()
    assert api.declared(task["id"], gps=(29.0300, 106.6400 - 0.004))["evidence_flags"] == ["photo_far"]


# --- review --------------------------------------------------------------------------------


def test_accepting_scores_the_declaration(api):
    task = api.issue()
    declared = api.declared(task["id"])
    body = api.reviewed(declared["id"], decision="accept", score=9.5, note="整治到位")
    assert body["status"] == "accepted" and body["score"] == 9.5 and body["review_note"] == "整治到位"
    assert [e["action"] for e in body["timeline"]] == ["submit", "accept"]
    assert body["timeline"][1]["data"] == {"score": 9.5} and body["allowed_actions"] == []


def test_a_return_sets_a_resubmit_deadline_notifies_and_the_resubmission_is_reviewed_again(api, clock):
    task = api.issue()
    declared = api.declared(task["id"])
    clock.set("2026-11-20 10:00")
    returned = api.reviewed(declared["id"], decision="return", note="照片看不出整治前后对比")
    assert returned["status"] == "returned" and returned["returns"] == 1
    assert returned["resubmit_due_at"] == local("2026-11-23 10:00").isoformat()
    notice = db.session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "declaration_returned")).one()
    assert notice.payload["community"] == COMMUNITY and "照片看不出" in notice.payload["message"]
    assert api.get(f"/api/v1/declarations/{declared['id']}", "staff")["allowed_actions"] == ["resubmit"]
    clock.set("2026-11-21 10:00")
    again = api.declared(task["id"])
    assert again["id"] == declared["id"] and again["status"] == "submitted" and again["late"] is False
    assert [e["action"] for e in again["timeline"]] == ["submit", "return", "resubmit"]
    assert "late" not in (again["timeline"][2]["data"] or {})
    assert api.reviewed(declared["id"], decision="accept", score=6)["status"] == "accepted"


def test_a_resubmission_after_its_deadline_is_recorded_late(api, clock):
    task = api.issue()
    declared = api.declared(task["id"])
    api.reviewed(declared["id"], decision="return", note="补充照片", resubmit_due=local("2026-11-12 12:00").isoformat())
    clock.set("2026-11-12 12:30")
    again = api.declared(task["id"])
    assert again["timeline"][2]["data"]["late"] is True and again["late"] is False


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"decision": "accept"}, "missing_fields"),
        ({"decision": "accept", "score": 10.5}, "invalid_score"),
        ({"decision": "accept", "score": -1}, "invalid_score"),
        ({"decision": "return"}, "missing_fields"),
        ({"decision": "return", "note": "x", "resubmit_due": "2026-11-01T00:00:00+08:00"}, "invalid_resubmit_due"),
        ({"decision": "approve", "score": 1}, "validation_failed"),
        ({"decision": "accept", "score": "ten"}, "validation_failed"),
    ],
)
def test_bad_review_input_is_422(api, body, code):
    declared = api.declared(api.issue()["id"])
    assert_error(api.review(declared["id"], **body), 422, code)


@pytest.mark.parametrize("state", ["accepted", "returned"])
@pytest.mark.parametrize("decision", [{"decision": "accept", "score": 5}, {"decision": "return", "note": "再看"}])
def test_reviewing_a_declaration_not_awaiting_review_is_409(api, state, decision):
    declared = api.declared(api.issue()["id"])
    first = {"decision": "accept", "score": 5} if state == "accepted" else {"decision": "return", "note": "补"}
    api.reviewed(declared["id"], **first)
    error = assert_error(api.review(declared["id"], **decision), 409, "invalid_transition")
    assert error["details"]["status"] == state


@pytest.mark.parametrize("who", ["staff", "leader", "unit"])
def test_only_the_office_reviews(api, who):
    declared = api.declared(api.issue()["id"])
    assert_error(api.review(declared["id"], who, decision="accept", score=5), 403, "forbidden")


def test_a_supervisor_outside_the_community_may_not_review(api, client):
    user, header = make_user("sup-other", "supervisor")
    user.areas = [UserArea(code=OTHER)]
    db.session.commit()
    declared = api.declared(api.issue()["id"])
    response = client.post(
        f"/api/v1/declarations/{declared['id']}/review", json={"decision": "accept", "score": 5}, headers=header
    )
    assert_error(response, 403, "community_not_covered")


def test_the_timeline_is_append_only(api, ctx):
    declared = api.declared(api.issue()["id"])
    event = db.session.scalars(select(DeclarationEvent)).one()
    event.note = "改写"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert declared["timeline"][0]["note"] == "已完成背街小巷清扫，照片为证"


def test_the_review_queue_filters_and_community_staff_see_their_own(api, client, people):
    task = api.issue()
    mine = api.declared(task["id"])
    theirs = api.declared(task["id"], "other")
    api.reviewed(theirs["id"], decision="accept", score=3)
    queue = api.get(f"/api/v1/declarations?month={NOV}&status=submitted")["declarations"]
    assert [d["id"] for d in queue] == [mine["id"]] and "timeline" not in queue[0]
    assert [d["id"] for d in api.get(f"/api/v1/declarations?community={OTHER}")["declarations"]] == [theirs["id"]]
    assert [d["id"] for d in api.get("/api/v1/declarations", "staff")["declarations"]] == [mine["id"]]
    assert api.get(f"/api/v1/declarations?month={OCT}")["declarations"] == []
    response = client.get(f"/api/v1/declarations?community={OTHER}", headers=people["staff"])
    assert_error(response, 403, "community_not_covered")
    assert_error(
        client.get(f"/api/v1/declarations/{theirs['id']}", headers=people["staff"]), 403, "community_not_covered"
    )
    for query in ("status=done", "month=11-2026", "community=abc", "limit=0", "nonsense=1"):
        assert_error(client.get(f"/api/v1/declarations?{query}", headers=people["office"]), 422, "validation_failed")


# --- cards ---------------------------------------------------------------------------------


def _cards(api, month=NOV, who="office"):
    body = api.get(f"/api/v1/cards?month={month}", who)
    return body, {(c["community_code"], c["color"], c["reason"]) for c in body["cards"]}


def test_cards_wait_for_the_cut_off_and_are_judged_once(api, clock, ctx):
    task = api.issue(due=local("2026-12-02 18:00").isoformat())  # due in the next month: it sets the cut-off
    clock.set("2026-12-02 17:00")
    body, issued = _cards(api)
    assert body["judged"] is False and issued == set()
    clock.set("2026-12-02 18:00")
    body, issued = _cards(api)
    assert body["judged"] is True
    assert issued == {(COMMUNITY, "yellow", "missing"), (OTHER, "yellow", "missing"), (THIRD, "yellow", "missing")}
    assert {c["task_id"] for c in body["cards"]} == {task["id"]} and body["cards"][0]["reason_label"] == "未申报"
    assert cards.judge(datetime(2026, 11, 1).date()) == []
    assert len(db.session.scalars(select(Card)).all()) == 3
    response = api.client.post(
        "/api/v1/tasks", json={"month": NOV, "title": "补发", "points": 1}, headers=api.people["office"]
    )
    assert_error(response, 409, "month_judged")


def test_each_yellow_rule(api, clock):
    """长乐 declares late; 沙溪 is returned and re-submits after the deadline, accepted; 东林 is
    returned and not accepted by the cut-off. A second task: 长乐 and 沙溪 in time, one accepted
    and one never reviewed; 东林 returned, re-submitted in time and accepted — no card for those."""
    first = api.issue()
    second = api.issue(title="志愿服务进社区")
    third_staff = _community_staff("donglin", THIRD)
    api.people["third"] = third_staff
    clock.set("2026-11-20 09:00")
    shaxi = api.declared(first["id"], "other")
    donglin = api.declared(first["id"], "third")
    api.declared(second["id"], "staff")
    accepted = api.declared(second["id"], "other")
    donglin2 = api.declared(second["id"], "third")
    api.reviewed(accepted["id"], decision="accept", score=5)
    for declared in (shaxi, donglin, donglin2):
        api.reviewed(declared["id"], decision="return", note="补充", resubmit_due=local("2026-11-25 18:00").isoformat())
    clock.set("2026-11-24 09:00")
    api.reviewed(api.declared(second["id"], "third")["id"], decision="accept", score=4)
    clock.set("2026-11-26 09:00")
    api.reviewed(api.declared(first["id"], "other")["id"], decision="accept", score=4)
    clock.set("2026-11-30 18:30")
    api.declared(first["id"], "staff")
    clock.set("2026-12-01 08:00")
    body, issued = _cards(api)
    assert issued == {(COMMUNITY, "yellow", "late"), (OTHER, "yellow", "late"), (THIRD, "yellow", "returned")}
    assert {(c["community_code"], c["task_id"]) for c in body["cards"]} == {
        (COMMUNITY, first["id"]),
        (OTHER, first["id"]),
        (THIRD, first["id"]),
    }
    assert {row["community_code"]: row["card"] for row in body["communities"]} == {
        COMMUNITY: "yellow",
        OTHER: "yellow",
        THIRD: "yellow",
    }


def test_what_happens_after_the_cut_off_does_not_change_the_month(api, clock):
    """A declaration first sent after the cut-off is still missing; a return after it costs nothing."""
    task = api.issue(communities=[COMMUNITY, OTHER])
    clock.set("2026-11-29 10:00")
    shaxi = api.declared(task["id"], "other")
    clock.set("2026-12-01 00:01")
    api.declared(task["id"], "staff")
    api.reviewed(shaxi["id"], decision="return", note="补充")
    _, issued = _cards(api)
    assert issued == {(COMMUNITY, "yellow", "missing")}


@pytest.mark.parametrize(("misses", "red"), [(2, False), (3, True)])
def test_a_severe_miss_is_a_red_card_at_once(api, clock, misses, red):
    for n in range(3):
        task = api.issue(title=f"任务{n}", communities=[COMMUNITY])
        if n >= misses:
            api.declared(task["id"])
    clock.set("2026-12-01 00:00")
    body, issued = _cards(api)
    assert ((COMMUNITY, "red", "severe") in issued) is red
    assert len([c for c in body["cards"] if c["color"] == "yellow"]) == misses
    assert cards.card_of(COMMUNITY, datetime(2026, 11, 1).date()) == ("red" if red else "yellow")


def test_the_severe_threshold_is_a_setting(app, api, clock, monkeypatch):
    override_settings(app, monkeypatch, COBUILD_SEVERE_MISSES=1)
    api.issue(communities=[COMMUNITY])
    clock.set("2026-12-01 00:00")
    assert (COMMUNITY, "red", "severe") in _cards(api)[1]


@pytest.mark.parametrize(("october_yellow", "red"), [(True, True), (False, False)])
def test_two_yellow_months_in_a_row_are_a_red_card(api, clock, october_yellow, red):
    """October is judged first, on the way to November (the worker had not run)."""
    october = api.issue(OCT, communities=[COMMUNITY])
    if not october_yellow:
        clock.set("2026-10-20 09:00")
        api.declared(october["id"], taken=datetime(2026, 10, 20, 9, 0))
    api.issue(NOV, communities=[COMMUNITY])
    clock.set("2026-12-01 00:00")
    body, issued = _cards(api)
    assert ((COMMUNITY, "red", "repeated") in issued) is red
    assert _cards(api, OCT)[0]["judged"] is True
    assert {row["community_code"]: row["card"] for row in body["communities"]} == {
        COMMUNITY: "red" if red else "yellow"
    }


def test_a_month_without_tasks_breaks_the_run(api, clock):
    api.issue("2026-09", communities=[COMMUNITY])
    api.issue(NOV, communities=[COMMUNITY])
    clock.set("2026-12-01 00:00")
    _, issued = _cards(api)
    assert issued == {(COMMUNITY, "yellow", "missing")}
    assert _cards(api, "2026-09")[1] == {(COMMUNITY, "yellow", "missing")}


def test_the_worker_judges_last_month_and_the_one_before(api, clock, ctx):
    api.issue(OCT, communities=[COMMUNITY])
    api.issue(NOV, communities=[OTHER])
    api.issue(DEC, communities=[COMMUNITY])
    issued = cards.judge_due(local("2026-12-05 03:00"))
    assert {(c.month.month, c.community_code, c.color) for c in issued} == {
        (10, COMMUNITY, "yellow"),
        (11, OTHER, "yellow"),
    }
    assert cards.judge_due(local("2026-12-05 03:05")) == []
    assert not cards.judged(datetime(2026, 12, 1).date())


def test_community_staff_see_their_own_cards(api, clock):
    api.issue()
    clock.set("2026-12-01 00:00")
    body, issued = _cards(api, who="staff")
    assert issued == {(COMMUNITY, "yellow", "missing")} and [r["community_code"] for r in body["communities"]] == [
        COMMUNITY
    ]


@pytest.mark.parametrize("query", ["", "?month=2026-13", "?month=2026-11&x=1"])
def test_cards_need_a_month(client, people, query):
    assert_error(client.get(f"/api/v1/cards{query}", headers=people["office"]), 422, "validation_failed")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tasks",
        "/api/v1/tasks/1",
        "/api/v1/declarations",
        "/api/v1/declarations/1",
        "/api/v1/cards?month=2026-11",
    ],
)
def test_readers_only(client, people, path):
    assert_error(client.get(path, headers=people["unit"]), 403, "forbidden")
    assert client.get(path).status_code == 401


def test_december_is_not_judged_before_it_ends(api, clock):
    api.issue(DEC)
    clock.set("2026-12-31 23:59")
    assert _cards(api, DEC)[0]["judged"] is False
    clock.now += timedelta(minutes=1)
    assert _cards(api, DEC)[0]["judged"] is True


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("get", "/api/v1/tasks/99999999999999999999", None, 404),
        ("post", "/api/v1/tasks/99999999999999999999/declarations", {"text": "x", "media_ids": ["a"]}, 404),
        ("get", "/api/v1/declarations/99999999999999999999", None, 404),
        ("post", "/api/v1/declarations/99999999999999999999/review", {"decision": "accept", "score": 1}, 404),
        ("post", "/api/v1/tasks", {"month": "9999-12", "title": "t", "points": 1}, 422),
        ("post", "/api/v1/tasks", {"month": "1999-12", "title": "t", "points": 1}, 422),
        ("post", "/api/v1/tasks", {"month": NOV, "title": "t", "points": "NaN"}, 422),
        ("post", "/api/v1/tasks", ["not", "an", "object"], 400),
        ("get", "/api/v1/tasks?month=9999-12", None, 422),
        ("get", "/api/v1/cards?month=0000-01", None, 422),
    ],
)
def test_odd_input_is_a_4xx_in_the_error_shape(client, people, method, path, body, status):
    who = "staff" if path.endswith("/declarations") else "office"
    response = getattr(client, method)(path, json=body, headers=people[who])
    assert response.status_code == status and set(response.get_json()["error"]) == {"code", "message", "details"}
