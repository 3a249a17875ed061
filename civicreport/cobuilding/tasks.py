"""Monthly tasks of the campaign office (月初安排): what every community, or a list of them, must
do and declare in a month, worth ``points``, by a due time (default: the month's last day 18:00
local time).

A task's month is fixed once its 红黄牌 are judged (``cobuilding.cards``): no task is added to a
judged month, so its cards stay what the tasks of the month earned. The due time lies between the
month's start and the end of the following month, so a month is judged before the next one.
"""

from datetime import datetime, time, timedelta

from sqlalchemy import exists, or_, select

from civicreport import registry
from civicreport.accounts.access import bounding_areas, require_roles
from civicreport.cobuilding.access import OFFICE_ROLES, READER_ROLES, community_of, covers_community
from civicreport.cobuilding.models import CardMonth, Task, TaskCommunity
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
    outbox.enqueue("task_issued", _notice(task))
    db.session.commit()
    return task


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


def _notice(task):
    local_due = task.due_at.astimezone(registry.current().zone)
    return {
        "task": task.id,
        "event": "task_issued",
        "month": f"{task.month:%Y-%m}",
        "communities": "all" if task.all_communities else sorted(c.community_code for c in task.communities),
        "message": f"{task.month:%Y年%m月}共建任务“{task.title}”（{task.points:g} 分），"
        f"请于 {local_due:%Y-%m-%d %H:%M} 前申报",
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
    """Tasks, newest month first; community staff see their community's only."""
    require_roles(user, READER_ROLES)
    query = select(Task).order_by(Task.month.desc(), Task.id)
    if month is not None:
        query = query.where(Task.month == month)
    if user.role == "community_staff":
        query = query.where(or_(Task.all_communities, _lists(community_of(user))))
    return db.session.scalars(query).all()


def _lists(community_code):
    return exists().where(TaskCommunity.task_id == Task.id, TaskCommunity.community_code == community_code)


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
