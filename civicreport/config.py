"""Configuration: defaults here, overridden by ``CIVICREPORT_*`` environment variables.

``CIVICREPORT_DATABASE_URL=postgresql+psycopg://…`` sets the database;
every other key is overridden by ``CIVICREPORT_<KEY>`` and cast to the type of
its default. A malformed value raises ``ValueError`` at start-up, not later; a blank
one switches off the settings in ``BLANK_MEANS_OFF`` and is ignored for the rest.
"""

import os
import re
from urllib.parse import urlsplit

DEFAULTS = {
    "SECRET_KEY": "dev-only-change-me",
    "DATABASE_URL": None,  # None: SQLite file in the instance folder
    "STORAGE": "local",
    "MEDIA_ROOT": None,  # None: <instance>/media
    "S3_BUCKET": "",
    "S3_ENDPOINT_URL": "",
    "S3_REGION": "",
    "S3_PREFIX": "",
    "S3_PRESIGN_SECONDS": 3600,
    "S3_ORIGINAL_PRESIGN_SECONDS": 300,  # originals: handed only to who may see them, short-lived
    # Seconds per socket operation and tries per call: a dead or stalled store fails a
    # request with 503 storage_unavailable after about attempts × (connect + read).
    "S3_CONNECT_TIMEOUT": 3.0,
    "S3_READ_TIMEOUT": 10.0,
    "S3_MAX_ATTEMPTS": 3,
    "S3_ADDRESSING_STYLE": "",  # blank: path with S3_ENDPOINT_URL, else auto; "virtual" for 阿里云 OSS
    "HEALTH_TIMEOUT": 2.0,  # one try, so /api/v1/health answers even when storage hangs
    "DB_CONNECT_TIMEOUT": 5,  # PostgreSQL only
    "MEDIA_GC_AGE_HOURS": 1.0,  # unreferenced objects younger than this are never collected
    "MEDIA_GC_EVERY_HOURS": 6.0,  # the worker runs gc-media this often; 0 = only by hand
    "MAX_PHOTO_BYTES": 15 * 1024 * 1024,
    "MAX_PHOTO_PIXELS": 64_000_000,  # also Pillow's Image.MAX_IMAGE_PIXELS in the app's processes
    "PHOTO_DECODES_PER_PROCESS": 1,  # photos decoded at once per process: bounds a worker's memory
    "MAX_PHOTOS_PER_REPORT": 6,
    "MAX_REQUEST_BYTES": 100 * 1024 * 1024,
    # Any body but a multipart photo upload: the largest legitimate one (an Open311 form with a
    # 2000-character Chinese description, percent-encoded) is about 25 KiB.
    "MAX_JSON_BYTES": 64 * 1024,
    "DISPLAY_MAX_PX": 1280,
    "THUMB_MAX_PX": 320,
    "JPEG_QUALITY": 82,
    # faces (YuNet) and Chinese plates blurred in public derivatives; "opencv" the old Haar cascades;
    # "none" to switch off (media/privacy.build_detector)
    "PRIVACY_DETECTOR": "yunet+plates",
    "PRIVACY_DETECT_PX": 1280,  # long side the face detector scans: the display image (smaller misses small faces)
    # "inline": detect while the upload is processed; "worker": the worker's privacy pass does it
    # later, and public views show no URL for a photo until then.
    "PRIVACY_MODE": "inline",
    "PRIVACY_PASS_BATCH": 50,  # photos the worker's privacy pass checks per round
    "PRIVACY_PASS_RETRY_SECONDS": 60,  # a photo the pass failed on waits this long, doubling per failure,
    "PRIVACY_PASS_RETRY_MAX_SECONDS": 6 * 3600,  # up to this
    "PHOTO_GPS_MISMATCH_M": 200.0,
    "TIMEZONE": "Asia/Shanghai",
    "PUBLIC_ID_PREFIX": "QJ",
    "DISTRICT_CODE": "500110",
    "CLASSIFIER": "keyword",
    "OFFICE_HOURS": "08:30-12:00,14:00-17:30",
    "WARNING_RATIO": 0.6,
    "TOKEN_DAYS": 30,
    "OUTBOX_MAX_ATTEMPTS": 8,
    "OUTBOX_BACKOFF_SECONDS": 30,
    "OUTBOX_BACKOFF_MAX_SECONDS": 3600,
    "WEBHOOK_TIMEOUT": 5.0,
    "SMTP_HOST": "",
    "SMTP_PORT": 25,
    "SMTP_FROM": "civicreport@localhost",
    "SMTP_SECURITY": "starttls",  # "starttls" when the server offers it, "ssl" (port 465), or "none"
    "SMTP_USERNAME": "",  # blank: no login
    "SMTP_PASSWORD": "",
    "WORKER_INTERVAL": 5.0,
    "MAP_TILE_URL": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",  # blank: no tile layer
    "MAP_TILE_CRS": "wgs84",  # "gcj02" for 高德/腾讯 tiles: markers are shifted in the browser
    "MAP_TILE_ATTRIBUTION": "© OpenStreetMap 贡献者",
    "MAP_CENTER": "29.0285,106.6515",  # lat,lon (WGS-84) shown before any case is loaded
    "DUPLICATE_RADIUS_M": 50.0,
    "DUPLICATE_WINDOW_DAYS": 7,
    "DUPLICATE_CANDIDATES_MAX": 5,
    "PHASH_MAX_DISTANCE": 6,
    "PHOTO_REUSE_WINDOW_DAYS": 30,
    "PHOTO_REUSE_DISTANCE_M": 200.0,
    "PHOTO_REUSE_DAYS": 7,
    "QUEUE_PAGE_MAX": 200,
    "STATS_RANK_SIZE": 3,
    "STATS_MIN_CASES": 3,
    "YELLOW_CARD_RATE": 0.8,
    "RED_CARD_RATE": 0.6,
    # Abuse limits ("N/minute;M/day", blank = no limit); staff roles are exempt.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URL": "memory://",  # redis://host:6379/0 when several processes serve
    "SUBMIT_LIMIT_PER_DEVICE": "20/minute;200/day",  # X-Device-Id header
    "SUBMIT_LIMIT_PER_IP": "60/minute;1000/day",  # loose: many phones share a carrier NAT address
    "SUBMIT_LIMIT_PER_ACCOUNT": "100/day",
    "UPLOAD_LIMIT_PER_DEVICE": "120/minute;1200/day",  # photos come ahead of reports, up to 6 each
    "UPLOAD_LIMIT_PER_IP": "360/minute;6000/day",
    "UPLOAD_LIMIT_PER_ACCOUNT": "600/day",
    # “我也遇到了”: each person counts once per case anyway; these stop one client scripting it.
    "SUPPORT_LIMIT_PER_DEVICE": "10/minute;100/day",
    "SUPPORT_LIMIT_PER_IP": "60/minute;1000/day",
    "SUPPORT_LIMIT_PER_ACCOUNT": "100/day",
    # Anonymous supports of one case counted from one address (an IPv6 /64): a carrier NAT puts
    # many phones behind one, so not 1; beyond it a support from there changes nothing.
    "SUPPORT_PER_ADDRESS_PER_CASE": 3,
    # Each Open311 client key's own limit unless `open311-key create --limit` gave it one; its
    # requests skip the per-address and per-account limits (one hotline forwards many citizens).
    "OPEN311_CLIENT_LIMIT": "600/hour;5000/day",
    "TRUSTED_PROXIES": 0,  # reverse proxies in front of the app whose X-Forwarded-For is trusted
    # scheme://host[:port] every absolute URL the app hands out starts with (photo URLs, Open311
    # discovery); blank: taken from the request's Host header, which a client can forge.
    "PUBLIC_URL": "",
    "PHOTO_MAX_AGE_HOURS": 24.0,  # older (or later-dated) photos flag the report for the supervisor
    "RETENTION_DAYS": 365,  # reporter data of cases closed longer ago is anonymised
    # Wrong passwords and receipt tokens (services.throttle), counted per account and per
    # address: this many failures within the window lock the key for THROTTLE_LOCK_SECONDS,
    # doubled by each further lockout in a row, up to THROTTLE_LOCK_MAX_SECONDS.
    "THROTTLE_FAILURES": 10,
    "THROTTLE_WINDOW_SECONDS": 900,
    "THROTTLE_LOCK_SECONDS": 900,
    "THROTTLE_LOCK_MAX_SECONDS": 6 * 3600,
    "PASSWORD_MIN_LENGTH": 10,  # plus: not a common password, not containing the login name or phone
    "PASSWORD_MIN_DIGITS": 12,  # a password of digits only: a 10-digit one is guessed in hours
}

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
    }
)
_HOST = re.compile(r"[a-z0-9.-]+|[0-9a-f:.]+")  # a DNS name (IDN as punycode), an IPv4 or IPv6 address
MAX_PHASH_DISTANCE = 6  # models.PhashBand: 8 one-byte bands, two of which must match


