"""Case access with areas and deactivated accounts: every private read and every transition,
for in-area and out-of-area supervisors and monitors, own and other unit staff, and a
deactivated user (accounts.access is the one place that decides)."""

import io

import pytest
from sqlalchemy import update

from civicreport.accounts import users
from civicreport.cases.models import Media, Report
from civicreport.cases.workflow import TRANSITIONS
from civicreport.extensions import db
from civicreport.reference.areas import Street
from tests.factories import COMMUNITY, INSIDE, STREET, make_user, photo_bytes
from tests.helpers import SOURCE_STATE, assert_error, fetch, full_fields, post_report

OTHER_STREET = "500110002"
AREA_PEOPLE = {  # name → (role, areas)
    "area_supervisor": ("supervisor", [STREET]),
    "cell_supervisor": ("supervisor", [f"{COMMUNITY}016", COMMUNITY]),  # one of two areas holds the case
    "far_supervisor": ("supervisor", [OTHER_STREET]),
    "area_monitor": ("monitor", [COMMUNITY]),
    "far_monitor": ("monitor", [OTHER_STREET]),
}


@pytest.fixture
def area_loop(loop):
    db.session.add(Street(code=OTHER_STREET, name="文龙街道", district_code="500110"))
    db.session.commit()
    for name, (role, areas) in AREA_PEOPLE.items():
        loop.people[name] = make_user(name, role)[1]
        users.update_user(name, {"areas": areas})
    loop.people["deactivated"] = make_user("gone", "supervisor")[1]
    users.update_user("gone", {"active": False})
    return loop


def _role(who):
    return AREA_PEOPLE[who][0]


@pytest.mark.slow  # each action from each side of the area boundary: 2–4 s a case
@pytest.mark.parametrize("action", sorted(a for a, t in TRANSITIONS.items() if t.roles & {"supervisor", "monitor"}))
def test_areas_bound_every_transition(area_loop, action):
    for who in (*AREA_PEOPLE, "deactivated"):
        rid = area_loop.to_state(SOURCE_STATE[action])
        response = area_loop.act(rid, who, action, **full_fields(area_loop, action, who))
        if who == "deactivated":
            assert_error(response, 401, "invalid_token")
        elif _role(who) not in TRANSITIONS[action].roles:
            assert response.status_code == 403, (who, response.get_json())
        elif who.startswith("far_"):
            error = assert_error(response, 403, "outside_area")
            assert error["details"]["areas"] == [OTHER_STREET]
        else:
            assert response.status_code == 200, (who, action, response.get_json())


def test_out_of_area_staff_see_the_public_side_and_no_actions(area_loop, client):
    rid = area_loop.to_state("resolved")
    for who, private, actions in [
        ("area_supervisor", True, {"verify_pass"}),
        ("far_supervisor", False, set()),
        ("area_monitor", False, {"verify_pass"}),
        ("far_monitor", False, set()),
    ]:
        body = client.get(f"/api/v1/reports/{rid}", headers=area_loop.people[who]).get_json()
        assert ("contact" in body) is private and ("reporter" in body) is private, who
        assert ("original_url" in body["photos"][0]) is private, who
        assert actions <= set(body["allowed_actions"]), who
        if who.startswith("far_"):
            assert body["allowed_actions"] == [], who
        events = client.get(f"/api/v1/reports/{rid}/events", headers=area_loop.people[who]).get_json()["events"]
        assert all(("actor_role" in event) is private for event in events), who


@pytest.fixture
def escalated(area_loop, client):
    rid = area_loop.to_state("in_progress")
    area_loop.ok(rid, "supervisor", "escalate", note="请今日内处置")
    staff_view = client.get(f"/api/v1/reports/{rid}", headers=area_loop.people["supervisor"]).get_json()
    return rid, staff_view["photos"][0]["original_url"]


# who → may see the private side (contact, notes, original, worklist line, notice, triage)
PRIVATE_READERS = {
    "supervisor": True,
    "area_supervisor": True,
    "cell_supervisor": True,
    "far_supervisor": False,
    "leader": True,
    "admin": True,
    "own_staff": True,
    "other_staff": False,
    "monitor": False,
    "area_monitor": False,
    "far_monitor": False,
    "citizen": False,
    "anonymous": False,
}


@pytest.mark.parametrize("who", sorted(PRIVATE_READERS))
def test_private_reads_follow_one_rule(app, area_loop, client, escalated, who):
    rid, original_url = escalated
    headers = area_loop.people[who]
    private = PRIVATE_READERS[who]
    body = client.get(f"/api/v1/reports/{rid}", headers=headers).get_json()
    assert ("reporter" in body) is private
    handed = body["photos"][0].get("original_url")
    assert (handed is not None) is private
    assert not private or fetch(client, handed, headers)[0] == 200
    if app.config["STORAGE"] == "local":  # the app checks the caller again; S3 URLs are short-lived bearers
        assert (fetch(client, original_url, headers)[0] == 200) is private
    notice = client.get(f"/reports/{rid}/notice", headers=headers)
    worklist = client.get("/api/v1/units/cgj/worklist", headers=headers)
    if private:
        assert notice.status_code == 200 and "请今日内处置" in notice.get_data(as_text=True)
        assert [c["id"] for c in worklist.get_json()["cases"]] == [rid]
    else:
        assert (
            notice.status_code in (401, 403)
            and worklist.status_code in (401, 403)
            or worklist.get_json()["cases"] == []
        )


