"""The oversight pages (督查督办) without a browser: each shell renders behind the console's login
with its settings and no inline script; the leader's 督办总览 API answers, for his linked areas,
his listed problems, the whistles with a late 报到 and the points failing their latest inspection,
and keeps him to his own view."""

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from civicreport.accounts import auth
from civicreport.cobuilding import partners
from civicreport.db_types import utcnow
from civicreport.demo import history
from civicreport.demo.loader import load_demo
from civicreport.extensions import db
from civicreport.oversight import leader
from civicreport.oversight.models import (
    ChecklistItem,
    Inspection,
    InspectionItem,
    InspectionPoint,
    JointOperation,
    ListedProblem,
    Whistle,
    WhistlePart,
)
from civicreport.oversight.status import POINT_KINDS, WHISTLE_STATES
from civicreport.reference.areas import Community, Street
from tests.factories import COMMUNITY, INSIDE, STREET, make_geography, make_unit, make_user
from tests.helpers import assert_error

PAGES = [
    "/console/oversight",
    "/console/whistles",
    "/console/listed-problems",
    "/console/points",
    "/console/operations",
]
OTHER_STREET = "500110002"
OTHER_COMMUNITY = "500110002001"


def settings_of(page):
    match = re.search(r'<script id="page-settings" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(match.group(1))


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_shells_behind_the_console_login(ctx, client, path):
    make_geography()
    response = client.get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="login-form"' in page and '<main id="main" hidden>' in page
    settings = settings_of(page)
    assert settings["whistles"] == WHISTLE_STATES and settings["point_kinds"] == POINT_KINDS
    assert ["st-gunan", "古南街道办事处", "street_office"] in settings["units"]
    assert [COMMUNITY, "古南街道 长乐社区"] in settings["areas"] and [STREET, "古南街道"] in settings["areas"]
    assert ["09006", "占道经营"] in settings["categories"]
    assert all(f'href="{other}"' in page for other in PAGES)  # the sub-bar of the five pages


@pytest.mark.parametrize("path", PAGES)
def test_pages_run_only_their_own_script_files(client, path):
    page = client.get(path).get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    inline = [attrs for attrs, body in scripts if body.strip() and 'type="application/json"' not in attrs]
    assert inline == []
    sources = [re.search(r'src="([^"]+)"', attrs).group(1) for attrs, _ in scripts if "src=" in attrs]
    assert sources and all(src.startswith("/static/console/") for src in sources)
    for src in sources:
        assert client.get(src).status_code == 200


@pytest.mark.parametrize("path", ["/console", "/console/leader", "/console/cobuild"])
def test_every_console_page_links_the_oversight_pages(client, path):
    assert 'href="/console/oversight"' in client.get(path).get_data(as_text=True)


@pytest.fixture
def scene(ctx):
    """A leader linked to 长乐社区; in it and in another street: a listed problem, a whistle with a
    late part, a point whose latest inspection failed. Returns the bearer headers."""
    office_unit = make_geography()
    db.session.add(Street(code=OTHER_STREET, name="文龙街道", district_code="500110"))
    db.session.add(Community(code=OTHER_COMMUNITY, name="沙溪社区", street_code=OTHER_STREET))
    city = make_unit("cgj", "urban_management", "区城市管理局")
    leader = auth.create_user("lingdao", "leader", display_name="张副区长")
    other_leader = auth.create_user("lingdao2", "leader")
    partners.link_leader("lingdao", COMMUNITY)
    market = ChecklistItem(point_kind="market", code="floor", label="地面清洁", category_code="06010")
    db.session.add_all(
        [market, ChecklistItem(point_kind="market", code="stalls", label="占道经营", category_code="09006")]
    )
    now = utcnow()
    for code, street, title in ((COMMUNITY, STREET, "长乐"), (OTHER_COMMUNITY, OTHER_STREET, "沙溪")):
        owner = leader if code == COMMUNITY else other_leader
        db.session.add(
            ListedProblem(
                public_id=f"GP-{title}",
                title=f"{title}农贸市场脏乱差",
                area_code=code,
                categories=["06010"],
                leader_user_id=owner.id,
                leader_office="区政府办公室",
                lead_unit_id=city.id,
                target_on=date.today() - timedelta(days=1),
            )
        )
        whistle = Whistle(
            public_id=f"CS-{title}",
            title=f"{title}背街小巷积水",
            lat=INSIDE[0],
            lon=INSIDE[1],
            community_code=code,
            street_code=street,
            raised_by_user_id=leader.id,
            raised_role="community_staff",
        )
        whistle.parts = [
            WhistlePart(unit_id=city.id, lead=True, checkin_due_at=now - timedelta(hours=3), late=True),
            WhistlePart(unit_id=office_unit.id, checkin_due_at=now - timedelta(hours=3), checked_in_at=now),
        ]
        db.session.add(whistle)
        point = InspectionPoint(
            name=f"{title}农贸市场", kind="market", lat=INSIDE[0], lon=INSIDE[1], community_code=code, unit_id=city.id
        )
        db.session.add(point)
        db.session.flush()
        inspector = leader.id
        earlier = Inspection(
            point_id=point.id, inspector_user_id=inspector, passed=True, inspected_at=now - timedelta(days=2)
        )
        latest = Inspection(point_id=point.id, inspector_user_id=inspector, passed=False, inspected_at=now)
        db.session.add_all([earlier, latest])
        db.session.flush()
        db.session.add_all(
            [
                InspectionItem(inspection_id=latest.id, item_code="floor", label="地面清洁", passed=False),
                InspectionItem(inspection_id=latest.id, item_code="stalls", label="占道经营", passed=True),
            ]
        )
        point.last_inspected_at = now
    db.session.commit()
    return {
        "leader": {"Authorization": f"Bearer {auth.issue_token(leader)}"},
        "office": make_user("sup", "supervisor")[1],
        "citizen": make_user("citizen", "citizen")[1],
        "staff": make_user("staff-cgj", "unit_staff", "cgj")[1],
    }


def test_a_leader_sees_his_areas_on_one_page(client, scene):
    view = client.get("/api/v1/leader/overview", headers=scene["leader"]).get_json()
    assert view["leader"] == {"name": "lingdao", "display_name": "张副区长"}
    assert view["areas"] == [{"code": COMMUNITY, "name": "长乐社区"}]
    [listed] = view["listed_problems"]
    assert listed["title"] == "长乐农贸市场脏乱差" and listed["overdue"] and listed["mine"]
    assert listed["status_label"] == "挂牌整改中" and listed["lead_unit"]["name"] == "区城市管理局"
    [whistle] = view["late_whistles"]
    assert whistle["title"] == "长乐背街小巷积水" and whistle["units"] == 2
    assert [p["unit"]["code"] for p in whistle["late_parts"]] == ["cgj"]
    [point] = view["failing_points"]
    assert point["name"] == "长乐农贸市场" and point["kind_label"] == "农贸市场"
    assert point["pass_rate"] == 0.5 and point["inspection_overdue"] is False
    assert point["failed_items"] == [{"item": "floor", "label": "地面清洁", "case": None}]


def test_the_office_sees_the_district_or_one_leaders_page(client, scene):
    district = client.get("/api/v1/leader/overview", headers=scene["office"]).get_json()
    assert district["leader"] is None and len(district["listed_problems"]) == 2
    assert len(district["late_whistles"]) == 2 and len(district["failing_points"]) == 2
    his = client.get("/api/v1/leader/overview?leader=lingdao", headers=scene["office"]).get_json()
    assert [row["title"] for row in his["listed_problems"]] == ["长乐农贸市场脏乱差"]
    response = client.get("/api/v1/leader/overview?leader=sup", headers=scene["office"])
    assert_error(response, 422, "not_a_leader")


def test_the_overview_is_kept_to_leaders_and_the_office(client, scene):
    assert_error(
        client.get("/api/v1/leader/overview?leader=lingdao2", headers=scene["leader"]), 403, "not_your_overview"
    )
    assert_error(client.get("/api/v1/leader/overview", headers=scene["citizen"]), 403, "forbidden")
    assert_error(client.get("/api/v1/leader/overview", headers=scene["staff"]), 403, "forbidden")
    assert_error(client.get("/api/v1/leader/overview"), 401, "unauthorized")
    assert_error(client.get("/api/v1/leader/overview?nope=1", headers=scene["office"]), 422, "validation_failed")


NOW = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)  # a Friday, 16:30 in 綦江


