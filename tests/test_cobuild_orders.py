"""Needs orders over the API: 点单 → 派单 → 接单 → 完成 → 评单 with a receipt, the refuse, cancel and
退单 paths, who may do what (403), when (409), with what (422), receipts (404, 429), and the
monthly figures of cobuilding.order_stats against a timeline with fixed times."""

import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from civicreport.accounts import auth
from civicreport.accounts.models import User, UserArea
from civicreport.cobuilding import order_stats, orders
from civicreport.cobuilding.models import NeedOrder, NeedOrderEvent, Partnership, VolunteerTeam
from civicreport.delivery.models import OutboxMessage
from civicreport.extensions import db
from civicreport.reference.areas import Community
from tests.factories import COMMUNITY, FAR_AWAY, INSIDE, STREET, make_geography, make_unit, photo_bytes
from tests.helpers import assert_error, override_settings

ORDERS = "/api/v1/orders"
OTHER_COMMUNITY = "500110001002"
NEED = "独居老人家中水管漏水，无法自行维修"


def _person(name, role, *, area=None, team=None, unit=None):
    """A user of ``role`` built directly (bound to an area, team or unit); its bearer header."""
    user = User(name=name, role=role, display_name=name, team_id=team and team.id, unit_id=unit and unit.id)
    user.areas = [UserArea(code=area)] if area else []
    db.session.add(user)
    db.session.commit()
    return {"Authorization": f"Bearer {auth.issue_token(user)}"}


