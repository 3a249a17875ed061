"""Configuration: one frozen, typed ``Settings``; defaults here, overridden by ``CIVICREPORT_*``
environment variables, then by the dict given to ``create_app``.

``CIVICREPORT_DATABASE_URL=postgresql+psycopg://…`` sets the database;
every other key is overridden by ``CIVICREPORT_<KEY>`` and cast to the type of
its default. A malformed value raises ``ValueError`` at start-up, not later (every check is
in ``_check``); a blank one switches off the settings in ``BLANK_MEANS_OFF`` and is ignored for the rest.
"""

import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limits import parse_many


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting, typed and checked once: ``load`` builds it, the registry hands it to the domains.

    Frozen, so a request, the worker and a CLI command all read the values the process started
    with; tests swap a whole new one (``dataclasses.replace`` checks it again).
    """

    SECRET_KEY: str = "dev-only-change-me"
    DATABASE_URL: str = ""  # blank: SQLite file in the instance folder
    STORAGE: str = "local"
    MEDIA_ROOT: str = ""  # blank: <instance>/media
    S3_BUCKET: str = ""
    S3_ENDPOINT_URL: str = ""
    S3_REGION: str = ""
    S3_PREFIX: str = ""
    S3_PRESIGN_SECONDS: int = 3600
    S3_ORIGINAL_PRESIGN_SECONDS: int = 300  # originals: handed only to who may see them, short-lived
    # Seconds per socket operation and tries per call: a dead or stalled store fails a
    # request with 503 storage_unavailable after about attempts × (connect + read).
    S3_CONNECT_TIMEOUT: float = 3.0
    S3_READ_TIMEOUT: float = 10.0
    S3_MAX_ATTEMPTS: int = 3
    S3_ADDRESSING_STYLE: str = ""  # blank: path with S3_ENDPOINT_URL, else auto; "virtual" for 阿里云 OSS
    HEALTH_TIMEOUT: float = 2.0  # one try, so /api/v1/health answers even when storage hangs
    DB_CONNECT_TIMEOUT: int = 5  # PostgreSQL only
    MEDIA_GC_AGE_HOURS: float = 1.0  # unreferenced objects younger than this are never collected
    MEDIA_GC_EVERY_HOURS: float = 6.0  # the worker runs gc-media this often; 0 = only by hand
    MAX_PHOTO_BYTES: int = 15 * 1024 * 1024
    MAX_PHOTO_PIXELS: int = 64_000_000  # also Pillow's Image.MAX_IMAGE_PIXELS in the app's processes
    PHOTO_DECODES_PER_PROCESS: int = 1  # photos decoded at once per process: bounds a worker's memory
    MAX_PHOTOS_PER_REPORT: int = 6
    MAX_REQUEST_BYTES: int = 100 * 1024 * 1024
    # Any body but a multipart photo upload: the largest legitimate one (an Open311 form with a
    # 2000-character Chinese description, percent-encoded) is about 25 KiB.
    MAX_JSON_BYTES: int = 64 * 1024
    DISPLAY_MAX_PX: int = 1280
    THUMB_MAX_PX: int = 320
    JPEG_QUALITY: int = 82
    # faces (YuNet) and Chinese plates blurred in public derivatives; "opencv" the old Haar cascades;
    # "none" to switch off (media/privacy.build_detector)
    PRIVACY_DETECTOR: str = "yunet+plates"
    PRIVACY_DETECT_PX: int = 1280  # long side the face detector scans: the display image (smaller misses small faces)
    # "inline": detect while the upload is processed; "worker": the worker's privacy pass does it
    # later, and public views show no URL for a photo until then.
    PRIVACY_MODE: str = "inline"
    PRIVACY_PASS_BATCH: int = 50  # photos the worker's privacy pass checks per round
    PRIVACY_PASS_RETRY_SECONDS: int = 60  # a photo the pass failed on waits this long, doubling per failure,
    PRIVACY_PASS_RETRY_MAX_SECONDS: int = 6 * 3600  # up to this
    PHOTO_GPS_MISMATCH_M: float = 200.0
    TIMEZONE: str = "Asia/Shanghai"
    PUBLIC_ID_PREFIX: str = "QJ"
    DISTRICT_CODE: str = "500110"
    CLASSIFIER: str = "keyword"
    OFFICE_HOURS: str = "08:30-12:00,14:00-17:30"
    WARNING_RATIO: float = 0.6
    TOKEN_DAYS: int = 30
    SIGNED_LINK_SECONDS: int = 300  # a console page opened in a new tab (督办通知书, 月通报) by a signed link
    OUTBOX_MAX_ATTEMPTS: int = 8
    OUTBOX_BACKOFF_SECONDS: int = 30
    OUTBOX_BACKOFF_MAX_SECONDS: int = 3600
    WEBHOOK_TIMEOUT: float = 5.0
    SMTP_HOST: str = ""
    SMTP_PORT: int = 25
    SMTP_FROM: str = "civicreport@localhost"
    SMTP_SECURITY: str = "starttls"  # "starttls" when the server offers it, "ssl" (port 465), or "none"
    SMTP_USERNAME: str = ""  # blank: no login
    SMTP_PASSWORD: str = ""
    # Telling reporters (cases.notices): the channels they may choose at submit ("email", "sms"),
    # and the SMS gateway (delivery.sms): "log" writes a line, "recording" keeps the texts (tests,
    # demos), "tencent" sends through Tencent Cloud SMS with the TENCENT_SMS_* settings.
    REPORTER_NOTICE_CHANNELS: str = "email,sms"
    SMS_PROVIDER: str = "log"
    TENCENT_SMS_SECRET_ID: str = ""
    TENCENT_SMS_SECRET_KEY: str = ""
    TENCENT_SMS_APP_ID: str = ""  # SmsSdkAppId
    TENCENT_SMS_SIGN_NAME: str = ""
    TENCENT_SMS_TEMPLATE_ID: str = ""  # an approved template: {1} the case number, {2} its state
    TENCENT_SMS_REGION: str = "ap-guangzhou"
    NOTICE_POLL_SECONDS: int = 60  # how often the phone pages ask whether a kept case has moved
    WORKER_INTERVAL: float = 5.0
    MAP_TILE_URL: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"  # blank: no tile layer
    MAP_TILE_CRS: str = "wgs84"  # "gcj02" for 高德/腾讯 tiles: markers are shifted in the browser
    MAP_TILE_ATTRIBUTION: str = "© OpenStreetMap 贡献者"
    MAP_CENTER: str = "29.0285,106.6515"  # lat,lon (WGS-84) shown before any case is loaded
    DUPLICATE_RADIUS_M: float = 50.0
    DUPLICATE_WINDOW_DAYS: int = 7
    DUPLICATE_CANDIDATES_MAX: int = 5
    PHASH_MAX_DISTANCE: int = 6
    PHOTO_REUSE_WINDOW_DAYS: int = 30
    PHOTO_REUSE_DISTANCE_M: float = 200.0
    PHOTO_REUSE_DAYS: int = 7
    QUEUE_PAGE_MAX: int = 200
    QUEUE_TOTALS_SECONDS: int = 15  # how long a queue filter's count and extent are reused; 0: never
    STATS_RANK_SIZE: int = 3
    STATS_MIN_CASES: int = 3
    YELLOW_CARD_RATE: float = 0.8
    RED_CARD_RATE: float = 0.6
    # Abuse limits ("N/minute;M/day", blank = no limit); staff roles are exempt.
    RATELIMIT_ENABLED: bool = True
    RATELIMIT_STORAGE_URL: str = "memory://"  # redis://host:6379/0 when several processes serve
    SUBMIT_LIMIT_PER_DEVICE: str = "20/minute;200/day"  # X-Device-Id header
    SUBMIT_LIMIT_PER_IP: str = "60/minute;1000/day"  # loose: many phones share a carrier NAT address
    SUBMIT_LIMIT_PER_ACCOUNT: str = "100/day"
    UPLOAD_LIMIT_PER_DEVICE: str = "120/minute;1200/day"  # photos come ahead of reports, up to 6 each
    UPLOAD_LIMIT_PER_IP: str = "360/minute;6000/day"
    UPLOAD_LIMIT_PER_ACCOUNT: str = "600/day"
    # “我也遇到了”: each person counts once per case anyway; these stop one client scripting it.
    SUPPORT_LIMIT_PER_DEVICE: str = "10/minute;100/day"
    SUPPORT_LIMIT_PER_IP: str = "60/minute;1000/day"
    SUPPORT_LIMIT_PER_ACCOUNT: str = "100/day"
    # Anonymous supports of one case counted from one address (an IPv6 /64): a carrier NAT puts
    # many phones behind one, so not 1; beyond it a support from there changes nothing.
    SUPPORT_PER_ADDRESS_PER_CASE: int = 3
    # Each Open311 client key's own limit unless `open311-key create --limit` gave it one; its
    # requests skip the per-address and per-account limits (one hotline forwards many citizens).
    OPEN311_CLIENT_LIMIT: str = "600/hour;5000/day"
    TRUSTED_PROXIES: int = 0  # reverse proxies in front of the app whose X-Forwarded-For is trusted
    # scheme://host[:port] every absolute URL the app hands out starts with (photo URLs, Open311
    # discovery); blank: taken from the request's Host header, which a client can forge.
    PUBLIC_URL: str = ""
    PHOTO_MAX_AGE_HOURS: float = 24.0  # older (or later-dated) photos flag the report for the supervisor
    RETENTION_DAYS: int = 365  # reporter data of cases closed longer ago is anonymised
    # Wrong passwords and receipt tokens (abuse.throttle), counted per account and per
    # address: this many failures within the window lock the key for THROTTLE_LOCK_SECONDS,
    # doubled by each further lockout in a row, up to THROTTLE_LOCK_MAX_SECONDS.
    THROTTLE_FAILURES: int = 10
    THROTTLE_WINDOW_SECONDS: int = 900
    THROTTLE_LOCK_SECONDS: int = 900
    THROTTLE_LOCK_MAX_SECONDS: int = 6 * 3600
    PASSWORD_MIN_LENGTH: int = 10  # plus: not a common password, not containing the login name or phone
    PASSWORD_MIN_DIGITS: int = 12  # a password of digits only: a 10-digit one is guessed in hours
    # 月底申报 and 红黄牌 (cobuilding.declarations, cobuilding.cards).
    COBUILD_RESUBMIT_DAYS: int = 3  # a returned declaration's default re-submit deadline, in days
    COBUILD_DECLARATION_RADIUS_M: float = 500.0  # a photo further from the community's boundary is flagged
    COBUILD_RED_AFTER_YELLOWS: int = 2  # this many yellow months in a row make a red card
    COBUILD_SEVERE_MISSES: int = 3  # a month with this many tasks not declared at all is a red card at once
    # 社区月度排名 (cobuilding.ranking): the weights of its four parts (summing to 1), how many
    # 红旗/灰旗 a month gives, and the days after a month ends before its ranking is settled
    # (late declarations are reviewed and cards judged in them).
    COBUILD_WEIGHT_CASES: float = 0.3
    COBUILD_WEIGHT_TASKS: float = 0.4
    COBUILD_WEIGHT_MATTERS: float = 0.15
    COBUILD_WEIGHT_ORDERS: float = 0.15
    COBUILD_FLAG_SIZE: int = 3
    COBUILD_SETTLE_DAYS: int = 5
    # Needs orders (cobuilding.orders), in working hours: 派单 within DISPATCH hours of 点单 (or of a
    # team's 退单), the service done within SERVICE hours of 派单.
    COBUILD_ORDER_DISPATCH_HOURS: int = 4
    COBUILD_ORDER_SERVICE_HOURS: int = 21  # three working days of 7 office hours
    # 吹哨报到 (oversight.whistles): a summoned unit must 报到 (name who answers for its part) within
    # this many working hours of the whistle, or it is marked late and escalated (督办) by the worker.
    WHISTLE_CHECKIN_HOURS: int = 2
    # 联合整治行动 (oversight.operations): the rhythm each area keeps — at least this many operations
    # done per street each month (办事处每月一次) and per community each week (社区每周一次).
    OPERATIONS_PER_STREET_MONTH: int = 1
    OPERATIONS_PER_COMMUNITY_WEEK: int = 1
    # 公开地图与片区提醒 (alerts): reports one public map request returns at most; the least time
    # between two e-mail digests of one subscription; subscribe requests per address and per e-mail.
    PUBLIC_MAP_MAX: int = 500
    ALERTS_DIGEST_MINUTES: int = 60
    SUBSCRIBE_LIMIT_PER_IP: str = "10/hour;50/day"
    SUBSCRIBE_LIMIT_PER_EMAIL: str = "3/hour;10/day"  # each sends a confirmation e-mail to that address

    def __post_init__(self) -> None:
        object.__setattr__(self, "PUBLIC_URL", public_url(self.PUBLIC_URL))  # the one normal form
        _check(self)

    @property
    def zone(self) -> ZoneInfo:
        """The district's time zone: office hours, public ids and 同比 days are counted in it."""
        return ZoneInfo(self.TIMEZONE)


