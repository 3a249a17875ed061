"""Builds an app's registry: the pluggable backends named by the settings."""

import threading
from dataclasses import asdict

from PIL import Image

from civicreport.cases.classifier import build_classifier
from civicreport.cases.photo_urls import MediaUrls
from civicreport.config import Settings
from civicreport.delivery.senders import build_senders
from civicreport.media.images import Limits
from civicreport.media.privacy import build_detector
from civicreport.media.storage import build_storage
from civicreport.registry import Registry


def build_registry(settings: Settings, media_urls: MediaUrls) -> Registry:
    """Storage, detector, senders, classifier, photo limits and the decode gate for ``settings``
    (already checked by ``config``); ValueError when a backend cannot start (a missing model file)."""
    values = asdict(settings)  # the builders of media/ and delivery/ take a plain mapping
    # Pillow's own bomb guard (a warning above this, an error above twice this) at our limit,
    # so every Image.open in the process refuses what intake refuses. Process-wide, like Pillow.
    Image.MAX_IMAGE_PIXELS = settings.MAX_PHOTO_PIXELS
    return Registry(
        settings=settings,
        storage=build_storage(values),
        detector=build_detector(settings.PRIVACY_DETECTOR, settings.PRIVACY_DETECT_PX),
        senders=build_senders(values),
        classifier=build_classifier(settings.CLASSIFIER),
        limits=photo_limits(settings),
        media_urls=media_urls,
        decode_gate=threading.BoundedSemaphore(settings.PHOTO_DECODES_PER_PROCESS),
    )


def photo_limits(settings: Settings) -> Limits:
    return Limits(
        max_bytes=settings.MAX_PHOTO_BYTES,
        max_pixels=settings.MAX_PHOTO_PIXELS,
        display_px=settings.DISPLAY_MAX_PX,
        thumb_px=settings.THUMB_MAX_PX,
        jpeg_quality=settings.JPEG_QUALITY,
    )
