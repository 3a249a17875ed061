"""The closed loop over HTTP: every path, every role, every wrong state."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from civicreport.cases import deadlines, lookup
from civicreport.cases.models import ReportEvent
from civicreport.cases.workflow import TRANSITIONS
from civicreport.delivery.models import OutboxMessage
from civicreport.extensions import db
from civicreport.reference.categories import Category
from tests.helpers import SOURCE_STATE, assert_error, full_fields

ROLES = ("anonymous", "receipt", "citizen", "monitor", "supervisor", "own_staff", "other_staff", "leader", "admin")


def expected_allowed(action, who):
    transition = TRANSITIONS[action]
    role = {"receipt": "reporter", "own_staff": "unit_staff", "other_staff": "unit_staff"}.get(who, who)
    if role not in transition.roles:
        return False
    return not (transition.unit_bound and who == "other_staff")


def test_sources_cover_every_action():
    assert set(SOURCE_STATE) == set(TRANSITIONS)


@pytest.mark.slow  # every role tries every action: 18 cases of 2–5 s
@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_role_matrix(loop, action):
    for who in ROLES:
        rid = loop.to_state(SOURCE_STATE[action])
        receipt = loop.people["receipt"]
        fields = full_fields(loop, action, who)
        loop.people["receipt"] = receipt
        response = loop.act(rid, who, action, **fields)
        if expected_allowed(action, who):
            assert response.status_code == 200, (who, response.get_json())
        elif who == "anonymous":
            assert_error(response, 401, "login_required")
        else:
            assert response.status_code == 403, (who, response.get_json())
            assert response.get_json()["error"]["code"] in ("role_not_allowed", "not_your_unit")


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_wrong_state_is_409_with_allowed_actions(loop, action):
    wrong = "closed" if SOURCE_STATE[action] != "closed" else "submitted"
    if action == "add_evidence":
        wrong = None
    if wrong is None:
        rid = loop.to_state("closed")
        loop.ok(rid, "receipt", "rate", rating=4)
    else:
        rid = loop.to_state(wrong)
    who = next(w for w in ROLES if expected_allowed(action, w))
    error = assert_error(loop.act(rid, who, action, **full_fields(loop, action, who)), 409, "invalid_transition")
    assert error["details"]["status"] in ("closed", "submitted", "rated")
    assert isinstance(error["details"]["allowed_actions"], list)


def test_every_path_of_the_loop(loop, client):
    rejected = loop.new_report()
    assert_error(loop.act(rejected, "supervisor", "reject"), 422, "missing_fields")
    assert loop.ok(rejected, "supervisor", "reject", note="不属于受理范围")["status"] == "rejected"
    assert_error(loop.act(rejected, "supervisor", "accept"), 409, "invalid_transition")

    original = loop.new_report()
    copy = loop.new_report()
    merged = loop.ok(copy, "supervisor", "mark_duplicate", duplicate_of=original)
    assert merged["status"] == "duplicate" and merged["duplicate_of"] == original
    assert_error(loop.act(original, "supervisor", "mark_duplicate", duplicate_of=original), 422, "invalid_duplicate_of")

    rid = loop.new_report()
    receipt = dict(loop.people["receipt"])
    assert loop.ok(rid, "supervisor", "accept", category="06010")["status"] == "accepted"
    dispatched = loop.ok(rid, "supervisor", "dispatch")
    assert dispatched["unit"]["code"] == "cgj" and dispatched["deadline_at"]
    assert_error(loop.act(rid, "other_staff", "claim"), 403, "not_your_unit")
    assert loop.ok(rid, "own_staff", "return", note="不归我单位管")["status"] == "returned"
    assert loop.ok(rid, "supervisor", "dispatch", unit="cgj")["status"] == "dispatched"
    assert loop.ok(rid, "own_staff", "claim")["status"] == "in_progress"
    before = loop.ok(rid, "own_staff", "request_extension", hours=16, note="需要采购材料")
    assert before["extension_request_hours"] == 16
    assert_error(loop.act(rid, "own_staff", "request_extension", hours=8, note="再延"), 409, "invalid_transition")
    extended = loop.ok(rid, "supervisor", "approve_extension")
    assert extended["deadline_at"] > before["deadline_at"] and extended["extension_request_hours"] is None
    assert loop.ok(rid, "supervisor", "suspend", note="等待天气好转")["status"] == "suspended"
    assert loop.ok(rid, "supervisor", "resume")["status"] == "in_progress"
    escalated = loop.ok(rid, "leader", "escalate", note="请今日内处置")
    assert escalated["escalation_count"] == 1
    assert_error(loop.act(rid, "own_staff", "resolve"), 422, "missing_fields")
    assert loop.ok(rid, "own_staff", "resolve", media_ids=[loop.upload()], note="已清运")["status"] == "resolved"
    rework = loop.ok(rid, "monitor", "verify_fail", note="仍有残留垃圾")
    assert rework["status"] == "rework" and rework["rework_count"] == 1
    assert loop.ok(rid, "own_staff", "resolve", media_ids=[loop.upload()])["status"] == "resolved"
    assert loop.ok(rid, "monitor", "verify_pass", media_ids=[loop.upload("monitor")])["status"] == "verified"
    assert loop.ok(rid, "supervisor", "close")["status"] == "closed"
    loop.people["receipt"] = receipt
    assert_error(loop.act(rid, "receipt", "rate", rating=9), 422, "invalid_rating")
    rated = loop.ok(rid, "receipt", "rate", rating=5, comment="处理很快")
    assert rated["status"] == "rated" and rated["rating"] == 5

    timeline = client.get(f"/api/v1/reports/{rid}/events", headers=loop.people["supervisor"]).get_json()["events"]
    assert [e["action"] for e in timeline] == [
        "submit",
        "accept",
        "dispatch",
        "return",
        "dispatch",
        "claim",
        "request_extension",
        "approve_extension",
        "suspend",
        "resume",
        "escalate",
        "resolve",
        "verify_fail",
        "resolve",
        "verify_pass",
        "close",
        "rate",
    ]
    assert timeline[3]["note"] == "不归我单位管" and timeline[3]["actor_role"] == "unit_staff"
    public = client.get(f"/api/v1/reports/{rid}/events").get_json()["events"]
    assert "note" not in public[3] and "actor_user_id" not in public[3]
    topics = [m.topic for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert topics == [
        "rejected",
        "dispatch",
        "returned",
        "dispatch",
        "extension_approved",
        "escalation",
        "resolved",
        "rework",
        "resolved",
        "closed",
    ]
    photos = client.get(f"/api/v1/reports/{rid}", headers=loop.people["supervisor"]).get_json()["photos"]
    assert [p["kind"] for p in photos] == ["evidence", "after", "after", "verification"]


def test_events_are_append_only(loop):
    loop.to_state("accepted")
    event = db.session.scalars(select(ReportEvent)).first()
    event.note = "tampered"
    with pytest.raises(RuntimeError):
        db.session.flush()
    db.session.rollback()


def test_unknown_action_and_bad_fields(loop):
    rid = loop.new_report()
    assert_error(loop.act(rid, "supervisor", "teleport"), 422, "unknown_action")
    assert_error(loop.act(rid, "supervisor", "accept", hours="8"), 422, "validation_failed")
    assert_error(loop.act("QJ19990101-0001", "supervisor", "accept"), 404, "report_not_found")


def test_receipt_only_works_for_its_own_report(loop):
    first = loop.to_state("closed")
    first_receipt = dict(loop.people["receipt"])
    second = loop.to_state("closed")
    loop.people["receipt"] = first_receipt
    assert_error(loop.act(second, "receipt", "rate", rating=5), 401, "login_required")
    assert loop.ok(first, "receipt", "rate", rating=3)["status"] == "rated"


def test_unit_worklist_and_escalation_notice(loop, client):
    late = loop.to_state("in_progress")
    loop.ok(late, "supervisor", "escalate", note="限两小时内整改")
    loop.to_state("dispatched")
    worklist = client.get("/api/v1/units/cgj/worklist", headers=loop.people["own_staff"]).get_json()
    assert worklist["counts"]["open"] == 2
    assert [c["id"] for c in worklist["cases"]][0] == late
    assert_error(client.get("/api/v1/units/cgj/worklist", headers=loop.people["other_staff"]), 403, "not_your_unit")
    assert_error(client.get("/api/v1/units/cgj/worklist", headers=loop.people["monitor"]), 403, "forbidden")
    page = client.get(f"/reports/{late}/notice", headers=loop.people["supervisor"])
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "督办通知书" in html and late in html and "限两小时内整改" in html and "区城市管理局" in html
    fresh = loop.to_state("dispatched")
    assert_error(client.get(f"/reports/{fresh}/notice", headers=loop.people["supervisor"]), 409, "not_escalated")


def test_login_logout_and_me(loop, client, ctx):
    from civicreport.accounts import auth

    auth.create_user("wang", "supervisor", password="correct horse", phone="13812345678")
    assert_error(
        client.post("/api/v1/auth/login", json={"login": "wang", "password": "nope"}), 401, "invalid_credentials"
    )
    assert_error(
        client.post("/api/v1/auth/login", json={"login": "ghost", "password": "x"}), 401, "invalid_credentials"
    )
    body = client.post("/api/v1/auth/login", json={"login": "13812345678", "password": "correct horse"}).get_json()
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/api/v1/auth/me", headers=headers).get_json()["user"]["role"] == "supervisor"
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 200
    assert_error(client.get("/api/v1/auth/me", headers=headers), 401, "invalid_token")
    from civicreport.accounts.models import User

    assert db.session.scalar(select(User).where(User.name == "wang")).password_hash.startswith(("scrypt", "pbkdf2"))


def test_concurrent_transitions_on_one_case_do_not_both_win(loop, app):
    for _ in range(3):
        rid = loop.new_report()
        barrier = threading.Barrier(2)

        def attempt(action, rid=rid, barrier=barrier):  # bound now: one case and one barrier a round
            client = app.test_client()
            barrier.wait()
            fields = {"note": "并发"} if action == "reject" else {}
            return client.post(
                f"/api/v1/reports/{rid}/transitions",
                json={"action": action, **fields},
                headers=loop.people["supervisor"],
            )

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(attempt, ["accept", "reject"]))
        assert sorted(r.status_code for r in results) == [200, 409], [r.get_json() for r in results]
        timeline = loop.client.get(f"/api/v1/reports/{rid}/events").get_json()["events"]
        assert [e["action"] for e in timeline] == ["submit", results[0].status_code == 200 and "accept" or "reject"]


SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*parts):
    return datetime(*parts, tzinfo=SHANGHAI)


def test_deadline_across_national_day_and_a_make_up_saturday(loop):
    report = lookup.get_report(loop.to_state("accepted"))
    deadlines.start_clock(report, at(2026, 9, 30, 14, 0), 480)
    assert report.deadline_at == at(2026, 10, 8, 15, 0)
    assert report.warning_at == at(2026, 10, 8, 9, 48)  # 60 % of 480 working minutes
    deadlines.pause(report, at(2026, 10, 8, 9, 0))
    deadlines.resume(report, at(2026, 10, 9, 14, 0))
    assert report.deadline_at == at(2026, 10, 10, 9, 0)  # Saturday 10-10 is a 调休 working day
    deadlines.extend(report, at(2026, 10, 10, 8, 45), 480)
    assert report.deadline_at == at(2026, 10, 12, 10, 0)  # 390 min on Saturday, Sunday 10-11 off, 90 on Monday
    db.session.rollback()


def test_urgent_categories_run_on_the_clock(loop):
    report = lookup.get_report(loop.to_state("accepted"))
    report.category = db.session.get(Category, "01023")  # 不明井盖, urgent: 2 hours day and night
    deadlines.start_clock(report, at(2026, 10, 1, 22, 0), 120)
    assert report.deadline_at == at(2026, 10, 2, 0, 0)
    db.session.rollback()


def test_dispatch_sets_the_category_deadline_in_working_time(loop, client):
    rid = loop.to_state("dispatched")
    body = client.get(f"/api/v1/reports/{rid}", headers=loop.people["supervisor"]).get_json()
    dispatched = datetime.fromisoformat(body["dispatched_at"])
    expected = deadlines.work_calendar().add(dispatched, 4 * 60)  # 06010 暴露垃圾: 4 working hours
    assert datetime.fromisoformat(body["deadline_at"]) == expected
    assert body["allowed_minutes"] == 240 and body["overdue"] is False


def test_worker_raises_warning_and_overdue_once(loop, client):
    rid = loop.to_state("in_progress")
    report = lookup.get_report(rid)
    later = report.deadline_at + timedelta(minutes=1)
    assert deadlines.scan(later) == {"warning": 1, "overdue": 1}
    assert deadlines.scan(later) == {"warning": 0, "overdue": 0}
    timeline = client.get(f"/api/v1/reports/{rid}/events").get_json()["events"]
    assert [e["action"] for e in timeline][-2:] == ["warning", "overdue"]
    topics = db.session.scalars(select(OutboxMessage.topic).order_by(OutboxMessage.id)).all()
    assert topics[-2:] == ["warning", "overdue"]


def test_worker_command_runs_one_round(loop, app):
    rid = loop.to_state("dispatched")
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent=1" in result.output and "errors=0" in result.output
    sent = db.session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "dispatch")).one()
    assert sent.status == "sent" and sent.payload["report"] == rid


def test_every_endpoint_declares_who_may_call_it(app):
    undeclared = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and not hasattr(app.view_functions[rule.endpoint], "allowed_roles")
    ]
    assert undeclared == []


@pytest.mark.parametrize("path", ["/api/v1/units/cgj/worklist", "/api/v1/auth/me"])
def test_declared_roles_are_enforced(loop, client, path):
    assert_error(client.get(path), 401, "unauthorized")
    if "worklist" in path:
        assert_error(client.get(path, headers=loop.people["citizen"]), 403, "forbidden")


def test_private_view_is_for_the_centre_and_the_handling_unit(loop, client):
    rid = loop.to_state("dispatched")
    views = {
        who: client.get(f"/api/v1/reports/{rid}", headers=loop.people[who]).get_json()
        for who in ("supervisor", "own_staff", "other_staff", "monitor", "citizen")
    }
    assert {who for who, body in views.items() if "contact" in body} == {"supervisor", "own_staff"}
    assert views["own_staff"]["allowed_actions"] == ["claim", "return", "request_extension"]


def test_cli_tokens_and_calendar_overrides(loop, app):
    runner = app.test_cli_runner()
    assert "unit_required" in runner.invoke(args=["create-user", "x", "--role", "unit_staff"]).output
    token = runner.invoke(args=["create-token", "sup", "--days", "1"]).output.strip()
    assert loop.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert "user_not_found" in runner.invoke(args=["create-token", "nobody"]).output
    assert runner.invoke(args=["set-calendar-day", "2027-01-01", "holiday", "--name", "元旦"]).exit_code == 0
    assert not deadlines.work_calendar().is_working_day(datetime(2027, 1, 1).date())
    runner.invoke(args=["set-calendar-day", "2027-01-01", "official"])
    assert deadlines.work_calendar().is_working_day(datetime(2027, 1, 1).date())