@pytest.mark.parametrize(
    "who, status",
    [
        ("area_supervisor", 200),
        ("area_monitor", 200),
        ("far_supervisor", 403),
        ("far_monitor", 403),
        ("deactivated", 401),
    ],
)
def test_triage_and_redaction_are_bound_by_area(area_loop, client, who, status):
    rid = area_loop.new_report()
    response = client.get(f"/api/v1/reports/{rid}/duplicates", headers=area_loop.people[who])
    assert response.status_code == status, response.get_json()
    if _role_of(who) == "supervisor":
        media_id = client.get(f"/api/v1/reports/{rid}").get_json()["photos"][0]["id"]
        redaction = client.post(
            f"/api/v1/reports/{rid}/media/{media_id}/redactions",
            headers=area_loop.people[who],
            json={"boxes": [{"x": 0, "y": 0, "width": 10, "height": 10}]},
        )
        assert redaction.status_code == (201 if status == 200 else status), redaction.get_json()


def _role_of(who):
    return AREA_PEOPLE.get(who, ("supervisor",))[0]


def test_queue_lists_only_cases_in_any_of_the_areas(area_loop, client):
    rid = area_loop.new_report()
    for who, expected in [
        ("area_supervisor", [rid]),
        ("cell_supervisor", [rid]),
        ("far_supervisor", []),
        ("area_monitor", [rid]),
        ("far_monitor", []),
    ]:
        items = client.get("/api/v1/queue", headers=area_loop.people[who]).get_json()["items"]
        assert [item["id"] for item in items] == expected, who


@pytest.mark.parametrize(
    "uploader, reader, status",
    [
        ("citizen", "citizen", 200),
        ("citizen", "supervisor", 200),
        ("citizen", "admin", 200),
        ("citizen", "far_supervisor", 403),
        ("citizen", "monitor", 403),
        ("citizen", "other_staff", 403),
        ("citizen", "anonymous", 401),
        ("monitor", "citizen", 403),
        ("monitor", "monitor", 200),
    ],
)
def test_a_photo_uploaded_ahead_belongs_to_its_uploader_and_the_centre(area_loop, client, uploader, reader, status):
    response = client.post(
        "/api/v1/media",
        headers=area_loop.people[uploader],
        content_type="multipart/form-data",
        data={"photo": (io.BytesIO(photo_bytes(color=(7, 99, 7))), "p.jpg")},
    )
    key = db.session.get(Media, response.get_json()["id"]).original_key
    assert client.get(f"/media/{key}", headers=area_loop.people[reader]).status_code == status


def test_original_keys_do_not_follow_from_the_public_sha256(area_loop, client):
    rid = area_loop.new_report()
    photo = client.get(f"/api/v1/reports/{rid}").get_json()["photos"][0]
    key = db.session.get(Media, photo["id"]).original_key
    guessed = f"originals/{photo['sha256'][:2]}/{photo['sha256'][2:4]}/{photo['sha256']}.jpg"
    assert key != guessed and key.startswith(guessed.removesuffix(".jpg") + "-")
    assert_error(client.get(f"/media/{guessed}", headers=area_loop.people["supervisor"]), 404, "media_not_found")
    for prefix in ("pending/thumb", "exports"):
        path = f"/media/{prefix}/{photo['sha256'][:2]}/{photo['sha256'][2:4]}/{photo['sha256']}.jpg"
        assert client.get(path, headers=area_loop.people["admin"]).status_code == 404


@pytest.mark.parametrize(
    "key",
    [
        "display/" + "a" * 300 + ".jpg",  # longer than a file name may be: it was a 503 storage_unavailable
        f"display/ab/cd/{'ab' * 32}-{'0' * 65}.jpg",
        f"thumb/ab/cd/{'ab' * 32}.jpeg.html",
        "originals/x",
        "README",
    ],
)
def test_keys_the_app_never_makes_are_404_without_asking_storage(area_loop, client, key):
    assert_error(client.get(f"/media/{key}", headers=area_loop.people["admin"]), 404, "media_not_found")


def test_merging_into_a_case_outside_the_area_is_refused(area_loop, client):
    outside = area_loop.new_report()
    db.session.execute(update(Report).where(Report.public_id == outside).values(street_code=OTHER_STREET))
    db.session.commit()
    inside = area_loop.new_report()
    response = area_loop.act(inside, "area_supervisor", "mark_duplicate", duplicate_of=outside)
    assert_error(response, 403, "outside_area")
    assert client.get(f"/api/v1/reports/{outside}").get_json()["support_count"] == 0
    assert area_loop.ok(inside, "supervisor", "mark_duplicate", duplicate_of=outside)["status"] == "duplicate"


