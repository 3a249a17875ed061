"""gc-media: orphan photo objects are collected, referenced, young and foreign ones never.

Also the race it makes safe: a failed request no longer deletes a content-addressed
object that another request, not yet committed, is about to reference.
"""

import os
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from civicreport import registry
from civicreport.cases.models import Report
from civicreport.extensions import db
from civicreport.media.errors import StorageUnavailable
from civicreport.media.storage import LocalStorage, media_key_sha256, object_keys
from civicreport.ops.maintenance import PeriodicMediaGc, collect_media_garbage
from tests.factories import INSIDE, photo_bytes
from tests.helpers import assert_error, fetch, override_settings, post_report, referenced_keys

SHA = "5e" * 32


def test_media_keys_are_recognised_and_nothing_else():
    keys = object_keys(SHA, "heif")
    assert {media_key_sha256(key) for key in keys.values()} == {SHA}
    for foreign in (
        "exports/2026-11.csv",
        f"originals/{SHA}.jpg",
        f"originals/5e/5e/{SHA}.jpg.bak",
        "display/5e/5e/not-a-hash.jpg",
    ):
        assert media_key_sha256(foreign) is None


def test_orphans_go_referenced_young_and_foreign_objects_stay(app, client, grid, storage):
    body = post_report(client, [photo_bytes(gps=INSIDE)]).get_json()
    in_use = referenced_keys()
    orphans = set(object_keys(SHA, "jpeg").values())
    for key in orphans:
        storage.put(key, b"left by a failed request", "image/jpeg")
    storage.put("originals/README.txt", b"not a photo object", "text/plain")
    storage.put("exports/monthly.csv", b"outside the photo prefixes", "text/csv")

    young = collect_media_garbage(1)
    assert (young.removed, young.young, young.foreign) == (0, 6, 1)

    dry = collect_media_garbage(0, dry_run=True)
    assert (dry.scanned, dry.removed, dry.in_use, dry.foreign) == (7, 3, 3, 1)
    assert orphans <= set(storage.iter_keys())

    done = collect_media_garbage(0)
    assert (done.removed, done.in_use) == (3, 3)
    assert set(storage.iter_keys()) == in_use | {"originals/README.txt", "exports/monthly.csv"}
    assert fetch(client, body["photos"][0]["thumb_url"])[0] == 200


