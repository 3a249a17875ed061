"""Monthly tasks of the campaign office (月初安排): what every community, or a list of them, must
do and declare in a month, worth ``points``, by a due time (default: the month's last day 18:00
local time).

A task's month is fixed once its 红黄牌 are judged (``cobuilding.cards``): no task is added to a
judged month, so its cards stay what the tasks of the month earned. The due time lies between the
month's start and the end of the following month, so a month is judged before the next one.

Changing and withdrawing: the office may change a task (title, description, indicator, points,
due time, communities; never its month) or withdraw it while no community has declared it and
its month is not judged (409 ``task_declared`` / ``month_judged`` otherwise): until then nothing
was done or scored against it. A withdrawn task is deleted: in that state no row refers to it (a
declaration would, and so would a card, which only a judged month has), and the communities were
told of it through the outbox (``task_withdrawn``), the one record they need. A change is told
the same way (``task_changed``).
"""

from datetime import datetime, time, timedelta

from sqlalchemy import exists, func, or_, select

from civicreport import registry
from civicreport.accounts.access import bounding_areas, require_roles
from civicreport.cobuilding.access import (
    OFFICE_ROLES,
    READER_ROLES,
    community_of,
    community_scope,
    covers_community,
)
from civicreport.cobuilding.models import CardMonth, Declaration, Task, TaskCommunity
from civicreport.db_types import utcnow
from civicreport.delivery import outbox
from civicreport.errors import Conflict, Forbidden, NotFound, ValidationFailed
from civicreport.extensions import db
from civicreport.reference.areas import Community
from civicreport.reporting.stats import Period

DEFAULT_DUE_TIME = time(18, 0)


def month_period(month):
    """The calendar month starting on ``month`` (a first day) as a stats Period."""
    return Period.month(month.year, month.month)


def month_instants(month):
    """The month's start and end as aware UTC instants (local calendar, ``TIMEZONE``)."""
    return month_period(month).instants(registry.current().zone)


def default_due(month):
    """The month's last day at 18:00 local time."""
    last_day = month_period(month).end - timedelta(days=1)
    return datetime.combine(last_day, DEFAULT_DUE_TIME, registry.current().zone)


def issue(data, user, now=None):
    """Issue a task (``schemas.tasks.TaskCreateSchema`` data) and notify the communities; commits.

    403 for anyone but the office or for a community outside a bounded supervisor's areas, 422
    for an unknown community or a due time outside the month and the next, 409 for a judged month.
    """
    require_roles(user, OFFICE_ROLES)
    month = data["month"]
    if db.session.get(CardMonth, month) is not None:
        raise Conflict("该月红黄牌已评定，不能再下达任务", code="month_judged", details={"month": f"{month:%Y-%m}"})
    codes = _communities(data["communities"], user)
    due_at = data["due"] or default_due(month)
    _check_due(month, due_at)
    task = Task(
        month=month,
        title=data["title"].strip(),
        description=data["description"],
        indicator=data["indicator"],
        points=data["points"],
        due_at=due_at,
        all_communities=codes is None,
        created_by_user_id=user.id,
        created_at=now or utcnow(),
        communities=[TaskCommunity(community_code=code) for code in codes or ()],
    )
    db.session.add(task)
    db.session.flush()
    outbox.enqueue("task_issued", _notice(task, "task_issued"))
    db.session.commit()
    return task


def change(task_id, data, user):
    """Change a task (``schemas.tasks.TaskChangeSchema`` data: only the fields given) and tell its
    communities; commits. 404, 403 (role or communities), 409 (see ``_changeable``), 422 as ``issue``."""
    task = _changeable(task_id, user)
    if "communities" in data:
        _set_communities(task, _communities(data["communities"], user))
    for name in ("title", "description", "indicator", "points"):
        if name in data:
            setattr(task, name, data[name].strip() if name == "title" else data[name])
    if "due" in data:
        task.due_at = data["due"] or default_due(task.month)
        _check_due(task.month, task.due_at)
    db.session.flush()
    outbox.enqueue("task_changed", _notice(task, "task_changed"))
    db.session.commit()
    return task


def withdraw(task_id, user):
    """Withdraw a task: delete it (nothing refers to it yet, see the module's docstring) and tell
    its communities; commits. Errors as ``change``."""
    task = _changeable(task_id, user)
    outbox.enqueue("task_withdrawn", _notice(task, "task_withdrawn"))
    db.session.delete(task)
    db.session.commit()


