"""Reading one report and setting its review flags from background checks."""

from sqlalchemy import select, update

from civicreport.cases.models import Report
from civicreport.errors import NotFound
from civicreport.extensions import db


def get_report(public_id):
    """The report with this public id; 404 ``report_not_found`` otherwise."""
    report = db.session.scalar(select(Report).where(Report.public_id == public_id))
    if report is None:
        raise NotFound("上报不存在", code="report_not_found", details={"id": public_id})
    return report


def set_flags(report_id, **values):
    """Set review flags on a report from a background check (photo reuse, an unreadable
    photo): not through the ORM, and keeping ``updated_at``, so a flag neither bumps the
    version staff actions are checked against nor passes for a change of the case."""
    db.session.execute(update(Report).where(Report.id == report_id).values(**values, updated_at=Report.updated_at))
