"""The case states (案件状态) in one place: their order, which are open, what the console and
citizens read for each, and how Open311 names them.

Every other module imports the states from here; how a case moves between them is the
workflow's TRANSITIONS table. Pure data: no models, no Flask.
"""

# In the order the loop runs; the console lists and filters them in this order.
STATUSES = (
    "submitted",
    "accepted",
    "rejected",
    "duplicate",
    "dispatched",
    "in_progress",
    "returned",
    "suspended",
    "resolved",
    "rework",
    "verified",
    "closed",
    "rated",
)
# Still being handled: a citizen may add photos, a new report nearby is a possible duplicate.
OPEN_STATES = frozenset(
    {"submitted", "accepted", "dispatched", "in_progress", "returned", "suspended", "resolved", "rework", "verified"}
)
# Done with, one way or another; retention anonymises reporters of these.
CLOSED_STATES = frozenset(STATUSES) - OPEN_STATES
# In a unit's hands: the deadline clock runs (suspended pauses it). A tuple, for SQL ``IN``.
CLOCK_RUNNING = ("dispatched", "in_progress", "rework")
# On a unit's worklist: the running ones and those it suspended (挂账).
WITH_UNIT = (*CLOCK_RUNNING, "suspended")

# What staff read (console badges and filters, the phone page's timeline).
STATUS_LABELS = {
    "submitted": "待受理",
    "accepted": "已受理",
    "rejected": "不予受理",
    "duplicate": "重复合并",
    "dispatched": "已派遣",
    "in_progress": "处置中",
    "returned": "已回退",
    "suspended": "挂账",
    "resolved": "已处置",
    "rework": "返工",
    "verified": "已核查",
    "closed": "已结案",
    "rated": "已评价",
}
# What a citizen reads about their request through Open311 (``status_notes``).
STATUS_NOTES = {
    "submitted": "已收到，等待受理",
    "accepted": "已受理，等待派遣",
    "dispatched": "已派遣，等待处置单位接单",
    "in_progress": "处置单位正在处置",
    "returned": "处置单位退回，等待重新派遣",
    "suspended": "挂账缓办",
    "resolved": "已处置，等待核查",
    "rework": "核查未通过，返工中",
    "verified": "核查通过，等待结案",
    "closed": "已结案",
    "rated": "已结案并完成回访评价",
    "rejected": "不予受理",
    "duplicate": "与其他上报为同一问题，已合并",
}

# The names of the Open311 service request updates extension (as FixMyStreet reads them:
# perllib/Open311.pm map_state lower-cases a status and turns "_" into " "). Every state is
# one row. Nothing answers "closed", which FixMyStreet shows as "fixed - council" unless the
# body sends extended statuses, so a rejected case can never read as fixed there. A case is
# "fixed" once checked (核查通过), not when the unit says so: a failed check (返工) would
# otherwise flip a citizen's report from fixed back to in progress. Unused on purpose:
# internal_referral and not_councils_responsibility (closed in FixMyStreet; 回退 and 不予受理
# are not that), unable_to_fix (FixMyStreet reads no_further_action as the same state).
UPDATE_STATUSES = {
    "submitted": "open",
    "accepted": "investigating",
    "rejected": "no_further_action",
    "duplicate": "duplicate",
    "dispatched": "action_scheduled",
    "in_progress": "in_progress",
    "returned": "investigating",
    "suspended": "action_scheduled",
    "resolved": "in_progress",
    "rework": "in_progress",
    "verified": "fixed",
    "closed": "fixed",
    "rated": "fixed",
}

# Open311 knows two states; each of ours falls into one.
OPEN311_STATES = {"open": OPEN_STATES, "closed": CLOSED_STATES}


def open311_status(status):
    """``open`` or ``closed``, the Open311 name for one of our states."""
    return "open" if status in OPEN_STATES else "closed"