def test_the_demo_has_points_and_a_listed_problem_once(ctx):
    load_demo()
    load_demo()
    points = db.session.scalars(select(InspectionPoint)).all()
    assert len(points) == 5 and {p.kind for p in points} >= {"market", "toilet", "back_street", "junction"}
    assert all(p.unit_id and p.grid_code.startswith(p.community_code) for p in points)
    [problem] = db.session.scalars(select(ListedProblem)).all()
    assert problem.leader.name == "demo-district-leader-1" and len(problem.co_units) == 3
    assert [e.action for e in problem.events] == ["list"]


def test_the_demo_history_feeds_the_leader_page(ctx, client):
    load_demo()
    summary = history.load_history(50, seed=5, now=NOW, days=70)
    assert summary.oversight.whistles == 6 and summary.oversight.inspections > 30 and summary.oversight.operations > 20
    whistles = db.session.scalars(select(Whistle).order_by(Whistle.created_at)).all()
    assert [w.status for w in whistles] == ["closed"] * 5 + ["open"]
    assert all(p.rating for w in whistles[:5] for p in w.parts)
    assert any(p.late and p.status == "summoned" and p.escalated_at for p in whistles[-1].parts)
    operations = db.session.scalars(select(JointOperation)).all()
    assert {o.status for o in operations} >= {"done", "planned"}
    assert all(o.result_counts for o in operations if o.status == "done")
    again = history.load_history(0, seed=5, now=NOW, days=70).oversight
    assert (again.whistles, again.inspections, again.operations) == (0, 0, 0)

    leader = auth.issue_token(auth.user_named("demo-district-leader-1"))
    view = client.get("/api/v1/leader/overview", headers={"Authorization": f"Bearer {leader}"}).get_json()
    assert [row["title"] for row in view["listed_problems"]] == ["长乐农贸市场周边脏乱差"]
    assert "长乐农贸市场" in [point["name"] for point in view["failing_points"]]
    assert all(row["late_parts"] for row in view["late_whistles"])


