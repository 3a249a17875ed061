"""社区文明共建 administration: dated partnerships (one lead at a time), leaders' 联系点, volunteer
teams, and the community_staff / volunteer account rules, over the API and the CLI."""

import pytest

from civicreport.accounts import auth
from civicreport.accounts.models import User
from civicreport.cobuilding import partners
from civicreport.extensions import db
from civicreport.reference.areas import Community
from tests.factories import COMMUNITY, STREET, make_unit, make_user
from tests.helpers import assert_error

OTHER = "500110001002"


@pytest.fixture
def town(grid, client):
    """Two communities of 古南街道, three partner units, and the people who act on them."""
    db.session.add(Community(code=OTHER, name="百步梯社区", street_code=STREET))
    for code, name in (("rdb", "区人大办公室"), ("nyw", "区农业农村委"), ("jgj", "区机关事务局")):
        make_unit(code, "government_office", name)
    db.session.commit()
    staff = auth.create_user("cs", "community_staff", areas=[COMMUNITY])
    people = {
        "office": make_user("sup", "supervisor")[1],
        "admin": make_user("admin", "admin")[1],
        "leader": make_user("leader", "leader")[1],
        "monitor": make_user("monitor", "monitor")[1],
        "staff": {"Authorization": f"Bearer {auth.issue_token(staff)}"},
    }
    return people


def _add(client, headers, unit, role, starts_on, community=COMMUNITY):
    return client.post(
        "/api/v1/partnerships",
        json={"community": community, "unit": unit, "role": role, "starts_on": starts_on},
        headers=headers,
    )


def _listed(client, headers, **query):
    response = client.get("/api/v1/partnerships", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return [
        (row["unit"]["code"], row["role"], row["starts_on"], row["ends_on"])
        for row in response.get_json()["partnerships"]
    ]


def test_a_new_lead_ends_the_previous_the_day_before_and_history_holds(client, town):
    office = town["office"]
    assert _add(client, office, "rdb", "lead", "2026-01-01").status_code == 201
    assert _add(client, office, "jgj", "member", "2026-02-01").status_code == 201
    second = _add(client, office, "nyw", "lead", "2026-06-01")
    assert second.status_code == 201
    assert second.get_json()["role_label"] == "牵头共建单位"

    assert _listed(client, office, community=COMMUNITY, as_of="2026-05-31") == [
        ("rdb", "lead", "2026-01-01", "2026-06-01"),
        ("jgj", "member", "2026-02-01", None),
    ]
    assert _listed(client, office, community=COMMUNITY, as_of="2026-06-01") == [
        ("nyw", "lead", "2026-06-01", None),
        ("jgj", "member", "2026-02-01", None),
    ]
    assert _listed(client, office, community=COMMUNITY, as_of="2026-01-15") == [
        ("rdb", "lead", "2026-01-01", "2026-06-01")
    ]
    assert [row[0] for row in _listed(client, office, community=COMMUNITY, history="true")] == ["nyw", "jgj", "rdb"]
    # The old lead's communities on each day.
    communities = client.get("/api/v1/partners/rdb/communities?as_of=2026-03-01", headers=town["leader"])
    assert [row["community_name"] for row in communities.get_json()["partnerships"]] == ["长乐社区"]
    assert client.get("/api/v1/partners/rdb/communities?as_of=2026-06-01", headers=office).get_json() == {
        "partnerships": []
    }


@pytest.mark.parametrize(
    ("unit", "role", "starts_on", "code"),
    [
        ("nyw", "lead", "2026-01-01", "lead_history"),  # on the recorded lead's first day
        ("nyw", "lead", "2025-12-01", "lead_history"),  # before it: history is not rewritten
        ("rdb", "member", "2026-03-01", "already_partner"),  # the lead cannot also be a member
        ("rdb", "lead", "2026-03-01", "already_partner"),
    ],
)
def test_overlapping_partnerships_are_refused(client, town, unit, role, starts_on, code):
    assert _add(client, town["office"], "rdb", "lead", "2026-01-01").status_code == 201
    assert_error(_add(client, town["office"], unit, role, starts_on), 409, code)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"community": "500110001999", "unit": "rdb", "role": "lead"}, "unknown_community"),
        ({"community": COMMUNITY, "unit": "nobody", "role": "lead"}, "unknown_unit"),
        ({"community": COMMUNITY, "unit": "rdb", "role": "boss"}, "validation_failed"),
        ({"community": "5001", "unit": "rdb", "role": "lead"}, "validation_failed"),
        ({"community": COMMUNITY, "unit": "rdb", "role": "lead", "starts_on": "2026-13-01"}, "validation_failed"),
        ({"community": COMMUNITY, "unit": "rdb", "role": "lead", "extra": 1}, "validation_failed"),
    ],
)
def test_bad_partnerships_are_422(client, town, body, code):
    assert_error(client.post("/api/v1/partnerships", json=body, headers=town["office"]), 422, code)