def test_cli_dry_run_then_remove(app, ctx, storage):
    for key in object_keys(SHA, "png").values():
        storage.put(key, b"orphan", "image/png")
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["gc-media", "--older-than-hours", "0", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would remove 3 orphans" in dry.output
    assert len(list(storage.iter_keys())) == 3
    kept = runner.invoke(args=["gc-media"])  # default threshold: an hour
    assert "removed 0 orphans" in kept.output and "3 younger than the threshold" in kept.output
    done = runner.invoke(args=["gc-media", "--older-than-hours", "0"])
    assert "removed 3 orphans" in done.output
    assert list(storage.iter_keys()) == []


def test_storage_failure_is_a_clean_cli_error(app, ctx, monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")

    class Unreachable(LocalStorage):
        def iter_objects(self, prefix=""):
            raise StorageUnavailable()

    monkeypatch.setattr(registry.of(app), "storage", Unreachable(str(blocker)))
    result = app.test_cli_runner().invoke(args=["gc-media", "--older-than-hours", "0"])
    assert result.exit_code == 1
    assert "storage_unavailable" in result.output


def test_storing_an_existing_object_makes_it_young_again(app, ctx, tmp_path, monkeypatch):
    """An old orphan that a new upload reuses must not be collected under that upload."""
    local = LocalStorage(str(tmp_path / "media"))
    monkeypatch.setattr(registry.of(app), "storage", local)
    key = object_keys(SHA, "jpeg")["original"]
    local.put(key, b"photo", "image/jpeg")
    two_hours_ago = (datetime.now(UTC) - timedelta(hours=2)).timestamp()
    os.utime(os.path.join(local.root, *key.split("/")), (two_hours_ago, two_hours_ago))
    assert collect_media_garbage(1, dry_run=True).removed == 1
    local.put(key, b"photo", "image/jpeg")  # a request in flight stores it again
    result = collect_media_garbage(1)
    assert (result.removed, result.young) == (0, 1)
    assert local.exists(key)


def test_s3_storing_again_renews_last_modified(app, ctx, storage):
    if app.config["STORAGE"] != "s3":
        pytest.skip("S3 only: LocalStorage is covered above")
    key = object_keys(SHA, "jpeg")["thumb"]
    storage.put(key, b"thumb", "image/jpeg")
    first = storage.modified_at(key)
    time.sleep(1.1)  # LastModified has whole seconds
    storage.put(key, b"thumb", "image/jpeg")
    assert storage.modified_at(key) > first
    assert storage.get(key) == b"thumb"


class Choreography:
    """The real storage; ``after[(thread name, n)]`` runs once that thread's n-th put is done."""

    def __init__(self, backend, after):
        self.backend = backend
        self.after = after
        self.puts = {}

    def put(self, key, data, content_type):
        self.backend.put(key, data, content_type)
        name = threading.current_thread().name
        self.puts[name] = self.puts.get(name, 0) + 1
        hook = self.after.get((name, self.puts[name]))
        if hook:
            hook()

    def __getattr__(self, name):
        return getattr(self.backend, name)


def test_failed_request_leaves_shared_objects_to_the_retry_still_using_them(app, grid, storage, monkeypatch):
    """The phone retries while its first attempt is still in flight: same photo, same key.

    A creates the photo's three objects; B (the retry) finds them; A then fails and B
    commits. The old clean-up (delete what A created unless a committed row uses it)
    removed the objects B's report was about to reference.
    """
    a_stored, b_stored, a_done = threading.Event(), threading.Event(), threading.Event()

    def a_fails_after_storing():
        a_stored.set()
        assert b_stored.wait(30)
        raise StorageUnavailable("对象存储不可用")

    def b_waits_for_a_to_fail():
        b_stored.set()
        assert a_done.wait(30)

    monkeypatch.setattr(
        registry.of(app),
        "storage",
        Choreography(storage, {("A", 3): a_fails_after_storing, ("B", 3): b_waits_for_a_to_fail}),
    )
    raw = photo_bytes(gps=INSIDE)
    results = {}

    def submit():
        name = threading.current_thread().name
        results[name] = post_report(app.test_client(), [raw], {"Idempotency-Key": "tap-1"})
        if name == "A":
            a_done.set()

    threads = [threading.Thread(target=submit, name="A")]
    threads[0].start()
    assert a_stored.wait(30)
    threads.append(threading.Thread(target=submit, name="B"))
    threads[1].start()
    for thread in threads:
        thread.join(30)

    assert_error(results["A"], 503, "storage_unavailable")
    assert results["B"].status_code == 201, results["B"].get_json()
    again = post_report(app.test_client(), [raw], {"Idempotency-Key": "tap-1"})
    assert again.get_json()["id"] == results["B"].get_json()["id"]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Report)) == 1
    assert set(storage.iter_keys()) == referenced_keys() != set()
    assert collect_media_garbage(0).removed == 0


def test_worker_job_runs_gc_once_per_period(app, ctx, storage, monkeypatch):
    for key in object_keys(SHA, "jpeg").values():
        storage.put(key, b"orphan", "image/jpeg")
    override_settings(app, monkeypatch, MEDIA_GC_AGE_HOURS=0.0)
    override_settings(app, monkeypatch, MEDIA_GC_EVERY_HOURS=6.0)
    job = PeriodicMediaGc()
    job()
    assert list(storage.iter_keys()) == []
    storage.put(object_keys(SHA, "jpeg")["thumb"], b"orphan", "image/jpeg")
    job()  # within the period: nothing happens
    assert len(list(storage.iter_keys())) == 1
    override_settings(app, monkeypatch, MEDIA_GC_EVERY_HOURS=0.0)
    PeriodicMediaGc()()  # switched off
    assert len(list(storage.iter_keys())) == 1
