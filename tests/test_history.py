"""Seeded history: timelines that the workflow could have written, exact deadlines, ids, places."""

import random
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select, update

from civicreport.accounts.models import Unit, User
from civicreport.cases import deadlines
from civicreport.cases.models import DailyCounter, Report, ReportEvent
from civicreport.cases.routing import CategoryKey, route
from civicreport.cases.status import CLOCK_RUNNING
from civicreport.cases.workflow import TRANSITIONS
from civicreport.demo import history
from civicreport.demo.loader import load_demo
from civicreport.extensions import db
from civicreport.reference.categories import PRIORITY, Category, RoutingRule
from civicreport.reference.grid import grid_index
from civicreport.worktime import OfficeHours, WorkCalendar, WorkingLine
from tests.factories import photo_bytes
from tests.helpers import post_report

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)  # a Friday, 16:30 in 綦江
ZONE = ZoneInfo("Asia/Shanghai")
ENDED = {"rejected", "duplicate", "closed", "rated"}
SCANS = {"warning", "overdue"}


@pytest.fixture
def loaded(ctx):
    load_demo()
    return history.load_history(300, seed=7, now=NOW, days=30)


def reports_with_events():
    reports = db.session.scalars(select(Report).order_by(Report.id)).all()
    events = defaultdict(list)
    for event in db.session.scalars(select(ReportEvent).order_by(ReportEvent.id)):
        events[event.report_id].append(event)
    return [(report, events[report.id]) for report in reports]


def test_every_timeline_is_a_legal_walk_ending_in_the_cached_status(loaded):
    pairs = reports_with_events()
    assert len(pairs) == 300 == loaded.count
    for report, events in pairs:
        assert events[0].action == "submit" and events[0].from_status is None
        for before, after in pairwise(events):
            assert after.created_at > before.created_at, report.public_id
            assert after.from_status == before.to_status, report.public_id
            assert_legal(after)
        assert events[-1].created_at <= NOW
        assert report.status == events[-1].to_status
        assert report.updated_at == events[-1].created_at and report.version == len(events)


def assert_legal(event):
    if event.action in SCANS:
        assert event.actor_role == "system" and event.from_status == event.to_status
        assert event.from_status in CLOCK_RUNNING
        return
    transition = TRANSITIONS[event.action]
    assert event.from_status in transition.sources, (event.action, event.from_status)
    if transition.target is not None:
        assert event.to_status == transition.target
    elif event.action != "resume":
        assert event.to_status == event.from_status
    for field in transition.needs:
        if field == "note":
            assert event.note, event.action


def test_cached_columns_agree_with_the_timeline(loaded):
    for report, events in reports_with_events():
        actions = Counter(e.action for e in events)
        last = {e.action: e for e in events}
        assert (report.closed_at is not None) == (report.status in ENDED)
        if report.status in ("closed", "rated"):
            assert report.closed_at == last["close"].created_at
        if report.status == "rated":
            assert 1 <= report.rating <= 5 and last["rate"].data["rating"] == report.rating
        else:
            assert report.rating is None
        assert report.rework_count == actions["verify_fail"]
        assert report.escalation_count == actions["escalate"]
        assert report.return_count == actions["return"]
        if "dispatch" in last:
            assert report.dispatched_at == last["dispatch"].created_at
            assert db.session.get(Unit, report.unit_id).code == last["dispatch"].data["unit"]
        resolved = report.status in ("resolved", "verified", "closed", "rated")
        assert report.resolved_at == (last["resolve"].created_at if resolved else None)
        assert report.priority == PRIORITY[db.session.get(Category, report.category_code).urgency]
        assert (report.extension_request_minutes is not None) == (
            actions["request_extension"] > actions["approve_extension"] + actions["deny_extension"]
        )


def test_duplicates_point_at_a_valid_original_that_counts_them(loaded):
    reports = db.session.scalars(select(Report)).all()
    supporters = Counter(r.duplicate_of_id for r in reports if r.status == "duplicate")
    for report in reports:
        assert report.support_count == supporters.get(report.id, 0)
        if report.status == "duplicate":
            original = db.session.get(Report, report.duplicate_of_id)
            assert original.status not in ("duplicate", "rejected")
            assert original.category_code == report.category_code and original.created_at < report.created_at


