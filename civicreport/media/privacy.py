"""Blurring faces and licence plates in public derivatives.

Plain Python (no Flask, no models). A ``Detector`` finds ``Region``s in an upright
image; ``redact`` blurs them. Regions are fractions (0–1) of the upright image, so
one list serves the display image, the thumbnail and the original's pixel grid alike.
Originals are never touched here: only derivatives are redacted.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFilter

if TYPE_CHECKING:
    import cv2  # for annotations only: opencv() imports it on first detection

# Cells across the long side of a blurred region: few enough that no face or plate
# survives (the pixels are averaged away, not just smoothed), many enough to look tidy.
_CELLS = 6
_DIGEST_DECIMALS = 4


@dataclass(frozen=True)
class Region:
    """A rectangle to blur, as fractions of the upright image (0 = left/top, 1 = right/bottom)."""

    left: float
    top: float
    right: float
    bottom: float
    kind: str = "manual"  # "face", "plate" (found by a detector) or "manual" (drawn by staff)

    @classmethod
    def from_pixels(
        cls, x: float, y: float, width: float, height: float, size: tuple[int, int], kind: str = "manual"
    ) -> Region:
        """The region of a pixel box on an image of ``size``, clipped to the image.

        Raises ValueError when the box has no area inside the image.
        """
        return cls.from_fractions(x / size[0], y / size[1], width / size[0], height / size[1], kind)

    @classmethod
    def from_fractions(cls, x: float, y: float, width: float, height: float, kind: str = "manual") -> Region:
        """A region from a 0–1 box, clipped to the image; ValueError when nothing is left."""
        left, top = max(0.0, x), max(0.0, y)
        right, bottom = min(1.0, x + width), min(1.0, y + height)
        values = (left, top, right, bottom)
        if not all(math.isfinite(v) for v in values) or right <= left or bottom <= top:
            raise ValueError("the box lies outside the image or has no area")
        return cls(*values, kind=kind)

    def expanded(self, margin: float) -> Region:
        """Grown by ``margin`` times its own width/height on every side, clipped to the image."""
        dx, dy = (self.right - self.left) * margin, (self.bottom - self.top) * margin
        return Region(
            max(0.0, self.left - dx),
            max(0.0, self.top - dy),
            min(1.0, self.right + dx),
            min(1.0, self.bottom + dy),
            self.kind,
        )

    def pixels(self, size: tuple[int, int]) -> tuple[int, int, int, int]:
        """The smallest whole-pixel box on an image of ``size`` that covers the region."""
        width, height = size
        left, top = math.floor(self.left * width), math.floor(self.top * height)
        right = max(left + 1, math.ceil(self.right * width))
        bottom = max(top + 1, math.ceil(self.bottom * height))
        return left, top, min(right, width), min(bottom, height)

    def as_list(self) -> list[float]:
        return [round(v, 6) for v in (self.left, self.top, self.right, self.bottom)]


class Detector(Protocol):
    """Finds what must not be shown publicly; ``name`` goes into logs and settings."""

    name: str

    def detect(self, image: Image.Image) -> list[Region]:
        """Regions to blur in the upright ``image`` (any size, RGB or L)."""

    def release(self) -> None:
        """Give back what is kept between detections (nets, layer buffers) before a large
        decode needs the memory; the next ``detect`` rebuilds it and finds the same regions."""


class NullDetector:
    """Finds nothing: derivatives carry only the areas staff redact by hand."""

    name = "none"

    def detect(self, image: Image.Image) -> list[Region]:
        return []

    def release(self) -> None:
        pass


@dataclass(frozen=True)
class Cascade:
    kind: str
    filename: str
    min_neighbors: int
    mirrored: bool = False  # also run on the flipped image (the profile cascade knows one side)
    margin: float = 0.25  # Haar boxes hug brows to chin; hair, ears and plate edges lie outside


# Frontal faces with alt2 (fewer false hits than "default" and about twice as fast on
# textured street scenes), profiles both ways, and the Russian-plate cascade, the only
# plate detector opencv-python-headless 4.x ships; Chinese plates need their own later.
CASCADES = (
    Cascade("face", "haarcascade_frontalface_alt2.xml", min_neighbors=4),
    Cascade("face", "haarcascade_profileface.xml", min_neighbors=4, mirrored=True),
    Cascade("plate", "haarcascade_russian_plate_number.xml", min_neighbors=4, margin=0.15),
)


class OpenCVDetector:
    """Haar cascades bundled with opencv-python-headless, run on a ``detect_px`` copy.

    Detection on a reduced copy keeps it fast; faces smaller than about
    20/``detect_px`` of the long side are missed. Each call loads its classifiers (a
    CascadeClassifier must not be shared between threads) one at a time: a classifier
    keeps ~20 MB of scaled integral images after its first detection for as long as it
    lives, 67 MB for the three, per thread, while loading one costs ~16 ms (~8 % of a
    detection).
    """

    name = "opencv"

    def __init__(self, detect_px: int = 640, cascades: Iterable[Cascade] = CASCADES, directory: str | None = None):
        """Raises ValueError when ``detect_px`` is too small or a cascade file is missing."""
        if detect_px < 64:
            raise ValueError("detect_px must be at least 64")
        directory = directory or _bundled_cascades()
        self.detect_px = detect_px
        self.cascades = tuple(cascades)
        self.paths = [os.path.join(directory, c.filename) for c in self.cascades]
        missing = [p for p in self.paths if not os.path.isfile(p)]
        if missing:
            raise ValueError(f"Haar cascade files missing (opencv-python-headless 4.x ships them): {missing}")

    def detect(self, image: Image.Image) -> list[Region]:
        gray = _gray_for_detection(image, self.detect_px)
        height, width = gray.shape
        mirror = None
        found: list[Region] = []
        for cascade, path in zip(self.cascades, self.paths, strict=True):
            classifier = _classifier(path)
            found += _boxes(classifier, gray, cascade, width, height, flipped=False)
            if cascade.mirrored:
                mirror = opencv().flip(gray, 1) if mirror is None else mirror
                found += _boxes(classifier, mirror, cascade, width, height, flipped=True)
        return found

    def release(self) -> None:
        pass  # each detection loads its classifiers and drops them


def _classifier(path: str) -> cv2.CascadeClassifier:
    """A fresh classifier; RuntimeError if OpenCV cannot parse the cascade file."""
    classifier: cv2.CascadeClassifier = opencv().CascadeClassifier(path)
    if classifier.empty():
        raise RuntimeError(f"OpenCV could not load the cascade {path}")
    return classifier


def opencv() -> ModuleType:
    """OpenCV, imported on first detection: 17 MB that the web workers of PRIVACY_MODE=worker
    (which leave detection to the worker) would otherwise carry for nothing. The detectors
    built on this module (plates.py) import it through here for the same reason; the price
    is that mypy sees its functions as untyped (their results are annotated where kept)."""
    import cv2

    return cv2


def _bundled_cascades() -> str:
    """opencv-python-headless's cascade folder (cv2/data), found without importing cv2."""
    spec = importlib.util.find_spec("cv2")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("opencv-python-headless is not installed")
    return os.path.join(spec.submodule_search_locations[0], "data")