class Town:
    """The test grid's 长乐社区 and a second community, a team of each, a partner unit, and people."""

    def __init__(self, client):
        self.client = client
        make_geography()
        db.session.add(Community(code=OTHER_COMMUNITY, name="沙溪社区", street_code=STREET))
        self.partner = partner = make_unit("rdb", "government_office", "区人大办公室")
        make_unit("nyw", "government_office", "区农业农村委")
        db.session.add(
            Partnership(community_code=COMMUNITY, unit_id=partner.id, role="lead", starts_on=date(2020, 1, 1))
        )
        self.team = VolunteerTeam(name="长乐志愿服务队", community_code=COMMUNITY, contact_phone="13800000001")
        self.other_team = VolunteerTeam(name="沙溪志愿服务队", community_code=OTHER_COMMUNITY)
        db.session.add_all([self.team, self.other_team])
        db.session.commit()
        self.people = {
            "staff": _person("cz-staff", "community_staff", area=COMMUNITY),
            "other_staff": _person("sx-staff", "community_staff", area=OTHER_COMMUNITY),
            "volunteer": _person("vol", "volunteer", team=self.team),
            "other_volunteer": _person("vol-sx", "volunteer", team=self.other_team),
            "partner": _person("rdb-staff", "unit_staff", unit=partner),
            "office": _person("office", "supervisor"),
            "leader": _person("leader", "leader"),
            "anonymous": {},
        }
        self.receipts = {}

    def file(self, who="anonymous", **fields):
        body = {"description": NEED, "lat": INSIDE[0], "lon": INSIDE[1], "contact": "13900000000", **fields}
        response = self.client.post(ORDERS, json=body, headers=self.people[who])
        assert response.status_code == 201, response.get_json()
        order = response.get_json()
        self.receipts[order["id"]] = order["receipt_token"]
        return order

    def headers(self, who, order_id=None):
        """``who``'s bearer header; ``receipt``: the resident's receipt of ``order_id``."""
        return {"X-Receipt-Token": self.receipts[order_id]} if who == "receipt" else self.people[who]

    def act(self, order_id, who, action, **fields):
        return self.client.post(
            f"{ORDERS}/{order_id}/transitions", json={"action": action, **fields}, headers=self.headers(who, order_id)
        )

    def ok(self, order_id, who, action, **fields):
        response = self.act(order_id, who, action, **fields)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def upload(self, who="volunteer"):
        response = self.client.post(
            "/api/v1/media",
            headers=self.people[who],
            data={"photo": (io.BytesIO(photo_bytes(color=(80, 150, 200))), "service.jpg")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def serve(self, order_id, who="volunteer", hours=2.5):
        self.ok(order_id, who, "accept")
        return self.ok(order_id, who, "complete", hours=hours, media_ids=[self.upload(who)], note="已上门修好水管")


@pytest.fixture
def town(ctx, client):
    return Town(client)


def test_an_order_walks_from_the_residents_phone_to_its_rating_and_into_the_months_figures(town, client):
    order = town.file()
    assert order["status"] == "submitted" and order["id"].startswith("QJD")
    assert order["community"] == {"code": COMMUNITY, "name": "长乐社区"} and order["contact"] == "13900000000"
    assert order["deadline_at"] and order["allowed_actions"] == ["cancel"]
    oid = order["id"]

    seen = client.get(f"{ORDERS}/{oid}", headers=town.headers("receipt", oid)).get_json()
    assert seen["status_label"] == "待派单" and [e["action"] for e in seen["events"]] == ["submit"]
    staff_view = client.get(f"{ORDERS}/{oid}", headers=town.people["staff"]).get_json()
    assert staff_view["allowed_actions"] == ["dispatch", "reject", "cancel"]

    dispatched = town.ok(oid, "staff", "dispatch", team="长乐志愿服务队")
    assert dispatched["status"] == "dispatched" and dispatched["team"]["name"] == "长乐志愿服务队"
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.topic == "order_dispatched"))
    assert message.target == "13800000001" and "派单" in message.payload["message"]

    team_view = client.get(f"{ORDERS}/{oid}", headers=town.people["volunteer"]).get_json()
    assert "contact" not in team_view and team_view["allowed_actions"] == ["accept", "decline"]
    done = town.serve(oid)
    assert done["status"] == "completed" and done["service_hours"] == 2.5 and len(done["photos"]) == 1
    assert done["events"][-1]["note"] == "已上门修好水管"

    rated = town.ok(oid, "receipt", "rate", rating=5, comment="很及时，谢谢志愿者")
    assert rated["status"] == "rated" and rated["rating"] == 5 and rated["allowed_actions"] == []
    events = db.session.scalars(select(NeedOrderEvent).order_by(NeedOrderEvent.id)).all()
    assert [(e.action, e.actor_role) for e in events] == [
        ("submit", "resident"),
        ("dispatch", "community_staff"),
        ("accept", "volunteer"),
        ("complete", "volunteer"),
        ("rate", "resident"),
    ]

    stats = client.get("/api/v1/stats/orders", headers=town.people["office"]).get_json()
    row = next(r for r in stats["communities"] if r["code"] == COMMUNITY)
    assert {k: row[k] for k in ("collected", "dispatched", "completed", "rated", "satisfied", "overdue")} == {
        "collected": 1,
        "dispatched": 1,
        "completed": 1,
        "rated": 1,
        "satisfied": 1,
        "overdue": 0,
    }
    assert row["satisfaction_rate"] == 1.0 and row["service_hours"] == 2.5
    assert all(type(row[name]) is int for name in ("collected", "dispatched", "rated", "overdue"))
    assert next(r for r in stats["communities"] if r["code"] == OTHER_COMMUNITY)["collected"] == 0
    [team_row] = stats["teams"]
    assert (team_row["kind"], team_row["name"], team_row["dispatched"], team_row["service_hours"]) == (
        "team",
        "长乐志愿服务队",
        1,
        2.5,
    )
    assert order_stats.satisfaction(COMMUNITY, date.today()) == 1.0
    assert order_stats.satisfaction(OTHER_COMMUNITY, date.today()) is None


