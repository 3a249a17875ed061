"""The states of the oversight layer in one place, with what staff and the public read for each.

Pure data, like ``cases.status``: how a whistle, its parts or a listed problem move between
these states is the TRANSITIONS table of its module (``oversight.whistles``, ``oversight.listings``).
"""

# A whistle (吹哨) as a whole: parts being worked, all parts done and awaiting the raiser's check, closed.
WHISTLE_STATES = {"open": "处置中", "verifying": "待核验", "closed": "已办结"}
# One summoned unit's part: 待报到 → 已报到 (working) → 已完成; sent back by the raiser → 已报到 again.
PART_STATES = {"summoned": "待报到", "checked_in": "已报到", "resolved": "已完成"}

# 联合整治行动.
OPERATION_STATES = {"planned": "计划中", "done": "已开展", "cancelled": "已取消"}

# 挂牌整改: listed → (申请摘牌) → delisted; reopened when the problem returns.
LISTING_STATES = {"listed": "挂牌整改中", "delisting_requested": "申请摘牌", "delisted": "已摘牌"}

# Fixed inspection points (点位) by kind; each kind has its checklist (oversight.models.ChecklistItem).
POINT_KINDS = {
    "market": "农贸市场",
    "back_street": "背街小巷",
    "junction": "主要路口",
    "toilet": "公共厕所",
    "square": "广场公园",
    "station": "车站",
    "school_area": "校园周边",
    "residential": "老旧小区",
}
