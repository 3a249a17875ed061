"""Upkeep: migrating on start-up, and collecting stored objects that no row references.

``collect_media_garbage`` is the only code that deletes photo objects. Requests never
do (see ``photos.ObjectBatch``), because a content-addressed object may be shared with
another request that has not committed yet. An object is collected only when no
``media`` row references it and it has not been written or touched for the age
threshold, which must exceed the longest a request can run (the gunicorn timeout).
"""

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice

from flask_migrate import upgrade
from sqlalchemy import select, text

from civicreport import progress, registry
from civicreport.cases.models import Media
from civicreport.db_types import utcnow
from civicreport.extensions import db, on_postgresql
from civicreport.media.storage import MEDIA_PREFIXES, media_key_sha256

log = logging.getLogger(__name__)

CHUNK = 500  # objects per reference query
MIGRATION_LOCK_ID = 7_146_285_301  # any fixed number, shared by every app host


def upgrade_schema():
    """Apply pending migrations (``flask db upgrade``).

    On PostgreSQL this holds an advisory lock, so several app hosts starting at once
    migrate one after the other and all but the first find nothing to do. Raises
    whatever Alembic or the database raise; the lock goes with the connection.
    """
    if not on_postgresql():
        upgrade()
        return
    with db.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        try:
            upgrade()
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})


@dataclass
class GcResult:
    scanned: int = 0  # objects under the photo prefixes
    removed: int = 0  # orphans deleted (with dry_run: found)
    in_use: int = 0  # old enough, but a media row references them
    young: int = 0  # written or touched within the threshold: left alone unchecked
    foreign: int = 0  # keys object_keys does not make: never ours to delete

    def summary(self, dry_run=False):
        verb = "would remove" if dry_run else "removed"
        return (
            f"scanned {self.scanned} objects: {verb} {self.removed} orphans, {self.in_use} in use, "
            f"{self.young} younger than the threshold, {self.foreign} not photo objects"
        )


def collect_media_garbage(older_than_hours, *, dry_run=False):
    """Delete photo objects no media row references that are older than ``older_than_hours``.

    Each candidate's age is read again right before it is deleted, so an object a
    request has just stored or touched again is spared. Raises StorageUnavailable
    when storage fails (objects already removed stay removed; a rerun continues).
    """
    cutoff = utcnow() - timedelta(hours=older_than_hours)
    backend = registry.current().storage
    result = GcResult()
    with progress.stage("gc-media: scanning stored objects", unit="objects") as bar:
        for prefix in MEDIA_PREFIXES:
            objects = backend.iter_objects(prefix)
            while chunk := list(islice(objects, CHUNK)):
                _collect_chunk(backend, chunk, cutoff, dry_run, result)
                bar.advance(len(chunk))
    return result


def _collect_chunk(backend, chunk, cutoff, dry_run, result):
    old = {}
    for key, modified in chunk:
        result.scanned += 1
        sha256 = media_key_sha256(key)
        if sha256 is None:
            result.foreign += 1
        elif modified > cutoff:
            result.young += 1
        else:
            old[key] = sha256
    referenced = _referenced_keys(set(old.values()))
    for key in old:
        if key in referenced:
            result.in_use += 1
        elif dry_run:
            result.removed += 1
        elif _still_old(backend, key, cutoff):
            backend.delete(key)
            result.removed += 1
            log.info("gc-media removed orphan object %s", key)
        else:
            result.young += 1


def _referenced_keys(sha256s):
    """Every key media rows with these hashes reference (read in a fresh transaction)."""
    if not sha256s:
        return set()
    try:
        rows = db.session.execute(
            select(Media.original_key, Media.display_key, Media.thumb_key).where(Media.sha256.in_(sha256s))
        ).all()
    finally:
        db.session.rollback()  # end the read, so the next chunk sees rows committed since
    return {key for row in rows for key in row}


def _still_old(backend, key, cutoff):
    modified = backend.modified_at(key)
    return modified is not None and modified <= cutoff


class PeriodicMediaGc:
    """Worker job: ``collect_media_garbage`` every MEDIA_GC_EVERY_HOURS (0: never).

    It runs in the worker's first round and then whenever the period has passed.
    """

    __name__ = "media_gc"

    def __init__(self):
        self.last_run = None

    def __call__(self):
        config = registry.settings()
        every = config.MEDIA_GC_EVERY_HOURS
        now = time.monotonic()
        if every <= 0 or (self.last_run is not None and now - self.last_run < every * 3600):
            return
        self.last_run = now
        log.info("gc-media: %s", collect_media_garbage(config.MEDIA_GC_AGE_HOURS).summary())