def _changeable(task_id, user):
    """The task, locked, if ``user`` may change it now: 403 unless the office covers all its
    communities; 409 ``month_judged`` or ``task_declared``."""
    require_roles(user, OFFICE_ROLES)
    task = db.session.scalar(select(Task).where(Task.id == task_id).with_for_update())
    if task is None:
        raise NotFound("任务不存在", code="task_not_found", details={"id": task_id})
    _communities(None if task.all_communities else [c.community_code for c in task.communities], user)
    if db.session.get(CardMonth, task.month) is not None:
        raise Conflict(
            "该月红黄牌已评定，任务不能再修改或撤回", code="month_judged", details={"month": f"{task.month:%Y-%m}"}
        )
    declared = db.session.scalar(select(func.count()).select_from(Declaration).where(Declaration.task_id == task.id))
    if declared:
        raise Conflict(
            "已有社区申报该任务，不能再修改或撤回",
            code="task_declared",
            details={"id": task.id, "declarations": declared},
        )
    return task


def _set_communities(task, codes):
    """Make the task's list ``codes`` (None: every community), keeping the rows that stay."""
    task.all_communities = codes is None
    keep = set(codes or ())
    task.communities = [row for row in task.communities if row.community_code in keep]
    held = {row.community_code for row in task.communities}
    task.communities.extend(TaskCommunity(community_code=code) for code in sorted(keep - held))


def _communities(codes, user):
    """None for every community, else the listed codes after checking each exists and is covered."""
    if codes is None:
        if bounding_areas(user):
            raise Forbidden("片区督查员只能向本片区的社区下达任务", code="community_not_covered")
        return None
    known = set(db.session.scalars(select(Community.code).where(Community.code.in_(codes))))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ValidationFailed("未知社区", code="unknown_community", details={"communities": unknown})
    outside = [code for code in codes if not covers_community(user, code)]
    if outside:
        raise Forbidden("无权向该社区下达任务", code="community_not_covered", details={"communities": outside})
    return codes


def _check_due(month, due_at):
    start, _ = month_instants(month)
    _, next_end = month_instants(month_period(month).end)
    if not start <= due_at < next_end:
        raise ValidationFailed(
            "申报截止时间须在任务月份开始之后、次月结束之前",
            code="invalid_due",
            details={"due": due_at.isoformat(), "month": f"{month:%Y-%m}"},
        )


NOTICE_TEXTS = {
    "task_issued": "共建任务",
    "task_changed": "共建任务已调整：",
    "task_withdrawn": "共建任务已撤回，无需申报：",
}


def _notice(task, event):
    local_due = task.due_at.astimezone(registry.current().zone)
    message = f"{task.month:%Y年%m月}{NOTICE_TEXTS[event]}“{task.title}”（{task.points:g} 分）"
    if event != "task_withdrawn":
        message += f"，请于 {local_due:%Y-%m-%d %H:%M} 前申报"
    return {
        "task": task.id,
        "event": event,
        "month": f"{task.month:%Y-%m}",
        "communities": "all" if task.all_communities else sorted(c.community_code for c in task.communities),
        "message": message,
        "due_at": task.due_at,
    }


def get(task_id):
    """The task; 404 ``task_not_found``."""
    task = db.session.get(Task, task_id)
    if task is None:
        raise NotFound("任务不存在", code="task_not_found", details={"id": task_id})
    return task


def readable(task_id, user):
    """The task for a reader; community staff only see tasks their community has (403)."""
    require_roles(user, READER_ROLES)
    task = get(task_id)
    code = community_of(user)
    if user.role == "community_staff" and not covers(task, code):
        raise Forbidden("该任务不涉及本社区", code="community_not_covered", details={"community_code": code})
    return task


def listing(user, month=None):
    """Tasks, newest month first: those for every community and those listing a community
    ``user`` covers (community staff their own, a bounded supervisor his areas')."""
    require_roles(user, READER_ROLES)
    query = select(Task).order_by(Task.month.desc(), Task.id)
    if month is not None:
        query = query.where(Task.month == month)
    if user.role == "community_staff" or bounding_areas(user):
        query = query.where(or_(Task.all_communities, _lists(user)))
    return db.session.scalars(query).all()


def _lists(user):
    return exists().where(TaskCommunity.task_id == Task.id, community_scope(user, TaskCommunity.community_code))


def covers(task, community_code):
    """Whether ``task`` is one ``community_code`` must declare."""
    if community_code is None:
        return False
    if task.all_communities:
        return db.session.get(Community, community_code) is not None
    return any(c.community_code == community_code for c in task.communities)


def covered(task):
    """The communities ``task`` covers, by code."""
    query = select(Community).order_by(Community.code)
    if not task.all_communities:
        query = query.where(Community.code.in_([c.community_code for c in task.communities]))
    return db.session.scalars(query).all()
