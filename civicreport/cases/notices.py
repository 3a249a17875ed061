"""Telling the reporter when the case moves: who asked, and what each change tells them.

A reporter opts in at submit (``notify`` with a contact that is an e-mail address or a
mainland mobile number) and opts out with the receipt. A transition that tells the reporter
(NOTICES) queues one outbox message in the transition's own transaction, addressed to the
channel the contact chose (delivery.senders: "email", "sms"): the change and its notice commit
together, delivery and its retries happen later in the worker, and a notice that cannot be
queued is logged and never stops the change. Notices name the case, its state and the unit
in charge — never a note, a person or another reporter. The phone page needs no opt-in: it
polls ``latest_notices`` for the cases whose receipts it keeps.
"""

import logging
import re

from sqlalchemy import func, select

from civicreport import registry
from civicreport.cases.models import Report, ReportEvent
from civicreport.cases.reporter_models import NOTICE_CHANNELS, NoticeSubscription
from civicreport.cases.status import STATUS_LABELS
from civicreport.db_types import utcnow
from civicreport.delivery import outbox
from civicreport.errors import Conflict, ValidationFailed
from civicreport.extensions import db

log = logging.getLogger(__name__)

# Workflow action → the notice event (its outbox topic is "notice_<event>") and what it says.
NOTICES = {
    "accept": ("accepted", "您上报的问题已受理，我们将尽快安排处置。"),
    "dispatch": ("dispatched", "您上报的问题已派遣至{unit}处置。"),
    "resolve": ("resolved", "您上报的问题已处置完毕，正在核查处置结果。"),
    "close": ("closed", "您上报的问题已结案，欢迎在“我的上报”中评价处置结果。"),
    "reject": ("rejected", "您上报的问题不予受理，原因可在“我的上报”中查看。"),
}
TOPIC_PREFIX = "notice_"
OPT_OUT_HINT = "不想再收到通知？可在“我的上报”中关闭，或凭案件编号和查询码办理。"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_PHONE_NOISE = re.compile(r"[\s\-()（）]")


def contact_channel(contact):
    """``("email", address)`` or ``("sms", 11 digits)`` for a contact that can be told; else None."""
    text = (contact or "").strip()
    if _EMAIL.fullmatch(text):
        return "email", text
    digits = _PHONE_NOISE.sub("", text).removeprefix("+86").removeprefix("0086")
    return ("sms", digits) if _MOBILE.fullmatch(digits) else None


def channels():
    """The channels reporters may choose (REPORTER_NOTICE_CHANNELS), in NOTICE_CHANNELS order."""
    wanted = {name.strip() for name in registry.settings().REPORTER_NOTICE_CHANNELS.split(",")}
    return [name for name in NOTICE_CHANNELS if name in wanted]


def check_opt_in(data):
    """For a submission: its ``(channel, address)`` when it asks to be told, None when not;
    422 ``notice_contact_required`` or ``notice_channel_unavailable`` before anything is stored."""
    if not data.get("notify"):
        return None
    choice = contact_channel(data.get("contact"))
    if choice is None:
        raise ValidationFailed(
            "开启进度通知须留下手机号或电子邮箱", code="notice_contact_required", details={"field": "contact"}
        )
    if choice[0] not in channels():
        raise ValidationFailed(
            "暂不支持以这种方式通知，请换一种联系方式",
            code="notice_channel_unavailable",
            details={"channel": choice[0], "channels": channels()},
        )
    return choice


def opt_in(report, choice):
    """Keep the reporter's ``choice`` for the flushed ``report`` in the caller's transaction."""
    if choice:
        db.session.add(NoticeSubscription(report_id=report.id, channel=choice[0], address=choice[1]))


def set_notify(report, notify):
    """Stop (or start again) telling the reporter of ``report``; commits and returns the
    subscription. 409 ``notice_not_requested`` when no contact was left for notices."""
    subscription = db.session.get(NoticeSubscription, report.id)
    if subscription is None:
        raise Conflict("这件上报没有开启进度通知", code="notice_not_requested", details={"id": report.public_id})
    subscription.opted_out_at = None if notify else (subscription.opted_out_at or utcnow())
    db.session.commit()
    return subscription


def notice_state(report):
    """What the reporter reads of their choice: ``{"channel", "active"}``, or None without one."""
    subscription = db.session.get(NoticeSubscription, report.id)
    if subscription is None:
        return None
    return {"channel": subscription.channel, "active": subscription.opted_out_at is None}


def tell_reporter(action, report):
    """Queue the notice ``action`` gives the reporter of ``report``, in the transition's
    transaction; nothing when the action tells nothing or nobody asked. Never raises."""
    if action not in NOTICES:
        return
    try:
        subscription = db.session.get(NoticeSubscription, report.id)
        if subscription is None or subscription.opted_out_at is not None:
            return
        event, _ = NOTICES[action]
        outbox.enqueue(
            TOPIC_PREFIX + event,
            notice_payload(action, report),
            report=report,
            method=subscription.channel,
            target=subscription.address,
        )
    except Exception:  # the case's change matters more than its notice
        log.exception("notice %s of report %s not queued", action, report.public_id)


def notice_payload(action, report):
    """The message: the case number, its state in words, and one sentence (no notes, no people)."""
    event, text = NOTICES[action]
    unit = report.unit.name if report.unit else "处置单位"
    return {
        "report": report.public_id,
        "event": event,
        "status": STATUS_LABELS.get(report.status, report.status),
        "message": f"{text.format(unit=unit)}{OPT_OUT_HINT}",
    }


def latest_notices(public_ids):
    """For the phone's unread badge: ``[{"id", "status", "notice"}]`` for the existing ids, where
    ``notice`` is the case's latest event that tells the reporter (``event_id``, ``event``, ``at``)
    or None. Public facts only (the state and the timeline's steps), so no receipt is needed."""
    latest = (
        select(ReportEvent.report_id, func.max(ReportEvent.id).label("event_id"))
        .join(Report, Report.id == ReportEvent.report_id)
        .where(Report.public_id.in_(public_ids), ReportEvent.action.in_(list(NOTICES)))
        .group_by(ReportEvent.report_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Report.public_id, Report.status, ReportEvent.id, ReportEvent.action, ReportEvent.created_at)
        .outerjoin(latest, latest.c.report_id == Report.id)
        .outerjoin(ReportEvent, ReportEvent.id == latest.c.event_id)
        .where(Report.public_id.in_(public_ids))
        .order_by(Report.public_id)
    )
    return [
        {
            "id": public_id,
            "status": status,
            "notice": None
            if event_id is None
            else {"event_id": event_id, "event": NOTICES[action][0], "at": created_at},
        }
        for public_id, status, event_id, action, created_at in rows
    ]


def forget(report_id):
    """Retention: the address goes with the rest of the reporter's data."""
    db.session.execute(NoticeSubscription.__table__.delete().where(NoticeSubscription.report_id == report_id))
