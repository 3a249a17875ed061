"""挂牌整改: the office lists a problem under a leader and a lead unit, the unit reports progress
and asks to be delisted, a supervisor delists it with an after photo and reopens it when the
problem returns; later cases nearby in its categories are linked as suggested; the public list
(API and phone page) shows nothing private; the A4 sheet prints."""

import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from civicreport.accounts import auth
from civicreport.accounts.models import User
from civicreport.cases.models import Media
from civicreport.extensions import db
from civicreport.oversight import listings
from tests.factories import COMMUNITY, FAR_AWAY, INSIDE, NE_CORNER, STREET, SW_CORNER, make_unit, make_user, photo_bytes
from tests.helpers import assert_error, submit

LEADER_NAME, LEADER_DISPLAY, LEADER_PHONE = "leader-wang", "王副区长", "13800138000"
PRIVATE_NOTE = "联系人李四 13911112222 现场说明"
PRIVATE_DESCRIPTION = "举报人张三反映市场后门夜间倾倒"


@pytest.fixture
def office(city_unit, client):
    """The people of a listing: the office, its leader, the lead unit 城管 and co-unit 市场监管."""
    make_unit("scjg", "market_regulation", "区市场监管局")
    make_unit("jxj", "traffic_police", "区交巡警支队")
    auth.create_user(LEADER_NAME, "leader", display_name=LEADER_DISPLAY, phone=LEADER_PHONE)
    people = {
        "supervisor": make_user("sup-zhao", "supervisor")[1],
        "leader": {"Authorization": f"Bearer {auth.issue_token(auth.user_named(LEADER_NAME))}"},
        "lead": make_user("staff-cgj", "unit_staff", "cgj")[1],
        "co": make_user("staff-scjg", "unit_staff", "scjg")[1],
        "other": make_user("staff-jxj", "unit_staff", "jxj")[1],
        "monitor": make_user("monitor", "monitor")[1],
    }
    return people


