"""Alert e-mails: one digest of an area's new and finished public reports, at most once per
ALERTS_DIGEST_MINUTES per subscription, queued in the outbox by the worker's round (the outbox's
e-mail sender delivers it, with its one-click unsubscribe headers)."""

from datetime import timedelta

from sqlalchemy import or_, select

from civicreport import registry
from civicreport.alerts import public_reports
from civicreport.alerts.models import AreaSubscription
from civicreport.alerts.subscriptions import area_of, unsubscribe_link
from civicreport.cases.status import STATUS_LABELS
from civicreport.db_types import utcnow
from civicreport.delivery.outbox import enqueue
from civicreport.errors import NotFound
from civicreport.extensions import db

DIGEST_MAX = 20  # reports listed in one e-mail; the rest are counted


def send_due(now=None):
    """Queue a digest for every confirmed subscription whose area has news since its last one and
    whose last one is old enough; returns how many were queued. Commits."""
    now = now or utcnow()
    due_before = now - timedelta(minutes=registry.settings().ALERTS_DIGEST_MINUTES)
    query = select(AreaSubscription).where(
        AreaSubscription.confirmed_at.is_not(None),
        AreaSubscription.unsubscribed_at.is_(None),
        or_(AreaSubscription.last_sent_at.is_(None), AreaSubscription.last_sent_at <= due_before),
    )
    queued = sum(_digest(subscription, now) for subscription in db.session.scalars(query).all())
    db.session.commit()
    return queued


def _digest(subscription, now):
    try:
        area = area_of(subscription)
    except NotFound:  # the community or street was merged away: nothing to follow any more
        return False
    since = subscription.last_sent_at or subscription.confirmed_at
    filters = public_reports.Filters(area=area, since=since, until=now)
    reports, more = public_reports.search(filters, DIGEST_MAX)
    if not reports:
        return False
    payload = {"message": _text(area, reports, more, since), "unsubscribe_url": unsubscribe_link(subscription)}
    enqueue("area_alert", payload, method="email", target=subscription.email)
    subscription.last_sent_at = now
    return True


def _text(area, reports, more, since):
    lines = [f"“{area.name}”自上次提醒以来的公开案件动态：", ""]
    for report in reports:  # public fields only, and no photo URL: the worker has no request to build one
        news = "新上报" if report.created_at > since else "已办结"
        category = report.category.name if report.category else "未分类"
        place = f"{report.street.name}{report.community.name}"
        lines.append(f"· [{news}] {report.public_id} {category}（{STATUS_LABELS[report.status]}）{place}")
    if more:
        lines.append("……另有更多案件，请查看公开地图。")
    return "\n".join(lines)
