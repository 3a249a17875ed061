"""吹哨报到 over the API: a community raises a whistle summoning three units, one checks in late and
is escalated by the worker, one part is sent back, the raiser verifies and rates every part, and
the ratings and punctuality show in the unit statistics; who may do what (403), when (409), with
what (422), unknown ids (404); the case view lists its whistles."""

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from civicreport.accounts import auth
from civicreport.accounts.models import User, UserArea
from civicreport.cases.deadlines import work_calendar
from civicreport.delivery.models import OutboxMessage
from civicreport.extensions import db
from civicreport.oversight.models import Whistle, WhistleEvent, WhistlePart
from civicreport.reference.areas import Community
from tests.factories import COMMUNITY, INSIDE, STREET, make_geography, make_unit, photo_bytes
from tests.helpers import assert_error, submit

WHISTLES = "/api/v1/whistles"
OTHER_COMMUNITY = "500110001002"
UNITS = {"cgj": "区城市管理局", "sw": "区水务局", "jxj": "区交巡警支队"}


def _person(name, role, *, area=None, unit=None):
    """A user of ``role`` bound to an area or a unit; its bearer header."""
    user = User(name=name, role=role, display_name=name, unit_id=unit and unit.id)
    user.areas = [UserArea(code=area)] if area else []
    db.session.add(user)
    db.session.commit()
    return {"Authorization": f"Bearer {auth.issue_token(user)}"}


class Town:
    """The test grid's 长乐社区 with its street office, a second community, three units, people."""

    def __init__(self, client):
        self.client = client
        office = make_geography()
        db.session.add(Community(code=OTHER_COMMUNITY, name="沙溪社区", street_code=STREET))
        units = {code: make_unit(code, "other", name) for code, name in UNITS.items()}
        idle = make_unit("hb", "other", "区生态环境局")
        db.session.commit()
        self.people = {
            "staff": _person("cz-staff", "community_staff", area=COMMUNITY),
            "other_staff": _person("sx-staff", "community_staff", area=OTHER_COMMUNITY),
            "street": _person("gn-staff", "unit_staff", unit=office),
            "idle": _person("hb-staff", "unit_staff", unit=idle),
            "office": _person("office", "supervisor"),
            "leader": _person("leader", "leader"),
            **{code: _person(f"{code}-staff", "unit_staff", unit=unit) for code, unit in units.items()},
        }

    def upload(self, who):
        response = self.client.post(
            "/api/v1/media",
            headers=self.people[who],
            data={"photo": (io.BytesIO(photo_bytes(color=(90, 160, 90))), "p.jpg")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def raise_(self, who="staff", **fields):
        body = {
            "title": "农贸市场周边占道经营、污水横流",
            "description": "城管、水务、交巡警需联合处置",
            "lat": INSIDE[0],
            "lon": INSIDE[1],
            "lead_unit": "cgj",
            "units": ["sw", "jxj"],
            "tasks": {"cgj": "清理占道摊点", "sw": "疏通排水沟", "jxj": "规范周边停车"},
            **fields,
        }
        return self.client.post(WHISTLES, json=body, headers=self.people[who])

    def act(self, whistle_id, who, action, **fields):
        return self.client.post(
            f"{WHISTLES}/{whistle_id}/transitions", json={"action": action, **fields}, headers=self.people[who]
        )

    def ok(self, whistle_id, who, action, **fields):
        response = self.act(whistle_id, who, action, **fields)
        assert response.status_code == 200, (action, who, response.get_json())
        return response.get_json()

    def get(self, whistle_id, who="staff"):
        return self.client.get(f"{WHISTLES}/{whistle_id}", headers=self.people[who])


@pytest.fixture
def town(ctx, client):
    return Town(client)


def _parts(body):
    return {p["unit"]["code"]: p for p in body["parts"]}


def _outbox(topic):
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.topic == topic)).all()


