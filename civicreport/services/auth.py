"""Bearer tokens and receipt tokens: random secrets of which only hashes are stored."""
import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from ..errors import Unauthorized, ValidationFailed
from ..extensions import db
from ..models import ApiToken, Unit, User
from ..models.org import ROLES
from ..models.types import utcnow


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def user_for_bearer(header):
    """The user behind ``Authorization: Bearer …``; None without the header, 401 when invalid."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("认证信息格式错误", code="invalid_authorization")
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token.strip())))
    now = utcnow()
    if row is None or row.revoked_at or (row.expires_at and row.expires_at <= now) or not row.user.active:
        raise Unauthorized("令牌无效或已过期", code="invalid_token")
    return row.user


def create_user(name, role, *, display_name=None, password=None, unit_code=None, phone=None):
    """Create a user; raises ValidationFailed for an unknown role/unit or a taken name."""
    if role not in ROLES:
        raise ValidationFailed("未知角色", code="unknown_role", details={"roles": list(ROLES)})
    unit = None
    if unit_code:
        unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            raise ValidationFailed("未知单位", code="unknown_unit", details={"unit": unit_code})
    if db.session.scalar(select(User).where(User.name == name)):
        raise ValidationFailed("用户名已存在", code="user_exists", details={"name": name})
    user = User(
        name=name,
        role=role,
        display_name=display_name or name,
        phone=phone,
        unit=unit,
        password_hash=generate_password_hash(password) if password else None,
    )
    db.session.add(user)
    db.session.commit()
    return user


def issue_token(user, *, days=30, label=None):
    """Create a bearer token for ``user`` and return it; only its hash is kept."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(
            user=user,
            token_hash=token_hash(token),
            label=label,
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    db.session.commit()
    return token


def receipt_token(nonce, public_id):
    """A citizen's receipt for an anonymous report, recomputable from the same nonce."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"receipt:{nonce}:{public_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
