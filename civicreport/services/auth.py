"""Bearer tokens and receipt tokens: random secrets of which only hashes are stored."""
import base64
import hashlib
import hmac
import re
import secrets
import string
from datetime import timedelta
from functools import cache
from importlib import resources

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import NotFound, Unauthorized, ValidationFailed
from ..extensions import db
from ..models import ApiToken, Unit, User
from ..models.org import ROLES
from ..models.types import utcnow
from . import throttle


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


# Checked against when the login name is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash("civicreport-dummy-password")


def bearer_token(header):
    """The token in ``Authorization: Bearer …``; None without the header, 401 when malformed."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("认证信息格式错误", code="invalid_authorization")
    return token.strip()


def _live_token(token):
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    if row is None or row.revoked_at or (row.expires_at and row.expires_at <= utcnow()) or not row.user.active:
        raise Unauthorized("令牌无效或已过期", code="invalid_token")
    return row


def user_for_bearer(header):
    """The user behind ``Authorization: Bearer …``; None without the header, 401 when invalid."""
    token = bearer_token(header)
    return None if token is None else _live_token(token).user


def login(identifier, password, address=None):
    """Name or phone + password → (user, token, expires_at); 401 ``invalid_credentials`` otherwise.

    Attempts are counted per account and per client ``address`` (services.throttle) before the
    password is hashed; while either is locked the answer is 429 ``too_many_attempts``, given
    without hashing. A success starts the account's count over and is no failure of the address.
    """
    user = db.session.scalar(
        select(User).where((User.name == identifier) | (User.phone == identifier))
    )
    # A known user counts once whether tried by name or by phone.
    account = throttle.keys(login_account=f"user:{user.id}" if user else f"name:{identifier}")
    counted = account + throttle.keys(login_ip=throttle.address_key(address))
    stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
    usable = bool(user and user.active and user.password_hash)
    db.session.commit()  # ends the read: no pooled connection is held through the hashing
    held = throttle.reserve(counted)
    if not check_password_hash(stored, password or "") or not usable:
        raise Unauthorized("用户名或密码错误", code="invalid_credentials")
    throttle.succeeded(held, reset=account)
    days = current_app.config["TOKEN_DAYS"]
    token = issue_token(user, days=days, label="login")
    return user, token, utcnow() + timedelta(days=days)


def logout(header):
    """Revoke the presented bearer token; 401 when it is not a live token."""
    token = bearer_token(header)
    if token is None:
        raise Unauthorized()
    _live_token(token).revoked_at = utcnow()
    db.session.commit()


def receipt_matches(report, token):
    """True when ``token`` is the receipt issued for ``report``."""
    return bool(token and report.receipt_token_hash
                and hmac.compare_digest(report.receipt_token_hash, token_hash(token)))


def create_user(name, role, *, display_name=None, password=None, unit_code=None, phone=None):
    """Create a user; raises ValidationFailed for an unknown role/unit or a taken name."""
    if role not in ROLES:
        raise ValidationFailed("未知角色", code="unknown_role", details={"roles": list(ROLES)})
    unit = None
    if role == "unit_staff" and not unit_code:
        raise ValidationFailed("处置单位人员必须指定单位", code="unit_required")
    if unit_code:
        unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            raise ValidationFailed("未知单位", code="unknown_unit", details={"unit": unit_code})
    if db.session.scalar(select(User).where(User.name == name)):
        raise ValidationFailed("用户名已存在", code="user_exists", details={"name": name})
    if password is not None:
        check_password(password, name=name, phone=phone)
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


def check_password(password, *, name=None, phone=None):
    """422 ``weak_password`` for a password that is easily guessed; the one place the rules live
    (``create_user``, and any password change to come). ``details.reason`` says which rule:
    ``too_short`` (under PASSWORD_MIN_LENGTH), ``contains_name`` (the login name or phone in it),
    ``common`` (listed in data/common_passwords.txt, or a keyboard or number pattern).
    """
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise _weak("too_short", f"密码至少需要 {minimum} 位", min_length=minimum)
    lowered = password.lower()
    if any(_names_in(lowered, value.lower()) for value in (name, phone) if value):
        raise _weak("contains_name", "密码不能与用户名或手机号相同，也不能包含它们")
    if _guessable(lowered):
        raise _weak("common", "密码过于常见或有规律（如 woaini1314、1qaz2wsx、连续数字），容易被猜中")


def _weak(reason, message, **details):
    return ValidationFailed(message, code="weak_password", details={"reason": reason, **details})


def _names_in(lowered, name):
    # A name of one or two letters (e.g. "li") is in many good passwords: only equality counts.
    return lowered == name or (len(name) >= 3 and name in lowered)


_PADDING = string.digits + string.punctuation + " "


def _guessable(lowered):
    """Listed as common (itself, or its core between digits and punctuation: liu19900101),
    under 4 distinct characters (8888888888), or a run (0123456789, qq123456789)."""
    core = lowered.strip(_PADDING)
    bare = re.sub(r"^[a-z]{1,2}(?=\d)|(?<=\d)[a-z]{1,2}$", "", lowered)
    common = common_passwords()
    return lowered in common or core in common or len(set(lowered)) < 4 or _run(lowered) or _run(bare)


def _run(text):
    """Each character one after the previous, up or down: 123456789, 9876543210, abcdefghij."""
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:])}
    return len(text) >= 6 and steps in ({1}, {-1})


@cache
def common_passwords():
    """The shipped list of common passwords, lower case."""
    text = (resources.files("civicreport") / "data" / "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


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


def user_named(name):
    """The user with this login name; 404 ``user_not_found`` otherwise."""
    user = db.session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound("用户不存在", code="user_not_found", details={"name": name})
    return user


def receipt_token(nonce, public_id):
    """A citizen's receipt for an anonymous report, recomputable from the same nonce."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"receipt:{nonce}:{public_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
