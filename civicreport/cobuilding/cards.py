"""红黄牌 (warning cards) of the communities for their monthly tasks.

A missing, late or returned declaration earns a yellow card; two yellow months in a row or a
severe miss a red card. Precisely, for a month M that has tasks:

Cut-off
    C = the later of the end of M (local calendar, ``TIMEZONE``) and the latest due time of M's
    tasks (a due time lies before the end of the following month: ``cobuilding.tasks``). M is
    judged once, by the first ``judge`` after C: the worker's round (``judge_due``) or the
    ranking and ``GET /api/v1/cards`` on demand. ``cobuild_card_month`` records it, and no task
    is added to a judged month. Declarations are read as they stood at C, so a later judge
    would issue the same cards.

Yellow: one per task of M and community the task covers, for the first reason that applies
    missing   no declaration first submitted by C
    late      first submitted after the task's due time, or re-submitted after the deadline a
              return set (``resubmit_due_at``), by C
    returned  returned by C and not accepted by C (still returned, or re-submitted and not
              accepted again yet)
    A declaration submitted in time and not yet reviewed at C earns nothing.

Red: at most one per community and month, beside its yellows
    severe    ``COBUILD_SEVERE_MISSES`` (3) or more of M's tasks missing
    repeated  a yellow card in M and in each of the ``COBUILD_RED_AFTER_YELLOWS`` − 1 (1) months
              before it (judged first; a month without tasks has no cards and breaks the run)
    Severe is recorded when both apply.

A community's card of a month (``card_of``): ``red`` with a red card, else ``yellow`` with a
yellow one, else None. Each card issued is told to its community through the outbox
(``card_issued``), in the transaction that issues it.
"""

from collections import Counter
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from civicreport import registry
from civicreport.cobuilding import tasks
from civicreport.cobuilding.access import community_scope
from civicreport.cobuilding.models import Card, CardMonth, Declaration, Task
from civicreport.cobuilding.status import CARD_REASONS, CARDS
from civicreport.db_types import utcnow
from civicreport.delivery import outbox
from civicreport.extensions import db
from civicreport.reference.areas import Community


def judge(month, now=None):
    """Issue the cards of ``month`` (its first day) if it is past its cut-off and not judged yet;
    commits. Returns the cards issued now (none when judged before, not due, or without tasks)."""
    now = now or utcnow()
    month_tasks = _tasks(month)
    if not month_tasks or db.session.get(CardMonth, month) is not None or now < cut_off(month, month_tasks):
        return []
    for earlier in _months_before(month, registry.settings().COBUILD_RED_AFTER_YELLOWS - 1):
        judge(earlier, now)
    try:
        db.session.add(CardMonth(month=month, judged_at=now))
        db.session.flush()  # claims the month: a second judge fails here
        cards = _cards(month, month_tasks, cut_off(month, month_tasks), now)
        db.session.add_all(cards)
        _notify(cards, {task.id: task.title for task in month_tasks})
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return []
    return cards


def judge_due(now=None):
    """The worker's job: judge last month and the one before once they are due (the month before
    last catches a task due in the following month)."""
    now = now or utcnow()
    this_month = now.astimezone(registry.current().zone).date().replace(day=1)
    last, before = _months_before(this_month, 2)
    return judge(before, now) + judge(last, now)


def cut_off(month, month_tasks):
    """The later of the month's end and its tasks' latest due time."""
    return max(tasks.month_instants(month)[1], *(task.due_at for task in month_tasks))


def card_of(community_code, month):
    """``red``, ``yellow`` or None: the community's card of ``month`` as issued (call ``judge`` first)."""
    colors = set(
        db.session.scalars(select(Card.color).where(Card.month == month, Card.community_code == community_code))
    )
    return "red" if "red" in colors else "yellow" if "yellow" in colors else None


def of_month(month, *, by=None):
    """The cards of ``month``, by community then task; of ``by``'s communities when given."""
    query = select(Card).where(Card.month == month).order_by(Card.community_code, Card.color, Card.task_id)
    if by is not None:
        query = query.where(community_scope(by, Card.community_code))
    return db.session.scalars(query).all()


def judged(month):
    return db.session.get(CardMonth, month) is not None


def _tasks(month):
    return db.session.scalars(select(Task).where(Task.month == month).order_by(Task.id)).all()


def _months_before(month, count):
    """The ``count`` months before ``month``, nearest first."""
    months = []
    for _ in range(count):
        month = (month - timedelta(days=1)).replace(day=1)
        months.append(month)
    return months


def _cards(month, month_tasks, cut, now):
    yellows = [card for task in month_tasks for card in _yellows(month, task, cut, now)]
    missing = Counter(card.community_code for card in yellows if card.reason == "missing")
    carded = {card.community_code for card in yellows}
    repeated = carded.intersection(
        *(_yellow_codes(m) for m in _months_before(month, registry.settings().COBUILD_RED_AFTER_YELLOWS - 1))
    )
    severe = {code for code, n in missing.items() if n >= registry.settings().COBUILD_SEVERE_MISSES}
    reds = [
        Card(
            month=month,
            community_code=code,
            color="red",
            reason="severe" if code in severe else "repeated",
            created_at=now,
        )
        for code in sorted(severe | repeated)
    ]
    return yellows + reds


def _yellows(month, task, cut, now):
    declared = {
        d.community_code: d
        for d in db.session.scalars(
            select(Declaration).where(Declaration.task_id == task.id).options(selectinload(Declaration.events))
        )
    }
    return [
        Card(month=month, community_code=community.code, color="yellow", reason=reason, task_id=task.id, created_at=now)
        for community in tasks.covered(task)
        if (reason := _reason(declared.get(community.code), cut))
    ]


def _reason(declaration, cut):
    """Why a declaration as it stood at ``cut`` earns a yellow card; None when it does not."""
    if declaration is None or declaration.first_submitted_at > cut:
        return "missing"
    steps = [e for e in declaration.events if e.created_at <= cut]
    if declaration.late or any(e.action == "resubmit" and (e.data or {}).get("late") for e in steps):
        return "late"
    actions = {e.action for e in steps}
    if "return" in actions and "accept" not in actions:
        return "returned"
    return None


def _notify(cards, titles):
    """One ``card_issued`` message per card, to its community."""
    names = dict(db.session.execute(select(Community.code, Community.name)).all())
    for card in cards:
        title = titles.get(card.task_id)
        about = f"任务“{title}”" if title else "本月共建任务"
        outbox.enqueue(
            "card_issued",
            {
                "event": "card_issued",
                "community": card.community_code,
                "month": f"{card.month:%Y-%m}",
                "card": card.color,
                "reason": card.reason,
                "task": card.task_id,
                "message": f"{names.get(card.community_code, card.community_code)} {card.month:%Y年%m月}"
                f"{about}{CARD_REASONS[card.reason]}，记{CARDS[card.color]}一张",
            },
        )


def _yellow_codes(month):
    query = select(Card.community_code).where(Card.month == month, Card.color == "yellow")
    return set(db.session.scalars(query))
