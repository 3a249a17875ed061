"""联合整治行动: scheduling by the office, street offices and communities; results with counts by
category, photos and the cases opened; cancelling; the calendar and the rhythm (monthly per
street, weekly per community) done or missed."""

import io

import pytest

from civicreport.accounts import auth
from civicreport.extensions import db
from civicreport.reference.areas import Community
from tests.factories import COMMUNITY, FAR_AWAY, INSIDE, STREET, make_unit, make_user, photo_bytes
from tests.helpers import assert_error, submit

OTHER_COMMUNITY = "500110001002"


def _bearer(user):
    return {"Authorization": f"Bearer {auth.issue_token(user)}"}


@pytest.fixture
def people(city_unit, client):
    make_unit("jxj", "traffic_police", "区交巡警支队")
    db.session.add(Community(code=OTHER_COMMUNITY, name="沙溪社区", street_code=STREET))
    db.session.commit()
    return {
        "office": make_user("sup", "supervisor")[1],
        "leader": make_user("leader", "leader")[1],
        "street": make_user("staff-gunan", "unit_staff", "st-gunan")[1],
        "city": make_user("staff-cgj", "unit_staff", "cgj")[1],
        "police": make_user("staff-jxj", "unit_staff", "jxj")[1],
        "community": _bearer(auth.create_user("changle", "community_staff", areas=[COMMUNITY])),
        "other_community": _bearer(auth.create_user("shaxi", "community_staff", areas=[OTHER_COMMUNITY])),
        "citizen": make_user("citizen", "citizen")[1],
    }


def _operation(client, headers, starts="2026-10-14T09:00:00+08:00", ends="2026-10-14T12:00:00+08:00", **fields):
    body = {
        "title": "古南街道占道经营集中整治",
        "area": STREET,
        "place": "九龙大道",
        "starts_at": starts,
        "ends_at": ends,
        "units": ["cgj", "st-gunan"],
        "categories": ["09006", "07001"],
        **fields,
    }
    return client.post("/api/v1/operations", json=body, headers=headers)


