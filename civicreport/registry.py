"""The running app's settings and pluggable adapters, reachable from domain code without Flask.

``create_app`` builds one ``Registry`` per app and binds it while that app's context is pushed
(Flask's ``appcontext_pushed``/``appcontext_popped`` signals), so ``current()`` follows Flask's
own context: per thread, per nested app in tests, in requests, the worker and CLI commands alike.
Domain code reads ``current().settings`` and ``current().storage`` …, never Flask's app proxy.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from collections.abc import Mapping

    from civicreport.cases.classifier import Classifier
    from civicreport.cases.photo_urls import MediaUrls
    from civicreport.config import Settings
    from civicreport.delivery.senders import Sender
    from civicreport.media.images import Limits
    from civicreport.media.privacy import Detector
    from civicreport.media.storage import Storage

EXTENSION = "civicreport.registry"  # the app.extensions key of an app's Registry


class GridIndexSlot:
    """Holds the process's grid index; built on first use, dropped when the grid changes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.index: Any = None


@dataclass(slots=True)
class Registry:
    """One app's settings and adapters. Not frozen only so that a test can swap one part
    (``tests.helpers.override_settings``); the app itself never reassigns them."""

    settings: Settings
    storage: Storage
    detector: Detector  # faces and plates to blur in public derivatives (PRIVACY_DETECTOR)
    senders: Mapping[str, Sender]  # delivery method → sender (log, webhook, email)
    classifier: Classifier
    limits: Limits  # photo limits the image pipeline enforces
    media_urls: MediaUrls  # the web layer's URLs for objects the app serves itself
    # Held while a photo is decoded: bounds how many full-size pixel buffers a process holds.
    decode_gate: threading.BoundedSemaphore
    grid: GridIndexSlot = field(default_factory=GridIndexSlot)
    throttle_engine: Any = None  # abuse.throttle's own connection pool; None: the app's engine

    @property
    def zone(self) -> ZoneInfo:
        return self.settings.zone


_bound: ContextVar[tuple[Registry, ...]] = ContextVar("civicreport_registry", default=())


def current() -> Registry:
    """The registry of the app whose context is pushed here; RuntimeError outside any."""
    stack = _bound.get()
    if not stack:
        raise RuntimeError("no civicreport app context is pushed here (use `with app.app_context():`)")
    return stack[-1]


def settings() -> Settings:
    return current().settings


def of(app: Any) -> Registry:
    """The registry ``create_app`` attached to ``app``."""
    registry: Registry = app.extensions[EXTENSION]  # a Flask app: Any here, where Flask is not imported
    return registry


def bind_app(app: Any, **_signal: Any) -> None:
    """``appcontext_pushed`` receiver: ``app``'s registry becomes current in this context."""
    _bound.set((*_bound.get(), of(app)))


def unbind_app(app: Any, **_signal: Any) -> None:
    """``appcontext_popped`` receiver: the registry bound before becomes current again."""
    _bound.set(_bound.get()[:-1])
