"""Retention: reporter data of cases closed long ago is anonymised; the case itself stays.

What goes: the contact, the link to the reporter's account (on the report and on the
evidence photos they uploaded), the device id, the receipt (its hash, the short code's hash, and the idempotency
records that could re-issue it or map a reporter's key to the case), the address given for notices, and the rating
comment (the reporter's own free text); also who supported the case (我也遇到了: accounts,
device ids, addresses — the count stays). What stays: the description, place,
photos, timeline, rating and every date — the stats and the case record need them.
Timeline rows are append-only and are not rewritten (so a registered reporter's own
submit/rate rows keep naming the account); each anonymised case gets one more row.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, select, update

from civicreport.cases import notices, receipt_codes
from civicreport.cases.models import (
    IdempotencyRecord,
    Media,
    Report,
    ReportEvent,
    Support,
)
from civicreport.db_types import utcnow
from civicreport.extensions import db

BATCH = 200  # cases per transaction: bounded memory and lock time on a large backlog


@dataclass
class Summary:
    cases: int = 0
    cleared: dict = field(
        default_factory=lambda: dict.fromkeys(
            ("contact", "reporter", "device_id", "receipt", "rating_comment", "photo_uploader"), 0
        )
    )


def anonymise_reporters(older_than_days, now=None):
    """Anonymise every closed case whose ``closed_at`` is more than ``older_than_days`` ago.

    Idempotent: a case is done once (``reporter_anonymised_at``) and skipped afterwards.
    Commits per batch, so an interruption keeps what was done. Raises ValueError for a
    negative period.
    """
    if older_than_days < 0:
        raise ValueError("older_than_days must not be negative")
    now = now or utcnow()
    cutoff = now - timedelta(days=older_than_days)
    summary = Summary()
    while True:
        batch = db.session.scalars(
            select(Report)
            .where(Report.is_closed, Report.closed_at < cutoff, Report.reporter_anonymised_at.is_(None))
            .order_by(Report.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return summary
        for report in batch:
            _anonymise(report, now, summary)
        db.session.commit()


def _anonymise(report, now, summary):
    uploaded = _photos_uploaded_by_reporter(report)
    cleared = [
        name
        for name, present in (
            ("contact", report.contact),
            ("reporter", report.reporter_user_id),
            ("device_id", report.device_id),
            ("receipt", report.receipt_token_hash),
            ("rating_comment", report.rating_comment),
            ("photo_uploader", uploaded),
        )
        if present
    ]
    _forget_idempotency(report)
    receipt_codes.forget(report.id)
    notices.forget(report.id)
    db.session.execute(delete(Support).where(Support.report_id == report.id))
    if uploaded:
        db.session.execute(
            update(Media)
            .where(Media.id.in_(uploaded))
            .values(uploader_user_id=None)
            .execution_options(synchronize_session=False)
        )
    report.contact = report.reporter_user_id = report.device_id = None
    report.receipt_token_hash = report.rating_comment = None
    report.reporter_anonymised_at = now
    db.session.add(
        ReportEvent(
            report_id=report.id,
            actor_user_id=None,
            actor_role="system",
            action="anonymise_reporter",
            from_status=report.status,
            to_status=report.status,
            data={"cleared": cleared},
            created_at=now,
        )
    )
    summary.cases += 1
    for name in cleared:
        summary.cleared[name] += 1


def _photos_uploaded_by_reporter(report):
    if report.reporter_user_id is None:
        return []
    return db.session.scalars(
        select(Media.id).where(Media.report_id == report.id, Media.uploader_user_id == report.reporter_user_id)
    ).all()


def _forget_idempotency(report):
    """Drop the replay records: their keys name the reporter's account and map to this case."""
    media_ids = select(Media.id).where(Media.report_id == report.id)
    db.session.execute(
        delete(IdempotencyRecord).where(
            ((IdempotencyRecord.resource_type == "report") & (IdempotencyRecord.resource_id == str(report.id)))
            | ((IdempotencyRecord.resource_type == "media") & IdempotencyRecord.resource_id.in_(media_ids))
        )
    )