def test_ending_a_partnership(client, town):
    row = _add(client, town["office"], "jgj", "member", "2026-01-01").get_json()
    url = f"/api/v1/partnerships/{row['id']}/end"
    assert_error(client.post(url, json={"ends_on": "2026-01-01"}, headers=town["office"]), 422, "ends_before_start")
    ended = client.post(url, json={"ends_on": "2026-04-01"}, headers=town["office"])
    assert ended.status_code == 200 and ended.get_json()["ends_on"] == "2026-04-01"
    assert_error(client.post(url, json={}, headers=town["office"]), 409, "already_ended")
    assert_error(
        client.post("/api/v1/partnerships/999/end", json={}, headers=town["office"]), 404, "partnership_not_found"
    )
    assert _listed(client, town["office"], community=COMMUNITY, as_of="2026-04-01") == []
    # It may partner the community again after it ended.
    assert _add(client, town["office"], "jgj", "member", "2026-05-01").status_code == 201


def test_unknown_partner_is_404(client, town):
    assert_error(client.get("/api/v1/partners/nobody/communities", headers=town["office"]), 404, "unit_not_found")


def test_community_staff_read_their_own_community_only(client, town):
    _add(client, town["office"], "rdb", "lead", "2026-01-01")
    _add(client, town["office"], "nyw", "lead", "2026-01-01", community=OTHER)
    assert [row[0] for row in _listed(client, town["staff"])] == ["rdb"]
    refused = client.get("/api/v1/partnerships", query_string={"community": OTHER}, headers=town["staff"])
    assert_error(refused, 403, "community_not_covered")


def test_a_supervisor_with_areas_keeps_partnerships_inside_them(client, town):
    bound, headers = make_user("sup-other", "supervisor")
    bound_areas = client.patch("/api/v1/admin/users/sup-other", json={"areas": [OTHER]}, headers=town["admin"])
    assert bound_areas.status_code == 200
    assert_error(_add(client, headers, "rdb", "lead", "2026-01-01"), 403, "community_not_covered")
    assert _add(client, headers, "rdb", "lead", "2026-01-01", community=OTHER).status_code == 201


# --- leaders' 联系点 ----------------------------------------------------------------------------


def _link(client, headers, user, area, starts_on="2026-01-01"):
    return client.post(
        "/api/v1/leader-links", json={"user": user, "area": area, "starts_on": starts_on}, headers=headers
    )


def test_leader_links_are_dated_and_a_community_lists_its_streets_leaders(client, town):
    make_user("leader2", "leader")
    assert _link(client, town["office"], "leader", STREET).status_code == 201
    second = _link(client, town["office"], "leader2", COMMUNITY, "2026-03-01").get_json()
    client.post(f"/api/v1/leader-links/{second['id']}/end", json={"ends_on": "2026-09-01"}, headers=town["office"])

    def linked(**query):
        body = client.get("/api/v1/leader-links", query_string=query, headers=town["staff"]).get_json()
        return [(row["user"]["name"], row["area_code"]) for row in body["leader_links"]]

    assert linked(area=COMMUNITY, as_of="2026-02-01") == [("leader", STREET)]
    assert linked(area=COMMUNITY, as_of="2026-05-01") == [("leader", STREET), ("leader2", COMMUNITY)]
    assert linked(area=COMMUNITY, as_of="2026-09-01") == [("leader", STREET)]
    assert linked(user="leader2", history="true") == [("leader2", COMMUNITY)]
    assert linked(area=OTHER, as_of="2026-05-01") == [("leader", STREET)]