DEFAULTS = {field.name: field.default for field in fields(Settings)}

ENV_PREFIX = "CIVICREPORT_"
# Settings whose blank value means "off"; a blank variable sets them blank. Any other
# blank CIVICREPORT_* variable is ignored, as if unset (an env file's empty placeholder).
BLANK_MEANS_OFF = frozenset(
    {
        "MAP_TILE_URL",
        "MAP_TILE_ATTRIBUTION",
        "SMTP_HOST",
        "SMTP_USERNAME",
        "S3_ADDRESSING_STYLE",
        "SUBMIT_LIMIT_PER_DEVICE",
        "SUBMIT_LIMIT_PER_IP",
        "SUBMIT_LIMIT_PER_ACCOUNT",
        "UPLOAD_LIMIT_PER_DEVICE",
        "UPLOAD_LIMIT_PER_IP",
        "UPLOAD_LIMIT_PER_ACCOUNT",
        "SUPPORT_LIMIT_PER_DEVICE",
        "SUPPORT_LIMIT_PER_IP",
        "SUPPORT_LIMIT_PER_ACCOUNT",
        "OPEN311_CLIENT_LIMIT",
        "SUBSCRIBE_LIMIT_PER_IP",
        "SUBSCRIBE_LIMIT_PER_EMAIL",
    }
)
_HOST = re.compile(r"[a-z0-9.-]+|[0-9a-f:.]+")  # a DNS name (IDN as punycode), an IPv4 or IPv6 address
MAX_PHASH_DISTANCE = 6  # models.PhashBand: 8 one-byte bands, two of which must match
PRIVACY_MODES = ("inline", "worker")  # where faces and plates are found: in the upload or the worker
STORAGES = ("local", "s3")
TILE_CRS = ("wgs84", "gcj02")  # the tile grids the pages' maps can shift markers onto
RATE_LIMITS = frozenset({key for key in DEFAULTS if "_LIMIT_PER_" in key} | {"OPEN311_CLIENT_LIMIT"})