def test_deadlines_replay_exactly_on_the_working_calendar(loaded):
    """Re-run every clock change through the real ``deadlines`` module and compare."""
    checked = 0
    for report, events in reports_with_events():
        clock = SimpleNamespace(
            category=db.session.get(Category, report.category_code),
            allowed_minutes=None,
            deadline_at=None,
            warning_at=None,
            suspended_at=None,
        )
        for event in events:
            replay(clock, event)
        assert (report.deadline_at, report.warning_at, report.allowed_minutes) == (
            clock.deadline_at,
            clock.warning_at,
            clock.allowed_minutes,
        ), report.public_id
        checked += report.deadline_at is not None
    assert checked > 200


def replay(clock, event):
    minutes = clock.category.deadline_hours * 60
    if event.action in ("dispatch", "verify_fail"):
        deadlines.start_clock(clock, event.created_at, minutes)
    elif event.action == "return":
        deadlines.stop_clock(clock)
    elif event.action == "approve_extension":
        deadlines.extend(clock, event.created_at, event.data["hours"] * 60)
    elif event.action == "suspend":
        deadlines.pause(clock, event.created_at)
    elif event.action == "resume":
        deadlines.resume(clock, event.created_at)


def test_overdue_flags_match_the_worker_events(loaded):
    for report, events in reports_with_events():
        since = max(
            (i for i, e in enumerate(events) if e.action in ("dispatch", "verify_fail", "approve_extension", "resume")),
            default=0,
        )
        raised = {e.action for e in events[since:]}
        assert report.overdue_notified == ("overdue" in raised)
        if report.is_overdue(NOW - history.SCAN_LAG):
            assert report.overdue_notified, report.public_id


def test_points_lie_in_their_cell_and_cases_go_to_the_routed_unit(loaded):
    index = grid_index()
    for report in db.session.scalars(select(Report)):
        cell = index.locate(report.lat, report.lon)
        assert cell is not None and cell.code == report.grid_code, report.public_id
        assert (cell.community_code, cell.street_code, cell.district_code) == (
            report.community_code,
            report.street_code,
            report.district_code,
        )
        if report.return_count == 0:
            routed = route(CategoryKey.of(db.session.get(Category, report.category_code)), cell)
            assert report.unit_id == routed.unit.id and report.routing_rule_id == (routed.rule and routed.rule.id)


def test_public_ids_are_unique_numbered_by_day_and_counted(loaded):
    history.load_history(100, seed=8, now=NOW, days=30)
    rows = db.session.execute(select(Report.public_id, Report.created_at)).all()
    assert len({public_id for public_id, _ in rows}) == len(rows) == 400
    used = defaultdict(list)
    for public_id, created_at in rows:
        match = re.fullmatch(r"QJ(\d{8})-(\d{4})", public_id)
        assert match and match[1] == f"{created_at.astimezone(ZONE):%Y%m%d}"
        used[match[1]].append(int(match[2]))
    counters = {
        f"{day:%Y%m%d}": value for day, value in db.session.execute(select(DailyCounter.day, DailyCounter.value))
    }
    for day, numbers in used.items():
        assert sorted(numbers) == list(range(1, counters[day] + 1))


def test_same_seed_gives_the_same_cases_on_a_fresh_database(loaded):
    def snapshot():
        return db.session.execute(
            select(
                Report.public_id,
                Report.category_code,
                Report.status,
                Report.grid_code,
                Report.created_at,
                Report.deadline_at,
            ).order_by(Report.public_id)
        ).all()

    first = snapshot()
    for table in (ReportEvent, Report, DailyCounter):
        db.session.execute(delete(table))
    db.session.commit()
    history.load_history(300, seed=7, now=NOW, days=30)
    assert snapshot() == first
    for table in (ReportEvent, Report, DailyCounter):
        db.session.execute(delete(table))
    history.load_history(300, seed=9, now=NOW, days=30)
    assert snapshot() != first


