"""Pluggable backends built from config in ``create_app`` and reached through the app."""

import threading
from zoneinfo import ZoneInfo

from flask import current_app
from PIL import Image

from civicreport.cases.classifier import build_classifier
from civicreport.delivery.senders import build_senders
from civicreport.media.images import Limits
from civicreport.media.privacy import build_detector
from civicreport.media.storage import build_storage

STORAGE = "civicreport.storage"
CLASSIFIER = "civicreport.classifier"
GRID = "civicreport.grid"
LIMITS = "civicreport.photo_limits"
SENDERS = "civicreport.senders"
DETECTOR = "civicreport.privacy_detector"
DECODE_GATE = "civicreport.decode_gate"
PRIVACY_MODES = ("inline", "worker")  # where faces and plates are found: in the upload or the worker


class GridIndexSlot:
    """Holds the process's grid index; built on first use, dropped when the grid changes."""

    def __init__(self):
        self.lock = threading.Lock()
        self.index = None


def init_app(app):
    """Attach storage, classifier, senders, photo limits, the privacy detector and the grid slot;
    raises ValueError on bad config."""
    cfg = app.config
    app.extensions[STORAGE] = build_storage(cfg)
    app.extensions[CLASSIFIER] = build_classifier(cfg["CLASSIFIER"])
    app.extensions[GRID] = GridIndexSlot()
    app.extensions[SENDERS] = build_senders(cfg)
    app.extensions[DETECTOR] = build_detector(cfg["PRIVACY_DETECTOR"], cfg["PRIVACY_DETECT_PX"])
    if cfg["PRIVACY_MODE"] not in PRIVACY_MODES:
        raise ValueError(f"unknown PRIVACY_MODE {cfg['PRIVACY_MODE']!r}; expected one of {PRIVACY_MODES}")
    app.extensions[LIMITS] = Limits(
        max_bytes=cfg["MAX_PHOTO_BYTES"],
        max_pixels=cfg["MAX_PHOTO_PIXELS"],
        display_px=cfg["DISPLAY_MAX_PX"],
        thumb_px=cfg["THUMB_MAX_PX"],
        jpeg_quality=cfg["JPEG_QUALITY"],
    )
    # Pillow's own bomb guard (a warning above this, an error above twice this) at our limit,
    # so every Image.open in the process refuses what intake refuses. Process-wide, like Pillow.
    Image.MAX_IMAGE_PIXELS = cfg["MAX_PHOTO_PIXELS"]
    app.extensions[DECODE_GATE] = threading.BoundedSemaphore(cfg["PHOTO_DECODES_PER_PROCESS"])
    ZoneInfo(cfg["TIMEZONE"])


def storage():
    return current_app.extensions[STORAGE]


def classifier():
    return current_app.extensions[CLASSIFIER]


def grid_slot():
    return current_app.extensions[GRID]


def senders():
    """Delivery method → sender (``log``, ``webhook``, ``email``)."""
    return current_app.extensions[SENDERS]


def privacy_detector():
    """Finds faces and plates to blur in public derivatives (``PRIVACY_DETECTOR``)."""
    return current_app.extensions[DETECTOR]


def decode_gate():
    """Held while a photo is decoded: bounds how many full-size pixel buffers a process holds."""
    return current_app.extensions[DECODE_GATE]


def photo_limits():
    return current_app.extensions[LIMITS]


def local_zone():
    return ZoneInfo(current_app.config["TIMEZONE"])
