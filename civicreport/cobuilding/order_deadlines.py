"""Warnings and overdue notices on the needs orders' clocks, sent once each per clock.

A clock (``cobuilding.orders``) gives an open order a ``deadline_at`` in working time: 派单 is
owed within ``COBUILD_ORDER_DISPATCH_HOURS`` of 点单 or 退单, the service within
``COBUILD_ORDER_SERVICE_HOURS`` of 派单. As for cases (``cases.deadlines``), ``warning_at`` is the
instant ``WARNING_RATIO`` of that working time has passed.

The worker's round (``scan``) sends, through the outbox:

- ``order_warning`` once ``warning_at`` has passed while the deadline is still ahead;
- ``order_overdue`` once ``deadline_at`` has passed (no warning then: it would come too late).

Each is sent once per clock: ``warning_notified`` / ``overdue_notified`` are set on the order in
the transaction that queues the message, and cleared when a new clock starts (派单, 退单). A
clock waiting for 派单 is the community's: its notice is addressed to the community (the log,
like the task notices); a service clock's goes to the team's unit or contact phone, as the
派单 notice did. The order's timeline is left as it is: these are reminders, not steps.
"""

from sqlalchemy import select

from civicreport import registry
from civicreport.cases.deadlines import work_calendar
from civicreport.cobuilding.models import NeedOrder
from civicreport.cobuilding.status import ORDER_OPEN
from civicreport.db_types import utcnow
from civicreport.delivery import outbox
from civicreport.extensions import db

KINDS = {"warning": "即将超时", "overdue": "已超时"}


def start_clock(order, now, hours):
    """Give ``order`` ``hours`` of working time from ``now``, with its warning instant."""
    calendar = work_calendar()
    order.deadline_at = calendar.add(now, hours * 60)
    order.warning_at = calendar.add(now, round(registry.settings().WARNING_RATIO * hours * 60))
    order.warning_notified = order.overdue_notified = False


def stop_clock(order):
    order.deadline_at = order.warning_at = None


def recipient(team, unit):
    """``(unit, target)`` a notice about a team's or unit's order goes to: the unit (its delivery
    method), else the team's partner unit, else the team's contact phone in the log."""
    receiver = unit or (team and team.unit)
    return receiver, None if receiver or team is None else team.contact_phone


def scan(now=None):
    """Queue the warnings and overdue notices that became due; returns the counts by topic (the
    worker's round reports them beside the cases' ``warning`` and ``overdue``)."""
    now = now or utcnow()
    running = NeedOrder.status.in_(ORDER_OPEN)
    due = {
        "warning": select(NeedOrder).where(
            running,
            NeedOrder.warning_at <= now,
            NeedOrder.deadline_at > now,
            NeedOrder.warning_notified.is_(False),
        ),
        "overdue": select(NeedOrder).where(
            running, NeedOrder.deadline_at <= now, NeedOrder.overdue_notified.is_(False)
        ),
    }
    counts = {f"order_{kind}": 0 for kind in due}
    for kind, query in due.items():
        for order in db.session.scalars(query.with_for_update(skip_locked=True)):
            setattr(order, f"{kind}_notified", True)
            unit, target = recipient(order.team, order.unit)
            outbox.enqueue(f"order_{kind}", _payload(order, kind), unit=unit, target=target)
            counts[f"order_{kind}"] += 1
        db.session.commit()
    return counts


def _payload(order, kind):
    clock = "派单时限" if order.status == "submitted" else "服务时限"
    deadline = order.deadline_at.astimezone(registry.current().zone)
    return {
        "order": order.public_id,
        "event": f"order_{kind}",
        "status": order.status,
        "community": order.community_code,
        "team": order.team.name if order.team else None,
        "message": f"点单 {order.public_id}（{order.community.name}）{KINDS[kind]}，{clock} {deadline:%Y-%m-%d %H:%M}",
        "deadline_at": order.deadline_at,
    }