def test_cli_loads_the_demo_then_history_and_intake_numbers_on(app, ctx, client):
    result = app.test_cli_runner().invoke(args=["load-demo", "--history", "120", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "120 条历史案件" in result.output
    today_counter = db.session.get(DailyCounter, datetime.now(ZONE).date())
    expected = (today_counter.value if today_counter else 0) + 1  # read now: the submit's commit refreshes it
    response = post_report(client, [photo_bytes(gps=(29.0318, 106.6420))], category="06010", description="垃圾")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["id"].endswith(f"-{expected:04d}")
    assert db.session.scalar(select(func.count()).select_from(User).where(User.role == "monitor")) >= 5
    assert db.session.scalar(select(func.count()).select_from(Report)) == 121


def test_proportions_are_plausible_and_units_differ(ctx):
    load_demo()
    generator = history.HistoryGenerator(seed=11, now=NOW, days=120)
    cases = [case for day, count in generator.day_counts(4000) for case in generator.cases(day, count, 1)]
    share = {status: n / len(cases) for status, n in Counter(c.row["status"] for c in cases).items()}
    assert share["closed"] + share["rated"] > 0.75 and share["rated"] > 0.3
    assert 0.03 < share["rejected"] + share["duplicate"] < 0.15
    assert 0 < share["suspended"] < 0.03 and share.get("in_progress", 0) > 0.01
    assert sum(c.row["rework_count"] > 0 for c in cases) > 40
    assert any(c.row["channel"] == "monitor" for c in cases) and any(c.row["channel"] == "citizen" for c in cases)
    assert sum(history._overdue(c.row, NOW) for c in cases) > 10
    on_time = defaultdict(list)
    for case in cases:
        if case.row["resolved_at"] and case.row["unit_id"]:
            on_time[case.row["unit_id"]].append(case.row["resolved_at"] <= case.row["deadline_at"])
    rates = [sum(v) / len(v) for v in on_time.values() if len(v) >= 50]
    assert min(rates) < 0.75 and max(rates) > 0.92


def test_working_line_matches_the_work_calendar():
    calendar = WorkCalendar(
        OfficeHours.parse("08:30-12:00,14:00-17:30"),
        ZONE,
        {datetime(2026, 10, 12).date(): "holiday", datetime(2026, 10, 11).date(): "workday"},
    )
    line = WorkingLine(calendar, datetime(2026, 9, 1).date())
    rng = random.Random(1)
    origin = datetime(2026, 9, 1, tzinfo=ZONE)
    for _ in range(3000):
        start = origin + timedelta(seconds=rng.randrange(150 * 86400))
        start = start.replace(second=0) if rng.random() < 0.5 else start
        minutes = rng.choice((0, 1, 30, 210, 420, rng.randrange(20000)))
        assert line.add(start, minutes) == calendar.add(start, minutes), (start, minutes)
        end = start + timedelta(seconds=rng.randrange(-86400, 30 * 86400))
        assert line.between(start, end) == calendar.between(start, end), (start, end)
    with pytest.raises(ValueError):
        line.add(origin - timedelta(days=2), 10)


def test_loading_the_demo_again_keeps_reports_and_the_rules_that_routed_them(loaded):
    routed = dict(
        db.session.execute(select(Report.id, Report.routing_rule_id).where(Report.routing_rule_id.is_not(None))).all()
    )
    rules_before = db.session.scalar(select(func.count()).select_from(RoutingRule))
    db.session.execute(update(RoutingRule).values(active=False))
    db.session.commit()
    load_demo()
    assert (
        dict(
            db.session.execute(
                select(Report.id, Report.routing_rule_id).where(Report.routing_rule_id.is_not(None))
            ).all()
        )
        == routed
    )
    assert db.session.scalar(select(func.count()).select_from(RoutingRule)) == rules_before
    assert db.session.scalar(select(func.count()).select_from(RoutingRule).where(RoutingRule.active.is_(False))) == 0
    assert len(routed) > 100