def _gray_for_detection(image: Image.Image, detect_px: int) -> npt.NDArray[np.uint8]:
    """Grey copy whose long side is at most ``detect_px``, histogram-equalised (Haar
    features compare light and dark bands, which flat lighting washes out)."""
    gray = image.convert("L")
    scale = detect_px / max(gray.size)
    if scale < 1:
        size = (max(1, round(gray.width * scale)), max(1, round(gray.height * scale)))
        gray = gray.resize(size, Image.Resampling.BOX)
    equalized: npt.NDArray[np.uint8] = opencv().equalizeHist(np.asarray(gray))
    return equalized


def _boxes(
    classifier: cv2.CascadeClassifier,
    gray: npt.NDArray[np.uint8],
    cascade: Cascade,
    width: int,
    height: int,
    flipped: bool,
) -> list[Region]:
    # A scale step of 1.2 instead of the usual 1.1 halves the time and still finds faces
    # from about 20 px up on the detection copy.
    rects = classifier.detectMultiScale(gray, scaleFactor=1.2, minNeighbors=cascade.min_neighbors)
    regions = []
    for rect in rects:
        x, y, w, h = (int(v) for v in rect)
        x = width - x - w if flipped else x
        region = Region(x / width, y / height, (x + w) / width, (y + h) / height, cascade.kind)
        regions.append(region.expanded(cascade.margin))
    return regions


