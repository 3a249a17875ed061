"""Inspection checklists per point kind (点位检查标准): the items an inspector answers at a point
of that kind, and the category of the case a failed item opens (routed as any case of it).

The bundled items (data/checklists.csv) are loaded with the demo or ``flask load-checklists``
and may be edited by admins afterwards through the API. Items are never deleted: inspections
name them by code, so an item taken off a checklist is deactivated and no longer asked.
"""

import csv
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from civicreport.errors import Conflict, NotFound, ValidationFailed
from civicreport.extensions import db
from civicreport.oversight.models import ChecklistItem
from civicreport.oversight.status import POINT_KINDS
from civicreport.reference.loading import data_file
from civicreport.reference.lookup import require_category

EDITABLE = ("label", "category_code", "position", "active")


def load_checklists(path=None):
    """Insert or update every item of the CSV (bundled by default) by its kind and code; returns
    how many rows were read. Categories must be loaded first (422 ``unknown_category``)."""
    source = Path(path) if path else data_file("checklists.csv")
    with source.open(encoding="utf-8") as lines:
        rows = list(csv.DictReader(lines))
    for row in rows:
        _check_kind(row["point_kind"])
        require_category(row["category_code"])
        item = _find(row["point_kind"], row["code"]) or ChecklistItem(point_kind=row["point_kind"], code=row["code"])
        item.label = row["label"]
        item.category_code = row["category_code"]
        item.position = int(row["position"])
        item.active = True
        db.session.add(item)
    db.session.commit()
    return len(rows)


def _find(kind, code):
    return db.session.scalar(select(ChecklistItem).where(ChecklistItem.point_kind == kind, ChecklistItem.code == code))


def _check_kind(kind):
    if kind not in POINT_KINDS:
        raise ValidationFailed(
            "未知的点位类型", code="unknown_point_kind", details={"kind": kind, "kinds": list(POINT_KINDS)}
        )


def items(kind=None, *, include_inactive=False):
    """Checklist items by kind and position; only those asked now unless ``include_inactive``."""
    query = select(ChecklistItem).order_by(ChecklistItem.point_kind, ChecklistItem.position, ChecklistItem.id)
    if kind:
        query = query.where(ChecklistItem.point_kind == kind)
    if not include_inactive:
        query = query.where(ChecklistItem.active.is_(True))
    return db.session.scalars(query).all()


def add_item(*, kind, code, label, category_code, position=0):
    """A new item on ``kind``'s checklist; 422 for an unknown kind or category, 409
    ``checklist_item_exists`` when the kind has that code already (deactivated ones too)."""
    _check_kind(kind)
    require_category(category_code)
    item = ChecklistItem(point_kind=kind, code=code, label=label, category_code=category_code, position=position)
    db.session.add(item)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(
            "该类点位已有此编码的检查项", code="checklist_item_exists", details={"kind": kind, "code": code}
        ) from None
    return item


def change_item(item_id, changes):
    """Change an item's label, category, position or active flag (``changes`` holds those given);
    404 ``checklist_item_not_found``, 422 ``unknown_category``."""
    item = db.session.get(ChecklistItem, item_id)
    if item is None:
        raise NotFound("检查项不存在", code="checklist_item_not_found", details={"id": item_id})
    if "category_code" in changes:
        require_category(changes["category_code"])
    for name in EDITABLE:
        if name in changes:
            setattr(item, name, changes[name])
    db.session.commit()
    return item