def test_a_partner_unit_serves_and_staff_file_on_a_residents_behalf_by_community(town, client):
    order = town.file("staff", lat=None, lon=None, community=COMMUNITY)
    assert order["on_behalf"] is True and order["receipt_token"]
    oid = order["id"]
    assert_error(town.act(oid, "staff", "dispatch", unit="nyw"), 422, "not_a_partner")
    assert_error(town.act(oid, "staff", "dispatch", unit="rdb", team="长乐志愿服务队"), 422, "team_or_unit_required")
    assert town.ok(oid, "staff", "dispatch", unit="rdb")["unit"] == {"code": "rdb", "name": "区人大办公室"}
    town.serve(oid, "partner", hours=1)
    assert town.ok(oid, "receipt", "rate", rating=3)["status"] == "rated"
    # A team of a partner unit (not of the community) serves the community's orders too.
    partner_team = VolunteerTeam(name="区人大志愿服务队", unit_id=town.partner.id)
    db.session.add(partner_team)
    db.session.commit()
    second = town.file()["id"]
    assert town.ok(second, "staff", "dispatch", team="区人大志愿服务队")["team"]["name"] == "区人大志愿服务队"
    listed = client.get(ORDERS, headers=town.people["partner"]).get_json()["orders"]
    assert [o["id"] for o in listed] == [oid]
    teams = order_stats.month_figures(date.today())["teams"]
    assert [(t["kind"], t["code"], t["rated"], t["satisfied"]) for t in teams if t["kind"] == "unit"] == [
        ("unit", "rdb", 1, 0)
    ]
    assert_error(
        client.post(ORDERS, json={"description": NEED, "community": OTHER_COMMUNITY}, headers=town.people["staff"]),
        403,
        "community_not_covered",
    )


def test_refuse_cancel_and_decline(town):
    rejected = town.file()["id"]
    assert_error(town.act(rejected, "staff", "reject"), 422, "missing_fields")
    assert town.ok(rejected, "staff", "reject", note="属于物业维修范围，已转物业")["status"] == "rejected"
    assert_error(town.act(rejected, "receipt", "cancel", note="不用了"), 409, "invalid_transition")

    cancelled = town.file()["id"]
    town.ok(cancelled, "staff", "dispatch", team=str(town.team.id))
    assert town.ok(cancelled, "receipt", "cancel", note="家人已经修好了")["status"] == "cancelled"
    assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.topic == "order_cancelled")) is not None

    declined = town.file()["id"]
    town.ok(declined, "staff", "dispatch", team="长乐志愿服务队")
    town.ok(declined, "volunteer", "accept")
    back = town.ok(declined, "volunteer", "decline", note="需要专业水电工，队里没有")
    assert back["status"] == "submitted" and back["team"] is None and back["deadline_at"]
    assert_error(town.act(declined, "volunteer", "accept"), 403, "order_not_covered")  # no longer the team's
    town.ok(declined, "staff", "dispatch", unit="rdb")
    figures = order_stats.community_figures(date.today())[COMMUNITY]
    assert (figures["collected"], figures["dispatched"], figures["declined"]) == (3, 2, 1)
    assert (figures["rejected"], figures["cancelled"]) == (1, 1)


