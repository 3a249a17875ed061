"""Intake: a photo (or several) with a place becomes a routed report, exactly once."""

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass, replace

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm.attributes import set_committed_value

from civicreport import registry
from civicreport.accounts.auth import receipt_token, token_hash
from civicreport.cases import duplicates, evidence, notices, photos, receipt_codes
from civicreport.cases.models import (
    DailyCounter,
    IdempotencyRecord,
    Media,
    Report,
    ReportEvent,
)
from civicreport.cases.routing import CategoryKey, route
from civicreport.db_types import utcnow
from civicreport.errors import AppError, Conflict, ServiceUnavailable, ValidationFailed
from civicreport.extensions import db, on_postgresql
from civicreport.reference.categories import PRIORITY, Category
from civicreport.reference.grid import areas_of, locate, normalise_point
from civicreport.reference.lookup import require_category
from civicreport.schema_fields import idempotency_key

log = logging.getLogger(__name__)

# Open311 clients (12345 hotlines, other city systems) often forward reports with no
# photo; every other photo rule (type, size, pixels, count) still applies to them.
PHOTO_OPTIONAL_CHANNELS = ("open311",)


@dataclass(frozen=True)
class Upload:
    """A photo stored ahead of its report; ``replayed`` when a retry with the same
    ``Idempotency-Key`` got the photo the first request stored."""

    media: Media
    replayed: bool = False


@dataclass(frozen=True)
class Submission:
    """A filed report, with what only its submitter is told: the open reports nearby that may
    be the same problem (when it was filed now, not on a replay) and an anonymous reporter's
    receipt. ``replayed`` when a retry with the same ``Idempotency-Key`` got the first report."""

    report: Report
    nearby: tuple = ()
    receipt_token: str | None = None
    receipt_code: str | None = None  # the short code a person keeps (cases.receipt_codes)
    replayed: bool = False


def upload_media(data, user, idempotency_key=None):
    """Store one photo ahead of its report (flaky mobile networks); returns an ``Upload``."""
    fingerprint = _fingerprint({"sha256": hashlib.sha256(data).hexdigest()})
    scoped_key = _scoped("media", user, idempotency_key)
    return _once(
        scoped_key,
        fingerprint,
        lambda remember: _store_media(data, user, remember),
        lambda media_id: Upload(db.session.get(Media, media_id), replayed=True),
    )


def _store_media(data, user, remember):
    photo = photos.process_upload(data, pending=photos.privacy_deferred())
    batch = photos.new_batch()
    try:
        media = photos.store(batch, data, photo, uploader=user)
        db.session.add(media)
        db.session.flush()
        remember(201, "media", media.id)
        db.session.commit()
    except BaseException:
        batch.discard()
        raise
    return Upload(media)


def submit_report(
    data, uploads, user, idempotency_key=None, *, channel=None, client_data=None, device_id=None, open311_client=None
):
    """Store photos, locate, route and save a report; returns a ``Submission``.

    ``data`` is a submission as ``ReportSubmitSchema`` loads it (the caller validates);
    ``uploads`` are the raw bytes of the multipart ``photo`` parts in order.
    ``channel`` overrides the one implied by the user's role (e.g. ``open311``);
    ``client_data`` (what a client sent beyond our fields) is kept on the submit event.
    ``device_id`` (the X-Device-Id header) is kept with the reporter data until retention.
    ``open311_client`` (filing for citizens, with no account) is kept on the report and
    scopes the ``Idempotency-Key``, so two clients' keys never meet.
    Raises AppError (validation, conflict, database) and MediaError (photos, storage); on any
    failure no row remains, and objects it stored are left for gc-media (see ``photos.ObjectBatch``).
    Anonymous submitters get a receipt token and a short receipt code, recomputed from the key on a
    replay; ``notify`` keeps the contact for notices (cases.notices), 422 when it cannot be told.
    """
    extra = {"channel": channel, "client_data": client_data} if channel else {}
    fingerprint = _fingerprint(
        {**data, "photos": [hashlib.sha256(b).hexdigest() for b in uploads], "user": user and user.id, **extra}
    )
    scoped_key = _scoped("report", user, idempotency_key, open311_client)
    nonce = idempotency_key or secrets.token_urlsafe(16)
    submission = _once(
        scoped_key,
        fingerprint,
        lambda remember: _create(data, uploads, user, remember, nonce, channel, client_data, device_id, open311_client),
        lambda report_id: Submission(db.session.get(Report, int(report_id)), replayed=True),
    )
    if user is None:
        public_id = submission.report.public_id
        submission = replace(
            submission,
            receipt_token=receipt_token(nonce, public_id),
            receipt_code=receipt_codes.code_for(nonce, public_id),
        )
    return submission


