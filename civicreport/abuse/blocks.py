"""The block list: devices, accounts and address networks an admin has stopped from submitting."""

import ipaddress
import logging
import re
from datetime import timedelta

from sqlalchemy import and_, or_, select

from civicreport.abuse.models import BLOCK_KINDS, Block
from civicreport.accounts.models import User
from civicreport.db_types import utcnow
from civicreport.errors import (
    Conflict,
    NotFound,
    ValidationFailed,
)
from civicreport.extensions import db

log = logging.getLogger(__name__)

# The X-Device-Id a phone makes once per install (a UUID fits); the OpenAPI document is built from these.
DEVICE_ID_CHARS, DEVICE_ID_LENGTH = "A-Za-z0-9._:-", (8, 64)
DEVICE_ID = re.compile(rf"[{DEVICE_ID_CHARS}]{{{DEVICE_ID_LENGTH[0]},{DEVICE_ID_LENGTH[1]}}}")


def matching_block(device, account, address, now=None):
    """The first active block naming this device, account name or an address network; else None."""
    now = now or utcnow()
    wanted = [Block.kind == "ip"]
    if device:
        wanted.append(and_(Block.kind == "device", Block.value == device))
    if account:
        wanted.append(and_(Block.kind == "account", Block.value == account))
    rows = db.session.scalars(
        select(Block).where(or_(*wanted), or_(Block.expires_at.is_(None), Block.expires_at > now)).order_by(Block.id)
    )
    for block in rows:
        if block.kind != "ip" or _in_network(address, block.value):
            return block
    return None


def _in_network(address, network):
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(network)
    except (TypeError, ValueError):
        return False


def list_blocks(kind=None):
    query = select(Block).order_by(Block.created_at.desc(), Block.id.desc())
    if kind:
        query = query.where(Block.kind == kind)
    return db.session.scalars(query).all()


def add_block(kind, value, *, reason=None, days=None, by=None):
    """Block a device id, account (login name) or IP address/network for ``days`` (None: until removed).

    Raises ValidationFailed for an unknown kind or a malformed/unknown value and Conflict
    ``block_exists`` when an active block already names it; an expired one is renewed.
    """
    value = _canonical(kind, value)
    now = utcnow()
    block = db.session.scalar(select(Block).where(Block.kind == kind, Block.value == value))
    if block is not None and block.active_at(now):
        raise Conflict("该对象已在禁止名单中", code="block_exists", details={"id": block.id})
    block = block or Block(kind=kind, value=value)
    block.reason = reason
    block.created_by_user_id = by.id if by else None
    block.created_at = now
    block.expires_at = now + timedelta(days=days) if days else None
    db.session.add(block)
    db.session.commit()
    log.info("blocked %s %s (%s)", kind, value, reason or "no reason given")
    return block


def _canonical(kind, value):
    value = (value or "").strip()
    if kind not in BLOCK_KINDS:
        raise ValidationFailed("未知的禁止类型", code="invalid_block_kind", details={"kinds": list(BLOCK_KINDS)})
    if kind == "device" and not DEVICE_ID.fullmatch(value):
        raise ValidationFailed("设备标识格式无效", code="invalid_block_value", details={"kind": kind})
    if kind == "account" and db.session.scalar(select(User.id).where(User.name == value)) is None:
        raise ValidationFailed("用户不存在", code="invalid_block_value", details={"kind": kind})
    if kind == "ip":
        try:
            return str(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ValidationFailed(
                "IP 地址或网段格式无效", code="invalid_block_value", details={"kind": kind}
            ) from None
    return value


def remove_block(block_id):
    """Delete a block; 404 ``block_not_found`` when there is none with this id."""
    block = db.session.get(Block, block_id)
    if block is None:
        raise NotFound("禁止记录不存在", code="block_not_found", details={"id": block_id})
    kind, value = block.kind, block.value
    db.session.delete(block)
    db.session.commit()
    log.info("unblocked %s %s", kind, value)


def block_named(kind, value):
    """The block for this kind and value (canonicalised as ``add_block`` does); 404 otherwise."""
    block = db.session.scalar(select(Block).where(Block.kind == kind, Block.value == _canonical(kind, value)))
    if block is None:
        raise NotFound("禁止记录不存在", code="block_not_found", details={"kind": kind, "value": value})
    return block
