"""联席会议 and 实事清单 over the API: partners present must be partners that day, items move
open → in_progress → done (or are dropped by the office) with append-only notes and photos, and
the figures the ranking reads (overdue per partner, the month's on-time rate) on a set clock."""

import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from civicreport.accounts import auth
from civicreport.cobuilding import matters, partners
from civicreport.cobuilding.models import MatterNote
from civicreport.extensions import db
from civicreport.reference.areas import Community
from tests.factories import COMMUNITY, INSIDE, STREET, make_unit, make_user, photo_bytes
from tests.helpers import assert_error

ZONE = ZoneInfo("Asia/Shanghai")
OTHER = "500110001002"


def local(text):
    """``YYYY-MM-DD HH:MM`` in 綦江 as an aware UTC datetime."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZONE).astimezone(UTC)


class Clock:
    """The co-building services' ``utcnow``, set by the test."""

    def __init__(self, monkeypatch):
        self.now = local("2026-11-02 09:00")
        for module in (partners, matters):
            monkeypatch.setattr(module, "utcnow", lambda: self.now)

    def set(self, text):
        self.now = local(text)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def _bearer(user):
    return {"Authorization": f"Bearer {auth.issue_token(user)}"}


@pytest.fixture
def town(grid, client, clock):
    """长乐社区 with 区人大办公室 (lead) and 区机关事务局 (member, until 2026-10-01); 百步梯社区 with
    区农业农村委; the office, a leader, community staff of each community and people of no part."""
    db.session.add(Community(code=OTHER, name="百步梯社区", street_code=STREET))
    for code, name in (("rdb", "区人大办公室"), ("nyw", "区农业农村委"), ("jgj", "区机关事务局")):
        make_unit(code, "government_office", name)
    db.session.commit()
    partners.add_partnership(COMMUNITY, "rdb", "lead", date(2026, 1, 1))
    member = partners.add_partnership(COMMUNITY, "jgj", "member", date(2026, 1, 1))
    partners.end_partnership(member.id, date(2026, 10, 1))
    partners.add_partnership(OTHER, "nyw", "lead", date(2026, 1, 1))
    team = partners.create_team("长乐志愿队", COMMUNITY)
    return {
        "office": make_user("sup", "supervisor")[1],
        "admin": make_user("admin", "admin")[1],
        "leader": make_user("leader", "leader")[1],
        "monitor": make_user("monitor", "monitor")[1],
        "unit_staff": make_user("staff-jgj", "unit_staff", "jgj")[1],  # a partner, but not responsible
        "partner_staff": make_user("staff-rdb", "unit_staff", "rdb")[1],
        "volunteer": _bearer(auth.create_user("v1", "volunteer", team_id=team.id)),
        "staff": _bearer(auth.create_user("cs", "community_staff", areas=[COMMUNITY])),
        "other_staff": _bearer(auth.create_user("cs2", "community_staff", areas=[OTHER])),
        "anonymous": {},
    }


def _file(client, headers, **fields):
    body = {"title": "修缮小区路灯", "partner": "rdb", "due_on": "2026-11-20", **fields}
    return client.post("/api/v1/matters", json=body, headers=headers)