def _cast(default: object, raw: str, key: str) -> object:
    if isinstance(default, bool):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{ENV_PREFIX}{key} must be a boolean, got {raw!r}")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def load(
    instance_path: str, overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """The settings: defaults, then environment, then ``overrides``; ValueError naming the variable
    for a malformed value. Override keys that are no setting (``TESTING`` …) are for ``flask_config``."""
    values = _from_environ(os.environ if environ is None else environ)
    values.update((key, value) for key, value in (overrides or {}).items() if key in DEFAULTS)
    values["DATABASE_URL"] = values.get("DATABASE_URL") or "sqlite:///" + os.path.join(
        instance_path, "civicreport.sqlite3"
    )
    values["MEDIA_ROOT"] = values.get("MEDIA_ROOT") or os.path.join(instance_path, "media")
    return Settings(**values)


def _from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, default in DEFAULTS.items():
        raw = environ.get(ENV_PREFIX + key)
        if raw == "" and key in BLANK_MEANS_OFF:
            values[key] = ""
        elif raw:
            values[key] = _cast(default, raw, key)
    return values


def flask_config(settings: Settings, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What goes into ``app.config``: every setting (Flask extensions and the web layer read them
    there), the keys Flask and its extensions derive from them, and the overrides that are no
    setting (``TESTING``, ``SQLALCHEMY_ENGINE_OPTIONS`` …)."""
    extra = {key: value for key, value in (overrides or {}).items() if key not in DEFAULTS}
    extra.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(settings))
    return {
        **asdict(settings),
        **extra,
        "SQLALCHEMY_DATABASE_URI": settings.DATABASE_URL,
        "MAX_CONTENT_LENGTH": settings.MAX_REQUEST_BYTES,
    }


def _check(settings: Settings) -> None:
    """Every check of the settings, so that a bad value stops start-up and names its variable."""
    if not 0 <= settings.PHASH_MAX_DISTANCE <= MAX_PHASH_DISTANCE:
        raise ValueError(
            f"{ENV_PREFIX}PHASH_MAX_DISTANCE must be 0..{MAX_PHASH_DISTANCE}: "
            "the dHash band index finds no photo further apart"
        )
    if settings.DUPLICATE_CANDIDATES_MAX < 1:
        raise ValueError(f"{ENV_PREFIX}DUPLICATE_CANDIDATES_MAX must be at least 1")
    _check_choices(settings)
    _check_zone(settings.TIMEZONE)
    map_center(settings.MAP_CENTER)
    _check_rate_limits(settings)
    _check_cobuild(settings)
    if settings.WHISTLE_CHECKIN_HOURS < 1:
        raise ValueError(f"{ENV_PREFIX}WHISTLE_CHECKIN_HOURS must be at least 1")
    for key in ("OPERATIONS_PER_STREET_MONTH", "OPERATIONS_PER_COMMUNITY_WEEK", "SIGNED_LINK_SECONDS"):
        if getattr(settings, key) < 1:
            raise ValueError(f"{ENV_PREFIX}{key} must be at least 1")
    _check_ranking(settings)
    _check_notices(settings)
    for key in ("PUBLIC_MAP_MAX", "ALERTS_DIGEST_MINUTES"):
        if getattr(settings, key) < 1:
            raise ValueError(f"{ENV_PREFIX}{key} must be at least 1")
    if settings.QUEUE_TOTALS_SECONDS < 0:
        raise ValueError(f"{ENV_PREFIX}QUEUE_TOTALS_SECONDS must be 0 or more")
    _refuse_default_secret(settings)


def _check_notices(settings: Settings) -> None:
    """The reporters' channels, the SMS gateway, and Tencent's keys when it is the gateway."""
    from civicreport.cases.reporter_models import NOTICE_CHANNELS  # late: the models import the app's db
    from civicreport.delivery.sms import SMS_PROVIDERS

    for name in filter(None, (part.strip() for part in settings.REPORTER_NOTICE_CHANNELS.split(","))):
        if name not in NOTICE_CHANNELS:
            raise ValueError(f"{ENV_PREFIX}REPORTER_NOTICE_CHANNELS: {name!r} is none of {', '.join(NOTICE_CHANNELS)}")
    if settings.SMS_PROVIDER not in SMS_PROVIDERS:
        raise ValueError(f"{ENV_PREFIX}SMS_PROVIDER must be one of {', '.join(SMS_PROVIDERS)}")
    tencent = ("SECRET_ID", "SECRET_KEY", "APP_ID", "SIGN_NAME", "TEMPLATE_ID", "REGION")
    missing = [f"{ENV_PREFIX}TENCENT_SMS_{key}" for key in tencent if not getattr(settings, f"TENCENT_SMS_{key}")]
    if settings.SMS_PROVIDER == "tencent" and missing:
        raise ValueError(f"SMS_PROVIDER=tencent needs {', '.join(missing)}")
    if settings.NOTICE_POLL_SECONDS < 5:
        raise ValueError(f"{ENV_PREFIX}NOTICE_POLL_SECONDS must be at least 5")


def _check_choices(settings: Settings) -> None:
    """Backend and mode names, against the tables of the modules that build them."""
    # Late imports: the senders import the models, and the privacy module numpy.
    from civicreport.cases.classifier import CLASSIFIERS
    from civicreport.delivery.senders import SMTP_SECURITY
    from civicreport.media.privacy import DETECTORS

    choices = [
        ("STORAGE", settings.STORAGE, STORAGES),
        ("PRIVACY_MODE", settings.PRIVACY_MODE, PRIVACY_MODES),
        ("CLASSIFIER", settings.CLASSIFIER, tuple(CLASSIFIERS)),
        ("SMTP_SECURITY", settings.SMTP_SECURITY, SMTP_SECURITY),
        ("MAP_TILE_CRS", settings.MAP_TILE_CRS, TILE_CRS),
        *(("PRIVACY_DETECTOR", part, DETECTORS) for part in settings.PRIVACY_DETECTOR.split("+")),
    ]
    for key, value, allowed in choices:
        if value not in allowed:
            raise ValueError(f"{ENV_PREFIX}{key} must be one of {', '.join(allowed)}, got {value!r}")


def _check_cobuild(settings: Settings) -> None:
    """The 红黄牌 thresholds, the declaration checks and the needs orders' deadlines (cobuilding.cards,
    cobuilding.declarations, cobuilding.orders)."""
    minimums = [
        ("COBUILD_RESUBMIT_DAYS", settings.COBUILD_RESUBMIT_DAYS, 1),
        ("COBUILD_RED_AFTER_YELLOWS", settings.COBUILD_RED_AFTER_YELLOWS, 2),
        ("COBUILD_SEVERE_MISSES", settings.COBUILD_SEVERE_MISSES, 1),
        ("COBUILD_ORDER_DISPATCH_HOURS", settings.COBUILD_ORDER_DISPATCH_HOURS, 1),
        ("COBUILD_ORDER_SERVICE_HOURS", settings.COBUILD_ORDER_SERVICE_HOURS, 1),
    ]
    for key, value, least in minimums:
        if value < least:
            raise ValueError(f"{ENV_PREFIX}{key} must be at least {least}")
    if not settings.COBUILD_DECLARATION_RADIUS_M > 0:
        raise ValueError(f"{ENV_PREFIX}COBUILD_DECLARATION_RADIUS_M must be positive")


RANKING_WEIGHTS = ("COBUILD_WEIGHT_CASES", "COBUILD_WEIGHT_TASKS", "COBUILD_WEIGHT_MATTERS", "COBUILD_WEIGHT_ORDERS")


def _check_ranking(settings: Settings) -> None:
    """The ranking's weights are shares (none negative, summing to 1); flags and grace days are counts."""
    weights = [getattr(settings, key) for key in RANKING_WEIGHTS]
    if min(weights) < 0 or abs(sum(weights) - 1) > 1e-9:
        raise ValueError(f"{ENV_PREFIX}{'/'.join(RANKING_WEIGHTS)} must be at least 0 and sum to 1, got {weights}")
    for key in ("COBUILD_FLAG_SIZE", "COBUILD_SETTLE_DAYS"):
        if getattr(settings, key) < 0:
            raise ValueError(f"{ENV_PREFIX}{key} must be at least 0")


