"""Chinese licence plates: candidate regions from colour and stroke edges, checked by a
tiny classifier trained here on rendered plates.

No offline Chinese plate model exists on PyPI (HyperLPR3 and fast-alpr download theirs at
run time), so this one is built from parts the project has: OpenCV and numpy.

1. Candidates. Plates are boxes of evenly spaced vertical strokes (7 or 8 characters) on a
   plain ground. Two sources: blobs of plate colour in HSV on a half-size copy (blue 蓝牌,
   yellow 黄牌, green new-energy 绿牌), and blobs where the horizontal gradient is strong
   after a horizontal closing joins the characters (any colour, so also white police 警 and
   black plates, and plates washed out at night). Each blob's rotated rectangle must be
   plate-shaped: about 1.3–7 times as wide as high (single-row 440×140 mm ≈ 3.1, new energy
   480×140 ≈ 3.4, double-row 440×220 ≈ 2.0 and 220×140 ≈ 1.6, all squeezed or stretched by
   the angle).
2. Check. Each candidate is rotated upright from the full-size image and resized to a 96×32
   grey patch; a histogram of oriented gradients of the patch (polarity-blind: light-on-dark
   and dark-on-light plates look alike), the share of each plate colour, the aspect and how
   two-toned the patch is feed a small neural network (32 tanh units), trained by
   bench/train_plates.py on rendered plates and on plate-free streets, shop signs, blue
   street-name signs (路牌, from 60 px wide to near half the photo), notice boards and
   foliage (weights: civicreport/data/plates.npz, 148 kB, made here, no third-party data).
   A score of 0.8 is the cut: over 180 of bench/plates.py's plate scenes and 36 plate-free
   ones it found 96.7 % of plates 60–300 px wide with 96.5 % of its regions on a plate (at
   0.7: 96.7 %, 95.3 %; at 0.9: 94.2 %, 97.5 %); bench/plates.py over 400 such plates and
   120 plate-free scenes: 94.8 % found (30–60 px: 73 %), 96.0 % of regions on a plate, 5 of
   them on 24 street-name sign scenes (the model before: 95.8 %, 62.5 %, 91.4 %, 19).
   CPU: median 13.5 ms per 1280×960 photo (the version before: 40 ms in the same run),
   mostly the stroke masks (4 ms) and the features (3–4 ms for ~45 candidates).
3. Overlapping hits are merged and each box is grown by a margin before blurring.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from civicreport.media.privacy import Region, opencv

if TYPE_CHECKING:
    import cv2  # for annotations only: opencv() imports it on first detection

Gray = npt.NDArray[np.uint8]  # also the 0/255 masks and the upright patches
Rect = tuple[tuple[float, float], tuple[float, float], float]  # rotated: (cx, cy), (w, h), angle
Floats = npt.NDArray[np.float32]
Boxes = npt.NDArray[np.float64]  # (n, 4): x0, y0, x1, y1
Scores = npt.NDArray[np.floating[Any]]

PATCH = (96, 32)  # width, height of the upright grey patch the classifier sees
ASPECTS = (1.3, 7.0)  # width / height of a plausible plate candidate
MIN_SIZE = (24, 8)  # smallest candidate in pixels (about a 30 px wide plate)
MAX_CANDIDATES = 600  # a busy 1280 px street gives 20–250; the cap bounds the worst case
MARGIN = 0.15
THRESHOLD = 0.8

# OpenCV HSV (hue 0–180): the ground colours of coloured plates
HUES = {"blue": (100, 128), "yellow": (12, 35), "green": (36, 90)}
MIN_SATURATION = {"blue": 90, "yellow": 90, "green": 45}
MIN_VALUE = 45


class PlateDetector:
    """Finds Chinese licence plates of every colour in an upright image (long side ≤ 1280).

    Plates from about 60 px wide up are the target (recall and CPU: bench/plates.py).
    """

    name = "plates"

    def __init__(self, threshold: float = THRESHOLD, margin: float = MARGIN):
        self.threshold = threshold
        self.margin = margin
        self.model = _model()

    def detect(self, image: Image.Image) -> list[Region]:
        if image.width < MIN_SIZE[0] or image.height < MIN_SIZE[1]:
            return []  # no plate fits (and a 1-px image has no half-size copy to scan)
        rgb = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
        height, width = rgb.shape[:2]
        boxes, scores = self.scored_boxes(rgb)
        keep = _merge(boxes, scores, self.threshold)
        return [
            Region(x0 / width, y0 / height, x1 / width, y1 / height, "plate").expanded(self.margin)
            for x0, y0, x1, y1 in keep
        ]

    def release(self) -> None:
        pass  # nothing is kept between detections but the model's 100 kB of weights

    def scored_boxes(self, rgb: npt.NDArray[np.uint8]) -> tuple[Boxes, Scores]:
        """Every candidate's axis-aligned box (x0, y0, x1, y1) and its plate probability."""
        gray, masks = prepared(rgb)
        rects = candidates(gray, masks)
        if not rects:
            return np.zeros((0, 4)), np.zeros(0)
        boxes = np.array([box_of(rect, gray.shape) for rect in rects], dtype=float)
        return boxes, predict(self.model, features(gray, masks, rects))


