"""点位/暗访: points on the grid, checklists per kind, inspections whose failed items open routed
cases (linked to the item, returned in the answer), history, pass rate and overdue points."""

import io
from datetime import timedelta

import pytest

from civicreport.accounts import auth
from civicreport.cases.models import Report
from civicreport.db_types import utcnow
from civicreport.extensions import db
from civicreport.oversight import checklists
from civicreport.oversight.checklists import load_checklists
from civicreport.oversight.models import Inspection, InspectionPoint
from civicreport.oversight.status import POINT_KINDS
from tests.factories import FAR_AWAY, INSIDE, make_rule, make_unit, make_user, photo_bytes
from tests.helpers import assert_error, count, submit

MARKET = ["floor_clean", "garbage_removal", "road_occupation", "live_poultry", "stall_order"]


@pytest.fixture
def people(city_unit, client):
    """The office, a monitor, the market regulator (a rule sends it 活禽 cases) and its staff."""
    load_checklists()
    regulator = make_unit("scjg", "market_regulation", "区市场监管局")
    make_rule(regulator, code="09020")
    return {
        "office": make_user("sup", "supervisor")[1],
        "admin": make_user("admin", "admin")[1],
        "monitor": make_user("monitor", "monitor")[1],
        "other_monitor": make_user("monitor2", "monitor")[1],
        "regulator": make_user("staff-scjg", "unit_staff", "scjg")[1],
        "city": make_user("staff-cgj", "unit_staff", "cgj")[1],
        "citizen": make_user("citizen", "citizen")[1],
    }


