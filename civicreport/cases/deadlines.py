"""Deadlines in working time: set at dispatch, paused while suspended, moved by extensions."""

from datetime import timedelta

from sqlalchemy import select

from civicreport import registry
from civicreport.cases.models import Report, ReportEvent
from civicreport.cases.status import CLOCK_RUNNING
from civicreport.db_types import utcnow
from civicreport.delivery import outbox
from civicreport.extensions import db
from civicreport.reference.calendar import CalendarDay
from civicreport.worktime import OfficeHours, WorkCalendar


def work_calendar():
    """The official calendar with office hours from config and the admin's overrides."""
    overrides = {row.day: row.kind for row in db.session.scalars(select(CalendarDay))}
    hours = OfficeHours.parse(registry.settings().OFFICE_HOURS)
    return WorkCalendar(hours, registry.current().zone, overrides)


def start_clock(report, now, minutes):
    """Give ``report`` ``minutes`` of handling time from ``now``.

    Urgent categories (a missing manhole cover) run on the clock, day and night;
    the rest run in working time.
    """
    report.allowed_minutes = minutes
    _set_deadline(report, now, _add(report, now, minutes))


def extend(report, now, minutes):
    report.allowed_minutes = (report.allowed_minutes or 0) + minutes
    _set_deadline(report, now, _add(report, report.deadline_at, minutes))


def pause(report, now):
    report.suspended_at = now


def resume(report, now):
    """Restart the clock with the time that was left when the case was suspended."""
    if report.deadline_at is not None:
        left = _between(report, report.suspended_at, report.deadline_at)
        _set_deadline(report, now, _add(report, now, left))
    report.suspended_at = None


def stop_clock(report):
    report.deadline_at = report.warning_at = report.allowed_minutes = None


def _urgent(report):
    return report.category is not None and report.category.urgency == "urgent"


def _add(report, start, minutes):
    if _urgent(report):
        return start + timedelta(minutes=minutes)
    return work_calendar().add(start, minutes)


def _between(report, start, end):
    if end <= start:
        return 0
    if _urgent(report):
        return int((end - start).total_seconds() // 60)
    return work_calendar().between(start, end)


def _set_deadline(report, now, deadline):
    """Store the deadline and the instant (1 - WARNING_RATIO) of the allowance remains."""
    report.deadline_at = deadline
    keep = int(round((1 - registry.settings().WARNING_RATIO) * report.allowed_minutes))
    until_warning = max(0, _between(report, now, deadline) - keep)
    report.warning_at = _add(report, now, until_warning)
    report.warning_notified = report.overdue_notified = False


def scan(now=None):
    """Raise the warning and overdue events (and notifications) that became due; returns counts."""
    now = now or utcnow()
    counts = {"warning": 0, "overdue": 0}
    running = Report.status.in_(CLOCK_RUNNING)
    due = {
        "warning": select(Report).where(running, Report.warning_at <= now, Report.warning_notified.is_(False)),
        "overdue": select(Report).where(running, Report.deadline_at < now, Report.overdue_notified.is_(False)),
    }
    for kind, query in due.items():
        for report in db.session.scalars(query.with_for_update(skip_locked=True)):
            setattr(report, f"{kind}_notified", True)
            db.session.add(
                ReportEvent(
                    report_id=report.id,
                    actor_role="system",
                    action=kind,
                    from_status=report.status,
                    to_status=report.status,
                    data={"deadline_at": report.deadline_at.isoformat()},
                )
            )
            outbox.enqueue(kind, _payload(report, kind), report=report, unit=report.unit)
            counts[kind] += 1
        db.session.commit()
    return counts


def _payload(report, kind):
    text = {"warning": "即将超期", "overdue": "已超期"}[kind]
    deadline = report.deadline_at.astimezone(registry.current().zone)
    return {
        "report": report.public_id,
        "event": kind,
        "message": f"案件 {report.public_id} {text}，处置时限 {deadline:%Y-%m-%d %H:%M}",
        "deadline_at": report.deadline_at.isoformat(),
    }
