"""Object storage for photos: a local directory or an S3-compatible bucket, chosen by config.

Keys are content-addressed (see ``object_keys``), so an object that already exists under
a key is identical to the one being stored. Backend failures raise
``StorageUnavailable`` (``storage_unavailable``, media.errors).

Several requests may rely on one object at the same time (same photo bytes), so nothing
here deletes on a request's behalf: a failed request leaves its objects, and
``gc-media`` later removes those no row references once they are old enough. Storing
an object that exists renews its modification time, which keeps it young while its
request is in flight.
"""

from __future__ import annotations

import abc
import functools
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from civicreport.media.errors import BucketMissing, StorageUnavailable

log = logging.getLogger(__name__)

_EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "heif": "heic"}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "heic": "image/heic"}  # by extension
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_VARIANT_RE = re.compile(r"[0-9a-f]{0,64}")
_TEMP_PREFIX = ".tmp-"
_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}
PRESIGNED_URLS_KEPT = 4096  # per process: a few queue pages of every supervisor on shift
_MEDIA_KEY_RE = re.compile(
    r"(?:originals|(?:pending/)?(?:display|thumb))/[0-9a-f]{2}/[0-9a-f]{2}/([0-9a-f]{64})(?:-[0-9a-f]{1,64})?\.[a-z]{3,4}"
)
# pending/ held unchecked thumbs of photos awaiting the privacy pass before migration 0010;
# gc-media removes what is left there once no row refers to it.
MEDIA_PREFIXES = ("originals/", "display/", "thumb/", "pending/")


def object_keys(sha256: str, fmt: str, variant: str = "", original_tag: str = "") -> dict[str, str]:
    """Keys of the original and both derivatives; ValueError for a bad hash, unknown format
    or a ``variant`` or ``original_tag`` that is not lowercase hex.

    ``variant`` names what is blurred in the derivatives (``privacy.regions_digest``), so
    derivatives with different redactions never share a key. ``original_tag`` is a keyed
    digest of the hash (``photos.original_tag``): the sha256 is public evidence, and the
    original's key must not follow from it alone.
    """
    if not _SHA256_RE.fullmatch(sha256 or "") or fmt not in _EXTENSIONS:
        raise ValueError(f"need a lowercase hex sha256 and one of {sorted(_EXTENSIONS)}")
    if not _VARIANT_RE.fullmatch(variant) or not _VARIANT_RE.fullmatch(original_tag):
        raise ValueError("variant and original_tag must be lowercase hex")
    shard = f"{sha256[:2]}/{sha256[2:4]}/{sha256}"
    suffix = f"-{variant}" if variant else ""
    tag = f"-{original_tag}" if original_tag else ""
    return {
        "original": f"originals/{shard}{tag}.{_EXTENSIONS[fmt]}",
        "display": f"display/{shard}{suffix}.jpg",
        "thumb": f"thumb/{shard}{suffix}.jpg",
    }


def media_key_sha256(key: str) -> str | None:
    """The sha256 in a key ``object_keys`` makes, or None for any other key."""
    match = _MEDIA_KEY_RE.fullmatch(key)
    return match.group(1) if match else None


def _unavailable() -> StorageUnavailable:
    return StorageUnavailable()


