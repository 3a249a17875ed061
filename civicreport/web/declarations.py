"""Monthly tasks (月初安排), month-end declarations (月底申报) and 红黄牌 under /api/v1."""

from flask import Blueprint, jsonify, request

from civicreport.cobuilding import cards, declarations, tasks
from civicreport.cobuilding.access import COMMUNITY_ROLES, OFFICE_ROLES, READER_ROLES, covers_community
from civicreport.cobuilding.schemas.tasks import (
    CardListSchema,
    CardQuerySchema,
    DeclarationListSchema,
    DeclarationQuerySchema,
    DeclarationSchema,
    DeclarationSubmitSchema,
    ReviewSchema,
    TaskChangeSchema,
    TaskCreateSchema,
    TaskDetailSchema,
    TaskListSchema,
    TaskQuerySchema,
    TaskSchema,
    board_row,
    card_view,
    declaration_view,
    task_view,
)
from civicreport.schema_fields import load_valid
from civicreport.web import ROW_ID, allow, json_object
from civicreport.web import current_user as _user
from civicreport.web.openapi import doc

bp = Blueprint("declarations", __name__, url_prefix="/api/v1")
TAG = "declarations"  # tasks, declarations and cards are one section of the API document

ACTIONS_TEXT = "；".join(
    f"{t.action}（{t.label}，{'、'.join(sorted(t.roles))}，{'/'.join(s or '未申报' for s in t.sources)} → {t.target}）"
    for t in declarations.TRANSITIONS.values()
)


def _created(body):
    response = jsonify(body)
    response.status_code = 201
    return response


def _full_view(declaration, user):
    names = declarations.community_names([declaration.community_code])
    allowed = declarations.allowed_actions(user, declaration.community_code, declaration)
    return declaration_view(
        declaration, names.get(declaration.community_code), allowed, declarations.actor_names(declaration)
    )


@bp.post("/tasks")
@allow(*OFFICE_ROLES)
@doc(
    "下达月度共建任务（月初安排）",
    tag=TAG,
    body=TaskCreateSchema,
    response=TaskSchema,
    status=201,
    errors=(403, 409),
    description='communities 为 "all"（或不传）时下达全部社区；due 默认为该月最后一天 18:00（本地时间），'
    "须在该月开始之后、次月结束之前。该月红黄牌评定后不能再下达（409 month_judged）。",
)
def issue_task():
    """The campaign office issues a month's task."""
    data = load_valid(TaskCreateSchema(), json_object())
    return _created(task_view(tasks.issue(data, _user())))


@bp.get("/tasks")
@allow(*READER_ROLES)
@doc("月度共建任务列表（社区工作人员只见本社区的）", query=TaskQuerySchema, response=TaskListSchema, tag=TAG)
def list_tasks():
    """Tasks, newest month first."""
    query = load_valid(TaskQuerySchema(), request.args.to_dict())
    return {"tasks": [task_view(task) for task in tasks.listing(_user(), query["month"])]}


@bp.get(f"/tasks/<{ROW_ID}:task_id>")
@allow(*READER_ROLES)
@doc("任务详情：所涉各社区的申报状态", response=TaskDetailSchema, tag=TAG)
def get_task(task_id):
    """A task with each covered community's declaration the reader may see."""
    user = _user()
    task = tasks.readable(task_id, user)
    declared = declarations.of_task(task)
    rows = [
        board_row(community, declared.get(community.code), _allowed(user, community.code, declared))
        for community in tasks.covered(task)
        if covers_community(user, community.code)
    ]
    return task_view(task) | {"declarations": rows}


@bp.patch(f"/tasks/<{ROW_ID}:task_id>")
@allow(*OFFICE_ROLES)
@doc(
    "修改月度共建任务：标题、说明、指标、分值、申报截止时间、涉及社区（月份不可改）",
    tag=TAG,
    path={"task_id": "任务 id"},
    body=TaskChangeSchema,
    response=TaskSchema,
    errors=(403, 404, 409),
    description="只改传入的字段，并通知所涉社区。已有社区申报（409 task_declared）或该月红黄牌已评定"
    "（409 month_judged）后不能再改。",
)
def change_task(task_id):
    """The office corrects a task nobody has declared yet."""
    data = load_valid(TaskChangeSchema(), json_object())
    return task_view(tasks.change(task_id, data, _user()))