class CombinedDetector:
    """Several detectors over one image (faces and plates): whatever any of them finds is blurred."""

    def __init__(self, detectors: Iterable[Detector]):
        self.detectors = tuple(detectors)
        self.name = "+".join(detector.name for detector in self.detectors)

    def detect(self, image: Image.Image) -> list[Region]:
        return [region for detector in self.detectors for region in detector.detect(image)]

    def release(self) -> None:
        for detector in self.detectors:
            detector.release()


DETECTORS = ("yunet", "plates", "opencv", "none")  # build_detector's names; "+" joins several


def build_detector(name: str, detect_px: int = 1280) -> Detector:
    """The detector named by config; ValueError for an unknown name or a bad setting.

    "yunet": faces (civicreport/media/faces.py; ``detect_px`` is its scan size: at 1280, the
    whole display image). "plates": Chinese licence plates (civicreport/media/plates.py).
    "opencv": the Haar cascades of before, on a ``detect_px`` copy. "none". Names joined by
    "+" run together: the default "yunet+plates".
    """
    if "+" in name:
        return CombinedDetector(build_detector(part, detect_px) for part in name.split("+"))
    if name == "opencv":
        return OpenCVDetector(detect_px)
    if name == "yunet":
        # Imported here: faces.py builds on this module's Region.
        from civicreport.media.faces import YuNetDetector

        return YuNetDetector(detect_px)
    if name == "plates":
        # Imported here: plates.py builds on this module's Region.
        from civicreport.media.plates import PlateDetector

        return PlateDetector()
    if name == "none":
        return NullDetector()
    raise ValueError(
        f"unknown PRIVACY_DETECTOR {name!r}; expected yunet, plates, opencv or none, or several joined by '+'"
    )


def redact(image: Image.Image, regions: Sequence[Region]) -> Image.Image:
    """A copy of ``image`` with every region averaged down to a few cells and smoothed.

    Averaging destroys the detail (nothing is left to sharpen back); the blur only
    hides the cell edges. Returns ``image`` itself when there is nothing to redact.
    """
    if not regions:
        return image
    out = image.copy()
    for region in regions:
        box = region.pixels(out.size)
        width, height = box[2] - box[0], box[3] - box[1]
        cell = max(width, height) / _CELLS
        small = (max(1, round(width / cell)), max(1, round(height / cell)))
        patch = out.crop(box).resize(small, Image.Resampling.BOX)
        patch = patch.resize((width, height), Image.Resampling.BILINEAR)
        out.paste(patch.filter(ImageFilter.GaussianBlur(cell / 3)), box[:2])
    return out


def regions_digest(regions: Sequence[Region]) -> str:
    """Short hash of where an image is blurred ("" for nowhere): derivative keys carry it, so
    a different set of blurred areas never reuses, or is hidden behind, an older object."""
    if not regions:
        return ""
    boxes = sorted({tuple(round(v, _DIGEST_DECIMALS) for v in r.as_list()) for r in regions})
    text = ";".join(",".join(f"{v:.{_DIGEST_DECIMALS}f}" for v in box) for box in boxes)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
