"""Bearer tokens and receipt tokens: random secrets of which only hashes are stored."""

import base64
import hashlib
import hmac
import itertools
import re
import secrets
import string
from datetime import timedelta
from functools import cache
from importlib import resources

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from civicreport import registry
from civicreport.abuse import throttle
from civicreport.accounts.models import ROLES, ApiToken, Unit, User, UserArea
from civicreport.db_types import utcnow
from civicreport.errors import NotFound, Unauthorized, ValidationFailed
from civicreport.extensions import db


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
    return _live(db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token))))


def _live(row):
    if row is None or row.revoked_at or (row.expires_at and row.expires_at <= utcnow()) or not row.user.active:
        raise Unauthorized("令牌无效或已过期", code="invalid_token")
    return row


def token_id_for_bearer(header):
    """The id of the live bearer token in ``header`` (a signed link names it); 401 without one."""
    token = bearer_token(header)
    if token is None:
        raise Unauthorized("请先登录", code="authentication_required")
    return _live_token(token).id


def user_for_token_id(token_id):
    """The user of bearer token ``token_id`` while it is live: a signed link dies with its login."""
    return _live(db.session.get(ApiToken, token_id)).user


def user_for_bearer(header):
    """The user behind ``Authorization: Bearer …``; None without the header, 401 when invalid."""
    token = bearer_token(header)
    return None if token is None else _live_token(token).user


def login(identifier, password, address=None):
    """Name or phone + password → (user, token, expires_at); 401 ``invalid_credentials`` otherwise.

    Attempts are counted per account and per client ``address`` (abuse.throttle) before the
    password is hashed; while either is locked the answer is 429 ``too_many_attempts``, given
    without hashing. A success starts the account's count over and is no failure of the address.
    """
    user = db.session.scalar(select(User).where((User.name == identifier) | (User.phone == identifier)))
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
    days = registry.settings().TOKEN_DAYS
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
    return bool(
        token and report.receipt_token_hash and hmac.compare_digest(report.receipt_token_hash, token_hash(token))
    )


def create_user(name, role, *, display_name=None, password=None, unit_code=None, phone=None, areas=(), team_id=None):
    """Create a user; raises ValidationFailed for an unknown role/unit, a role's missing unit,
    community or team (``check_role``) or a taken name. ``areas`` are codes already checked by
    ``users.known_area_codes``; ``team_id`` a volunteer team the caller has looked up."""
    unit = known_unit(unit_code)
    check_role(role, unit, areas, team_id)
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
        team_id=team_id,
        areas=[UserArea(code=code) for code in areas],
        password_hash=generate_password_hash(password) if password else None,
    )
    db.session.add(user)
    db.session.commit()
    return user


def known_unit(code):
    """The unit with this code, None without one; 422 ``unknown_unit`` for a code no unit has."""
    if not code:
        return None
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise ValidationFailed("未知单位", code="unknown_unit", details={"unit": code})
    return unit


def check_role(role, unit, areas=(), team_id=None):
    """What a role needs, creating or changing a user: 422 ``unknown_role``; ``unit_required``
    for unit staff without a unit; ``community_required`` for community staff not bound to
    exactly one community (one 12-digit area: they act for it alone); ``team_required`` for a
    volunteer without a team (the caller has looked the team up: it exists), and
    ``team_for_volunteers`` for a team given to another role."""
    if role not in ROLES:
        raise ValidationFailed("未知角色", code="unknown_role", details={"roles": list(ROLES)})
    if role == "unit_staff" and unit is None:
        raise ValidationFailed("处置单位人员必须指定单位", code="unit_required")
    if role == "community_staff" and (len(areas) != 1 or len(areas[0]) != 12):
        raise ValidationFailed(
            "社区工作人员须绑定且只绑定一个社区（12 位社区代码）",
            code="community_required",
            details={"areas": list(areas)},
        )
    if role == "volunteer" and team_id is None:
        raise ValidationFailed("志愿者须指定所属志愿服务队", code="team_required")
    if role != "volunteer" and team_id is not None:
        raise ValidationFailed("只有志愿者属于志愿服务队", code="team_for_volunteers", details={"role": role})


def check_password(password, *, name=None, phone=None):
    """422 ``weak_password`` for a password that is easily guessed; the one place the rules live
    (``create_user``, and any password change to come). ``details.reason`` says which rule:
    ``too_short`` (under PASSWORD_MIN_LENGTH once whitespace is taken out), ``contains_name``
    (the login name or phone in it), ``common`` (listed in data/common_passwords.txt, or a
    pattern: see ``_patterned``), ``digits_only`` (only digits, under PASSWORD_MIN_DIGITS).
    """
    minimum = registry.settings().PASSWORD_MIN_LENGTH
    squeezed = _WHITESPACE.sub("", password)  # "1 2 3 4 5 6 7" is as easily guessed as "1234567"
    if len(squeezed) < minimum:
        raise _weak("too_short", f"密码至少需要 {minimum} 位（不计空格）", min_length=minimum)
    lowered = squeezed.lower()
    if any(_names_in(lowered, value.lower()) for value in (name, phone) if value):
        raise _weak("contains_name", "密码不能与用户名或手机号相同，也不能包含它们")
    if _patterned(lowered, minimum) or _patterned(lowered.translate(_UNSHIFTED), minimum):
        raise _weak(
            "common",
            "密码过于常见或有规律（如 woaini1314、1qaz2wsx、连续或重复的数字、生日、手机号、角色名加数字），容易被猜中",
        )
    digits = registry.settings().PASSWORD_MIN_DIGITS
    if lowered.isdigit() and len(lowered) < digits:
        raise _weak("digits_only", f"纯数字密码至少需要 {digits} 位", min_length=digits)