@bp.delete(f"/tasks/<{ROW_ID}:task_id>")
@allow(*OFFICE_ROLES)
@doc(
    "撤回月度共建任务",
    tag=TAG,
    path={"task_id": "任务 id"},
    status=204,
    errors=(403, 404, 409),
    description="尚无社区申报且该月红黄牌未评定时可撤回（否则 409 task_declared / month_judged）；"
    "撤回的任务直接删除（此时没有任何记录引用它），不再出现在任务列表中，并通知所涉社区。",
)
def withdraw_task(task_id):
    """The office withdraws a task nobody has declared yet."""
    tasks.withdraw(task_id, _user())
    return "", 204


def _allowed(user, code, declared):
    return declarations.allowed_actions(user, code, declared.get(code))


@bp.post(f"/tasks/<{ROW_ID}:task_id>/declarations")
@allow(*COMMUNITY_ROLES)
@doc(
    "社区申报任务完成情况（月底申报），退回后再次提交即为重新申报",
    tag=TAG,
    body=DeclarationSubmitSchema,
    response=DeclarationSchema,
    status=201,
    errors=(403, 409),
    description="照片先经 POST /api/v1/media 上传。截止后提交记为逾期（late）；照片拍摄时间不在任务月份、"
    "或 GPS 离社区边界过远时标记 evidence_flags，不拒收。待审核或已通过时再次提交为 409。"
    f"申报流转：{ACTIONS_TEXT}",
)
def declare(task_id):
    """Community staff declare (or re-declare after a return) their community's task."""
    data = load_valid(DeclarationSubmitSchema(), json_object())
    user = _user()
    return _created(_full_view(declarations.declare(tasks.get(task_id), user, data), user))


@bp.get("/declarations")
@allow(*READER_ROLES)
@doc(
    "申报审核队列：按月份、状态、社区筛选（社区工作人员只见本社区的）",
    tag=TAG,
    query=DeclarationQuerySchema,
    response=DeclarationListSchema,
)
def list_declarations():
    """The review queue, oldest submission first."""
    query = load_valid(DeclarationQuerySchema(), request.args.to_dict())
    user = _user()
    rows = declarations.queue(user, **query)
    names = declarations.community_names(d.community_code for d in rows)
    return {
        "declarations": [
            declaration_view(d, names.get(d.community_code), declarations.allowed_actions(user, d.community_code, d))
            for d in rows
        ]
    }


@bp.get(f"/declarations/<{ROW_ID}:declaration_id>")
@allow(*READER_ROLES)
@doc("申报详情：流转记录与照片", response=DeclarationSchema, tag=TAG)
def get_declaration(declaration_id):
    """A declaration with its timeline and photos."""
    user = _user()
    return _full_view(declarations.readable(declaration_id, user), user)


@bp.post(f"/declarations/<{ROW_ID}:declaration_id>/review")
@allow(*OFFICE_ROLES)
@doc(
    "审核申报：通过（打分）或退回（说明理由，可设重新申报期限）",
    tag=TAG,
    body=ReviewSchema,
    response=DeclarationSchema,
    errors=(403, 409),
    description="decision=accept 须带 score（0 至任务分值）；decision=return 须带 note，"
    "resubmit_due 默认为若干天后（COBUILD_RESUBMIT_DAYS）。只能审核待审核的申报。",
)
def review(declaration_id):
    """The office accepts or returns a declaration."""
    data = load_valid(ReviewSchema(), json_object())
    user = _user()
    return _full_view(declarations.review(declaration_id, user, data), user)


@bp.get("/cards")
@allow(*READER_ROLES)
@doc(
    "红黄牌：某月各社区所得的黄牌、红牌及原因",
    tag=TAG,
    query=CardQuerySchema,
    response=CardListSchema,
    description="任务均过截止时间且该月结束后评定（查询时如未评定即评定）：未申报、逾期申报、被退回未通过各得黄牌；"
    "连续两月黄牌或严重缺项得红牌。社区工作人员只见本社区的。",
)
def list_cards():
    """The month's cards, judged first when due."""
    month = load_valid(CardQuerySchema(), request.args.to_dict())["month"]
    user = _user()
    cards.judge(month)
    issued = cards.of_month(month, by=user)
    names = declarations.community_names(card.community_code for card in issued)
    titles = {task.id: task.title for task in tasks.listing(user, month)}
    communities = sorted({card.community_code for card in issued})
    return {
        "month": f"{month:%Y-%m}",
        "judged": cards.judged(month),
        "cards": [card_view(card, names.get(card.community_code), titles.get(card.task_id)) for card in issued],
        "communities": [
            {"community_code": code, "community_name": names.get(code), "card": cards.card_of(code, month)}
            for code in communities
        ],
    }