def test_served_originals_cannot_be_taken_for_a_page(area_loop, client, app):
    if app.config["STORAGE"] != "local":
        pytest.skip("S3 originals are presigned downloads: tests/test_storage.py")
    polyglot = photo_bytes(gps=INSIDE) + b"<html><body><script>alert(document.domain)</script></body></html>"
    body = post_report(client, [polyglot], category="06010").get_json()
    key = db.session.get(Media, body["photos"][0]["id"]).original_key
    response = client.get(f"/media/{key}", headers=area_loop.people["supervisor"])
    assert response.data == polyglot  # the evidence stays byte for byte
    assert response.mimetype == "image/jpeg" and response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "private, no-store"


# --- the admin API and the CLI ------------------------------------------------------------


@pytest.fixture
def admin(ctx, client, area_loop):
    return area_loop.people["admin"]


def _change(client, headers, name, **body):
    return client.patch(f"/api/v1/admin/users/{name}", json=body, headers=headers)


def test_admin_changes_areas_role_and_unit(client, admin, area_loop):
    changed = _change(client, admin, "far_supervisor", areas=[STREET, f"{COMMUNITY}001"])
    assert changed.status_code == 200 and changed.get_json()["areas"] == [STREET, f"{COMMUNITY}001"]
    rid = area_loop.new_report()
    assert area_loop.act(rid, "far_supervisor", "accept", category="06010").status_code == 200
    assert _change(client, admin, "far_supervisor", areas=[]).get_json()["areas"] == []
    staff = _change(client, admin, "far_monitor", role="unit_staff", unit="jxj").get_json()
    assert (staff["role"], staff["unit"]) == ("unit_staff", "jxj")
    listed = client.get("/api/v1/admin/users?role=unit_staff", headers=admin).get_json()["users"]
    assert {u["name"] for u in listed} == {"staff-cgj", "staff-jxj", "far_monitor"}


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"areas": ["500110999"]}, 422, "unknown_area"),
        ({"areas": ["5001"]}, 422, "validation_failed"),
        ({"areas": "500110001"}, 422, "validation_failed"),
        ({"role": "unit_staff"}, 422, "unit_required"),
        ({"unit": "nope"}, 422, "unknown_unit"),
        ({"role": "king"}, 422, "validation_failed"),
        ({"password": "x"}, 422, "validation_failed"),
    ],
)
def test_admin_changes_are_checked(client, admin, body, status, code):
    assert_error(_change(client, admin, "area_supervisor", **body), status, code)
    assert users.user_named("area_supervisor").area_codes == [STREET]


@pytest.mark.parametrize("block_id", ["99999999999999999999999", "9223372036854775808"])
def test_an_id_beyond_any_row_is_404(client, admin, block_id):
    assert client.delete(f"/api/v1/admin/blocks/{block_id}", headers=admin).status_code == 404


def test_deactivation_stops_tokens_at_once_and_keeps_one_admin(client, admin, area_loop):
    headers = area_loop.people["area_supervisor"]
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert _change(client, admin, "area_supervisor", active=False).get_json()["active"] is False
    assert_error(client.get("/api/v1/auth/me", headers=headers), 401, "invalid_token")
    _change(client, admin, "area_supervisor", active=True)
    assert_error(client.get("/api/v1/auth/me", headers=headers), 401, "invalid_token")  # revoked, not paused
    assert_error(_change(client, admin, "admin", active=False), 409, "last_admin")
    assert_error(_change(client, admin, "admin", role="leader"), 409, "last_admin")
    assert_error(_change(client, admin, "nobody", active=False), 404, "user_not_found")
    for who in ("supervisor", "leader", "anonymous"):
        assert _change(client, area_loop.people[who], "citizen", active=False).status_code in (401, 403)


@pytest.mark.parametrize(
    "options, expected",
    [
        (["--area", STREET], [STREET]),
        (["--area", f"{STREET},{COMMUNITY}"], [STREET, COMMUNITY]),
        (["--area", STREET, "--area", f"{COMMUNITY}003"], [STREET, f"{COMMUNITY}003"]),
        ([], []),
    ],
)
def test_create_user_with_areas(app, area_loop, options, expected):
    result = app.test_cli_runner().invoke(args=["create-user", "patrol", "--role", "monitor", *options])
    assert result.exit_code == 0, result.output
    assert users.user_named("patrol").area_codes == sorted(expected)


def test_create_user_with_an_unknown_area_creates_nothing(app, area_loop):
    result = app.test_cli_runner().invoke(args=["create-user", "patrol", "--role", "monitor", "--area", "500110777"])
    assert result.exit_code != 0 and "unknown_area" in result.output
    assert "patrol" not in [u.name for u in users.list_users()]