def test_who_may_do_what(town, client):
    oid = town.file()["id"]
    assert_error(town.act(oid, "receipt", "dispatch", team="长乐志愿服务队"), 403, "role_not_allowed")
    assert_error(town.act(oid, "other_staff", "dispatch", team="沙溪志愿服务队"), 403, "order_not_covered")
    assert_error(town.act(oid, "leader", "reject", note="x"), 403, "role_not_allowed")
    assert_error(town.act(oid, "staff", "dispatch", team="沙溪志愿服务队"), 422, "team_not_of_community")
    for team in ("9" * 40, "²", 12345):
        assert_error(town.act(oid, "staff", "dispatch", team=team), 422, "unknown_team")
    town.ok(oid, "office", "dispatch", team="长乐志愿服务队")
    assert_error(town.act(oid, "other_volunteer", "accept"), 403, "order_not_covered")
    assert_error(town.act(oid, "staff", "accept"), 403, "role_not_allowed")
    assert_error(client.get(f"{ORDERS}/{oid}", headers=town.people["other_staff"]), 403, "order_not_covered")
    assert_error(client.get(ORDERS, headers=town.headers("receipt", oid)), 401, "unauthorized")

    lists = {
        who: client.get(ORDERS, headers=town.people[who]).get_json()["orders"]
        for who in town.people
        if who != "anonymous"
    }
    assert {who: len(found) for who, found in lists.items()} == {
        "staff": 1,
        "other_staff": 0,
        "volunteer": 1,
        "other_volunteer": 0,
        "partner": 0,
        "office": 1,
        "leader": 1,
    }
    assert "contact" in lists["staff"][0] and "contact" not in lists["volunteer"][0]
    own = client.get("/api/v1/stats/orders", headers=town.people["staff"]).get_json()  # its community alone
    assert [row["code"] for row in own["communities"]] == [COMMUNITY]
    assert_error(client.get("/api/v1/stats/orders", headers=town.people["volunteer"]), 403, "forbidden")
    month = f"{date.today():%Y-%m}"
    filters = {
        "status=dispatched": 1,
        "status=submitted,rated": 0,
        f"month={month}&community={COMMUNITY}": 1,
        "month=2000-01": 0,
        f"community={OTHER_COMMUNITY}": 0,
    }
    for query, expected in filters.items():
        found = client.get(f"{ORDERS}?{query}", headers=town.people["office"]).get_json()["orders"]
        assert len(found) == expected, query


def test_wrong_state_and_bad_input(town, client):
    oid = town.file()["id"]
    assert_error(town.act(oid, "receipt", "rate", rating=5), 409, "invalid_transition")
    town.ok(oid, "staff", "dispatch", team="长乐志愿服务队")
    error = assert_error(town.act(oid, "staff", "dispatch", team="长乐志愿服务队"), 409, "invalid_transition")
    assert error["details"]["status"] == "dispatched" and error["details"]["allowed_actions"] == ["cancel"]
    assert_error(town.act(oid, "volunteer", "complete", hours=1, media_ids=["x"]), 409, "invalid_transition")
    town.ok(oid, "volunteer", "accept")
    assert_error(town.act(oid, "volunteer", "complete", hours=30, media_ids=[town.upload()]), 422, "invalid_hours")
    assert_error(town.act(oid, "volunteer", "complete", hours=2), 422, "missing_fields")
    assert_error(town.act(oid, "volunteer", "complete", hours=2, media_ids=["nope"]), 409, "media_unavailable")
    town.ok(oid, "volunteer", "complete", hours=2, media_ids=[town.upload()])
    assert_error(town.act(oid, "receipt", "rate", rating=6), 422, "invalid_rating")
    assert_error(town.act(oid, "receipt", "rate", rating="5"), 422, "validation_failed")
    assert_error(town.act(oid, "receipt", "fly"), 422, "unknown_action")

    bad = [
        ({"description": ""}, "validation_failed"),
        ({"description": NEED, "lat": INSIDE[0]}, "lat_lon_pair"),
        ({"description": NEED}, "location_required"),
        ({"description": NEED, "community": "500110001999"}, "unknown_community"),
        ({"description": NEED, "lat": FAR_AWAY[0], "lon": FAR_AWAY[1]}, "outside_service_area"),
        ({"description": NEED, "community": COMMUNITY, "extra": 1}, "validation_failed"),
    ]
    for body, code in bad:
        assert_error(client.post(ORDERS, json=body), 422, code)
    assert_error(client.post(ORDERS, data="x", content_type="text/plain"), 400, "malformed_json")
    assert_error(client.get(f"{ORDERS}?status=lost", headers=town.people["office"]), 422, "validation_failed")
    for month in ("9999-12", "1999-01", "2026-1"):
        for url in (f"{ORDERS}?month={month}", f"/api/v1/stats/orders?month={month}"):
            assert_error(client.get(url, headers=town.people["office"]), 422, "validation_failed")
    assert_error(
        client.post(ORDERS, json={"description": "水管\x00漏水", "community": COMMUNITY}), 400, "nul_character"
    )
    assert_error(
        client.get("/api/v1/stats/orders?month=2026-13", headers=town.people["office"]), 422, "validation_failed"
    )