def prepared(rgb: npt.NDArray[np.uint8]) -> tuple[Gray, dict[str, Gray]]:
    """The full-size grey image (strokes, patches) and the colour masks of a half-size copy:
    plate grounds are blobs of tens of pixels, so half the pixels find them as well, at a
    quarter of the colour conversion, thresholds and contour tracing."""
    cv2 = opencv()
    half = cv2.resize(rgb, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), colour_masks(cv2.cvtColor(half, cv2.COLOR_RGB2HSV))


def colour_masks(hsv: npt.NDArray[np.uint8]) -> dict[str, Gray]:
    """Where each plate ground colour is (uint8 0/255 masks)."""
    cv2 = opencv()
    return {
        name: cv2.inRange(hsv, (low, MIN_SATURATION[name], MIN_VALUE), (high, 255, 255))
        for name, (low, high) in HUES.items()
    }


def candidates(gray: Gray, masks: dict[str, Gray]) -> list[Rect]:
    """Rotated rectangles ((cx, cy), (w, h), angle) in full-size pixels of plate-shaped blobs:
    colour blobs of the half-size masks, and stroke blobs at full and half resolution (the
    closing then joins characters of plates from ~30 to ~300 px wide), the half-size ones
    also on a contrast-levelled copy (CLAHE, for night plates and glare). On 120 rendered
    scenes a candidate overlapped the plate with IoU ≥ 0.45 for 79 / 96 / 100 % of plates
    30–60 / 60–120 / 120–300 px wide, in 5.4 ms; with CLAHE at full size before both stroke
    scales (the last version) 68 / 86 / 100 % in 8.1 ms."""
    cv2 = opencv()
    rects: list[Rect] = []
    for mask in masks.values():
        rects += _blobs(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)), 2.0)
    half = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    for image, scale in ((gray, 1.0), (half, 2.0), (cv2.createCLAHE(2.0, (4, 4)).apply(half), 2.0)):
        rects += _blobs(_strokes(image), scale)
    return rects[:MAX_CANDIDATES]


def _strokes(gray: Gray) -> Gray:
    """Strong horizontal gradients (character strokes are vertical), joined sideways."""
    cv2 = opencv()
    edges = cv2.convertScaleAbs(cv2.Sobel(gray, cv2.CV_16S, 1, 0, ksize=3), alpha=0.25)
    _, binary = cv2.threshold(edges, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    binary = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (15, 3)))
    opened: Gray = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 5)))
    return opened