@pytest.mark.parametrize(
    ("user", "area", "status", "code"),
    [
        ("monitor", COMMUNITY, 422, "not_a_leader"),
        ("nobody", COMMUNITY, 404, "user_not_found"),
        ("leader", "500110", 422, "validation_failed"),  # a district is no 联系点
        ("leader", "500110009", 422, "unknown_area"),
        ("leader", STREET, 409, "already_linked"),
    ],
)
def test_bad_leader_links(client, town, user, area, status, code):
    assert _link(client, town["office"], "leader", STREET).status_code == 201
    assert_error(_link(client, town["office"], user, area, "2026-06-01"), status, code)


# --- teams and the accounts that need a community or a team -------------------------------------


def test_teams_list_their_volunteers(app, client, town):
    created = client.post(
        "/api/v1/teams", json={"name": "长乐志愿队", "community": COMMUNITY, "unit": "rdb"}, headers=town["staff"]
    )
    assert created.status_code == 201, created.get_json()
    runner = app.test_cli_runner()
    for name in ("v2", "v1"):
        result = runner.invoke(args=["create-user", name, "--role", "volunteer", "--team", "长乐志愿队"])
        assert result.exit_code == 0, result.output
    teams = client.get("/api/v1/teams", headers=town["office"]).get_json()["teams"]
    assert [(t["name"], t["unit"]["code"], [m["name"] for m in t["members"]]) for t in teams] == [
        ("长乐志愿队", "rdb", ["v1", "v2"])
    ]
    volunteer = {"Authorization": f"Bearer {auth.issue_token(auth.user_named('v1'))}"}
    assert client.get(f"/api/v1/teams/{teams[0]['id']}", headers=volunteer).status_code == 200
    assert_error(client.get("/api/v1/teams/99", headers=town["office"]), 404, "team_not_found")
    again = client.post("/api/v1/teams", json={"name": "长乐志愿队", "community": COMMUNITY}, headers=town["office"])
    assert_error(again, 409, "team_exists")
    elsewhere = client.post("/api/v1/teams", json={"name": "百步梯志愿队", "community": OTHER}, headers=town["staff"])
    assert_error(elsewhere, 403, "community_not_covered")


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--role", "community_staff"], "community_required"),
        (["--role", "community_staff", "--area", STREET], "community_required"),
        (["--role", "community_staff", "--area", f"{COMMUNITY},{OTHER}"], "community_required"),
        (["--role", "community_staff", "--area", "500110001999"], "unknown_area"),
        (["--role", "volunteer"], "team_required"),
        (["--role", "volunteer", "--team", "没有这个队"], "unknown_team"),
        (["--role", "monitor", "--team", "长乐志愿队"], "team_for_volunteers"),
    ],
)
def test_create_user_holds_community_staff_and_volunteers_to_their_rules(app, town, args, code):
    partners.create_team("长乐志愿队", COMMUNITY)
    result = app.test_cli_runner().invoke(args=["create-user", "newbie", *args])
    assert result.exit_code != 0 and code in result.output
    assert db.session.query(User).filter_by(name="newbie").count() == 0


def test_create_user_binds_community_staff_to_their_community(app, town):
    result = app.test_cli_runner().invoke(args=["create-user", "cs2", "--role", "community_staff", "--area", OTHER])
    assert result.exit_code == 0, result.output
    assert auth.user_named("cs2").area_codes == [OTHER]


@pytest.mark.parametrize(
    ("name", "change", "code"),
    [
        ("cs", {"areas": [COMMUNITY, OTHER]}, "community_required"),
        ("cs", {"areas": [STREET]}, "community_required"),
        ("cs", {"areas": []}, "community_required"),
        ("monitor", {"role": "community_staff"}, "community_required"),
        ("monitor", {"role": "volunteer"}, "team_required"),
        ("monitor", {"role": "volunteer", "team": "没有这个队"}, "unknown_team"),
        ("monitor", {"team": "长乐志愿队"}, "team_for_volunteers"),
    ],
)
def test_changing_a_user_keeps_the_same_rules(client, town, name, change, code):
    client.post("/api/v1/teams", json={"name": "长乐志愿队", "community": COMMUNITY}, headers=town["office"])
    assert_error(client.patch(f"/api/v1/admin/users/{name}", json=change, headers=town["admin"]), 422, code)