def test_receipts_are_checked_and_throttled(town, client, app, monkeypatch):
    override_settings(app, monkeypatch, THROTTLE_FAILURES=3)
    oid = town.file()["id"]
    other = town.file()
    assert_error(client.get(f"{ORDERS}/{oid}"), 404, "order_not_found")
    assert_error(
        client.get(f"{ORDERS}/{oid}", headers={"X-Receipt-Token": other["receipt_token"]}), 404, "order_not_found"
    )
    assert_error(
        client.get(f"{ORDERS}/QJD20000101-000000", headers=town.headers("receipt", oid)), 404, "order_not_found"
    )
    assert_error(town.act(oid, "anonymous", "cancel", note="x"), 404, "order_not_found")
    wrong = {"X-Receipt-Token": "wrong"}
    for _ in range(2):
        assert_error(client.get(f"{ORDERS}/{oid}", headers=wrong), 404, "order_not_found")
    assert_error(
        client.get(f"{ORDERS}/{other['id']}", headers=town.headers("receipt", other["id"])), 429, "too_many_attempts"
    )


def test_an_idempotency_key_files_one_order_and_gives_the_same_receipt(town, client):
    body = {"description": NEED, "community": COMMUNITY}
    key = {"Idempotency-Key": "phone-order-1"}
    first = client.post(ORDERS, json=body, headers=key)
    again = client.post(ORDERS, json=body, headers=key)
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json()["id"] == again.get_json()["id"]
    assert first.get_json()["receipt_token"] == again.get_json()["receipt_token"]
    assert len(db.session.scalars(select(NeedOrder)).all()) == 1
    assert_error(client.post(ORDERS, json={**body, "contact": "x"}, headers=key), 422, "idempotency_key_reused")


def test_intake_is_rate_limited_per_device(town, client, app, monkeypatch):
    override_settings(app, monkeypatch, SUBMIT_LIMIT_PER_DEVICE="2/minute")
    device = {"X-Device-Id": "phone-0001"}
    for _ in range(2):
        assert (
            client.post(ORDERS, json={"description": NEED, "community": COMMUNITY}, headers=device).status_code == 201
        )
    assert_error(
        client.post(ORDERS, json={"description": NEED, "community": COMMUNITY}, headers=device), 429, "rate_limited"
    )