def _cast(default, raw, key):
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


def load(instance_path, overrides=None, environ=None):
    """Return the settings dict: defaults, then environment, then ``overrides``."""
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        raw = environ.get(ENV_PREFIX + key)
        if raw == "" and key in BLANK_MEANS_OFF:
            settings[key] = ""
        elif raw is not None and raw != "":
            settings[key] = _cast(default, raw, key)
    settings.update(overrides or {})
    if not 0 <= settings["PHASH_MAX_DISTANCE"] <= MAX_PHASH_DISTANCE:
        raise ValueError(
            f"{ENV_PREFIX}PHASH_MAX_DISTANCE must be 0..{MAX_PHASH_DISTANCE}: "
            "the dHash band index finds no photo further apart"
        )
    if settings["DUPLICATE_CANDIDATES_MAX"] < 1:
        raise ValueError(f"{ENV_PREFIX}DUPLICATE_CANDIDATES_MAX must be at least 1")
    settings["PUBLIC_URL"] = public_url(settings["PUBLIC_URL"])
    _refuse_default_secret(settings)
    if not settings["DATABASE_URL"]:
        settings["DATABASE_URL"] = "sqlite:///" + os.path.join(instance_path, "civicreport.sqlite3")
    if not settings["MEDIA_ROOT"]:
        settings["MEDIA_ROOT"] = os.path.join(instance_path, "media")
    settings["SQLALCHEMY_DATABASE_URI"] = settings["DATABASE_URL"]
    settings.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(settings))
    settings["MAX_CONTENT_LENGTH"] = settings["MAX_REQUEST_BYTES"]
    return settings


def public_url(value):
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


def _refuse_default_secret(settings):
    """The secret signs receipts and Open311 tokens and keys the originals' object names: a
    deployment (PostgreSQL or S3) must not run with the published default."""
    deployed = (settings["DATABASE_URL"] or "sqlite").split(":")[0].split("+")[0] != "sqlite" or settings[
        "STORAGE"
    ] != "local"
    if deployed and settings["SECRET_KEY"] == DEFAULTS["SECRET_KEY"]:
        raise ValueError(
            f"{ENV_PREFIX}SECRET_KEY must be set to a long random value (the same on every host) "
            "before civicreport runs on PostgreSQL or S3"
        )


def _engine_options(settings):
    """Pool settings that let a process outlive database restarts and dropped connections."""
    # pre-ping: a pooled connection the server closed (restart, pg_terminate_backend,
    # idle timeout in a proxy) is replaced before use instead of failing the request.
    options = {"pool_pre_ping": True}
    if settings["DATABASE_URL"].startswith("postgresql"):
        options["connect_args"] = {
            "connect_timeout": settings["DB_CONNECT_TIMEOUT"],
            # notice a peer that vanished without closing (host down, network cut)
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
        }
    return options
