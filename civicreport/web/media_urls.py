"""The web half of photo URLs (``cases.photo_urls.MediaUrls``): objects the app serves itself."""

from flask import url_for


class FlaskMediaUrls:
    """Absolute URLs of ``media_files.object``, for local storage (S3 presigns its own)."""

    def served_url(self, key: str) -> str:
        return url_for("media_files.object", key=key, _external=True)