def _blobs(mask: Gray, scale: float) -> list[Rect]:
    """The plate-shaped outer contours of ``mask`` as rotated rectangles, upright within
    ±30°, in the coordinates of a mask ``scale`` times larger."""
    cv2 = opencv()
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    rects: list[Rect] = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if w * scale < MIN_SIZE[0] or h * scale < MIN_SIZE[1]:
            continue
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
        if rw < rh:  # the long side is the plate's width
            rw, rh, angle = rh, rw, angle + 90
        angle = (angle + 90) % 180 - 90  # OpenCV versions differ: [-90, 0) or (0, 90]
        if rh > 0 and ASPECTS[0] <= rw / rh <= ASPECTS[1] and abs(angle) <= 30:
            rects.append(((cx * scale, cy * scale), (rw * scale, rh * scale), angle))
    return rects


def features(gray: Gray, masks: dict[str, Gray], rects: list[Rect]) -> Floats:
    """One row per candidate: HOG of its upright 96×32 patch, the share of each plate colour
    around it, the aspect, the contrast and the two-tone measures. Patches are cut one by
    one; everything after that runs over all of them at once."""
    cv2 = opencv()
    patches = np.stack([_patch(gray, rect) for rect in rects])
    hog = hog_descriptor()
    gradients = np.stack([np.ravel(hog.compute(cv2.equalizeHist(patch))) for patch in patches])
    sizes = np.array([rect[1] for rect in rects], dtype=np.float32)
    contrast = patches.reshape(len(rects), -1).std(axis=1) / 64
    return np.column_stack(
        [gradients, _colour_shares(masks, rects), np.log(sizes[:, 0] / sizes[:, 1]), contrast, _two_tone(patches)]
    ).astype(np.float32)


