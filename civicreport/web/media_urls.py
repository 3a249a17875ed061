"""URLs of stored objects: presigned for S3, served by the app for local storage."""

from flask import url_for

from civicreport.adapters import storage


def object_url(key):
    """A URL a client can fetch; callers put originals only into staff views."""
    return storage().public_url(key) or url_for("media_files.object", key=key, _external=True)


def original_url(key):
    """A URL of an original, for the views of callers who may see the case's private side:
    short-lived and presigned for S3; for local storage the app checks the caller again."""
    return storage().private_url(key) or url_for("media_files.object", key=key, _external=True)


def public_photos(media):
    """The photos with derivatives to show: all but those awaiting the privacy pass (or
    found unreadable by it)."""
    return [m for m in media if not m.privacy_pending]
