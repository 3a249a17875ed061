"""A failed store or commit leaves no report row, and only objects gc-media collects."""

import io

import pytest
from sqlalchemy import func, select, text

from civicreport import registry
from civicreport.cases.models import IdempotencyRecord, Media, Report, ReportEvent
from civicreport.extensions import db
from civicreport.ops.maintenance import collect_media_garbage
from tests.factories import INSIDE, photo_bytes
from tests.helpers import FailingOnPut, assert_error, post_report


def rows(model):
    return db.session.scalar(select(func.count()).select_from(model))


def assert_nothing_left(storage):
    """No row; the objects the request stored are orphans, and gc-media removes them all."""
    db.session.rollback()
    assert rows(Report) == rows(Media) == rows(ReportEvent) == rows(IdempotencyRecord) == 0
    collect_media_garbage(0)
    assert list(storage.iter_keys()) == []


@pytest.mark.parametrize("fail_at", [1, 3, 5])
def test_storage_failure_mid_request_rolls_everything_back(app, client, grid, storage, monkeypatch, fail_at):
    monkeypatch.setattr(registry.of(app), "storage", FailingOnPut(storage, fail_at))
    photos = [photo_bytes(gps=INSIDE, color=(10, 20, 30)), photo_bytes(gps=INSIDE, color=(40, 50, 60))]
    response = post_report(client, photos, headers={"Idempotency-Key": "k1"})
    assert_error(response, 503, "storage_unavailable")
    assert_nothing_left(storage)
    monkeypatch.setattr(registry.of(app), "storage", storage)
    retry = post_report(client, photos, headers={"Idempotency-Key": "k1"})
    assert retry.status_code == 201 and rows(Report) == 1


def test_media_upload_storage_failure_leaves_nothing(app, client, grid, storage, monkeypatch):
    monkeypatch.setattr(registry.of(app), "storage", FailingOnPut(storage, 2))
    response = client.post(
        "/api/v1/media", data={"photo": (io.BytesIO(photo_bytes()), "a.jpg")}, content_type="multipart/form-data"
    )
    assert_error(response, 503, "storage_unavailable")
    assert_nothing_left(storage)


@pytest.fixture
def failing_report_insert(app, grid):
    """A real database error: a trigger that aborts every insert into report."""
    dialect = db.engine.dialect.name
    with db.engine.begin() as conn:
        if dialect == "postgresql":
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_report() RETURNS trigger AS $$ "
                    "BEGIN RAISE EXCEPTION 'report table refuses writes'; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_report BEFORE INSERT ON report FOR EACH ROW EXECUTE FUNCTION refuse_report()"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_report BEFORE INSERT ON report "
                    "BEGIN SELECT RAISE(ABORT, 'report table refuses writes'); END"
                )
            )
    yield
    db.session.rollback()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER refuse_report" + (" ON report" if dialect == "postgresql" else "")))
        if dialect == "postgresql":
            conn.execute(text("DROP FUNCTION refuse_report()"))


def test_database_failure_leaves_no_row_and_only_orphans(client, storage, failing_report_insert):
    response = post_report(client, [photo_bytes(gps=INSIDE)], headers={"Idempotency-Key": "k2"})
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "database_error"
    assert_nothing_left(storage)


def test_objects_shared_with_an_earlier_report_survive_a_failed_request(client, grid, storage, app, monkeypatch):
    raw = photo_bytes(gps=INSIDE)
    assert post_report(client, [raw]).status_code == 201
    keys = set(storage.iter_keys())
    monkeypatch.setattr(registry.of(app), "storage", FailingOnPut(storage, 4))
    second = post_report(client, [raw, photo_bytes(gps=INSIDE, color=(1, 2, 3))])
    assert_error(second, 503, "storage_unavailable")
    assert set(storage.iter_keys()) == keys
    assert rows(Report) == 1
