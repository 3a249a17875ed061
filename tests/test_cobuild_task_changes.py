"""The office changes or withdraws a monthly task while nobody has declared it and its month is not
judged (PATCH/DELETE /api/v1/tasks/<id>), a bounded supervisor lists the tasks and declarations of
his communities only, and each card issued is told to its community through the outbox."""

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from civicreport.accounts import auth
from civicreport.accounts.models import User, UserArea
from civicreport.cobuilding import cards, declarations, tasks
from civicreport.cobuilding.models import Task, TaskCommunity
from civicreport.delivery import senders
from civicreport.delivery.models import OutboxMessage
from civicreport.extensions import db
from civicreport.reference.areas import Community
from tests.factories import COMMUNITY, INSIDE, STREET, make_user, photo_bytes
from tests.helpers import assert_error

ZONE = ZoneInfo("Asia/Shanghai")
OTHER = "500110001002"
TASKS = "/api/v1/tasks"


def local(text):
    """``YYYY-MM-DD HH:MM`` in 綦江 as an aware UTC datetime."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZONE).astimezone(UTC)


@pytest.fixture
def clock(monkeypatch):
    """The co-building services' clock, at 2026-11-10 09:00 local time."""
    now = {"at": local("2026-11-10 09:00")}
    for module in (tasks, declarations, cards):
        monkeypatch.setattr(module, "utcnow", lambda: now["at"])
    return now


def _bearer(user):
    return {"Authorization": f"Bearer {auth.issue_token(user)}"}


def _staff(name, community):
    user = User(name=name, role="community_staff", display_name=name, areas=[UserArea(code=community)])
    db.session.add(user)
    db.session.commit()
    return _bearer(user)


@pytest.fixture
def people(grid, client, clock):
    db.session.add(Community(code=OTHER, name="沙溪社区", street_code=STREET))
    db.session.commit()
    return {
        "office": make_user("sup", "supervisor")[1],
        "leader": make_user("leader", "leader")[1],
        "bounded": _bearer(auth.create_user("sup-cl", "supervisor", areas=[COMMUNITY])),
        "staff": _staff("changle", COMMUNITY),
        "other": _staff("shaxi", OTHER),
    }


def _issue(client, people, who="office", **fields):
    body = {"month": "2026-11", "title": "背街小巷环境整治", "points": 10, **fields}
    response = client.post(TASKS, json=body, headers=people[who])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _declare(client, people, task_id, who="staff"):
    photo = photo_bytes((64, 48), gps=INSIDE, taken=datetime(2026, 11, 9, 9, 30), color=(40, 120, 40))
    upload = client.post(
        "/api/v1/media",
        headers=people[who],
        data={"photo": (io.BytesIO(photo), "d.jpg")},
        content_type="multipart/form-data",
    )
    body = {"text": "已完成", "media_ids": [upload.get_json()["id"]]}
    response = client.post(f"{TASKS}/{task_id}/declarations", json=body, headers=people[who])
    assert response.status_code == 201, response.get_json()


def _topics():
    return [m.topic for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_the_office_changes_a_task_nobody_declared_and_the_communities_are_told(client, people):
    task = _issue(client, people)
    change = {
        "title": "背街小巷环境整治（第二轮）",
        "points": 8,
        "communities": [COMMUNITY],
        "due": local("2026-11-25 18:00").isoformat(),
        "description": "重点整治乱堆乱放",
    }
    response = client.patch(f"{TASKS}/{task['id']}", json=change, headers=people["office"])
    assert response.status_code == 200, response.get_json()
    changed = response.get_json()
    assert changed["title"] == change["title"] and changed["points"] == 8
    assert changed["communities"] == [COMMUNITY] and changed["due_at"].startswith("2026-11-25T10:00")
    assert client.get(TASKS, headers=people["other"]).get_json()["tasks"] == []
    assert [t["id"] for t in client.get(TASKS, headers=people["staff"]).get_json()["tasks"]] == [task["id"]]
    assert _topics() == ["task_issued", "task_changed"]
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.topic == "task_changed"))
    assert "已调整" in message.payload["message"] and senders.topic_title("task_changed") == "共建任务调整通知"

    back = client.patch(f"{TASKS}/{task['id']}", json={"communities": "all", "due": None}, headers=people["office"])
    assert back.get_json()["communities"] == "all" and back.get_json()["due_at"].startswith("2026-11-30T10:00")
    assert db.session.scalars(select(TaskCommunity)).all() == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "validation_failed"),
        ({"month": "2026-12"}, "validation_failed"),
        ({"points": 0}, "validation_failed"),
        ({"communities": ["999999999999"]}, "unknown_community"),
        ({"due": "2027-03-01T00:00:00+08:00"}, "invalid_due"),
    ],
)
def test_a_bad_change_is_422_and_changes_nothing(client, people, body, code):
    task = _issue(client, people)
    assert_error(client.patch(f"{TASKS}/{task['id']}", json=body, headers=people["office"]), 422, code)
    assert client.get(f"{TASKS}/{task['id']}", headers=people["office"]).get_json()["points"] == 10


