"""What the citizen's phone pages ask: categories as citizens think of them, suggestions, receipts."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from civicreport import registry
from civicreport.abuse import throttle
from civicreport.accounts.access import Actor, actor_for
from civicreport.cases import receipt_codes
from civicreport.cases.models import Report
from civicreport.errors import NotFound
from civicreport.extensions import db
from civicreport.reference.lookup import active_categories

# The standard splits 部件 from 事件 by who owns the thing; a citizen thinks of what they see.
# Major classes map to a citizen group, and a few items move to where people look for them.
CITIZEN_GROUPS = ("市容环境", "道路设施", "交通文明", "市场秩序", "文明行为", "园林绿化", "施工工地", "其他问题")
_GROUP_OF_MAJOR = {
    "06": "市容环境",
    "03": "市容环境",
    "07": "市容环境",
    "01": "道路设施",
    "02": "道路设施",
    "09": "市场秩序",
    "L9": "文明行为",
    "04": "园林绿化",
    "08": "施工工地",
}
_GROUP_OF_CODE = {
    "09009": "交通文明",
    "09010": "交通文明",
    "09011": "交通文明",
    "09012": "交通文明",
    "09014": "交通文明",
    "09016": "交通文明",
    "09018": "交通文明",
    "09019": "交通文明",
    "L90001": "交通文明",
    "L90002": "交通文明",
    "09003": "其他问题",
    "09017": "市容环境",
}


def citizen_group(category):
    """The citizen group a category is listed under; ``其他问题`` for anything unmapped."""
    return _GROUP_OF_CODE.get(category.code) or _GROUP_OF_MAJOR.get(category.major_code, "其他问题")


def grouped_categories():
    """[(group, [(code, name), …]), …]: the active categories under citizen groups.

    Items citizens often report (those with keywords) come first in each group.
    """
    groups = {name: [] for name in CITIZEN_GROUPS}
    for category in active_categories():
        groups[citizen_group(category)].append(category)
    return [
        (name, [(c.code, c.name) for c in sorted(items, key=lambda c: (not c.keywords, c.code))])
        for name, items in groups.items()
        if items
    ]


def suggest_categories(text, limit=3):
    """Categories the configured classifier reads from a description; [] when nothing matches."""
    categories = active_categories()
    groups = {c.code: citizen_group(c) for c in categories}
    return [
        {"code": s.code, "name": s.name, "group": groups[s.code], "score": s.score}
        for s in registry.current().classifier.suggest(text, categories, limit=limit)
    ]


def reports_for_receipts(receipts, address=None):
    """Reports whose receipt token matches, in the order asked, each with its receipt actor.

    ``receipts`` is a list of ``{"id", "receipt_token"}``; repeated ids count once. Returns
    ``(found, unknown_ids)``: an id that does not exist and one whose token does not match
    are both unknown, so the answer never tells which. Never raises for bad tokens, but each
    wrong one counts against ``address`` (see ``receipt_actor``): 429 once it is locked.
    """
    counted = _receipt_keys(address)
    wanted = {}
    for item in receipts:
        wanted.setdefault(item["id"], item["receipt_token"])
    rows = db.session.scalars(
        select(Report)
        .where(Report.public_id.in_(list(wanted)))
        .options(
            selectinload(Report.category),
            selectinload(Report.community),
            selectinload(Report.street),
            selectinload(Report.district),
            selectinload(Report.unit),
            selectinload(Report.media),
            selectinload(Report.events),
        )
    )
    by_id = {report.public_id: report for report in rows}
    found, unknown = [], []
    for public_id, token in wanted.items():
        report = by_id.get(public_id)
        actor = _counted_actor(None, report, token, counted) if report else None
        if actor and actor.receipt_report_id == report.id:
            found.append((report, actor))
        else:
            unknown.append(public_id)
    return found, unknown


def report_by_code(public_id, code, address):
    """``([(report, its reporter's actor)], [])`` when ``code`` is the short receipt code of case
    ``public_id``, else ``([], [public_id])``: the lookup's answer, as for the long token."""
    report = receipt_codes.report_for_code(public_id, code, address)
    if report is None:
        return [], [public_id]
    return [(report, Actor(None, report.id))], []


def proven_report(public_id, address, *, token=None, code=None):
    """The report whose receipt ``token`` or short ``code`` is given, counted like every receipt
    (429 while locked); 404 ``receipt_not_found`` otherwise, never telling a missing case from a
    wrong proof."""
    if code is not None:
        report = receipt_codes.report_for_code(public_id, code, address)
    else:
        report = db.session.scalar(select(Report).where(Report.public_id == public_id))
        actor = _counted_actor(None, report, token, _receipt_keys(address)) if report else None
        report = report if actor and actor.receipt_report_id == report.id else None
    if report is None:
        raise NotFound("案件编号或回执不正确", code="receipt_not_found", details={"id": public_id})
    return report


def receipt_actor(user, report, receipt, address):
    """``actor_for`` with the receipt a bearer secret that cannot be guessed at: while the client
    ``address`` is locked (abuse.throttle) a receipt for a report that has one is 429
    ``too_many_attempts``, and a wrong one counts a failure. No receipt: nothing counted.
    """
    if not receipt:
        return actor_for(user, report)
    return _counted_actor(user, report, receipt, _receipt_keys(address))


def _receipt_keys(address):
    # Receipts are counted per address only: a per-report lock would let anyone lock a
    # citizen out of their own case, and a 256-bit receipt cannot be guessed per report.
    return throttle.keys(receipt_ip=throttle.address_key(address))


def _counted_actor(user, report, receipt, counted):
    # The attempt is counted before the receipt is compared and given back when it matched:
    # parallel guesses cannot slip in between a comparison and its count.
    if not _guessable(report):
        return actor_for(user, report, receipt)
    held = throttle.reserve(counted)
    actor = actor_for(user, report, receipt)
    if actor.receipt_report_id == report.id:
        throttle.succeeded(held)
    return actor


def _guessable(report):
    # Only a report that holds a receipt can be guessed at: a missing id, a staff-filed case or
    # one anonymised by retention matches no receipt, so a phone keeping an old one is not locked.
    return report is not None and report.receipt_token_hash is not None
