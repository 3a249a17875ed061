"""Retention: reporter data of long-closed cases is anonymised once; open and recent cases keep it."""

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from civicreport.cases.models import IdempotencyRecord, Media, Report, ReportEvent
from civicreport.db_types import utcnow
from civicreport.extensions import db
from tests.factories import INSIDE, make_geography, make_user, photo_bytes
from tests.helpers import override_settings

PHONE = "phone-retention-0001"


def submit(client, *, headers=None, key=None, color=(1, 1, 1), **fields):
    headers = {"X-Device-Id": PHONE, **({"Idempotency-Key": key} if key else {}), **(headers or {})}
    response = client.post(
        "/api/v1/reports",
        headers=headers,
        content_type="multipart/form-data",
        data={"photo": [(io.BytesIO(photo_bytes((64, 48), gps=INSIDE, color=color)), "p.jpg")], **fields},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def age(public_id, status, closed_days_ago, **values):
    """Move a case to ``status``, closed that many days ago (the loop itself is tested elsewhere)."""
    closed_at = utcnow() - timedelta(days=closed_days_ago) if closed_days_ago is not None else None
    db.session.execute(
        update(Report).where(Report.public_id == public_id).values(status=status, closed_at=closed_at, **values)
    )
    db.session.commit()


@pytest.fixture
def cases(ctx, client):
    make_geography()
    citizen, token = make_user("xiaoming", "citizen")
    anonymous = submit(client, contact="13800000000", key="anon-1")
    account = submit(client, headers=token, key="acct-1", color=(2, 2, 2), contact="微信 xm")
    rejected = submit(client, color=(3, 3, 3), contact="13900000000")
    recent = submit(client, color=(4, 4, 4), contact="13700000000")
    still_open = submit(client, color=(5, 5, 5), contact="13600000000")
    age(anonymous["id"], "closed", 400)
    age(account["id"], "rated", 400, rating=2, rating_comment="处理太慢，我是小明 138…")
    age(rejected["id"], "rejected", 366)
    age(recent["id"], "closed", 30)
    age(still_open["id"], "in_progress", None, created_at=utcnow() - timedelta(days=500))
    return {
        "anonymous": anonymous,
        "account": account,
        "rejected": rejected,
        "recent": recent,
        "open": still_open,
        "citizen": citizen,
    }


def report(public_id):
    db.session.expire_all()
    return db.session.scalar(select(Report).where(Report.public_id == public_id))


def run(app, *args):
    result = app.test_cli_runner().invoke(args=["anonymise-reporters", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_closed_old_cases_lose_reporter_data_and_keep_the_case(app, client, cases):
    output = run(app, "--older-than-days", "365")
    assert "anonymised 3 cases" in output and "contact=3" in output and "reporter=1" in output
    assert "device_id=3" in output and "receipt=2" in output and "rating_comment=1" in output

    anonymous = report(cases["anonymous"]["id"])
    assert anonymous.contact is None and anonymous.device_id is None and anonymous.receipt_token_hash is None
    assert anonymous.reporter_anonymised_at is not None
    assert anonymous.description == "" and anonymous.lat == pytest.approx(INSIDE[0]) and anonymous.media
    event = anonymous.events[-1]
    assert event.action == "anonymise_reporter" and event.actor_role == "system"
    assert event.from_status == event.to_status == "closed"
    assert set(event.data["cleared"]) == {"contact", "device_id", "receipt"}
    receipt = {"X-Receipt-Token": cases["anonymous"]["receipt_token"]}
    assert "allowed_actions" not in client.get(f"/api/v1/reports/{anonymous.public_id}", headers=receipt).get_json()

    account = report(cases["account"]["id"])
    assert account.reporter_user_id is None and account.rating_comment is None and account.contact is None
    assert account.rating == 2 and account.status == "rated"
    assert all(m.uploader_user_id is None for m in account.media)
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(IdempotencyRecord)
            .where(IdempotencyRecord.key.in_(["report:anon:anon-1", f"report:{cases['citizen'].id}:acct-1"]))
        )
        == 0
    )

    assert report(cases["rejected"]["id"]).contact is None


def test_open_and_recently_closed_cases_keep_their_reporter_data(app, cases):
    run(app, "--older-than-days", "365")
    for name, contact in (("recent", "13700000000"), ("open", "13600000000")):
        kept = report(cases[name]["id"])
        assert kept.contact == contact and kept.device_id == PHONE and kept.receipt_token_hash
        assert kept.reporter_anonymised_at is None
        assert kept.events[-1].action == "submit"


def test_running_again_changes_nothing(app, cases):
    run(app, "--older-than-days", "365")
    events = db.session.scalar(select(func.count()).select_from(ReportEvent))
    assert "anonymised 0 cases" in run(app, "--older-than-days", "365")
    assert db.session.scalar(select(func.count()).select_from(ReportEvent)) == events


def test_default_period_comes_from_the_configuration(app, cases, monkeypatch):
    override_settings(app, monkeypatch, RETENTION_DAYS=10)
    assert "anonymised 4 cases closed more than 10 days ago" in run(app)
    assert report(cases["recent"]["id"]).contact is None
    assert report(cases["open"]["id"]).contact == "13600000000"
    assert db.session.scalar(select(func.count()).select_from(Media).where(Media.uploader_user_id.is_not(None))) == 0