def _create(data, uploads, user, remember, nonce, channel=None, client_data=None, device_id=None, open311_client=None):
    notice_choice = notices.check_opt_in(data)
    _check_photo_count(len(uploads) + len(data["media_ids"]), required=channel not in PHOTO_OPTIONAL_CHANNELS)
    category = _category(data["category"], data.get("kind", "problem"))
    attached = _unattached_media(data["media_ids"])
    pending = photos.privacy_deferred()
    processed = [photos.process_upload(raw, index, pending=pending) for index, raw in enumerate(uploads)]
    report = _placed_report(data, category, attached, processed, user, channel)
    # the reporter sees the other cases as the public does
    nearby = duplicates.nearby_open(report.lat, report.lon, category, coarse=True) if report.kind == "problem" else []

    batch = photos.new_batch()
    try:
        new_media = [
            photos.store(batch, raw, photo, uploader=user, position=len(attached) + i)
            for i, (raw, photo) in enumerate(zip(uploads, processed, strict=True))
        ]
        report.public_id = _next_public_id()  # a write: taken after the slow part (photos stored), see below
        report.device_id = device_id
        report.open311_client_id = open311_client.id if open311_client else None
        if user is None:
            report.receipt_token_hash = token_hash(receipt_token(nonce, report.public_id))
        db.session.add(report)
        db.session.flush()
        notices.opt_in(report, notice_choice)
        if user is None:
            receipt_codes.issue(report, receipt_codes.code_for(nonce, report.public_id))
        _attach(report, attached, new_media)
        db.session.add(_submitted_event(report, user, client_data))
        db.session.flush()
        set_committed_value(report, "media", [*attached, *new_media])  # what _attach wrote
        remember(201, "report", report.id)
        # read before commit expires them
        public_id, grid_code, unit_code = report.public_id, report.grid_code, report.unit and report.unit.code
        db.session.commit()
    except BaseException:
        batch.discard()
        raise
    log.info("report %s submitted in grid %s, routed to %s", public_id, grid_code, unit_code)
    return Submission(report, tuple(nearby))


def open_case(data, user, *, media, channel):
    """File a report in the caller's transaction, which commits it with its own rows: a layer
    above the cases opens one from a finding (an inspection's failed item) with ``media``, photos
    of ``user``'s it has claimed already (``photo_claims.claim``), which become the case's photos.

    ``data`` is shaped as ``ReportSubmitSchema`` loads it (its ``media_ids`` unused); no
    Idempotency-Key (the caller's own request is the unit of retry); a photo is not required.
    Routed as every report; raises AppError (category, location) before anything is added.
    """
    media = list(media)
    _check_photo_count(len(media), required=False)
    report = _placed_report(data, _category(data["category"]), media, [], user, channel)
    report.public_id = _next_public_id()
    db.session.add(report)
    db.session.flush()
    for position, photo in enumerate(media):
        photo.report_id, photo.position = report.id, position
    db.session.add(_submitted_event(report, user))
    db.session.flush()
    return report