def _point(client, people, **fields):
    body = {"name": "古南农贸市场", "kind": "market", "lat": INSIDE[0], "lon": INSIDE[1], "unit": "scjg", **fields}
    response = client.post("/api/v1/points", json=body, headers=people["office"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _upload(client, headers, shade=0):
    response = client.post(
        "/api/v1/media",
        headers=headers,
        data={"photo": (io.BytesIO(photo_bytes(gps=INSIDE, color=(120, shade, 60))), "p.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _answers(failed=(), photos=None):
    photos = photos or {}
    return [
        {"item": code, "pass": code not in failed, "note": "地面有积水" if code in failed else None}
        | {"media_ids": photos.get(code, [])}
        for code in MARKET
    ]


def _inspect(client, headers, point_id, items, **fields):
    return client.post(f"/api/v1/points/{point_id}/inspections", json={"items": items, **fields}, headers=headers)


def test_two_failed_items_open_two_routed_cases_linked_to_their_items(client, people, grid):
    point = _point(client, people)
    assert point["community_code"] == "500110001001" and point["grid_code"].startswith("500110001001")
    assert point["unit"]["code"] == "scjg" and point["every_days"] == 7 and point["pass_rate"] is None
    garbage = [_upload(client, people["monitor"], 1), _upload(client, people["monitor"], 2)]
    poultry = [_upload(client, people["monitor"], 3)]
    floor = [_upload(client, people["monitor"], 4)]

    photos = {"garbage_removal": garbage, "live_poultry": poultry, "floor_clean": floor}
    response = _inspect(client, people["monitor"], point["id"], _answers({"garbage_removal", "live_poultry"}, photos))

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["passed"] is False and body["unannounced"] is True
    routed = {case["category"]: case["unit"]["code"] for case in body["cases"]}
    # 垃圾清运 → 06010, the district rule's 城管局; 活禽管理 → 09020, the code rule's 市场监管局
    assert routed == {"06010": "cgj", "09020": "scjg"}
    assert all(case["status"] == "submitted" for case in body["cases"])
    items = {item["item"]: item for item in body["items"]}
    assert [item["item"] for item in body["items"]] == MARKET
    assert items["garbage_removal"]["case"]["id"] != items["live_poultry"]["case"]["id"]
    assert items["floor_clean"]["case"] is None and items["floor_clean"]["pass"] is True
    assert len(items["floor_clean"]["photos"]) == 1 and len(items["garbage_removal"]["photos"]) == 2
    assert items["live_poultry"]["label"] == "活禽管理"

    case = client.get(f"/api/v1/reports/{items['garbage_removal']['case']['id']}", headers=people["office"]).get_json()
    assert case["unit"]["code"] == "cgj" and case["category"]["code"] == "06010"
    assert "古南农贸市场" in case["description"] and "垃圾清运" in case["description"]
    assert "地面有积水" in case["description"]
    assert [photo["id"] for photo in case["photos"]] == garbage  # the item's photos are the case's
    assert case["location"]["lat"] == pytest.approx(INSIDE[0], abs=1e-6)
    assert count(Report) == 2


def test_the_dispatched_unit_sees_the_inspection_case(client, people, grid):
    point = _point(client, people)
    body = _inspect(client, people["monitor"], point["id"], _answers({"live_poultry"})).get_json()
    case_id = body["cases"][0]["id"]
    for action in ("accept", "dispatch"):
        answer = client.post(
            f"/api/v1/reports/{case_id}/transitions", json={"action": action}, headers=people["office"]
        )
        assert answer.status_code == 200, answer.get_json()
    answer = client.post(
        f"/api/v1/reports/{case_id}/transitions", json={"action": "claim"}, headers=people["regulator"]
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "in_progress"


def test_history_pass_rate_and_overdue(client, people, grid):
    point = _point(client, people, every_days=3)
    assert _inspect(client, people["monitor"], point["id"], _answers({"stall_order"})).status_code == 201
    assert _inspect(client, people["office"], point["id"], _answers(), unannounced=False).status_code == 201

    history = client.get(f"/api/v1/points/{point['id']}/inspections", headers=people["office"]).get_json()
    assert [i["passed"] for i in history["inspections"]] == [True, False]  # the latest first
    assert history["inspections"][0]["unannounced"] is False
    assert history["inspections"][1]["items"][4]["case"]["category"] == "09020"
    figures = history["point"]
    assert (figures["inspections"], figures["passed"], figures["pass_rate"]) == (2, 1, 0.5)
    assert figures["item_pass_rate"] == 0.9 and figures["overdue"] is False

    late = db.session.get(InspectionPoint, point["id"])
    late.last_inspected_at = utcnow() - timedelta(days=4)
    never = _point(client, people, name="东门背街", kind="back_street", every_days=7, unit=None)
    db.session.get(InspectionPoint, never["id"]).created_at = utcnow() - timedelta(days=8)
    fresh = _point(client, people, name="新街口", kind="junction", unit="cgj")
    db.session.commit()
    listed = client.get("/api/v1/points", headers=people["office"]).get_json()["points"]
    assert {p["id"]: p["overdue"] for p in listed} == {point["id"]: True, never["id"]: True, fresh["id"]: False}
    overdue = client.get("/api/v1/points?overdue=true", headers=people["monitor"]).get_json()["points"]
    assert {p["id"] for p in overdue} == {point["id"], never["id"]}
    markets = client.get("/api/v1/points?kind=market", headers=people["office"]).get_json()["points"]
    assert [p["pass_rate"] for p in markets] == [0.5]
    own = client.get("/api/v1/points", headers=people["regulator"]).get_json()["points"]
    assert [p["id"] for p in own] == [point["id"]]  # unit staff: their unit's points


def test_every_item_answered_once_and_nothing_else(client, people, grid):
    point = _point(client, people)
    url = point["id"]
    missing = _answers()[:-1]
    assert assert_error(_inspect(client, people["monitor"], url, missing), 422, "missing_items")["details"] == {
        "items": ["stall_order"]
    }
    assert_error(
        _inspect(client, people["monitor"], url, [*_answers(), {"item": "x", "pass": True}]), 422, "unknown_items"
    )
    assert_error(_inspect(client, people["monitor"], url, [*_answers(), _answers()[0]]), 422, "duplicate_items")
    assert_error(_inspect(client, people["monitor"], url, [{"item": "floor_clean"}]), 422, "validation_failed")
    assert_error(_inspect(client, people["monitor"], url, []), 422, "validation_failed")
    assert_error(_inspect(client, people["monitor"], 999, _answers()), 404, "point_not_found")
    assert_error(_inspect(client, people["monitor"], 2**63, _answers()), 404, "not_found")
    # GET shares the path with POST: int(max=...) made werkzeug answer 405 (schemathesis found it)
    assert_error(client.get(f"/api/v1/points/{2**63}/inspections", headers=people["monitor"]), 404, "not_found")
    assert count(Inspection) == 0


def test_roles(client, people, grid):
    point = _point(client, people)
    for who in ("regulator", "citizen"):
        assert_error(_inspect(client, people[who], point["id"], _answers()), 403, "forbidden")
    assert_error(_inspect(client, {}, point["id"], _answers()), 401, "unauthorized")
    body = {"name": "x", "kind": "market", "lat": INSIDE[0], "lon": INSIDE[1]}
    assert_error(client.post("/api/v1/points", json=body, headers=people["monitor"]), 403, "forbidden")
    assert_error(client.get("/api/v1/points", headers=people["citizen"]), 403, "forbidden")
    assert_error(client.get(f"/api/v1/points/{point['id']}", headers=people["city"]), 403, "point_not_covered")

    outside_user = auth.create_user("monitor-far", "monitor", areas=["500110002"])
    far = {"Authorization": f"Bearer {auth.issue_token(outside_user)}"}
    assert_error(_inspect(client, far, point["id"], _answers()), 403, "point_not_covered")
    assert client.get("/api/v1/points", headers=far).get_json()["points"] == []


def test_a_refused_photo_leaves_no_case_and_no_inspection(client, people, grid):
    point = _point(client, people)
    mine = _upload(client, people["monitor"], 1)
    theirs = _upload(client, people["other_monitor"], 2)
    photos = {"floor_clean": [mine], "garbage_removal": [theirs]}
    response = _inspect(client, people["monitor"], point["id"], _answers({"floor_clean", "garbage_removal"}, photos))
    assert_error(response, 409, "media_unavailable")
    assert count(Report) == 0 and count(Inspection) == 0
    # the first item's photo is free again: the whole inspection was rolled back
    again = _inspect(client, people["monitor"], point["id"], _answers({"floor_clean"}, {"floor_clean": [mine]}))
    assert again.status_code == 201 and len(again.get_json()["cases"]) == 1


def test_points_are_placed_on_the_grid_and_edited_by_the_office(client, people, grid):
    far = {"name": "x", "kind": "market", "lat": FAR_AWAY[0], "lon": FAR_AWAY[1]}
    assert_error(client.post("/api/v1/points", json=far, headers=people["office"]), 422, "outside_service_area")
    bad = {"name": "x", "kind": "zoo", "lat": INSIDE[0], "lon": INSIDE[1]}
    assert_error(client.post("/api/v1/points", json=bad, headers=people["office"]), 422, "validation_failed")
    nobody = {"name": "x", "kind": "market", "lat": INSIDE[0], "lon": INSIDE[1], "unit": "nope"}
    assert_error(client.post("/api/v1/points", json=nobody, headers=people["office"]), 422, "unknown_unit")

    point = _point(client, people)
    url = f"/api/v1/points/{point['id']}"
    changed = client.patch(url, json={"every_days": 3, "unit": None}, headers=people["office"]).get_json()
    assert changed["every_days"] == 3 and changed["unit"] is None
    assert_error(client.patch(url, json={"every_days": 0}, headers=people["office"]), 422, "validation_failed")
    assert_error(client.patch(url, json={"name": "y"}, headers=people["monitor"]), 403, "forbidden")
    client.patch(url, json={"active": False}, headers=people["office"])
    assert_error(_inspect(client, people["monitor"], point["id"], _answers()), 409, "point_inactive")
    assert client.get("/api/v1/points", headers=people["office"]).get_json()["points"] == []
    assert len(client.get("/api/v1/points?active=false", headers=people["office"]).get_json()["points"]) == 1


def test_admins_edit_the_checklists(client, people, grid):
    point = _point(client, people)
    listed = client.get("/api/v1/checklists?kind=market", headers=people["monitor"]).get_json()["items"]
    assert [item["code"] for item in listed] == MARKET and listed[0]["label"] == "地面清洁"

    item = {"kind": "market", "code": "fire_safety", "label": "消防通道", "category": "09012", "position": 9}
    assert_error(client.post("/api/v1/admin/checklist-items", json=item, headers=people["office"]), 403, "forbidden")
    added = client.post("/api/v1/admin/checklist-items", json=item, headers=people["admin"])
    assert added.status_code == 201, added.get_json()
    again = client.post("/api/v1/admin/checklist-items", json=item, headers=people["admin"])
    assert_error(again, 409, "checklist_item_exists")
    wrong = {**item, "code": "other", "category": "99999"}
    assert_error(
        client.post("/api/v1/admin/checklist-items", json=wrong, headers=people["admin"]), 422, "unknown_category"
    )
    assert_error(_inspect(client, people["monitor"], point["id"], _answers()), 422, "missing_items")

    url = f"/api/v1/admin/checklist-items/{added.get_json()['id']}"
    renamed = client.patch(url, json={"label": "消防通道畅通", "active": False}, headers=people["admin"]).get_json()
    assert renamed["label"] == "消防通道畅通" and renamed["active"] is False
    assert _inspect(client, people["monitor"], point["id"], _answers()).status_code == 201
    every = client.get("/api/v1/checklists?kind=market&include_inactive=true", headers=people["office"]).get_json()
    assert len(every["items"]) == 6
    assert_error(
        client.patch("/api/v1/admin/checklist-items/999", json={"label": "x"}, headers=people["admin"]),
        404,
        "checklist_item_not_found",
    )
    assert_error(client.patch(url, json={"category": "99999"}, headers=people["admin"]), 422, "unknown_category")


def test_load_checklists_command(app, ctx, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["load-checklists"])
    assert result.exit_code == 0 and result.output.strip() == "40 checklist items loaded"
    assert {item.point_kind for item in checklists.items()} == set(POINT_KINDS)
    bad = tmp_path / "bad.csv"
    bad.write_text("point_kind,code,label,category_code,position\nzoo,x,动物,06010,1\n", encoding="utf-8")
    result = runner.invoke(args=["load-checklists", "--file", str(bad)])
    assert result.exit_code != 0 and "unknown_point_kind" in result.output


def test_odd_inspection_bodies_are_refused_in_the_error_shape(client, people, grid):
    point = _point(client, people)
    bodies = [
        [],
        "x",
        {"items": {}},
        {"items": [1]},
        {"items": [{"item": "floor_clean", "pass": "maybe"}]},
        {"items": [{"item": "", "pass": True}]},
        {"items": [{"item": "floor_clean", "pass": True, "media_ids": "m"}]},
        {"items": [{"item": "floor_clean", "pass": True, "extra": 1}]},
        {"items": [{"item": "x"}] * 51},
        {"items": _answers(), "unannounced": "often"},
    ]
    for body in bodies:
        response = client.post(f"/api/v1/points/{point['id']}/inspections", json=body, headers=people["monitor"])
        assert response.status_code in (400, 422), (body, response.get_json())
        assert set(response.get_json()["error"]) == {"code", "message", "details"}
    assert count(Inspection) == 0


def test_the_case_view_names_its_point_and_item_for_staff(client, people, grid):
    point = _point(client, people)
    body = _inspect(client, people["monitor"], point["id"], _answers({"road_occupation"})).get_json()
    case_id = body["cases"][0]["id"]
    staff = client.get(f"/api/v1/reports/{case_id}", headers=people["office"]).get_json()
    assert staff["inspection"]["point"] == {
        "id": point["id"],
        "name": "古南农贸市场",
        "kind": "market",
        "kind_label": "农贸市场",
    }
    assert staff["inspection"]["inspection_id"] == body["id"] and staff["inspection"]["label"] == "占道经营"
    assert "inspection" not in client.get(f"/api/v1/reports/{case_id}").get_json()  # not in the public view
    other = submit(client, INSIDE)["id"]
    assert client.get(f"/api/v1/reports/{other}", headers=people["office"]).get_json()["inspection"] is None
