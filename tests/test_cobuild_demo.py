"""The 綦江 demo's co-building layer: partners, leaders and teams for every community, and seeded
past months of tasks, declarations, 实事清单 and needs orders whose timelines the services could
have written."""

from collections import Counter, defaultdict
from datetime import UTC, datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select

from civicreport.accounts import auth
from civicreport.accounts.models import UNIT_KINDS, Unit, User
from civicreport.cobuilding import declarations, matters, order_deadlines, orders
from civicreport.cobuilding.access import community_of
from civicreport.cobuilding.models import (
    Card,
    CardMonth,
    Declaration,
    DeclarationEvent,
    LeaderLink,
    Matter,
    MatterNote,
    Meeting,
    MeetingAttendee,
    NeedOrder,
    NeedOrderEvent,
    Partnership,
    RankingMonth,
    RankingRow,
    Task,
    TaskCommunity,
    VolunteerTeam,
)
from civicreport.cobuilding.status import ORDER_OPEN
from civicreport.delivery.models import OutboxMessage
from civicreport.demo import history
from civicreport.demo.loader import load_demo
from civicreport.extensions import db
from civicreport.reference.areas import Community

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)  # a Friday, 16:30 in 綦江
ZONE = ZoneInfo("Asia/Shanghai")
PARTNER_KINDS = ("government_office", "public_institution", "enterprise", "power_supply")


@pytest.fixture
def loaded(ctx):
    load_demo()
    return history.load_history(100, seed=5, now=NOW, days=110)  # from 2026-08-02: Aug to Nov


def counts():
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Unit, User, Partnership, LeaderLink, VolunteerTeam, Task, Declaration, Meeting, NeedOrder)
    }


def test_every_demo_community_has_a_lead_partner_members_a_leader_a_team_and_logins_once(ctx):
    load_demo()
    communities = db.session.scalars(select(Community.code)).all()
    assert len(communities) == 5
    for code in communities:
        partners = db.session.scalars(select(Partnership).where(Partnership.community_code == code)).all()
        roles = Counter(p.role for p in partners)
        assert roles["lead"] == 1 and roles["member"] >= 1, code
        assert all(p.unit.kind in PARTNER_KINDS and p.ends_on is None for p in partners)
        links = db.session.scalars(select(LeaderLink).where(LeaderLink.area_code == code)).all()
        assert [link.user.role for link in links] == ["leader"], code
        (team,) = db.session.scalars(select(VolunteerTeam).where(VolunteerTeam.community_code == code)).all()
        volunteers = db.session.scalars(select(User).where(User.team_id == team.id)).all()
        assert volunteers and {v.role for v in volunteers} == {"volunteer"}
        staff = db.session.scalar(select(User).where(User.name == f"demo-community-{code}"))
        assert staff.role == "community_staff" and community_of(staff) == code
    sha_xi = db.session.scalar(
        select(Unit.name)
        .join(Partnership, Partnership.unit_id == Unit.id)
        .where(Partnership.community_code == "500110002002", Partnership.role == "lead")
    )
    assert sha_xi == "綦江区人大办公室"
    assert all(kind in UNIT_KINDS for kind in PARTNER_KINDS)
    for user in db.session.scalars(select(User)):  # every demo login as create-user would accept it
        auth.check_role(user.role, user.unit, user.area_codes, user.team_id)
    first = counts()
    load_demo()
    assert counts() == first  # loading again adds nothing


def test_history_fills_each_month_with_tasks_for_all_or_listed_communities(loaded):
    months = sorted(db.session.scalars(select(Task.month).distinct()))
    assert [f"{m:%Y-%m}" for m in months] == ["2026-08", "2026-09", "2026-10", "2026-11"]
    assert loaded.cobuild.months == months
    for month in months:
        tasks = db.session.scalars(select(Task).where(Task.month == month)).all()
        assert 2 <= len(tasks) <= 3
        for task in tasks:
            assert task.created_at.astimezone(ZONE).date().month == month.month and task.created_at < task.due_at
            listed = db.session.scalars(select(TaskCommunity.community_code).where(TaskCommunity.task_id == task.id))
            assert task.all_communities == (not list(listed))
    assert {t.all_communities for t in db.session.scalars(select(Task))} == {True, False}


