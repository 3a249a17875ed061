"""The needs orders' 派单 and service clocks warn and turn overdue once each per clock: the
worker's round (cobuilding.order_deadlines.scan) queues ``order_warning`` / ``order_overdue``
through the outbox and flags the order, and a new clock (派单, 退单) starts the flags afresh."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from civicreport.accounts import auth
from civicreport.accounts.models import User, UserArea
from civicreport.cobuilding import order_deadlines
from civicreport.cobuilding.models import NeedOrder, Partnership, VolunteerTeam
from civicreport.delivery import senders
from civicreport.delivery.models import OutboxMessage
from civicreport.extensions import db
from tests.factories import COMMUNITY, make_geography, make_unit

ORDERS = "/api/v1/orders"
MINUTE = timedelta(minutes=1)


def _bearer(user):
    db.session.add(user)
    db.session.commit()
    return {"Authorization": f"Bearer {auth.issue_token(user)}"}


@pytest.fixture
def town(ctx):
    """长乐社区 with its volunteer team (a contact phone, no unit) and a partner unit."""
    make_geography()
    partner = make_unit("rdb", "government_office", "区人大办公室")
    db.session.add(Partnership(community_code=COMMUNITY, unit_id=partner.id, role="lead", starts_on=date(2020, 1, 1)))
    team = VolunteerTeam(name="长乐志愿服务队", community_code=COMMUNITY, contact_phone="13800000001")
    db.session.add(team)
    db.session.commit()
    staff = User(name="cs", role="community_staff", display_name="cs", areas=[UserArea(code=COMMUNITY)])
    return {
        "staff": _bearer(staff),
        "volunteer": _bearer(User(name="v", role="volunteer", display_name="v", team_id=team.id)),
    }


def _file(client):
    response = client.post(ORDERS, json={"description": "帮忙修水管", "community": COMMUNITY})
    assert response.status_code == 201, response.get_json()
    return db.session.scalar(select(NeedOrder).where(NeedOrder.public_id == response.get_json()["id"]))


def _act(client, order, headers, **body):
    response = client.post(f"{ORDERS}/{order.public_id}/transitions", json=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    db.session.refresh(order)


def _messages(topic):
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.topic == topic).order_by(OutboxMessage.id)
    ).all()


def test_a_dispatch_clock_warns_then_turns_overdue_once_each(client, town):
    order = _file(client)
    assert order.created_at < order.warning_at < order.deadline_at
    assert not order.warning_notified and not order.overdue_notified

    assert order_deadlines.scan(order.warning_at - MINUTE) == {"order_warning": 0, "order_overdue": 0}
    assert order_deadlines.scan(order.warning_at + MINUTE) == {"order_warning": 1, "order_overdue": 0}
    assert order_deadlines.scan(order.warning_at + 2 * MINUTE) == {"order_warning": 0, "order_overdue": 0}
    (warning,) = _messages("order_warning")
    assert warning.method == "log" and warning.payload["community"] == COMMUNITY
    assert warning.payload["message"].startswith(f"点单 {order.public_id}（长乐社区）即将超时，派单时限 ")

    assert order_deadlines.scan(order.deadline_at + MINUTE) == {"order_warning": 0, "order_overdue": 1}
    assert order_deadlines.scan(order.deadline_at + 2 * MINUTE) == {"order_warning": 0, "order_overdue": 0}
    db.session.refresh(order)
    assert order.warning_notified and order.overdue_notified
    assert "已超时" in _messages("order_overdue")[0].payload["message"]
    assert senders.topic_title("order_warning") == "点单临期预警"
    assert senders.topic_title("order_overdue") == "点单超时通知"


def test_a_new_clock_notifies_afresh_to_the_team_and_a_stopped_one_never(client, town):
    order = _file(client)
    order_deadlines.scan(order.deadline_at + MINUTE)
    assert [m.payload["status"] for m in _messages("order_overdue")] == ["submitted"]
    assert _messages("order_warning") == []  # past its deadline already: no late warning

    _act(client, order, town["staff"], action="dispatch", team="长乐志愿服务队")
    assert not order.warning_notified and not order.overdue_notified and order.warning_at < order.deadline_at
    order_deadlines.scan(order.deadline_at + MINUTE)
    service = _messages("order_overdue")[-1]
    assert service.target == "13800000001" and "服务时限" in service.payload["message"]
    assert service.payload["team"] == "长乐志愿服务队"

    _act(client, order, town["volunteer"], action="accept")
    _act(client, order, town["staff"], action="cancel", note="居民已自行解决")
    assert order.deadline_at is None and order.warning_at is None
    assert order_deadlines.scan(order.created_at + timedelta(days=60)) == {"order_warning": 0, "order_overdue": 0}


def test_the_worker_round_sends_them(app, client, town, monkeypatch):
    order = _file(client)
    monkeypatch.setattr(order_deadlines, "utcnow", lambda: order.deadline_at + MINUTE)
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert "errors=0" in result.output, result.output
    assert len(_messages("order_overdue")) == 1