def _run_worker(app):
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert "errors=0" in result.output, result.output


def test_three_units_one_late_and_escalated_one_sent_back_closed_rated_and_counted(town, app, client):
    raised = town.raise_(media_ids=[town.upload("staff")])
    assert raised.status_code == 201, raised.get_json()
    whistle = raised.get_json()
    wid = whistle["id"]
    parts = _parts(whistle)
    assert whistle["status"] == "open" and list(parts) == ["cgj", "sw", "jxj"]
    assert parts["cgj"]["lead"] and not parts["sw"]["lead"] and parts["sw"]["task"] == "疏通排水沟"
    assert {p["status"] for p in parts.values()} == {"summoned"}
    assert len(whistle["photos"]) == 1 and whistle["community_code"] == COMMUNITY
    raised_at = db.session.scalar(select(WhistleEvent.created_at).where(WhistleEvent.action == "raise"))
    due = work_calendar().add(raised_at, 2 * 60)  # WHISTLE_CHECKIN_HOURS working hours
    assert all(p["checkin_due_at"] == due.isoformat() for p in parts.values())
    summoned = _outbox("whistle_summoned")
    assert sorted(m.payload["task"] for m in summoned) == ["清理占道摊点", "疏通排水沟", "规范周边停车"]
    assert {db.session.get(OutboxMessage, m.id).unit_id for m in summoned} == {
        p.unit_id for p in db.session.scalars(select(WhistlePart))
    }

    # cgj and sw 报到 in time; jxj lets its deadline pass, and the worker escalates it once.
    assert town.ok(wid, "cgj", "check_in", person="张科长")["allowed_actions"] == ["resolve_part"]
    town.ok(wid, "sw", "check_in", person="李站长", unit="sw")
    assert_error(town.act(wid, "jxj", "check_in", person="王队长", unit="cgj"), 403, "part_not_yours")
    assert_error(town.act(wid, "cgj", "check_in", person="张科长"), 409, "invalid_transition")
    jxj = db.session.scalar(select(WhistlePart).where(WhistlePart.unit.has(code="jxj")))
    past = jxj.checkin_due_at - timedelta(days=1)
    db.session.execute(update(WhistlePart).where(WhistlePart.id == jxj.id).values(checkin_due_at=past))
    db.session.commit()
    _run_worker(app)
    _run_worker(app)
    escalations = _outbox("escalation")
    assert len(escalations) == 1 and escalations[0].payload["whistle"] == wid
    assert escalations[0].unit_id == jxj.unit_id and "督办" in escalations[0].payload["message"]
    body = town.get(wid, "leader").get_json()
    late = _parts(body)["jxj"]
    assert late["late"] and late["escalated_at"] and late["status"] == "summoned" and body["late"]
    assert not _parts(body)["cgj"]["late"]
    system = [e for e in body["events"] if e["actor_role"] == "system"]
    assert [(e["action"], e["unit"], e["data"]["automatic"]) for e in system] == [("escalate", "jxj", True)]
    listed = client.get(WHISTLES, query_string={"late": "true"}, headers=town.people["leader"]).get_json()
    assert [w["id"] for w in listed["whistles"]] == [wid]
    town.ok(wid, "jxj", "check_in", person="王队长")
    assert _parts(town.get(wid).get_json())["jxj"]["late"]  # checked in after the deadline: still late

    # Each unit resolves its own part with after photos; the last one puts the whistle to the raiser.
    assert_error(town.act(wid, "cgj", "resolve_part"), 422, "missing_fields")
    for code in UNITS:
        answer = town.ok(wid, code, "resolve_part", media_ids=[town.upload(code)], note="已完成")
    assert answer["status"] == "verifying"
    assert answer["events"][-1]["data"]["whistle_status"] == "verifying"

    # The raiser sends sw's part back; sw works it again; then the raiser verifies.
    assert_error(town.act(wid, "staff", "return_part", unit="sw"), 422, "missing_fields")
    assert_error(town.act(wid, "staff", "return_part", unit="hb", note="x"), 404, "part_not_found")
    assert_error(town.act(wid, "sw", "return_part", unit="sw", note="x"), 403, "role_not_allowed")
    back = town.ok(wid, "staff", "return_part", unit="sw", note="排水沟仍有淤积")
    assert (
        back["status"] == "open" and _parts(back)["sw"]["status"] == "checked_in" and _parts(back)["sw"]["returns"] == 1
    )
    assert [m.unit_id for m in _outbox("whistle_returned")] == [_unit_id("sw")]
    assert_error(town.act(wid, "staff", "verify"), 409, "invalid_transition")
    assert_error(town.act(wid, "staff", "rate", unit="cgj", rating=5), 409, "invalid_transition")
    assert town.ok(wid, "sw", "resolve_part", media_ids=[town.upload("sw")])["status"] == "verifying"
    assert_error(town.act(wid, "office", "verify"), 403, "role_not_allowed")
    closed = town.ok(wid, "staff", "verify")
    assert closed["status"] == "closed" and closed["closed_at"]

    # 一体评议: the raiser rates each unit's part once, 1–5.
    assert_error(town.act(wid, "staff", "rate", unit="cgj", rating=6), 422, "validation_failed")
    assert_error(town.act(wid, "cgj", "rate", unit="cgj", rating=5), 403, "role_not_allowed")
    for code, rating in {"cgj": 5, "sw": 3, "jxj": 2}.items():
        town.ok(wid, "staff", "rate", unit=code, rating=rating, note="评议意见")
    assert_error(town.act(wid, "staff", "rate", unit="cgj", rating=4), 409, "already_rated")
    final = town.get(wid).get_json()
    assert {c: p["rating"] for c, p in _parts(final).items()} == {"cgj": 5, "sw": 3, "jxj": 2}
    assert [(e["label"], e["unit"]) for e in final["events"]][:4] == [
        ("吹哨", None),
        ("报到", "cgj"),
        ("报到", "sw"),
        ("督办", "jxj"),
    ]
    assert final["allowed_actions"] == [] and town.get(wid, "cgj").get_json()["allowed_actions"] == []

    # The unit statistics: 报到 punctuality and 评议 in each unit's row and its 红黑榜 entry.
    stats = client.get("/api/v1/stats/units", headers=town.people["leader"]).get_json()
    rows = {row["code"]: row for row in stats["rows"]}
    assert _whistle_figures(rows["cgj"]) == (1, 1, 0, 1.0, 1, 5.0)
    assert _whistle_figures(rows["sw"]) == (1, 1, 0, 1.0, 1, 3.0)
    assert _whistle_figures(rows["jxj"]) == (1, 0, 1, 0.0, 1, 2.0)
    assert _whistle_figures(rows["hb"]) == (0, 0, 0, None, 0, None)
    exported = client.get("/api/v1/stats/units", query_string={"format": "csv"}, headers=town.people["leader"])
    table = {r["单位编码"]: r for r in csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig")))}
    assert (table["jxj"]["报到及时率"], table["jxj"]["评议平均分"], table["cgj"]["报到及时率"]) == (
        "0.0%",
        "2.0",
        "100.0%",
    )


def _unit_id(code):
    return db.session.scalar(select(WhistlePart.unit_id).where(WhistlePart.unit.has(code=code)))


def _whistle_figures(row):
    keys = ("summoned", "checked_in_on_time", "late", "checkin_rate", "rated", "mean_rating")
    return tuple(row[f"whistle_{key}"] for key in keys)


def test_who_may_raise_where(town):
    assert_error(town.raise_("other_staff"), 403, "area_not_covered")
    assert_error(town.raise_("idle"), 403, "role_not_allowed")  # unit staff, not of a street office
    assert_error(town.raise_("leader"), 403, "forbidden")
    assert town.raise_("street").status_code == 201  # the street office of 古南街道
    assert town.raise_("office").status_code == 201
    assert_error(town.raise_(lead_unit="nope"), 404, "unit_not_found")
    assert_error(town.raise_(report="QJ20260101-9999", lat=None, lon=None), 404, "report_not_found")
    assert_error(town.raise_(lat=None, lon=None), 422, "location_required")
    assert_error(town.raise_(tasks={"hb": "x"}), 422, "task_for_unknown_unit")
    assert_error(town.raise_(units="sw"), 422, "validation_failed")
    assert_error(town.raise_(title=" "), 422, "validation_failed")
    assert_error(town.raise_(media_ids=[town.upload("office")]), 409, "media_unavailable")  # not hers
    assert db.session.scalar(select(func.count()).select_from(Whistle)) == 2


def test_reading_listing_and_acting_are_kept_to_the_parties(town, client):
    wid = town.raise_().get_json()["id"]
    assert_error(town.get("QJW20990101-000000"), 404, "whistle_not_found")
    assert_error(town.get(wid, "other_staff"), 403, "whistle_not_covered")
    assert_error(town.get(wid, "idle"), 403, "whistle_not_covered")
    assert town.get(wid, "street").status_code == 200 and town.get(wid, "jxj").status_code == 200
    assert_error(town.act(wid, "idle", "check_in", person="某人"), 403, "whistle_not_covered")
    assert_error(town.act(wid, "leader", "check_in", person="某人"), 403, "role_not_allowed")
    assert_error(town.act(wid, "cgj", "check_in"), 422, "missing_fields")
    assert_error(town.act(wid, "cgj", "fly"), 422, "unknown_action")
    assert_error(town.act(wid, "cgj", "check_in", person="x", extra=1), 422, "validation_failed")
    assert_error(town.act("QJW20990101-000000", "cgj", "check_in", person="x"), 404, "whistle_not_found")

    # The office escalates a unit by hand (督办); not a resolved part, not as a unit.
    assert_error(town.act(wid, "cgj", "escalate", unit="sw"), 403, "role_not_allowed")
    escalated = town.ok(wid, "office", "escalate", unit="sw", note="请尽快报到")
    assert _parts(escalated)["sw"]["escalated_at"] and not _parts(escalated)["sw"]["late"]
    assert [m.payload["note"] for m in _outbox("escalation")] == ["请尽快报到"]

    def listed(who, **query):
        answer = client.get(WHISTLES, query_string=query, headers=town.people[who])
        assert answer.status_code == 200, answer.get_json()
        return [w["id"] for w in answer.get_json()["whistles"]]

    assert listed("staff") == listed("jxj", unit="jxj") == listed("office", status="open") == [wid]
    assert listed("other_staff") == listed("idle") == listed("leader", status="closed") == []
    assert listed("leader", unit="hb") == listed("leader", late="true") == []
    assert_error(
        client.get(WHISTLES, query_string={"status": "x"}, headers=town.people["leader"]), 422, "validation_failed"
    )
    assert_error(client.get(WHISTLES, headers=_person("citizen", "citizen")), 403, "forbidden")


def test_the_case_view_lists_its_whistles_for_staff(town, client):
    case = submit(client, INSIDE)
    raised = town.raise_("office", report=case["id"], lat=None, lon=None)
    assert raised.status_code == 201, raised.get_json()
    assert raised.get_json()["report"] == case["id"] and raised.get_json()["community_code"] == COMMUNITY
    staff_view = client.get(f"/api/v1/reports/{case['id']}", headers=town.people["office"]).get_json()
    assert [(w["id"], w["status"]) for w in staff_view["whistles"]] == [(raised.get_json()["id"], "open")]
    public_view = client.get(f"/api/v1/reports/{case['id']}").get_json()
    assert "whistles" not in public_view