def _placed_report(data, category, attached, processed, user, channel):
    """A new report of ``data`` located, routed and checked against its photos' EXIF and reuse,
    not yet in the session and without its public id: taking one writes the day's counter, which
    on SQLite locks the database until commit, so it waits until the photos are stored (a retry
    storing the same photos meanwhile would otherwise wait on the lock and fail)."""
    facts = [evidence.PhotoFacts(m.gps_lat, m.gps_lon, m.taken_at) for m in attached]
    facts += [evidence.PhotoFacts(p.meta.gps_lat, p.meta.gps_lon, p.meta.taken_at) for p in processed]
    location = _location(data, facts)
    cell = locate(location["lat"], location["lon"])
    routed = route(CategoryKey.of(category), cell)
    reused = duplicates.photo_matches(attached + processed, location["lat"], location["lon"])
    report = _new_report(data, location, cell, routed, category, user, channel)
    report.photo_reuse_flagged = any(match.suspicious for match in reused)
    evidence.check(facts, location["lat"], location["lon"], utcnow()).apply(report)
    return report


def _check_photo_count(count, required=True):
    limit = registry.settings().MAX_PHOTOS_PER_REPORT
    if count == 0 and required:
        raise ValidationFailed("请至少上传一张照片", code="photo_required")
    if count > limit:
        raise ValidationFailed(
            f"每个上报最多 {limit} 张照片", code="too_many_photos", details={"max": limit, "count": count}
        )


def _category(code, kind="problem"):
    """The problem's category; 文明点赞 names none (it is no problem of the catalogue)."""
    if kind == "praise" and code is not None:
        raise ValidationFailed("文明点赞无需选择问题类别", code="praise_has_no_category", details={"category": code})
    return None if code is None else require_category(code)


def _unattached_media(media_ids):
    if not media_ids:
        return []
    if len(set(media_ids)) != len(media_ids):
        raise ValidationFailed("照片重复", code="duplicate_media_ids")
    # Locked (PostgreSQL) so the hash is read after a privacy pass that is rendering the
    # photo has committed it, or the pass skips the row until this report owns it: either
    # way one of the two compares the hash with other reports' photos.
    query = select(Media).where(Media.id.in_(media_ids)).order_by(Media.id).with_for_update()
    found = {m.id: m for m in db.session.scalars(query)}
    missing = [i for i in media_ids if i not in found]
    if missing:
        raise ValidationFailed("照片不存在", code="unknown_media", details={"media_ids": missing})
    taken = [i for i in media_ids if found[i].is_attached]
    if taken:
        raise Conflict("照片已属于其他上报", code="media_already_attached", details={"media_ids": taken})
    return [found[i] for i in media_ids]


def _location(data, facts):
    """Client point (converted to WGS-84) or the first photo GPS; 422 when neither exists."""
    photo_point = next(((p.gps_lat, p.gps_lon) for p in facts if p.gps_lat is not None), None)
    if data["lat"] is None:
        if photo_point is None:
            raise ValidationFailed("无法确定位置：请开启定位或在地图上选点", code="location_required")
        return {"lat": photo_point[0], "lon": photo_point[1], "source": "exif", "input": None}
    lat, lon = normalise_point(data["lat"], data["lon"], data["crs"])
    return {"lat": lat, "lon": lon, "source": data["location_source"], "input": (data["crs"], data["lat"], data["lon"])}


def _new_report(data, location, cell, routed, category, user, channel=None):
    crs, input_lat, input_lon = location["input"] or (None, None, None)
    suggestions = None
    praise = data.get("kind") == "praise"
    if praise:  # confirmed by a supervisor, never routed to a unit (the workflow's confirm_praise)
        routed = replace(routed, unit=None, rule=None, routed_by=None)
    elif category is None:
        active = db.session.scalars(select(Category).where(Category.active.is_(True))).all()
        suggestions = [s.__dict__ for s in registry.current().classifier.suggest(data["description"], active)]
    community, street, district = areas_of(cell)  # the view shows their names: one query, not three
    return Report(
        category=category,
        description=data["description"].strip(),
        suggested_categories=suggestions,
        lat=location["lat"],
        lon=location["lon"],
        input_crs=crs,
        input_lat=input_lat,
        input_lon=input_lon,
        location_source=location["source"],
        accuracy_m=data["accuracy"],
        grid_code=cell.code,
        community=community,
        street=street,
        district=district,
        unit=routed.unit,
        routing_rule=routed.rule,
        routed_by=routed.routed_by,
        status="submitted",
        priority=PRIORITY[category.urgency] if category else PRIORITY["normal"],
        channel=channel or ("monitor" if user and user.role == "monitor" else "citizen"),
        reporter_user_id=user.id if user else None,
        contact=data["contact"],
        kind="praise" if praise else "problem",
    )