def test_the_overview_leaves_out_what_is_settled(client, scene):
    """Delisted over RECENT_DAYS ago, closed over RECENT_DAYS ago, passed at the latest visit: gone."""
    now = utcnow()
    problem = db.session.scalar(select(ListedProblem).where(ListedProblem.public_id == "GP-长乐"))
    problem.status, problem.delisted_at = "delisted", now - timedelta(days=leader.RECENT_DAYS + 1)
    whistle = db.session.scalar(select(Whistle).where(Whistle.public_id == "CS-长乐"))
    whistle.status, whistle.closed_at = "closed", now - timedelta(days=leader.RECENT_DAYS + 1)
    point = db.session.scalar(select(InspectionPoint).where(InspectionPoint.name == "长乐农贸市场"))
    inspector = auth.user_named("lingdao").id
    db.session.add(Inspection(point_id=point.id, inspector_user_id=inspector, passed=True, inspected_at=now))
    db.session.commit()
    view = client.get("/api/v1/leader/overview", headers=scene["leader"]).get_json()
    assert view["listed_problems"] == [] and view["late_whistles"] == [] and view["failing_points"] == []

    problem.delisted_at = whistle.closed_at = now - timedelta(days=1)  # recently settled: still shown
    db.session.commit()
    view = client.get("/api/v1/leader/overview", headers=scene["leader"]).get_json()
    [listed] = view["listed_problems"]
    assert listed["status"] == "delisted" and listed["overdue"] is False
    assert [w["status"] for w in view["late_whistles"]] == ["closed"]


def test_a_supervisor_with_areas_reads_inside_them(client, scene):
    bounded = {
        "Authorization": f"Bearer {auth.issue_token(auth.create_user('sup-wl', 'supervisor', areas=[OTHER_STREET]))}"
    }
    view = client.get("/api/v1/leader/overview", headers=bounded).get_json()
    assert [row["title"] for row in view["listed_problems"]] == ["沙溪农贸市场脏乱差"]
    assert [row["title"] for row in view["late_whistles"]] == ["沙溪背街小巷积水"]
    assert [row["name"] for row in view["failing_points"]] == ["沙溪农贸市场"]