def test_a_volunteer_changes_team_and_leaves_it_with_the_role(client, town):
    team = client.post(
        "/api/v1/teams", json={"name": "队甲", "community": COMMUNITY}, headers=town["office"]
    ).get_json()
    change = {"role": "volunteer", "team": "队甲"}
    volunteer = client.patch("/api/v1/admin/users/monitor", json=change, headers=town["admin"])
    assert volunteer.status_code == 200 and volunteer.get_json()["team_id"] == team["id"]
    assert_error(
        client.patch("/api/v1/admin/users/monitor", json={"team": None}, headers=town["admin"]), 422, "team_required"
    )
    back = client.patch("/api/v1/admin/users/monitor", json={"role": "monitor"}, headers=town["admin"])
    assert back.status_code == 200 and back.get_json()["team_id"] is None
    moved = client.patch("/api/v1/admin/users/cs", json={"areas": [OTHER]}, headers=town["admin"])
    assert moved.get_json()["areas"] == [OTHER]


# --- who may write --------------------------------------------------------------------------------

WRITES = [
    ("POST", "/api/v1/partnerships", {"community": COMMUNITY, "unit": "rdb", "role": "lead"}),
    ("POST", "/api/v1/partnerships/1/end", {}),
    ("POST", "/api/v1/leader-links", {"user": "leader", "area": STREET}),
    ("POST", "/api/v1/leader-links/1/end", {}),
    ("POST", "/api/v1/teams", {"name": "队乙", "community": COMMUNITY}),
]


@pytest.mark.parametrize(
    ("method", "url", "body", "who"),
    [
        (*write, who)
        for write in WRITES
        for who in ("leader", "monitor", "staff", "anonymous")
        if not (who == "staff" and write[1] == "/api/v1/teams")  # community staff create their own teams
    ],
)
def test_only_the_office_keeps_partnerships_links_and_teams(client, town, method, url, body, who):
    response = client.open(url, method=method, json=body, headers=town.get(who, {}))
    assert_error(response, 401 if who == "anonymous" else 403, "unauthorized" if who == "anonymous" else "forbidden")


@pytest.mark.parametrize("url", ["/api/v1/partnerships", "/api/v1/leader-links", "/api/v1/teams"])
def test_reads_need_a_co_building_role(client, town, url):
    assert_error(client.get(url, headers=town["monitor"]), 403, "forbidden")
    assert client.get(url, headers=town["leader"]).status_code == 200


def test_an_operator_sets_the_pairs_from_the_cli(app, client, town):
    runner = app.test_cli_runner()
    steps = [
        ["partner", "add", "--community", COMMUNITY, "--unit", "rdb", "--role", "lead", "--from", "2026-01-01"],
        ["partner", "add", "--community", COMMUNITY, "--unit", "nyw", "--role", "lead", "--from", "2026-07-01"],
        ["leader", "link", "leader", "--area", COMMUNITY, "--from", "2026-01-01"],
        ["create-team", "长乐志愿队", "--community", COMMUNITY, "--unit", "nyw"],
    ]
    for args in steps:
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    assert _listed(client, town["office"], community=COMMUNITY, history="true") == [
        ("nyw", "lead", "2026-07-01", None),
        ("rdb", "lead", "2026-01-01", "2026-07-01"),
    ]
    refused = runner.invoke(
        args=["partner", "add", "--community", COMMUNITY, "--unit", "jgj", "--role", "lead", "--from", "2026-03-01"]
    )
    assert refused.exit_code != 0 and "lead_history" in refused.output
    assert "already_linked" in runner.invoke(args=["leader", "link", "leader", "--area", COMMUNITY]).output
    assert "team_exists" in runner.invoke(args=["create-team", "长乐志愿队", "--community", COMMUNITY]).output