def _filed(client, headers, **fields):
    response = _file(client, headers, **fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _note(client, headers, matter_id, **body):
    return client.post(f"/api/v1/matters/{matter_id}/notes", json=body, headers=headers)


def _upload(client, headers):
    photo = photo_bytes((64, 48), gps=INSIDE, taken=datetime(2026, 11, 5, 10, 0), color=(40, 120, 40))
    response = client.post(
        "/api/v1/media",
        headers=headers,
        data={"photo": (io.BytesIO(photo), "m.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_a_meeting_files_an_item_that_is_worked_to_done_with_notes_and_photos(client, town, clock):
    meeting = client.post(
        "/api/v1/meetings",
        json={
            "held_on": "2026-09-15",
            "title": "三季度联席会议",
            "minutes": "议定修缮路灯",
            "partners": ["rdb", "jgj"],
        },
        headers=town["staff"],
    )
    assert meeting.status_code == 201, meeting.get_json()
    meeting = meeting.get_json()
    assert meeting["community_code"] == COMMUNITY
    assert [unit["code"] for unit in meeting["partners"]] == ["rdb", "jgj"]

    matter = _filed(client, town["staff"], meeting_id=meeting["id"], description="3 栋前路灯不亮")
    assert (matter["status"], matter["unit"]["name"], matter["overdue"]) == ("open", "区人大办公室", False)
    clock.set("2026-11-05 10:00")
    photo = _upload(client, town["staff"])
    assert _note(client, town["staff"], matter["id"], note="已联系供电", media_ids=[photo]).status_code == 201
    assert _note(client, town["staff"], matter["id"], status="in_progress").status_code == 201
    assert_error(_note(client, town["staff"], matter["id"], status="done"), 422, "missing_fields")
    clock.set("2026-11-18 16:00")
    done = _note(client, town["office"], matter["id"], status="done", result="更换灯具 4 套")
    assert done.status_code == 201, done.get_json()
    done = done.get_json()
    assert (done["status"], done["result"], done["status_label"]) == ("done", "更换灯具 4 套", "已办结")
    steps = [(n["from_status"], n["to_status"], n["actor"]["name"], len(n["photos"])) for n in done["notes"]]
    assert steps == [
        (None, "open", "cs", 0),
        ("open", None, "cs", 1),
        ("open", "in_progress", "cs", 0),
        ("in_progress", "done", "sup", 0),
    ]

    read = client.get(f"/api/v1/matters/{matter['id']}", headers=town["leader"]).get_json()
    assert read["notes"] == done["notes"]
    listed = client.get("/api/v1/matters", query_string={"meeting": meeting["id"]}, headers=town["leader"]).get_json()
    assert [m["id"] for m in listed["matters"]] == [matter["id"]]
    assert client.get(f"/api/v1/meetings/{meeting['id']}", headers=town["leader"]).get_json() == meeting
    by_month = client.get("/api/v1/meetings", query_string={"month": "2026-09"}, headers=town["office"]).get_json()
    assert [m["id"] for m in by_month["meetings"]] == [meeting["id"]]
    assert client.get("/api/v1/meetings?month=2026-10", headers=town["office"]).get_json() == {"meetings": []}


def test_notes_are_never_changed(client, town, ctx):
    matter = _filed(client, town["staff"])
    note = db.session.get(MatterNote, matter["notes"][0]["id"])
    note.note = "改写"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize(
    ("moves", "status", "code"),
    [
        ([], {"status": "done", "result": "x"}, "matter_state"),  # open → done skips in_progress
        ([{"status": "in_progress"}], {"status": "open"}, "unknown_status"),  # no way back
        ([{"status": "in_progress"}, {"status": "done", "result": "x"}], {"note": "再记一笔"}, "matter_state"),
        (
            [{"status": "in_progress"}, {"status": "done", "result": "x"}],
            {"status": "dropped", "note": "撤"},
            "matter_state",
        ),
        ([{"status": "dropped", "note": "重复立项"}], {"status": "in_progress"}, "matter_state"),
    ],
)
def test_moves_out_of_order_are_refused(client, town, moves, status, code):
    matter = _filed(client, town["staff"])
    for move in moves:
        assert _note(client, town["admin"], matter["id"], **move).status_code == 201
    response = _note(client, town["admin"], matter["id"], **status)
    if code == "matter_state":
        error = assert_error(response, 409, code)
        assert (
            error["details"]["status"]
            == client.get(f"/api/v1/matters/{matter['id']}", headers=town["admin"]).get_json()["status"]
        )
    else:
        assert_error(response, 422, code)


@pytest.mark.parametrize("start", ["open", "in_progress"])
def test_only_the_office_drops_an_item_and_says_why(client, town, start):
    matter = _filed(client, town["staff"])
    if start == "in_progress":
        _note(client, town["staff"], matter["id"], status="in_progress")
    assert_error(_note(client, town["staff"], matter["id"], status="dropped", note="不办了"), 403, "forbidden")
    assert_error(_note(client, town["office"], matter["id"], status="dropped"), 422, "missing_fields")
    dropped = _note(client, town["office"], matter["id"], status="dropped", note="与 12345 工单重复")
    assert dropped.status_code == 201 and dropped.get_json()["status"] == "dropped"


def test_an_empty_note_is_refused(client, town):
    matter = _filed(client, town["staff"])
    assert_error(_note(client, town["staff"], matter["id"], note="  "), 422, "empty_note")
    same = _note(client, town["staff"], matter["id"], status="open", note="状态不变的进展")
    assert same.status_code == 201 and same.get_json()["notes"][-1]["to_status"] is None


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"partner": "nyw"}, "not_a_partner"),  # 百步梯's partner, not 长乐's
        ({"partner": "jgj"}, "not_a_partner"),  # 长乐's partner until October
        ({"partner": "nobody"}, "unknown_unit"),
        ({"due_on": "2026-11-01"}, "due_in_past"),
        ({"meeting_id": 99}, "unknown_meeting"),
        ({"community": OTHER}, "community_not_covered"),
        ({"title": ""}, "validation_failed"),
        ({"due_on": "11/20"}, "validation_failed"),
        ({"meeting_id": "1"}, "validation_failed"),
        ({"colour": "red"}, "validation_failed"),
    ],
)
def test_bad_items_are_refused(client, town, fields, code):
    assert_error(_file(client, town["staff"], **fields), 403 if code == "community_not_covered" else 422, code)


