"""The states of the co-building layer in one place: 实事清单 items, monthly declarations,
needs orders, cards and flags, with what staff and residents read for each.

Pure data, like ``cases.status``: how a declaration or an order moves between these states is
the TRANSITIONS table of its module (``cobuilding.declarations``, ``cobuilding.orders``).
"""

# A partner's role in a community's co-building (牵头单位 / 成员单位).
PARTNER_ROLES = {"lead": "牵头共建单位", "member": "成员共建单位"}

# 实事清单 items (one problem a partner takes on for a community).
MATTER_STATES = {"open": "待办", "in_progress": "推进中", "done": "已办结", "dropped": "已撤销"}
MATTER_OPEN = ("open", "in_progress")  # still owed: past its deadline it counts against the partner

# A community's declaration (月底申报) of one monthly task. No row: not declared (yet).
DECLARATION_STATES = {"submitted": "待审核", "returned": "已退回", "accepted": "已通过"}

# Needs orders (点单 → 派单 → 接单 → 完成 → 评单).
ORDER_STATES = {
    "submitted": "待派单",
    "dispatched": "已派单",
    "accepted": "服务中",
    "completed": "已完成",
    "rated": "已评价",
    "rejected": "不予受理",
    "cancelled": "已取消",
}
ORDER_OPEN = ("submitted", "dispatched", "accepted")
ORDER_VALID = ("dispatched", "accepted", "completed", "rated")  # 有效派单: reached a team

# 红黄牌 of a community's month, and the 红灰旗 of its ranking.
CARDS = {"yellow": "黄牌", "red": "红牌"}
CARD_REASONS = {
    "missing": "未申报",
    "late": "逾期申报",
    "returned": "申报被退回",
    "repeated": "连续两月黄牌",
    "severe": "严重缺项",
}
FLAGS = {"red": "红旗", "grey": "灰旗"}