def _check_rate_limits(settings: Settings) -> None:
    for key in sorted(RATE_LIMITS):
        try:
            if getattr(settings, key):  # blank: no limit of that kind
                parse_many(getattr(settings, key))
        except ValueError as err:
            raise ValueError(f"{ENV_PREFIX}{key}: {err}") from None


def map_center(raw: str) -> list[float]:
    """``MAP_CENTER`` (``"lat,lon"``) → [lat, lon]; ValueError when malformed."""
    try:
        lat, lon = (float(part) for part in raw.split(","))
    except ValueError:
        raise ValueError(f"{ENV_PREFIX}MAP_CENTER must be 'lat,lon', got {raw!r}") from None
    return [lat, lon]


def _check_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        raise ValueError(f"{ENV_PREFIX}TIMEZONE must be an IANA time zone (e.g. Asia/Shanghai), got {name!r}") from None


def public_url(value: str) -> str:
    """``PUBLIC_URL`` as ``scheme://host[:port]`` (lower-case, no trailing slash), or "" when blank;
    ValueError for anything else: a path prefix, a query or a user name would be silently lost."""
    if not value:
        return ""
    parts = urlsplit(value.strip())
    try:
        parts.port  # noqa: B018  raises ValueError for a port that is not a number in range
    except ValueError:
        raise ValueError(f"{ENV_PREFIX}PUBLIC_URL has a bad port: {value!r}") from None
    if (
        parts.scheme.lower() not in ("http", "https")
        or not _HOST.fullmatch(parts.hostname or "")
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise ValueError(
            f"{ENV_PREFIX}PUBLIC_URL must be scheme://host[:port] (e.g. https://report.example.gov.cn), got {value!r}"
        )
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _refuse_default_secret(settings: Settings) -> None:
    """The secret signs receipts and Open311 tokens and keys the originals' object names: a
    deployment (PostgreSQL or S3) must not run with the published default."""
    deployed = settings.DATABASE_URL.split(":")[0].split("+")[0] not in ("", "sqlite") or settings.STORAGE != "local"
    if deployed and DEFAULTS["SECRET_KEY"] == settings.SECRET_KEY:
        raise ValueError(
            f"{ENV_PREFIX}SECRET_KEY must be set to a long random value (the same on every host) "
            "before civicreport runs on PostgreSQL or S3"
        )


def _engine_options(settings: Settings) -> dict[str, Any]:
    """Pool settings that let a process outlive database restarts and dropped connections."""
    # pre-ping: a pooled connection the server closed (restart, pg_terminate_backend,
    # idle timeout in a proxy) is replaced before use instead of failing the request.
    options: dict[str, Any] = {"pool_pre_ping": True}
    if settings.DATABASE_URL.startswith("postgresql"):
        options["connect_args"] = {
            "connect_timeout": settings.DB_CONNECT_TIMEOUT,
            # notice a peer that vanished without closing (host down, network cut)
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
            # Plan every statement for its own values: after five runs psycopg prepares a statement
            # and PostgreSQL then reuses a generic plan blind to them. At 5 M cases the queue's
            # "bbox + open" page went 33 ms → 276 ms that way (the generic plan walks the lat/lon
            # index through the box's 81 k cases instead of the newest rows), p95 422 ms in
            # bench/queue.py; planning each time costs well under a millisecond.
            "prepare_threshold": None,
        }
    return options