def _at(day, hour, minute=0):
    """A local time in November 2026, as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


def test_month_figures_count_steps_and_missed_deadlines_in_working_time(town, monkeypatch):
    """November 2026 (no holidays), office hours 08:30–12:00 and 14:00–17:30, 4 h to dispatch, 21 h
    to serve. A: filed Mon 2nd 09:00 (派单 due 15:00), dispatched 10:00 (service due Thu 5th 10:00),
    completed Wed, rated 5 — on time. B: filed Mon 2nd 09:00, dispatched Tue 09:00 — late, one missed
    deadline; never served: its service clock (due Fri 6th 09:00) is missed too by the month's end.
    C: filed Fri 27th 17:00, never dispatched: due Mon 30th 12:00 (half an hour on Friday), missed."""
    clock = {"now": None}
    monkeypatch.setattr(orders, "utcnow", lambda: clock["now"])

    def at(moment, step, *args, **fields):
        clock["now"] = moment
        return step(*args, **fields)

    a = at(_at(2, 9), town.file)["id"]
    b = at(_at(2, 9), town.file)["id"]
    at(_at(2, 10), town.ok, a, "staff", "dispatch", team="长乐志愿服务队")
    at(_at(3, 9), town.ok, b, "staff", "dispatch", team="长乐志愿服务队")
    at(_at(3, 10), town.ok, a, "volunteer", "accept")
    at(_at(4, 16), town.ok, a, "volunteer", "complete", hours=3, media_ids=[town.upload()])
    at(_at(5, 9), town.ok, a, "receipt", "rate", rating=5)
    c = at(_at(27, 17), town.file)["id"]
    assert db.session.scalar(select(NeedOrder.deadline_at).where(NeedOrder.public_id == c)) == _at(30, 12)

    november = order_stats.community_figures(date(2026, 11, 1), now=datetime(2026, 12, 7, tzinfo=UTC))[COMMUNITY]
    assert {k: november[k] for k in ("collected", "dispatched", "completed", "rated", "satisfied", "overdue")} == {
        "collected": 3,
        "dispatched": 2,
        "completed": 1,
        "rated": 1,
        "satisfied": 1,
        "overdue": 3,
    }
    assert november["service_hours"] == 3 and november["satisfaction_rate"] == 1.0
    mid_month = order_stats.community_figures(date(2026, 11, 1), now=_at(3, 12))[COMMUNITY]
    assert (mid_month["collected"], mid_month["dispatched"], mid_month["overdue"]) == (2, 2, 1)
    teams = order_stats.month_figures(date(2026, 11, 1), now=datetime(2026, 12, 7, tzinfo=UTC))["teams"]
    assert [(t["name"], t["dispatched"], t["completed"], t["overdue"]) for t in teams] == [("长乐志愿服务队", 2, 1, 1)]
    assert order_stats.satisfaction(COMMUNITY, date(2026, 12, 1)) is None


def test_the_list_carries_each_orders_actions_and_contact_as_the_single_view_does(town, client):
    """GET /orders gives every row what GET /orders/<id> gives the same caller: the actions open
    to him now and the resident's contact only where he may see it, so pages read one list."""
    first = town.file()["id"]
    town.ok(first, "staff", "dispatch", team="长乐志愿服务队")
    town.file(community=OTHER_COMMUNITY, lat=None, lon=None)
    for who in ("staff", "other_staff", "volunteer", "partner", "office", "leader"):
        rows = client.get(ORDERS, headers=town.people[who]).get_json()["orders"]
        for row in rows:
            single = client.get(f"{ORDERS}/{row['id']}", headers=town.people[who]).get_json()
            assert row["allowed_actions"] == single["allowed_actions"], (who, row["id"])
            assert row.get("contact") == single.get("contact") and ("contact" in row) == ("contact" in single)
    staff_rows = client.get(ORDERS, headers=town.people["staff"]).get_json()["orders"]
    assert staff_rows[0]["allowed_actions"] == ["cancel"] and staff_rows[0]["contact"] == "13900000000"
    volunteer_rows = client.get(ORDERS, headers=town.people["volunteer"]).get_json()["orders"]
    assert volunteer_rows[0]["allowed_actions"] == ["accept", "decline"] and "contact" not in volunteer_rows[0]


def test_a_bounded_office_and_community_staff_see_only_their_communities(town, client):
    """A supervisor bound to 长乐社区 lists its orders alone; the month's figures of community
    staff and of that supervisor leave the other community's rows (and orders) out."""
    town.ok(town.file()["id"], "staff", "dispatch", team="长乐志愿服务队")
    other = town.file(community=OTHER_COMMUNITY, lat=None, lon=None)["id"]
    town.ok(other, "other_staff", "dispatch", team="沙溪志愿服务队")
    bounded = _person("office-cl", "supervisor", area=COMMUNITY)
    rows = client.get(ORDERS, headers=bounded).get_json()["orders"]
    assert {row["community"]["code"] for row in rows} == {COMMUNITY}
    for headers in (bounded, town.people["staff"]):
        figures = client.get("/api/v1/stats/orders", headers=headers).get_json()
        assert [row["code"] for row in figures["communities"]] == [COMMUNITY]
        assert figures["communities"][0]["collected"] == 1
        assert [row["name"] for row in figures["teams"]] == ["长乐志愿服务队"]
    everything = client.get("/api/v1/stats/orders", headers=town.people["office"]).get_json()
    assert {row["code"] for row in everything["communities"]} == {COMMUNITY, OTHER_COMMUNITY}