def _upload(client, headers, color=(40, 120, 40)):
    response = client.post(
        "/api/v1/media",
        headers=headers,
        data={"photo": (io.BytesIO(photo_bytes((64, 48), gps=INSIDE, color=color)), "p.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _listing(**changes):
    return {
        "title": "古南农贸市场脏乱差臭",
        "description": PRIVATE_DESCRIPTION,
        "place": "古南农贸市场",
        "lat": INSIDE[0],
        "lon": INSIDE[1],
        "categories": ["06010"],
        "leader": LEADER_NAME,
        "leader_office": "区政府分管副区长",
        "lead_unit": "cgj",
        "co_units": ["scjg"],
        "measures": "每日两次清运，划定临时摊区",
        "target_on": (listings.today() + timedelta(days=30)).isoformat(),
        **changes,
    }


def _list(client, people, **changes):
    response = client.post("/api/v1/listed-problems", json=_listing(**changes), headers=people["supervisor"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _act(client, problem_id, headers, action, **fields):
    return client.post(
        f"/api/v1/listed-problems/{problem_id}/transitions", json={"action": action, **fields}, headers=headers
    )


def _ok(client, problem_id, headers, action, **fields):
    response = _act(client, problem_id, headers, action, **fields)
    assert response.status_code == 200, (action, response.get_json())
    return response.get_json()


def test_a_problem_goes_from_listing_to_delisting_and_is_reopened(client, office):
    earlier = submit(client, INSIDE)["id"]
    before = _upload(client, office["supervisor"])
    problem = _list(client, office, reports=[earlier], media_ids=[before])
    pid = problem["id"]
    assert problem["number"].startswith("GP") and problem["status"] == "listed"
    assert problem["leader"]["name"] == LEADER_NAME and problem["lead_unit"]["code"] == "cgj"
    assert [unit["code"] for unit in problem["co_units"]] == ["scjg"]
    assert [(case["id"], case["linked_by"]) for case in problem["cases"]] == [(earlier, "manual")]
    assert len(problem["events"][0]["photos"]) == 1 and problem["overdue"] is False
    assert problem["allowed_actions"] == []  # the office waits for the lead unit

    lead = client.get(f"/api/v1/listed-problems/{pid}", headers=office["lead"]).get_json()
    assert lead["allowed_actions"] == ["update", "request_delisting"]
    _ok(client, pid, office["lead"], "update", note="已清运垃圾 3 车", media_ids=[_upload(client, office["lead"])])
    _ok(client, pid, office["lead"], "request_delisting", note="整改完成")
    refused = _ok(client, pid, office["supervisor"], "refuse_delisting", note="后门仍有堆放")
    assert refused["status"] == "listed"
    _ok(client, pid, office["lead"], "request_delisting", note="后门已清理")

    assert_error(_act(client, pid, office["supervisor"], "delist"), 422, "missing_fields")
    after = _upload(client, office["supervisor"], color=(200, 200, 40))
    delisted = _ok(client, pid, office["supervisor"], "delist", note="核验通过", media_ids=[after])
    assert delisted["status"] == "delisted" and delisted["delisted_at"]

    assert_error(_act(client, pid, office["supervisor"], "reopen"), 422, "missing_fields")
    new_target = (listings.today() + timedelta(days=10)).isoformat()
    reopened = _ok(client, pid, office["supervisor"], "reopen", note="问题反弹", target_on=new_target)
    assert reopened["status"] == "listed" and reopened["reopened"] == 1
    assert reopened["delisted_at"] is None and reopened["target_on"] == new_target
    assert [step["action"] for step in reopened["events"]] == [
        "list",
        "update",
        "request_delisting",
        "refuse_delisting",
        "request_delisting",
        "delist",
        "reopen",
    ]
    assert [step["to_status"] for step in reopened["events"]][1] is None  # progress: the status stays


def test_roles_states_and_input_answer_in_the_one_error_shape(client, office):
    pid = _list(client, office)["id"]
    assert_error(_act(client, pid, office["co"], "update", note="配合"), 403, "not_lead_unit")
    assert_error(_act(client, pid, office["other"], "update", note="x"), 403, "not_lead_unit")
    assert_error(_act(client, pid, office["leader"], "request_delisting"), 403, "forbidden")
    assert_error(_act(client, pid, office["lead"], "delist", media_ids=["x"]), 403, "forbidden")
    assert_error(_act(client, pid, office["supervisor"], "delist", media_ids=["x"]), 409, "listing_state")
    assert_error(_act(client, pid, office["lead"], "update"), 422, "missing_fields")
    assert_error(_act(client, pid, office["lead"], "fly"), 422, "validation_failed")
    assert_error(_act(client, 999999, office["lead"], "update", note="x"), 404, "listing_not_found")
    assert_error(client.get("/api/v1/listed-problems/99999999999999999999", headers=office["lead"]), 404, "not_found")
    assert_error(client.get(f"/api/v1/listed-problems/{pid}", headers=office["other"]), 403, "listing_not_yours")
    assert_error(client.get(f"/api/v1/listed-problems/{pid}", headers=office["monitor"]), 403, "forbidden")
    assert_error(client.get(f"/api/v1/listed-problems/{pid}"), 401, "unauthorized")
    assert_error(client.post("/api/v1/listed-problems", json=_listing(), headers=office["lead"]), 403, "forbidden")
    _ok(client, pid, office["lead"], "request_delisting")
    assert_error(_act(client, pid, office["lead"], "request_delisting"), 409, "listing_state")

    bad = {
        "leader": ("staff-cgj", "not_a_leader"),
        "lead_unit": ("nope", "unknown_unit"),
        "categories": (["99999"], "unknown_categories"),
        "reports": (["QJ20000101-0001"], "unknown_reports"),
        "target_on": ((listings.today() - timedelta(days=1)).isoformat(), "target_in_past"),
        "lat": (FAR_AWAY[0], "outside_service_area"),
    }
    for field, (value, code) in bad.items():
        changes = {field: value, "lon": FAR_AWAY[1]} if field == "lat" else {field: value}
        response = client.post("/api/v1/listed-problems", json=_listing(**changes), headers=office["supervisor"])
        assert_error(response, 422, code)
    unplaced = _listing(lat=None, lon=None)
    assert_error(
        client.post("/api/v1/listed-problems", json=unplaced, headers=office["supervisor"]), 422, "place_required"
    )
    for changes in ({"lat": 91}, {"lon": None}, {"categories": []}, {"area": "12"}, {"extra": 1}, {"title": ""}):
        response = client.post("/api/v1/listed-problems", json=_listing(**changes), headers=office["supervisor"])
        assert_error(response, 422, "validation_failed")
    assert_error(client.get("/api/v1/listed-problems?status=gone", headers=office["lead"]), 422, "validation_failed")


def test_a_problem_placed_by_area_only_and_a_supervisor_kept_to_his_areas(client, office):
    by_area = _list(client, office, lat=None, lon=None, area=COMMUNITY)
    assert by_area["area_code"] == COMMUNITY and by_area["area_name"] == "古南街道 长乐社区"
    elsewhere = auth.create_user("sup-elsewhere", "supervisor", areas=["500110002"])
    headers = {"Authorization": f"Bearer {auth.issue_token(elsewhere)}"}
    response = client.post("/api/v1/listed-problems", json=_listing(), headers=headers)
    assert_error(response, 403, "outside_area")
    assert client.get("/api/v1/listed-problems", headers=headers).get_json()["listed_problems"] == []
    mine = auth.create_user("sup-gunan", "supervisor", areas=[STREET])
    headers = {"Authorization": f"Bearer {auth.issue_token(mine)}"}
    assert [p["id"] for p in client.get("/api/v1/listed-problems", headers=headers).get_json()["listed_problems"]] == [
        by_area["id"]
    ]


def test_lists_filter_by_unit_leader_status_and_overdue(client, office, monkeypatch):
    first = _list(client, office)
    second = _list(client, office, title="背街小巷乱堆放", lead_unit="jxj", co_units=[])
    assert first["number"] != second["number"]

    def ids(path, who="supervisor"):
        response = client.get(path, headers=office[who])
        assert response.status_code == 200, response.get_json()
        return [row["id"] for row in response.get_json()["listed_problems"]]

    assert ids("/api/v1/listed-problems") == [first["id"], second["id"]]
    assert ids("/api/v1/listed-problems", "co") == [first["id"]]  # a co-unit reads its problems
    assert ids("/api/v1/listed-problems", "other") == [second["id"]]
    assert ids("/api/v1/listed-problems?unit=scjg") == [first["id"]]
    assert ids(f"/api/v1/listed-problems?leader={LEADER_NAME}", "leader") == [first["id"], second["id"]]
    assert ids("/api/v1/listed-problems?status=delisted") == []
    assert ids("/api/v1/listed-problems?overdue=true") == []
    later = listings.today() + timedelta(days=31)
    monkeypatch.setattr(listings, "today", lambda: later)
    assert ids("/api/v1/listed-problems?overdue=true") == [first["id"], second["id"]]
    assert client.get(f"/api/v1/listed-problems/{first['id']}", headers=office["lead"]).get_json()["overdue"] is True


def test_later_cases_nearby_in_its_categories_are_suggested(client, office, app):
    named = submit(client, SW_CORNER)["id"]
    nearby_before = submit(client, (SW_CORNER[0] + 0.0001, SW_CORNER[1]))["id"]
    problem = _list(client, office, reports=[named], lat=SW_CORNER[0], lon=SW_CORNER[1])
    assert {(c["id"], c["linked_by"]) for c in problem["cases"]} == {(named, "manual"), (nearby_before, "suggested")}

    later = submit(client, (SW_CORNER[0], SW_CORNER[1] + 0.0001))["id"]
    other_kind = submit(client, SW_CORNER, category="06020")["id"]  # same major class, not its category
    far = submit(client, NE_CORNER)["id"]
    result = app.test_cli_runner().invoke(args=["worker", "--once"])  # a worker round links it
    assert result.exit_code == 0 and "errors=0" in result.output, result.output
    with app.app_context():
        assert listings.suggest_all() == {"listing_suggested": 0}  # linked once
    cases = client.get(f"/api/v1/listed-problems/{problem['id']}", headers=office["lead"]).get_json()["cases"]
    linked = {c["id"]: c["linked_by"] for c in cases}
    assert linked[later] == "suggested" and other_kind not in linked and far not in linked


def _private_strings(client, office, problem_id):
    """Everything about the problem the public must not read: persons, contacts, notes, cases, originals."""
    with client.application.app_context():
        users = db.session.scalars(select(User)).all()
        originals = list(db.session.scalars(select(Media.original_key)))
        secrets = [u.name for u in users] + [u.display_name for u in users] + [LEADER_PHONE, *originals]
    staff = client.get(f"/api/v1/listed-problems/{problem_id}", headers=office["supervisor"]).get_json()
    secrets += [PRIVATE_NOTE, PRIVATE_DESCRIPTION, staff["measures"], *(c["id"] for c in staff["cases"])]
    return [s for s in secrets if s]


PUBLIC_FIELDS = {
    "number",
    "title",
    "place",
    "area_name",
    "leader_office",
    "lead_unit",
    "target_on",
    "status",
    "status_label",
    "overdue",
    "listed_on",
    "delisted_on",
    "before_photos",
    "after_photos",
}
PHOTO_FIELDS = {"id", "url", "thumb_url", "taken_at"}


def test_the_public_list_and_page_show_nothing_private(client, office):
    case = submit(client, INSIDE, contact="13700001111")["id"]
    problem = _list(client, office, reports=[case], media_ids=[_upload(client, office["supervisor"])])
    pid = problem["id"]
    _ok(client, pid, office["lead"], "update", note=PRIVATE_NOTE, media_ids=[_upload(client, office["lead"])])
    _ok(client, pid, office["lead"], "request_delisting", note=PRIVATE_NOTE)
    _ok(
        client,
        pid,
        office["supervisor"],
        "delist",
        note=PRIVATE_NOTE,
        media_ids=[_upload(client, office["supervisor"])],
    )

    response = client.get("/api/v1/public/listed-problems")  # no login
    assert response.status_code == 200
    (row,) = response.get_json()["listed_problems"]
    assert set(row) == PUBLIC_FIELDS  # every field, checked one by one below
    assert row["number"] == problem["number"] and row["title"] == problem["title"]
    assert row["place"] == "古南农贸市场" and row["area_name"] == "古南街道 长乐社区"
    assert row["leader_office"] == "区政府分管副区长" and row["lead_unit"] == "区城市管理局"
    assert row["target_on"] == problem["target_on"] and row["status"] == "delisted"
    assert row["status_label"] == "已摘牌" and row["overdue"] is False
    assert row["listed_on"] == row["delisted_on"] == listings.today().isoformat()
    assert len(row["before_photos"]) == 1 and len(row["after_photos"]) == 1  # progress photos stay inside
    staff_photos = {step["action"]: step["photos"][0] for step in problem["events"] if step["photos"]}
    assert row["before_photos"][0]["id"] == staff_photos["list"]["id"]
    for photo in row["before_photos"] + row["after_photos"]:
        assert set(photo) == PHOTO_FIELDS
        with client.application.app_context():
            media = db.session.get(Media, photo["id"])
            assert media.display_key in photo["url"] and media.original_key not in photo["url"]  # blurred
            assert media.thumb_key in photo["thumb_url"]

    secrets = _private_strings(client, office, pid)
    text = json.dumps(response.get_json(), ensure_ascii=False)
    page = client.get("/public/listed-problems")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert problem["title"] in html and "区政府分管副区长" in html and "<script" not in html
    for secret in secrets + ["13700001111"]:
        assert secret not in text, secret
        assert secret not in html, secret
    assert client.get("/public/listed-problems?status=listed").get_data(as_text=True).count("<article") == 0
    assert_error(client.get("/api/v1/public/listed-problems?status=x"), 422, "validation_failed")


def test_the_a4_sheet_prints_for_readers_only(client, office):
    pid = _list(client, office)["id"]
    response = client.get(f"/console/listed-problems/{pid}/sheet", headers=office["lead"])
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert (
        "挂牌督办单" in html
        and "暴露垃圾" in html
        and LEADER_DISPLAY in html
        and "区市场监管局" in html
        and "<script" not in html
    )
    assert "listing_sheet.css" in html
    assert_error(client.get(f"/console/listed-problems/{pid}/sheet"), 401, "unauthorized")
    assert_error(client.get(f"/console/listed-problems/{pid}/sheet", headers=office["other"]), 403, "listing_not_yours")
    assert_error(client.get("/console/listed-problems/424242/sheet", headers=office["lead"]), 404, "listing_not_found")