def _scheduled(client, headers, **fields):
    response = _operation(client, headers, **fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _result(client, headers, operation_id, **fields):
    body = {"counts": {"09006": 1}, **fields}
    return client.post(f"/api/v1/operations/{operation_id}/result", json=body, headers=headers)


def _upload(client, headers):
    response = client.post(
        "/api/v1/media",
        headers=headers,
        data={"photo": (io.BytesIO(photo_bytes(gps=INSIDE, color=(30, 90, 200))), "p.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_schedule_record_and_read(client, people, grid):
    operation = _scheduled(client, people["street"], lat=INSIDE[0], lon=INSIDE[1])
    assert operation["status"] == "planned" and operation["status_label"] == "计划中"
    assert [unit["code"] for unit in operation["units"]] == ["cgj", "st-gunan"]
    assert operation["categories"] == ["09006", "07001"] and operation["result_counts"] is None

    case = submit(client, INSIDE)["id"]
    photo = _upload(client, people["street"])
    counts = {"09006": 12, "07001": 40}
    response = _result(
        client,
        people["street"],
        operation["id"],
        counts=counts,
        note="劝离摊点 12 处",
        media_ids=[photo],
        reports=[case],
    )
    assert response.status_code == 200, response.get_json()
    done = response.get_json()
    assert done["status"] == "done" and done["result_counts"] == counts and done["result_note"] == "劝离摊点 12 处"
    assert [p["id"] for p in done["photos"]] == [photo]
    assert done["cases"] == [{"id": case, "status": "submitted"}]
    assert done["recorded_at"] is not None

    assert_error(_result(client, people["street"], operation["id"]), 409, "operation_state")
    cancel = client.post(
        f"/api/v1/operations/{operation['id']}/cancel", json={"reason": "下雨"}, headers=people["office"]
    )
    assert_error(cancel, 409, "operation_state")

    # unit staff read the operations their unit takes part in, and those alone
    assert [o["id"] for o in client.get("/api/v1/operations", headers=people["city"]).get_json()["operations"]] == [
        operation["id"]
    ]
    assert client.get("/api/v1/operations", headers=people["police"]).get_json()["operations"] == []
    assert_error(
        client.get(f"/api/v1/operations/{operation['id']}", headers=people["police"]), 403, "operation_not_covered"
    )
    assert client.get(f"/api/v1/operations/{operation['id']}", headers=people["leader"]).status_code == 200
    assert_error(client.get("/api/v1/operations/999", headers=people["office"]), 404, "operation_not_found")
    listed = client.get("/api/v1/operations?unit=jxj", headers=people["office"]).get_json()["operations"]
    assert listed == []
    listed = client.get(f"/api/v1/operations?area={STREET}&status=done", headers=people["office"]).get_json()
    assert [o["id"] for o in listed["operations"]] == [operation["id"]]


def test_bad_results_are_refused_and_leave_the_operation_planned(client, people, grid):
    operation = _scheduled(client, people["office"])
    url = operation["id"]
    assert_error(_result(client, people["office"], url, reports=["QJ20990101-0001"]), 422, "unknown_reports")
    assert_error(_result(client, people["office"], url, counts={"99999": 1}), 422, "unknown_categories")
    assert_error(_result(client, people["office"], url, counts={"09006": -1}), 422, "validation_failed")
    assert_error(_result(client, people["office"], url, counts={"09006": "many"}), 422, "validation_failed")
    theirs = _upload(client, people["street"])
    assert_error(_result(client, people["office"], url, media_ids=[theirs]), 409, "media_unavailable")
    assert client.get(f"/api/v1/operations/{url}", headers=people["office"]).get_json()["status"] == "planned"

    later = _scheduled(client, people["office"], starts="2099-01-01T09:00:00+08:00", ends="2099-01-01T10:00:00+08:00")
    assert_error(_result(client, people["office"], later["id"]), 409, "operation_not_started")
    cancel_url = f"/api/v1/operations/{later['id']}/cancel"
    assert_error(client.post(cancel_url, json={}, headers=people["office"]), 422, "validation_failed")
    assert_error(client.post(cancel_url, json={"reason": "x"}, headers=people["citizen"]), 403, "forbidden")
    cancelled = client.post(cancel_url, json={"reason": "暴雨预警，改期"}, headers=people["office"]).get_json()
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "暴雨预警，改期"
    assert_error(_result(client, people["office"], later["id"]), 409, "operation_state")
    assert_error(client.post(cancel_url, json={"reason": "x"}, headers=people["office"]), 409, "operation_state")


def test_who_organises_where(client, people, grid):
    assert _operation(client, people["community"], area=COMMUNITY).status_code == 201
    assert_error(_operation(client, people["community"], area=OTHER_COMMUNITY), 403, "area_not_covered")
    assert_error(_operation(client, people["community"]), 403, "area_not_covered")  # the street's own
    assert _operation(client, people["street"], area=OTHER_COMMUNITY).status_code == 201
    assert_error(_operation(client, people["city"]), 403, "area_not_covered")  # not a street office
    assert_error(_operation(client, people["leader"]), 403, "forbidden")
    assert_error(_operation(client, people["citizen"]), 403, "forbidden")
    assert_error(_operation(client, {}), 401, "unauthorized")
    mine = client.get("/api/v1/operations", headers=people["other_community"]).get_json()["operations"]
    assert [o["area_code"] for o in mine] == [OTHER_COMMUNITY]


def test_schedules_are_checked(client, people, grid):
    office = people["office"]
    assert_error(_operation(client, office, ends="2026-10-14T08:00:00+08:00"), 422, "invalid_period")
    assert_error(_operation(client, office, ends="2026-10-24T08:00:00+08:00"), 422, "invalid_period")
    assert_error(_operation(client, office, starts="2026-10-14T09:00:00"), 422, "validation_failed")
    assert_error(_operation(client, office, units=["cgj", "nope"]), 422, "unknown_units")
    assert_error(_operation(client, office, units=[]), 422, "validation_failed")
    assert_error(_operation(client, office, categories=["99999"]), 422, "unknown_categories")
    assert_error(_operation(client, office, area="500110009"), 422, "unknown_area")
    assert_error(_operation(client, office, area="5001"), 422, "validation_failed")
    assert_error(_operation(client, office, lat=FAR_AWAY[0], lon=FAR_AWAY[1]), 422, "outside_service_area")
    assert_error(
        _operation(client, office, area=OTHER_COMMUNITY, lat=INSIDE[0], lon=INSIDE[1]), 422, "outside_operation_area"
    )
    assert_error(_operation(client, office, lat=INSIDE[0]), 422, "validation_failed")
    assert_error(_operation(client, office, colour="red"), 422, "validation_failed")


def test_calendar_and_rhythm(client, people, grid):
    street = _scheduled(client, people["street"])  # 2026-10-14, a Wednesday
    _result(client, people["street"], street["id"])
    weeks = {
        "2026-10-06T19:00:00+08:00": "done",  # week of Monday 10-05
        "2026-10-13T19:00:00+08:00": "done",  # week of 10-12
        "2026-10-20T19:00:00+08:00": "cancel",  # week of 10-19: cancelled, so missed
        "2026-11-01T19:00:00+08:00": "done",  # Sunday: still the week of Monday 10-26
        "2026-09-30T19:00:00+08:00": "done",  # the week before October's first Monday
    }
    for starts, outcome in weeks.items():
        ends = starts.replace("T19", "T21")
        operation = _scheduled(client, people["community"], area=COMMUNITY, starts=starts, ends=ends, units=["cgj"])
        if outcome == "done":
            assert _result(client, people["community"], operation["id"]).status_code == 200
        else:
            client.post(
                f"/api/v1/operations/{operation['id']}/cancel", json={"reason": "改期"}, headers=people["community"]
            )

    calendar = client.get("/api/v1/operations/calendar?month=2026-10", headers=people["office"]).get_json()
    assert calendar["month"] == "2026-10"
    assert [day["date"] for day in calendar["days"]] == ["2026-10-06", "2026-10-13", "2026-10-14", "2026-10-20"]
    assert calendar["days"][3]["operations"][0]["status"] == "cancelled"

    rhythm = client.get("/api/v1/operations/rhythm?month=2026-10", headers=people["office"]).get_json()
    assert rhythm["streets"] == [
        {
            "code": STREET,
            "name": "古南街道",
            "starts_on": "2026-10-01",
            "ends_on": "2026-10-31",
            "required": 1,
            "done": 1,
            "status": "done",
        }
    ]
    communities = {c["code"]: c["weeks"] for c in rhythm["communities"]}
    assert [w["starts_on"] for w in communities[COMMUNITY]] == ["2026-10-05", "2026-10-12", "2026-10-19", "2026-10-26"]
    assert [w["status"] for w in communities[COMMUNITY]] == ["done", "done", "missed", "done"]
    assert [w["status"] for w in communities[OTHER_COMMUNITY]] == ["missed"] * 4

    september = client.get("/api/v1/operations/rhythm?month=2026-09", headers=people["leader"]).get_json()
    assert september["streets"][0]["status"] == "missed"
    assert {c["code"]: [w["done"] for w in c["weeks"]] for c in september["communities"]}[COMMUNITY] == [0, 0, 0, 1]
    ahead = client.get("/api/v1/operations/rhythm?month=2099-03", headers=people["office"]).get_json()
    assert {w["status"] for c in ahead["communities"] for w in c["weeks"]} == {"open"}

    own = client.get("/api/v1/operations/rhythm?month=2026-10", headers=people["other_community"]).get_json()
    assert own["streets"] == [] and [c["code"] for c in own["communities"]] == [OTHER_COMMUNITY]
    assert_error(
        client.get("/api/v1/operations/rhythm?month=2026-13", headers=people["office"]), 422, "validation_failed"
    )
    assert_error(client.get("/api/v1/operations/rhythm", headers=people["police"]), 403, "area_not_covered")
    assert client.get("/api/v1/operations/calendar", headers=people["office"]).status_code == 200


def test_the_rhythm_follows_the_settings(app, client, people, grid, monkeypatch):
    from tests.helpers import override_settings

    override_settings(app, monkeypatch, OPERATIONS_PER_STREET_MONTH=2)
    operation = _scheduled(client, people["office"])
    _result(client, people["office"], operation["id"])
    street = client.get("/api/v1/operations/rhythm?month=2026-10", headers=people["office"]).get_json()["streets"][0]
    assert (street["required"], street["done"], street["status"]) == (2, 1, "missed")


ODD = [
    "",
    " ",
    "0",
    "-1",
    "1e309",
    "nan",
    "9999-12",
    "8999-12",
    "2000-01",
    "0001-01-01T00:00:00+14:00",
    "8999-12-31T23:59:59-12:00",
    "500110001\n",
    "５００１１０００１",
    "true",
    "x" * 300,
    "[]",
    "%00",
]
ROUTES = {
    "/api/v1/operations": ["from", "to", "area", "status", "unit"],
    "/api/v1/operations/calendar": ["month"],
    "/api/v1/operations/rhythm": ["month", "street"],
    "/api/v1/points": ["kind", "community", "unit", "overdue", "active"],
    "/api/v1/points/1/inspections": ["limit"],
    "/api/v1/checklists": ["kind", "include_inactive"],
}


def test_odd_query_parameters_never_fail(client, people, grid):
    for path, names in ROUTES.items():
        for name in names:
            for value in ODD:
                response = client.get(path, query_string={name: value}, headers=people["office"])
                assert response.status_code in (200, 400, 404, 422), (path, name, value, response.get_json())
                if response.status_code >= 400:
                    assert set(response.get_json()["error"]) == {"code", "message", "details"}


def test_odd_bodies_are_refused_in_the_error_shape(client, people, grid):
    operation = _scheduled(client, people["office"])
    bodies = [
        [],
        "x",
        1,
        None,
        {"counts": []},
        {"counts": {"09006": 1.5}},
        {"counts": {"": 1}},
        {"counts": {"x" * 9: 1}},
        {"counts": {}, "reports": "QJ1"},
        {"counts": {}, "media_ids": [1]},
        {"counts": {}, "reports": ["x"] * 101},
        {"reason": ""},
    ]
    for path in ("result", "cancel"):
        for body in bodies:
            response = client.post(f"/api/v1/operations/{operation['id']}/{path}", json=body, headers=people["office"])
            assert response.status_code in (400, 422), (path, body, response.get_json())
            assert set(response.get_json()["error"]) == {"code", "message", "details"}
    for body in [{"title": "t", "area": STREET, "starts_at": 1}, {"units": "cgj"}, {"lat": "x", "lon": 1}]:
        response = _operation(client, people["office"], **body)
        assert response.status_code == 422, (body, response.get_json())