def _weak(reason, message, **details):
    return ValidationFailed(message, code="weak_password", details={"reason": reason, **details})


def _names_in(lowered, name):
    # A name of one or two letters (e.g. "li") is in many good passwords: only equality counts.
    return lowered == name or (len(name) >= 3 and name in lowered)


_WHITESPACE = re.compile(r"\s+")
_PADDING = string.digits + string.punctuation
_NOT_LETTERS = re.compile(r"[\d\W_]+")  # what is left is letters, Chinese characters included
# The app's own words: its name, the district (綦江, Qijiang, in Chongqing), the roles.
_APP_WORDS = re.compile(
    "(?:"
    + "|".join(
        sorted(
            {role.replace("_", "") for role in ROLES}
            | {
                "staff",
                "unit",
                "administrator",
                "user",
                "civicreport",
                "civic",
                "report",
                "qijiang",
                "qijiangqu",
                "qj",
                "chongqing",
                "cq",
                "suishoupai",
                "綦江",
                "綦江区",
                "重庆",
                "随手拍",
            },
            key=len,
            reverse=True,
        )
    )
    + ")+"
)
# A shifted key is the same key: !QAZ@WSX is the walk 1qaz2wsx.
_UNSHIFTED = str.maketrans('!@#$%^&*()_+{}|:"<>?~', "1234567890-=[]\\;',./`")
_KEY_ROWS = ("1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./")
_KEY_AT = {key: (row, column) for row, keys in enumerate(_KEY_ROWS) for column, key in enumerate(keys)}
# A birthday or a mobile number inside a password is guessed from who its owner is; one
# standing alone, not a stretch of a longer number (a random 12-digit one holds many).
_PERSONAL = re.compile(
    r"(?<!\d)(?:(?:19|20)\d\d[-./]?(?:0[1-9]|1[0-2])[-./]?(?:0[1-9]|[12]\d|3[01])"
    r"|(?:0[1-9]|[12]\d|3[01])[-./]?(?:0[1-9]|1[0-2])[-./]?(?:19|20)\d\d"
    r"|(?:0[1-9]|1[0-2])[-./]?(?:0[1-9]|[12]\d|3[01])[-./]?(?:19|20)\d\d"
    r"|1[3-9]\d{9})(?!\d)"
)
_PERSONAL_REST = 6  # what is left beside a birthday or mobile number must be this long


def _patterned(text, minimum):
    """Guessable from a rule rather than found by chance: listed as common (itself, its core
    between digits and punctuation, or its letters alone), an app word or role name plus digits,
    under 4 distinct characters, made of a few runs with a constant step (123456, 13579,
    abcd1234, 9012345678) or of two such interleaved (a1b2c3d4e5), a keyboard walk (qwerty,
    1qaz2wsx, zaq12wsx), a shorter unit repeated (1234512345, 12341234123), every character
    doubled (aa112233aa), or a birthday or mobile number with little beside it. A repeat or
    doubling is judged by what it repeats.
    """
    common, letters = common_passwords(), _NOT_LETTERS.sub("", text)
    if {text, text.strip(_PADDING), letters} & common or _APP_WORDS.fullmatch(letters):
        return True
    if len(set(text)) < 4 or _few_runs(text) or _few_runs(text[::2]) and _few_runs(text[1::2]) or _walk(text):
        return True
    return any(
        len(shorter) < minimum or _patterned(shorter, minimum)
        for shorter in (_unit(text), _undoubled(text))
        if shorter != text
    ) or _personal(text, minimum)


def _step(a, b):
    # Digits step round the dial: 7890 and 8642 are runs too.
    step = ord(b) - ord(a)
    return step % 10 if a.isdigit() and b.isdigit() else step


def _few_runs(text):
    # Three characters a run on average: 123abc789x is, a chance password has runs of about two.
    return _runs(text) * 3 <= len(text)


def _runs(text):
    """How many runs with a constant step ``text`` splits into, longest first from the left."""
    runs, step = 1, None
    for a, b in itertools.pairwise(text):
        if step is None:
            step = _step(a, b)
        elif _step(a, b) != step:
            runs, step = runs + 1, None
    return runs


def _walk(text):
    """Only walks along the keyboard of three keys or more, each key next to the one before."""
    lengths, length = [], 1
    for a, b in itertools.pairwise(text):
        if _adjacent(a, b):
            length += 1
        else:
            lengths, length = lengths + [length], 1
    return min(lengths + [length]) >= 3


def _adjacent(a, b):
    if a not in _KEY_AT or b not in _KEY_AT:
        return False
    (row_a, col_a), (row_b, col_b) = _KEY_AT[a], _KEY_AT[b]
    # Rows are staggered: a key touches its row neighbours, the two above and the two below.
    return (row_b - row_a, col_b - col_a) in {(0, 0), (0, 1), (0, -1), (-1, 0), (-1, 1), (1, 0), (1, -1)}


def _unit(text):
    """The shortest unit ``text`` repeats, the last repeat possibly cut short: 1234512345 → 12345."""
    for size in range(1, len(text) // 2 + 1):
        if all(char == text[i % size] for i, char in enumerate(text)):
            return text[:size]
    return text


def _undoubled(text):
    """``text`` with every character written twice or more written once: aa112233aa → a123a."""
    groups = [len(list(group)) for _, group in itertools.groupby(text)]
    return "".join(char for char, _ in itertools.groupby(text)) if min(groups) >= 2 else text


def _personal(text, minimum):
    rest = _PERSONAL.sub("", text)
    return rest != text and (len(rest.strip(_PADDING)) < _PERSONAL_REST or _patterned(rest, minimum))


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
    key = registry.settings().SECRET_KEY.encode()
    digest = hmac.new(key, f"receipt:{nonce}:{public_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