def test_an_item_of_another_communitys_meeting_is_refused(client, town):
    other = client.post(
        "/api/v1/meetings",
        json={"held_on": "2026-10-10", "title": "百步梯会议", "partners": ["nyw"]},
        headers=town["other_staff"],
    ).get_json()
    assert_error(_file(client, town["staff"], meeting_id=other["id"]), 422, "unknown_meeting")
    assert_error(_file(client, town["office"]), 422, "community_required")  # the office names the community
    assert _file(client, town["office"], community=OTHER, partner="nyw").status_code == 201


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"partners": ["jgj"], "held_on": "2026-10-01"}, "not_a_partner"),  # its partnership had ended that day
        ({"partners": ["nyw"]}, "not_a_partner"),
        ({"partners": ["nobody"]}, "unknown_unit"),
        ({"held_on": "2026-11-03"}, "future_date"),
        ({"held_on": "2026-02-30"}, "validation_failed"),
        ({"partners": "rdb"}, "validation_failed"),
    ],
)
def test_partners_present_must_be_partners_that_day(client, town, fields, code):
    body = {"held_on": "2026-09-30", "title": "联席会议", "partners": ["rdb", "jgj"], **fields}
    assert_error(client.post("/api/v1/meetings", json=body, headers=town["staff"]), 422, code)


# --- who may do what ------------------------------------------------------------------------------


def _writes(client, town):
    """Every write, on a real meeting and item of 长乐社区."""
    matter = _filed(client, town["staff"])
    return [
        ("/api/v1/meetings", {"held_on": "2026-10-20", "title": "会", "partners": ["rdb"], "community": COMMUNITY}),
        ("/api/v1/matters", {"title": "事", "partner": "rdb", "due_on": "2026-12-01", "community": COMMUNITY}),
        (f"/api/v1/matters/{matter['id']}/notes", {"note": "进展"}),
    ]


@pytest.mark.parametrize("write", range(3))
@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("leader", 403, "forbidden"),
        ("monitor", 403, "forbidden"),
        ("unit_staff", 403, "forbidden"),
        ("volunteer", 403, "forbidden"),
        ("anonymous", 401, "unauthorized"),
        ("other_staff", 403, "community_not_covered"),
    ],
)
def test_only_the_communitys_staff_and_the_office_write(client, town, write, who, status, code):
    url, body = _writes(client, town)[write]
    assert_error(client.post(url, json=body, headers=town[who]), status, code)