def _attach(report, attached, new_media):
    if attached:
        ids = [m.id for m in attached]
        claimed = db.session.execute(
            update(Media)
            .where(Media.id.in_(ids), ~Media.is_attached)
            .values(report_id=report.id)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != len(ids):
            raise Conflict("照片已属于其他上报", code="media_already_attached", details={"media_ids": ids})
        for position, media in enumerate(attached):
            media.position = position
    for media in new_media:
        media.report_id = report.id
        db.session.add(media)


def _submitted_event(report, user, client_data=None):
    data = {
        "routed_by": report.routed_by,
        "rule_id": report.routing_rule_id,
        "unit_id": report.unit_id,
        "location_source": report.location_source,
    }
    if client_data:
        data["client"] = client_data
    return ReportEvent(
        report_id=report.id,
        actor_user_id=user.id if user else None,
        actor_role=user.role if user else "citizen",
        action="submit",
        from_status=None,
        to_status="submitted",
        data=data,
    )


def _next_public_id():
    """``QJ20261123-0042``: prefix, local date, per-day sequence from an atomic upsert."""
    today = utcnow().astimezone(registry.current().zone).date()
    return f"{registry.settings().PUBLIC_ID_PREFIX}{today:%Y%m%d}-{reserve_numbers(today, 1):04d}"


def reserve_numbers(day, count):
    """Reserve ``count`` consecutive numbers of ``day`` on ``daily_counter``; returns the first."""
    insert = pg_insert if on_postgresql() else sqlite_insert
    stmt = (
        insert(DailyCounter)
        .values(day=day, value=count)
        .on_conflict_do_update(index_elements=["day"], set_={"value": DailyCounter.value + count})
        .returning(DailyCounter.value)
    )
    return db.session.execute(stmt).scalar_one() - count + 1


class _Memory:
    """Adds the idempotency record to the same transaction as the change it answers."""

    def __init__(self, key, fingerprint):
        self.key = key
        self.fingerprint = fingerprint

    def __call__(self, status, resource_type, resource_id):
        if self.key:
            db.session.add(
                IdempotencyRecord(
                    key=self.key,
                    fingerprint=self.fingerprint,
                    status_code=status,
                    resource_type=resource_type,
                    resource_id=str(resource_id),
                )
            )


def _once(scoped_key, fingerprint, run, replay):
    """Run ``run`` once per key; a retry with the same request gets ``replay`` of what the first created."""
    replayed = _replay(scoped_key, fingerprint, replay)
    if replayed:
        return replayed
    try:
        return run(_Memory(scoped_key, fingerprint))
    except IntegrityError as exc:
        db.session.rollback()
        replayed = _replay(scoped_key, fingerprint, replay)
        if replayed:
            return replayed
        raise _database_failure(exc) from exc
    except DBAPIError as exc:
        db.session.rollback()
        raise _database_failure(exc) from exc


def _database_failure(exc):
    log.error("database failure during intake: %s", exc)
    if isinstance(exc, (OperationalError, InterfaceError)):
        return ServiceUnavailable("数据库暂时不可用，请稍后重试", code="database_unavailable")
    return AppError("数据保存失败，请稍后重试", code="database_error")


def _replay(scoped_key, fingerprint, replay):
    if not scoped_key:
        return None
    record = db.session.get(IdempotencyRecord, scoped_key)
    if record is None:
        return None
    if record.fingerprint != fingerprint:
        raise ValidationFailed("Idempotency-Key 已用于另一个不同的请求", code="idempotency_key_reused")
    return replay(record.resource_id)


def _scoped(kind, user, key, client=None):
    if not idempotency_key(key):
        return None
    owner = f"open311-{client.id}" if client else (user.id if user else "anon")
    return f"{kind}:{owner}:{key}"


def _fingerprint(payload):
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