def _patch(gray: Gray, rect: Rect) -> Gray:
    """The padded candidate rotated upright and resized to 96×32."""
    cv2 = opencv()
    (cx, cy), (w, h), angle = rect
    pad_w, pad_h = _padded(w, h)
    matrix = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    matrix[:, 2] += (pad_w / 2 - cx, pad_h / 2 - cy)
    matrix *= np.array([[PATCH[0] / pad_w], [PATCH[1] / pad_h]])
    patch: Gray = cv2.warpAffine(gray, matrix, PATCH, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    return patch


def _padded(w: float, h: float) -> tuple[float, float]:
    """A candidate's size with a little of the frame around its characters."""
    return w * 1.1 + 4, h * 1.2 + 4


def _colour_shares(masks: dict[str, Gray], rects: list[Rect]) -> npt.NDArray[np.float64]:
    """The share of each plate colour in the upright box around each padded candidate, from
    integral images of the half-size masks (no warping of three masks per candidate)."""
    cv2 = opencv()
    sums: npt.NDArray[np.int32] = cv2.integral(
        cv2.merge([mask // 255 for mask in masks.values()])
    )  # (h + 1, w + 1, colours)
    limits = np.array(sums.shape[1::-1]) - 1
    corners = np.array([_half_box(rect) for rect in rects])
    x0, y0 = (np.clip(corners[:, i], 0, limits[i]) for i in (0, 1))
    x1, y1 = (np.clip(corners[:, i + 2], x, limits[i]) for i, x in ((0, x0), (1, y0)))
    area = np.maximum((x1 - x0) * (y1 - y0), 1)[:, None]
    shares: npt.NDArray[np.float64] = (sums[y1, x1] - sums[y0, x1] - sums[y1, x0] + sums[y0, x0]) / area
    return shares


def _half_box(rect: Rect) -> tuple[int, int, int, int]:
    """The padded candidate's upright bounding box (x0, y0, x1, y1) in half-size pixels."""
    (cx, cy), (w, h), angle = rect
    pad_w, pad_h = _padded(w, h)
    corners: Floats = opencv().boxPoints(((cx / 2, cy / 2), (pad_w / 2, pad_h / 2), angle))
    (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
    return int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1))


def _two_tone(patches: Gray) -> Floats:
    """What sets characters on a plate apart from foliage or gravel: two tones (the share
    of the grey variance an Otsu split explains), the minority tone's share, and how often
    the middle rows switch tone (about 14–16 times across 7 characters)."""
    cv2 = opencv()
    ink = np.stack([cv2.threshold(patch, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1] for patch in patches])
    count = PATCH[0] * PATCH[1]
    values = patches.reshape(len(patches), -1).astype(np.float32)
    flat = ink.reshape(len(patches), -1).astype(np.float32)
    spread = values.var(axis=1) + 1e-6
    inked = flat.sum(axis=1)
    total, total_ink = values.sum(axis=1), (values * flat).sum(axis=1)
    squares, squares_ink = (values**2).sum(axis=1), (values**2 * flat).sum(axis=1)
    within = (
        _scatter(squares_ink, total_ink, inked) + _scatter(squares - squares_ink, total - total_ink, count - inked)
    ) / count
    share = inked / count
    middle = ink[:, PATCH[1] // 3 : 2 * PATCH[1] // 3].astype(np.int8)
    switches = np.abs(np.diff(middle, axis=2)).sum(axis=2).mean(axis=1)
    return np.column_stack([1 - within / spread, np.minimum(share, 1 - share), switches / 16])


def _scatter(squares: Floats, total: Floats, count: Floats | float) -> Floats:
    """Sum of squared deviations from the mean of each row's pixels on one side of the split."""
    return np.where(count > 0, squares - total**2 / np.maximum(count, 1), 0.0)


def box_of(rect: Rect, shape: tuple[int, ...]) -> tuple[float, float, float, float]:
    corners: Floats = opencv().boxPoints(rect)
    x0, y0 = corners.min(axis=0)
    x1, y1 = corners.max(axis=0)
    return max(0.0, x0), max(0.0, y0), min(float(shape[1]), x1), min(float(shape[0]), y1)


def _merge(boxes: Boxes, scores: Scores, threshold: float) -> list[tuple[float, ...]]:
    """Boxes scoring above ``threshold``, overlapping ones merged into their union (the
    colour blob and the stroke blob of one plate, or a plate's halves)."""
    merged: list[list[float]] = []
    for box in boxes[scores >= threshold][np.argsort(-scores[scores >= threshold])]:
        for kept in merged:
            if overlap(kept, box) >= 0.3:
                kept[:] = [min(kept[0], box[0]), min(kept[1], box[1]), max(kept[2], box[2]), max(kept[3], box[3])]
                break
        else:
            merged.append(list(box))
    return [tuple(box) for box in merged]


def overlap(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over the smaller box's area."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return width * height / max(smaller, 1e-9)


def predict(model: dict[str, Floats], features: Floats) -> Scores:
    """Plate probability per row of ``features``: standardise, one tanh layer, sigmoid.

    The products run on OpenCV's gemm, not numpy's: numpy hands a 50 × 1196 × 32 product
    to OpenBLAS, which wakes a thread per core and lets it spin after the product is done,
    so a detection measured 37 ms of process CPU for 18 ms of work (19 ms with
    OPENBLAS_NUM_THREADS=1); cv2.gemm takes 0.5 ms on one thread."""
    cv2 = opencv()
    x = ((features - model["mean"]) / model["scale"]).astype(np.float32)
    hidden = np.tanh(cv2.gemm(x, model["w1"], 1, None, 0) + model["b1"])
    logits: Floats = (cv2.gemm(hidden, model["w2"], 1, None, 0) + model["b2"]).ravel()
    return 1 / (1 + np.exp(-logits))


@functools.cache
def _model() -> dict[str, Floats]:
    with (
        resources.files("civicreport").joinpath("data/plates.npz").open("rb") as handle,
        np.load(handle) as weights,
    ):
        return {name: weights[name] for name in weights.files}


def hog_descriptor() -> cv2.HOGDescriptor:
    """HOG over the 96×32 patch: 16 px blocks of 8 px cells, 9 unsigned orientations (1188
    values). One per detection (a few microseconds to make), so no thread shares one."""
    descriptor: cv2.HOGDescriptor = opencv().HOGDescriptor(PATCH, (16, 16), (8, 8), (8, 8), 9)
    return descriptor