@pytest.mark.parametrize("write", range(3))
@pytest.mark.parametrize("who", ["staff", "office", "admin"])
def test_the_communitys_staff_and_the_office_do_write(client, town, write, who):
    url, body = _writes(client, town)[write]
    response = client.post(url, json=body, headers=town[who])
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(
    "url",
    ["/api/v1/matters/999", "/api/v1/meetings/999", "/api/v1/matters/99999999999999999999"],
)
def test_unknown_ids_are_404(client, town, url):
    response = client.get(url, headers=town["office"])
    assert response.status_code == 404 and "error" in response.get_json()
    assert_error(_note(client, town["staff"], 999, note="x"), 404, "matter_not_found")


def test_malformed_bodies_are_400(client, town):
    for url in ("/api/v1/meetings", "/api/v1/matters", "/api/v1/matters/1/notes"):
        assert_error(
            client.post(url, data="[1]", content_type="application/json", headers=town["staff"]), 400, "malformed_json"
        )


def test_community_staff_read_their_own_community_only(client, town):
    mine = _filed(client, town["staff"])
    theirs = _filed(client, town["office"], community=OTHER, partner="nyw")
    listed = client.get("/api/v1/matters", headers=town["staff"]).get_json()["matters"]
    assert [m["id"] for m in listed] == [mine["id"]]
    assert_error(client.get(f"/api/v1/matters/{theirs['id']}", headers=town["staff"]), 403, "community_not_covered")
    assert_error(client.get(f"/api/v1/matters?community={OTHER}", headers=town["staff"]), 403, "community_not_covered")
    everything = client.get("/api/v1/matters", headers=town["leader"]).get_json()["matters"]
    assert {m["id"] for m in everything} == {mine["id"], theirs["id"]}


# --- the figures ----------------------------------------------------------------------------------


def test_overdue_items_count_against_their_partner_as_of_a_day(client, town, clock):
    first = _filed(client, town["staff"], due_on="2026-11-10")
    second = _filed(client, town["staff"], due_on="2026-11-12")
    _filed(client, town["staff"], due_on="2026-12-31")
    clock.set("2026-11-08 09:00")
    theirs = _filed(client, town["office"], community=OTHER, partner="nyw", due_on="2026-11-10")
    clock.set("2026-11-14 09:00")
    _note(client, town["staff"], first["id"], status="in_progress")
    _note(client, town["staff"], first["id"], status="done", result="修好")
    _note(client, town["office"], theirs["id"], status="dropped", note="不属社区事务")

    def overdue(as_of):
        body = client.get("/api/v1/matters/overdue", query_string={"as_of": as_of}, headers=town["leader"]).get_json()
        return [(row["unit"], row["overdue"], row["matter_ids"]) for row in body["units"]]

    assert overdue("2026-11-10") == []  # the last day is not yet late
    assert overdue("2026-11-11") == [("nyw", 1, [theirs["id"]]), ("rdb", 1, [first["id"]])]
    assert overdue("2026-11-13") == [("rdb", 2, [first["id"], second["id"]]), ("nyw", 1, [theirs["id"]])]
    assert overdue("2026-11-14") == [("rdb", 1, [second["id"]])]  # done and dropped that day
    assert overdue("2026-11-01") == []
    today = client.get("/api/v1/matters?overdue=true", headers=town["office"]).get_json()["matters"]
    assert [(m["id"], m["overdue"]) for m in today] == [(second["id"], True)]
    assert_error(client.get("/api/v1/matters/overdue", headers=town["staff"]), 403, "forbidden")
    far = client.get("/api/v1/matters/overdue", query_string={"as_of": "9999-12-31"}, headers=town["leader"])
    assert_error(far, 422, "validation_failed")  # its end of day would be past the last date