def test_declarations_walk_the_declaration_transitions_and_cache_their_last_step(loaded):
    events = timelines(DeclarationEvent, "declaration_id")
    declared = db.session.scalars(select(Declaration)).all()
    assert len(declared) == loaded.cobuild.declarations > 15
    for declaration in declared:
        steps = events[declaration.id]
        walk(steps, declarations.TRANSITIONS)
        submits = [e for e in steps if e.action in ("submit", "resubmit")]
        assert declaration.first_submitted_at == submits[0].created_at
        assert declaration.submitted_at == submits[-1].created_at
        assert declaration.late == (declaration.first_submitted_at > declaration.task.due_at)
        assert declaration.returns == sum(e.action == "return" for e in steps)
        assert declaration.version == len(steps) and declaration.status == steps[-1].to_status
        if declaration.status == "accepted":
            assert 0 < declaration.score <= declaration.task.points
            assert steps[-1].data == {"score": declaration.score}
    statuses = Counter(d.status for d in declared)
    assert statuses["accepted"] > statuses["submitted"] + statuses["returned"]
    assert any(d.late for d in declared)
    assert any(d.returns and d.status == "accepted" for d in declared)  # returned, re-submitted, accepted
    owed = sum(
        len(db.session.scalars(select(Community.code)).all()) if t.all_communities else len(t.communities)
        for t in db.session.scalars(select(Task))
    )
    assert len(declared) < owed  # some never declared (and this month's are not due yet)


def test_orders_walk_the_order_transitions_with_hours_and_ratings(loaded):
    events = timelines(NeedOrderEvent, "order_id")
    placed = db.session.scalars(select(NeedOrder)).all()
    assert len(placed) == loaded.cobuild.orders > 50
    for order in placed:
        steps = events[order.id]
        walk(steps, orders.TRANSITIONS)
        assert order.status == steps[-1].to_status and order.version == len(steps)
        assert order.updated_at == steps[-1].created_at
        assert (order.service_hours is not None) == (order.status in ("completed", "rated"))
        if order.status == "rated":
            assert steps[-1].data == {"rating": order.rating} and steps[-1].actor_role == orders.RESIDENT
        dispatch = [e for e in steps if e.action == "dispatch"]
        if dispatch:
            assert (order.team_id, order.unit_id) == (dispatch[0].data.get("team_id"), dispatch[0].data.get("unit_id"))
        running = order.status in ORDER_OPEN
        assert (order.deadline_at is not None) == running == (order.warning_at is not None)
        if running:
            assert order.warning_at < order.deadline_at
            assert (order.warning_notified, order.overdue_notified) == (
                order.warning_at <= NOW,
                order.deadline_at <= NOW,
            )
    assert order_deadlines.scan(now=NOW) == {"order_warning": 0, "order_overdue": 0}  # nothing owed for the past
    statuses = Counter(o.status for o in placed)
    assert statuses["rated"] > len(placed) / 2 and statuses["rejected"] and statuses["completed"]
    assert any(o.unit_id for o in placed) and any(o.created_by_user_id for o in placed)
    assert all(o.rating >= 3 for o in placed if o.rating)


def test_matters_come_from_meetings_with_notes_some_done_late_or_overdue(loaded):
    notes = defaultdict(list)
    for note in db.session.scalars(select(MatterNote).order_by(MatterNote.id)):
        notes[note.matter_id].append(note)
    items = db.session.scalars(select(Matter)).all()
    assert len(items) == loaded.cobuild.matters > 5 and loaded.cobuild.meetings > 3
    for matter in items:
        steps = notes[matter.id]
        assert steps[0].from_status is None and steps[0].to_status == "open"
        for before, after in pairwise(steps):
            assert after.created_at > before.created_at and after.created_at <= NOW
            assert after.from_status == (before.to_status or before.from_status)
            move = matters.TRANSITIONS[after.to_status] if after.to_status else matters.NOTE
            assert after.from_status in move.sources
        assert matter.status == next(s.to_status for s in reversed(steps) if s.to_status)
        assert (matter.done_at is not None) == (matter.status == "done") == (matter.result is not None)
        assert matter.unit_id in {p.unit_id for p in partners_of(matter.community_code)}
    today = NOW.astimezone(ZONE).date()
    assert any(m.status == "done" for m in items)
    assert any(m.status in ("open", "in_progress") and m.due_on < today for m in items) or any(
        m.status == "done" and m.done_at.astimezone(ZONE).date() > m.due_on for m in items
    )