class Storage(abc.ABC):
    """Where originals and derivatives live. Every method may raise StorageUnavailable."""

    @abc.abstractmethod
    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key``.

        An existing object (the same bytes: keys are content-addressed) gets a modification
        time of now, whether the backend touches or rewrites it, so ``gc-media`` sees it as
        young while the caller is still using it.
        """

    @abc.abstractmethod
    def get(self, key: str) -> bytes:
        """The object's bytes; raises KeyError if there is none."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; a missing one is not an error."""

    @abc.abstractmethod
    def public_url(self, key: str) -> str | None:
        """A URL clients can fetch directly, or None: serve it through the app."""

    @property
    def url_origin(self) -> str | None:
        """``scheme://host[:port]`` the URLs of ``public_url`` point at, for the pages'
        Content-Security-Policy; None: the app serves the objects itself."""
        return None

    @abc.abstractmethod
    def private_url(self, key: str) -> str | None:
        """A short-lived URL for a private object (an original), to hand only to callers who
        may see it, or None: serve it through the app, which checks the caller."""

    @abc.abstractmethod
    def check(self) -> None:
        """Raise StorageUnavailable if the backend cannot be reached (health checks)."""

    @abc.abstractmethod
    def init(self) -> list[str]:
        """Make the store ready (``flask storage init``): create what is missing, keep it
        private, and prove that this process may write, read and delete an object. Returns
        one line per thing done or found; raises StorageUnavailable naming the step that failed."""

    @abc.abstractmethod
    def modified_at(self, key: str) -> datetime | None:
        """When the object was last written or touched (aware, UTC), or None if there is none."""

    @abc.abstractmethod
    def iter_objects(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        """``(key, modified_at)`` of every stored object whose key starts with ``prefix``."""

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        """Every stored key starting with ``prefix``."""
        return (key for key, _ in self.iter_objects(prefix))


class LocalStorage(Storage):
    """Files under ``root``, written atomically (temp file in the same directory + os.replace)."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)

    def _path(self, key: str) -> str:
        """Filesystem path of ``key``; ValueError for absolute keys or ``.``/``..`` segments."""
        parts = PurePosixPath(key).parts
        bad = not parts or key.startswith("/") or "\\" in key or "\x00" in key
        if bad or any(part in (".", "..") for part in parts) or key != "/".join(parts):
            raise ValueError(f"invalid storage key {key!r}")
        return os.path.join(self.root, *parts)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        try:
            if os.path.isfile(path):
                os.utime(path)
                return
            os.makedirs(os.path.dirname(path), exist_ok=True)
            _write_atomically(path, data)
        except OSError as exc:
            log.warning("local storage write failed for %s: %s", key, exc)
            raise _unavailable() from exc

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            with open(path, "rb") as fh:
                return fh.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise KeyError(key) from None
        except OSError as exc:
            raise _unavailable() from exc

    def exists(self, key: str) -> bool:
        return os.path.isfile(self._path(key))

    def delete(self, key: str) -> None:
        try:
            os.remove(self._path(key))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise _unavailable() from exc

    def public_url(self, key: str) -> str | None:
        return None

    def private_url(self, key: str) -> str | None:
        return None

    def init(self) -> list[str]:
        step = functools.partial(_init_step, f"directory {self.root}")
        with step("mkdir"):
            existed = os.path.isdir(self.root)
            os.makedirs(self.root, exist_ok=True)
        return [f"directory {self.root}: {'exists' if existed else 'created'}", _probe_permissions(self, step)]

    def check(self) -> None:
        try:
            os.makedirs(self.root, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.root, prefix=_TEMP_PREFIX):
                pass
        except OSError as exc:
            log.warning("local storage %s is not writable: %s", self.root, exc)
            raise _unavailable() from exc

    def modified_at(self, key: str) -> datetime | None:
        try:
            return _mtime(self._path(key))
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise _unavailable() from exc

    def iter_objects(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        for directory, subdirs, files in os.walk(self.root):
            subdirs.sort()
            rel = os.path.relpath(directory, self.root)
            for name in sorted(files):
                key = name if rel == "." else f"{rel.replace(os.sep, '/')}/{name}"
                if name.startswith(_TEMP_PREFIX) or not key.startswith(prefix):
                    continue
                try:
                    yield key, _mtime(os.path.join(directory, name))
                except FileNotFoundError:  # removed while we walked
                    continue


def _mtime(path: str) -> datetime:
    return datetime.fromtimestamp(os.stat(path).st_mtime, UTC)


def _write_atomically(path: str, data: bytes) -> None:
    """Write to a temp file beside ``path``, fsync, then rename; raises OSError, leaving no temp file."""
    fd, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=_TEMP_PREFIX)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


class S3Storage(Storage):
    """An S3-compatible bucket through boto3; credentials come from the usual AWS chain.

    Every call is bounded: ``connect_timeout`` and ``read_timeout`` (seconds per socket
    operation) over at most ``max_attempts`` tries, so a dead or stalled endpoint costs a
    request about ``max_attempts × (connect_timeout + read_timeout)`` before it fails with
    ``storage_unavailable``. ``check`` (health) makes one try bounded by ``check_timeout``.
    """

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        prefix: str = "",
        presign_seconds: int = 3600,
        private_presign_seconds: int = 300,
        connect_timeout: float = 3,
        read_timeout: float = 10,
        max_attempts: int = 3,
        check_timeout: float = 2,
        addressing_style: str | None = None,
    ):
        """``addressing_style`` defaults to "path" with a custom endpoint (MinIO, Ceph RGW);
        pass "virtual" for 阿里云 OSS, which refuses path-style requests."""
        if not bucket:
            raise ValueError("S3Storage needs a bucket name")
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.presign_seconds = presign_seconds
        self.private_presign_seconds = private_presign_seconds
        endpoint: dict[str, Any] = {
            "endpoint_url": endpoint_url or None,
            "region": region or None,
            "addressing_style": addressing_style or ("path" if endpoint_url else "auto"),
        }
        self._endpoint = endpoint
        self._client = _s3_client(**endpoint, connect=connect_timeout, read=read_timeout, attempts=max_attempts)
        self._probe = _s3_client(**endpoint, connect=check_timeout, read=check_timeout, attempts=1)
        self._presigned = functools.lru_cache(maxsize=PRESIGNED_URLS_KEPT)(self._presign)
        self._presigned_private = functools.lru_cache(maxsize=PRESIGNED_URLS_KEPT)(self._presign_private)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """One PUT whether or not the object exists: rewriting the same bytes renews
        LastModified, and a HEAD first would cost every new photo a round trip."""
        with self._errors("put"):
            self._client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        with self._errors("get"):
            try:
                response = self._client.get_object(Bucket=self.bucket, Key=self.prefix + key)
            except ClientError as exc:
                if _is_missing(exc):
                    raise KeyError(key) from None
                raise
            data: bytes = response["Body"].read()  # boto3 is untyped
            return data

    def exists(self, key: str) -> bool:
        with self._errors("head"):
            try:
                self._client.head_object(Bucket=self.bucket, Key=self.prefix + key)
            except ClientError as exc:
                if _is_missing(exc):
                    return False
                raise
        return True

    def delete(self, key: str) -> None:
        with self._errors("delete"):
            self._client.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def public_url(self, key: str) -> str | None:
        """A presigned GET URL with at least half of ``presign_seconds`` left to run.

        A key keeps its URL for half that time: signing costs about a millisecond (35 of
        the 60 ms of CPU a queue page of 50 photos took), and a URL that stays the same
        lets the browser reuse the image it already has.
        """
        window = int(time.time() // max(1, self.presign_seconds // 2))
        return self._presigned(key, window)

    def _presign(self, key: str, window: int) -> str:
        """``window`` only keys the cache: a new one signs afresh."""
        with self._errors("presign"):
            url: str = self._client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": self.prefix + key},
                ExpiresIn=self.presign_seconds,
            )
            return url

    def private_url(self, key: str) -> str | None:
        """A presigned GET URL living ``private_presign_seconds`` (at least half of it left),
        which makes the browser save the object under its image type: the bucket cannot add
        ``nosniff``, so an original whose bytes also parse as HTML is never rendered as a page."""
        window = int(time.time() // max(1, self.private_presign_seconds // 2))
        return self._presigned_private(key, window)

    def _presign_private(self, key: str, window: int) -> str:
        extension = key.rsplit(".", 1)[-1]
        with self._errors("presign"):
            url: str = self._client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": self.prefix + key,
                    "ResponseContentType": CONTENT_TYPES.get(extension, "application/octet-stream"),
                    "ResponseContentDisposition": f'attachment; filename="original.{extension}"',
                },
                ExpiresIn=self.private_presign_seconds,
            )
            return url

    @functools.cached_property
    def url_origin(self) -> str:
        """Built by an unsigned client the way boto3 builds the presigned URLs (the bucket in the
        host under virtual addressing), so it needs neither credentials nor the network."""
        client = _s3_client(**self._endpoint, connect=1, read=1, attempts=1, unsigned=True)
        url = urlsplit(client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": "origin"}))
        return f"{url.scheme}://{url.netloc}"

    def check(self) -> None:
        """StorageUnavailable when S3 does not answer; BucketMissing, which names ``flask storage
        init``, when it answers that the bucket is not there (HeadBucket 404)."""
        with self._errors("check"):
            try:
                self._probe.head_bucket(Bucket=self.bucket)
            except ClientError as exc:
                if _is_missing(exc):
                    raise BucketMissing(details={"bucket": self.bucket, "command": "flask storage init"}) from None
                raise

    def init(self) -> list[str]:
        return [self._ensure_bucket(), *self._keep_private(), _probe_permissions(self, self._init_step)]

    def _ensure_bucket(self) -> str:
        with self._init_step("HeadBucket"):
            try:
                self._client.head_bucket(Bucket=self.bucket)
                return f"bucket {self.bucket}: exists"
            except ClientError as exc:
                if not _is_missing(exc):
                    raise
        region = self._endpoint["region"]
        where = {} if region in (None, "us-east-1") else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        with self._init_step("CreateBucket"):
            self._client.create_bucket(Bucket=self.bucket, **where)
        return f"bucket {self.bucket}: created" + (f" in {region}" if region else "")

    def _keep_private(self) -> list[str]:
        """Block public access where the store has the setting (AWS, moto); a private ACL always.
        Photos are served by presigned URLs, never by a public bucket."""
        done = []
        with self._init_step("PutPublicAccessBlock"):
            try:
                self._client.put_public_access_block(
                    Bucket=self.bucket, PublicAccessBlockConfiguration=dict.fromkeys(_PUBLIC_ACCESS_BLOCK, True)
                )
                done.append("public access: blocked (" + ", ".join(_PUBLIC_ACCESS_BLOCK) + ")")
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in _NOT_SUPPORTED:
                    raise
                done.append("public access block: not supported by this store; check the bucket policy is private")
        with self._init_step("PutBucketAcl"):
            self._client.put_bucket_acl(Bucket=self.bucket, ACL="private")
        done.append("bucket ACL: private (no public read or write)")
        return done

    def _init_step(self, step: str) -> Any:
        return _init_step(f"bucket {self.bucket}", step)

    def modified_at(self, key: str) -> datetime | None:
        with self._errors("head"):
            try:
                modified: datetime = self._client.head_object(Bucket=self.bucket, Key=self.prefix + key)["LastModified"]
                return modified
            except ClientError as exc:
                if _is_missing(exc):
                    return None
                raise

    def iter_objects(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix + prefix)
        with self._errors("list"):
            for page in pages:
                for item in page.get("Contents", []):
                    yield item["Key"][len(self.prefix) :], item["LastModified"]

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn every boto3/botocore failure into StorageUnavailable(storage_unavailable)."""
        try:
            yield
        except (BotoCoreError, ClientError) as exc:
            log.warning("S3 %s on bucket %s failed: %s", action, self.bucket, exc)
            raise _unavailable() from exc


def _s3_client(
    *,
    endpoint_url: str | None,
    region: str | None,
    addressing_style: str,
    connect: float,
    read: float,
    attempts: int,
    unsigned: bool = False,
) -> Any:
    """A boto3 S3 client (untyped, hence Any) with these timeouts, retries and addressing."""
    config = Config(
        connect_timeout=connect,
        read_timeout=read,
        retries={"total_max_attempts": attempts, "mode": "standard"},
        signature_version=UNSIGNED if unsigned else "s3v4",
        # The signature covers the body's SHA-256, over HTTP and HTTPS alike: the store
        # refuses a body that changed on the way, so no Content-MD5 (a second, slower hash).
        s3={"addressing_style": addressing_style, "payload_signing_enabled": True},
        # Only send checksums S3 requires: the newer CRC defaults break several S3 clones.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url, region_name=region, config=config)


_PUBLIC_ACCESS_BLOCK = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
_NOT_SUPPORTED = {"NotImplemented", "MethodNotAllowed", "InvalidRequest", "InvalidArgument"}  # MinIO, OSS, Ceph


@contextmanager
def _init_step(where: str, step: str) -> Iterator[None]:
    """A failed step of ``init`` as StorageUnavailable naming it, the store and what it answered."""
    try:
        yield
    except (BotoCoreError, ClientError, OSError, StorageUnavailable) as exc:
        answer = exc.__cause__ or exc
        raise StorageUnavailable(f"{step} on {where} failed: {answer}", details={"step": step}) from exc


def _probe_permissions(store: Storage, step: Any) -> str:
    """Write, read back and delete one object under a name no photo has: what the app needs."""
    key = f"{_TEMP_PREFIX}storage-init-{os.getpid()}-{time.time_ns()}"
    data = b"civicreport storage init probe"
    with step("write (PutObject)"):
        store.put(key, data, "application/octet-stream")
    with step("read (GetObject)"):
        if store.get(key) != data:
            raise StorageUnavailable("the probe object read back differs", details={"key": key})
    with step("delete (DeleteObject)"):
        store.delete(key)
        if store.exists(key):
            raise StorageUnavailable("the probe object is still there after delete", details={"key": key})
    return "permissions: write, read and delete ok"


def _is_missing(exc: ClientError) -> bool:
    """True for the 404 S3 returns for a missing object."""
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error.get("Code") in _MISSING_CODES or status == 404


def build_storage(settings: Mapping[str, Any]) -> Storage:
    """The backend named by ``settings["STORAGE"]``; ValueError for an unknown one or a missing root/bucket."""
    kind = settings.get("STORAGE") or "local"
    if kind == "local":
        if not settings.get("MEDIA_ROOT"):
            raise ValueError("STORAGE=local needs MEDIA_ROOT")
        return LocalStorage(settings["MEDIA_ROOT"])
    if kind == "s3":
        return S3Storage(
            settings.get("S3_BUCKET") or "",
            endpoint_url=settings.get("S3_ENDPOINT_URL") or None,
            region=settings.get("S3_REGION") or None,
            prefix=settings.get("S3_PREFIX") or "",
            presign_seconds=int(settings.get("S3_PRESIGN_SECONDS") or 3600),
            private_presign_seconds=int(settings.get("S3_ORIGINAL_PRESIGN_SECONDS") or 300),
            connect_timeout=float(settings.get("S3_CONNECT_TIMEOUT") or 3),
            read_timeout=float(settings.get("S3_READ_TIMEOUT") or 10),
            max_attempts=int(settings.get("S3_MAX_ATTEMPTS") or 3),
            check_timeout=float(settings.get("HEALTH_TIMEOUT") or 2),
            addressing_style=settings.get("S3_ADDRESSING_STYLE") or None,
        )
    raise ValueError(f"unknown STORAGE {kind!r}; expected 'local' or 's3'")