def test_the_months_on_time_rate(client, town, clock, ctx):
    due = {
        name: _filed(client, town["staff"], title=name, due_on=day)["id"]
        for name, day in (
            ("on time", "2026-11-20"),
            ("late", "2026-11-20"),
            ("owed", "2026-11-30"),
            ("dropped", "2026-11-25"),
            ("december", "2026-12-01"),
        )
    }
    _filed(client, town["office"], community=OTHER, partner="nyw", due_on="2026-11-20")
    for name in ("on time", "late", "december"):
        _note(client, town["staff"], due[name], status="in_progress")
    clock.set("2026-11-20 23:30")  # the last evening counts, in local time (15:30 UTC)
    _note(client, town["staff"], due["on time"], status="done", result="办结")
    _note(client, town["staff"], due["december"], status="done", result="提前办结")
    clock.set("2026-11-21 00:10")
    _note(client, town["staff"], due["late"], status="done", result="逾期办结")
    _note(client, town["office"], due["dropped"], status="dropped", note="撤销")

    assert matters.on_time_counts(date(2026, 11, 1)) == {COMMUNITY: (1, 3), OTHER: (0, 1)}
    assert matters.on_time_rate(COMMUNITY, date(2026, 11, 1)) == pytest.approx(1 / 3)
    assert matters.on_time_rate(COMMUNITY, date(2026, 12, 1)) == 1.0
    assert matters.on_time_rate(COMMUNITY, date(2026, 10, 1)) is None


def test_the_responsible_partners_staff_report_progress(client, town):
    """Staff of the unit owing an item (the partner reports its progress) list and read their
    unit's items and add progress notes with photos; moving the item stays the community's."""
    ours = _filed(client, town["staff"])
    _filed(client, town["other_staff"], partner="nyw", community=OTHER)
    listed = client.get("/api/v1/matters", headers=town["partner_staff"]).get_json()["matters"]
    assert [row["id"] for row in listed] == [ours["id"]]
    assert client.get(f"/api/v1/matters/{ours['id']}", headers=town["partner_staff"]).status_code == 200
    assert client.get("/api/v1/matters", headers=town["unit_staff"]).get_json()["matters"] == []
    assert_error(client.get(f"/api/v1/matters/{ours['id']}", headers=town["unit_staff"]), 403, "forbidden")

    media_id = _upload(client, town["partner_staff"])
    noted = _note(client, town["partner_staff"], ours["id"], note="已联系施工队", media_ids=[media_id])
    assert noted.status_code == 201, noted.get_json()
    last = noted.get_json()["notes"][-1]
    assert last["actor"]["name"] == "staff-rdb" and last["to_status"] is None and len(last["photos"]) == 1
    assert_error(_note(client, town["partner_staff"], ours["id"], status="in_progress"), 403, "forbidden")
    assert matters.roles_on(auth.user_named("staff-rdb"), db.session.get(matters.Matter, ours["id"])) == {"partner"}


def test_a_bounded_supervisor_lists_only_his_communities(client, town):
    """A supervisor bound to 长乐社区 lists its partnerships, teams, meetings and items only."""
    _filed(client, town["staff"])
    _filed(client, town["other_staff"], partner="nyw", community=OTHER)
    for headers, community in ((town["staff"], COMMUNITY), (town["other_staff"], OTHER)):
        body = {"held_on": "2026-10-20", "title": "会", "partners": [], "community": community}
        assert client.post("/api/v1/meetings", json=body, headers=headers).status_code == 201
    partners.create_team("百步梯志愿队", OTHER)
    bounded = _bearer(auth.create_user("sup-cl", "supervisor", areas=[COMMUNITY]))
    street = _bearer(auth.create_user("sup-st", "supervisor", areas=[STREET]))
    lists = {
        "partnerships": "community_code",
        "teams": "community_code",
        "meetings": "community_code",
        "matters": "community_code",
    }
    for name, field in lists.items():
        mine = client.get(f"/api/v1/{name}", headers=bounded).get_json()[name]
        assert mine and {row[field] for row in mine} == {COMMUNITY}, name
        everything = client.get(f"/api/v1/{name}", headers=street).get_json()[name]
        assert {row[field] for row in everything} == {COMMUNITY, OTHER}, name
    assert_error(client.get(f"/api/v1/matters?community={OTHER}", headers=bounded), 403, "community_not_covered")