def test_history_settles_the_rankings_of_the_ended_months_with_flags_and_cards(loaded):
    settled = sorted(db.session.scalars(select(RankingMonth.month)))
    assert (
        [f"{m:%Y-%m}" for m in settled]
        == ["2026-08", "2026-09", "2026-10"]
        == [f"{m:%Y-%m}" for m in loaded.cobuild.settled]
    )  # November settles in December
    rows = db.session.scalars(select(RankingRow)).all()
    assert len(rows) == 5 * len(settled)
    assert all(row.score is not None and row.task_part is not None and row.order_part is not None for row in rows)
    for month in settled:
        flags = Counter(row.flag for row in rows if row.month == month)
        assert flags["red"] >= 1 and flags["grey"] >= 1
    assert {row.card for row in rows} & {"yellow", "red"}
    assert db.session.scalar(select(func.count()).select_from(Card)) > 0
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0  # nothing sent for the past


def test_loading_history_again_keeps_the_generated_months(loaded):
    before = counts()
    again = history.load_history(20, seed=6, now=NOW, days=110)
    assert again.cobuild.months == []
    after = counts()
    assert {k: v for k, v in after.items() if k != "user_account"} == {
        k: v for k, v in before.items() if k != "user_account"
    }


def test_the_cli_says_what_it_generated(app, ctx):
    result = app.test_cli_runner().invoke(args=["load-demo", "--history", "40", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(Task)) > 0
    assert "社区文明共建（" in result.output and "排名已结算" in result.output


def timelines(model, key):
    found = defaultdict(list)
    for event in db.session.scalars(select(model).order_by(model.id)):
        found[getattr(event, key)].append(event)
    return found


def walk(steps, transitions):
    """Filed first (``submit``), then each step leaves the state the last one reached, by a
    transition allowed from it."""
    head = transitions.get(steps[0].action)
    assert steps[0].action == "submit" and steps[0].from_status is None and steps[0].to_status == "submitted"
    assert head is None or head.target == "submitted"
    for before, after in pairwise(steps):
        assert before.created_at < after.created_at <= NOW
        assert after.from_status == before.to_status
        transition = transitions[after.action]
        assert after.from_status in transition.sources and after.to_status == transition.target


def partners_of(community_code):
    return db.session.scalars(select(Partnership).where(Partnership.community_code == community_code)).all()


def test_the_demo_logins_see_their_own_community_and_team(loaded, client):
    code = "500110002002"
    staff = db.session.scalar(select(User).where(User.name == f"demo-community-{code}"))
    volunteer = db.session.scalar(select(User).where(User.name == f"demo-volunteer-{code}-1"))
    declared = client.get("/api/v1/declarations", headers=bearer(staff))
    assert declared.status_code == 200, declared.get_json()
    rows = declared.get_json()["declarations"]
    assert rows and {row["community_code"] for row in rows} == {code}
    served = client.get("/api/v1/orders", headers=bearer(volunteer))
    assert served.status_code == 200, served.get_json()
    rows = served.get_json()["orders"]
    assert rows and {row["team"]["id"] for row in rows} == {volunteer.team_id}


def bearer(user):
    return {"Authorization": f"Bearer {auth.issue_token(user)}"}


def test_the_same_seed_gives_the_same_months_on_an_empty_layer(ctx):
    load_demo()
    history.load_history(20, seed=4, now=NOW, days=40)
    first = layer()
    assert all(first)
    for model in (NeedOrderEvent, NeedOrder, MatterNote, Matter, MeetingAttendee, Meeting, DeclarationEvent):
        db.session.execute(delete(model))
    for model in (Declaration, TaskCommunity, Card, CardMonth, RankingRow, RankingMonth, Task):
        db.session.execute(delete(model))
    db.session.commit()
    history.load_history(20, seed=4, now=NOW, days=40)
    assert layer() == first


def layer():
    return (
        db.session.execute(select(Task.month, Task.title, Task.due_at).order_by(Task.month, Task.title)).all(),
        db.session.execute(
            select(Declaration.community_code, Declaration.status, Declaration.submitted_at).order_by(
                Declaration.community_code, Declaration.submitted_at
            )
        ).all(),
        db.session.execute(select(NeedOrder.public_id, NeedOrder.status).order_by(NeedOrder.public_id)).all(),
        db.session.execute(
            select(Matter.title, Matter.due_on, Matter.status).order_by(Matter.due_on, Matter.title)
        ).all(),
    )
