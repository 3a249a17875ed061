"""URLs of stored photos: presigned by S3 storage, else served by the app (the web layer's ``MediaUrls``)."""

from collections.abc import Iterable
from typing import Any, Protocol

from civicreport import registry


class MediaUrls(Protocol):
    """The web layer's half: where the app itself serves a stored object (local storage)."""

    def served_url(self, key: str) -> str: ...


def object_url(key: str) -> str:
    """A URL a client can fetch; callers put originals only into staff views."""
    adapters = registry.current()
    return adapters.storage.public_url(key) or adapters.media_urls.served_url(key)


def original_url(key: str) -> str:
    """A URL of an original, for the views of callers who may see the case's private side:
    short-lived and presigned for S3; for local storage the app checks the caller again."""
    adapters = registry.current()
    return adapters.storage.private_url(key) or adapters.media_urls.served_url(key)


def public_photos(media: Iterable[Any]) -> list[Any]:
    """The photos with derivatives to show: all but those awaiting the privacy pass (or
    found unreadable by it)."""
    return [m for m in media if not m.privacy_pending]