def test_a_declared_task_or_a_judged_month_cannot_change(client, people, clock):
    declared = _issue(client, people, communities=[COMMUNITY])
    _declare(client, people, declared["id"])
    for response in (
        client.patch(f"{TASKS}/{declared['id']}", json={"points": 5}, headers=people["office"]),
        client.delete(f"{TASKS}/{declared['id']}", headers=people["office"]),
    ):
        assert_error(response, 409, "task_declared")
    undeclared = _issue(client, people, title="垃圾分类宣传", communities=[OTHER])
    clock["at"] = local("2026-12-01 09:00")
    cards.judge(datetime(2026, 11, 1).date())
    for response in (
        client.patch(f"{TASKS}/{undeclared['id']}", json={"points": 5}, headers=people["office"]),
        client.delete(f"{TASKS}/{undeclared['id']}", headers=people["office"]),
    ):
        assert_error(response, 409, "month_judged")


def test_the_office_withdraws_a_task_and_it_is_gone(client, people):
    task = _issue(client, people, communities=[COMMUNITY, OTHER])
    kept = _issue(client, people, title="文明餐桌")
    response = client.delete(f"{TASKS}/{task['id']}", headers=people["office"])
    assert response.status_code == 204
    assert [t["id"] for t in client.get(TASKS, headers=people["office"]).get_json()["tasks"]] == [kept["id"]]
    assert_error(client.get(f"{TASKS}/{task['id']}", headers=people["office"]), 404, "task_not_found")
    assert_error(client.delete(f"{TASKS}/{task['id']}", headers=people["office"]), 404, "task_not_found")
    assert db.session.get(Task, task["id"]) is None and db.session.scalars(select(TaskCommunity)).all() == []
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.topic == "task_withdrawn"))
    assert message.payload["task"] == task["id"] and "撤回" in message.payload["message"]


def test_who_may_change_or_withdraw(client, people):
    everyone = _issue(client, people)
    other = _issue(client, people, communities=[OTHER])
    mine = _issue(client, people, communities=[COMMUNITY])
    for who in ("staff", "leader"):
        assert_error(client.patch(f"{TASKS}/{mine['id']}", json={"points": 1}, headers=people[who]), 403, "forbidden")
        assert_error(client.delete(f"{TASKS}/{mine['id']}", headers=people[who]), 403, "forbidden")
    assert_error(client.delete(f"{TASKS}/{mine['id']}"), 401, "unauthorized")
    bounded = people["bounded"]
    for task in (everyone, other):
        assert_error(client.delete(f"{TASKS}/{task['id']}", headers=bounded), 403, "community_not_covered")
    response = client.patch(f"{TASKS}/{mine['id']}", json={"communities": [OTHER]}, headers=bounded)
    assert_error(response, 403, "community_not_covered")
    assert client.patch(f"{TASKS}/{mine['id']}", json={"points": 3}, headers=bounded).status_code == 200
    assert client.delete(f"{TASKS}/{mine['id']}", headers=bounded).status_code == 204


def test_a_bounded_supervisor_lists_the_tasks_and_declarations_of_his_communities(client, people):
    everyone = _issue(client, people)
    other = _issue(client, people, title="沙溪专项", communities=[OTHER])
    mine = _issue(client, people, title="长乐专项", communities=[COMMUNITY])
    _declare(client, people, everyone["id"], "staff")
    _declare(client, people, everyone["id"], "other")
    listed = client.get(TASKS, headers=people["bounded"]).get_json()["tasks"]
    assert {t["id"] for t in listed} == {everyone["id"], mine["id"]}
    assert {t["id"] for t in client.get(TASKS, headers=people["office"]).get_json()["tasks"]} == {
        everyone["id"],
        other["id"],
        mine["id"],
    }
    queue = client.get("/api/v1/declarations", headers=people["bounded"]).get_json()["declarations"]
    assert [d["community_code"] for d in queue] == [COMMUNITY]


def test_each_card_issued_is_told_to_its_community(client, people, clock):
    _issue(client, people, communities=[COMMUNITY, OTHER])
    clock["at"] = local("2026-12-01 09:00")
    issued = cards.judge(datetime(2026, 11, 1).date())
    messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "card_issued")).all()
    assert len(messages) == len(issued) == 2
    assert {m.payload["community"] for m in messages} == {COMMUNITY, OTHER}
    text = next(m.payload["message"] for m in messages if m.payload["community"] == COMMUNITY)
    assert text == "长乐社区 2026年11月任务“背街小巷环境整治”未申报，记黄牌一张"
    assert senders.topic_title("card_issued") == "红黄牌通知"
    assert cards.judge(datetime(2026, 11, 1).date()) == []
    assert len(db.session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "card_issued")).all()) == 2
    bounded = client.get("/api/v1/cards?month=2026-11", headers=people["bounded"]).get_json()
    assert [card["community_code"] for card in bounded["cards"]] == [COMMUNITY]
