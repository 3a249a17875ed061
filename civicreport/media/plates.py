"""Chinese licence plates: candidate regions from colour and stroke edges, checked by a
tiny classifier trained here on rendered plates.

No offline Chinese plate model exists on PyPI (HyperLPR3 and fast-alpr download theirs at
run time), so this one is built from parts the project has: OpenCV and numpy.

1. Candidates. Plates are boxes of evenly spaced vertical strokes (7 or 8 characters) on a
   plain ground. Two sources: blobs of plate colour in HSV (blue 蓝牌, yellow 黄牌, green
   new-energy 绿牌), and blobs where the horizontal gradient is strong after a horizontal
   closing joins the characters (any colour, so also white police 警 and black plates, and
   plates washed out at night). Each blob's rotated rectangle must be plate-shaped: about
   1.3–7 times as wide as high (single-row 440×140 mm ≈ 3.1, new energy 480×140 ≈ 3.4,
   double-row 440×220 ≈ 2.0 and 220×140 ≈ 1.6, all squeezed or stretched by the angle).
2. Check. Each candidate is rotated upright and resized to a 96×32 grey patch; a histogram
   of oriented gradients of the patch (polarity-blind: light-on-dark and dark-on-light
   plates look alike), the share of each plate colour, the aspect and how two-toned the
   patch is feed a small neural network (32 tanh units), trained by bench/train_plates.py
   on rendered plates and on plate-free streets, shop and street-name signs, notice boards
   and foliage (weights: civicreport/data/plates.npz, 148 kB, made here, no third-party
   data). A score of 0.8 is the cut: on 100 held-out scenes with plates 60–300 px wide,
   half on real street photos, it found 97 % with 94 % of its regions on a plate (at 0.5:
   98 %, 91 %; at 0.9: 95 %, 95 %); bench/plates.py over 400 such plates and 80 plate-free
   scenes: 96.0 % found, 96.4 % of regions on a plate.
3. Overlapping hits are merged and each box is grown by a margin before blurring.
"""
from __future__ import annotations

import functools
from importlib import resources

import numpy as np
from PIL import Image

from civicreport.media.privacy import Region, opencv

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
        rgb = np.asarray(image.convert("RGB"))
        height, width = rgb.shape[:2]
        boxes, scores = self.scored_boxes(rgb)
        keep = _merge(boxes, scores, self.threshold)
        return [Region(x0 / width, y0 / height, x1 / width, y1 / height, "plate").expanded(self.margin)
                for x0, y0, x1, y1 in keep]

    def scored_boxes(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every candidate's axis-aligned box (x0, y0, x1, y1) and its plate probability."""
        cv2 = opencv()
        hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        masks = colour_masks(hsv)
        rects = candidates(gray, masks)
        if not rects:
            return np.zeros((0, 4)), np.zeros(0)
        hog = hog_descriptor()
        features = np.stack([features_of(gray, masks, rect, hog) for rect in rects])
        boxes = np.array([box_of(rect, gray.shape) for rect in rects], dtype=float)
        return boxes, predict(self.model, features)


def colour_masks(hsv: np.ndarray) -> dict[str, np.ndarray]:
    """Where each plate ground colour is (uint8 0/255 masks)."""
    cv2 = opencv()
    return {name: cv2.inRange(hsv, (low, MIN_SATURATION[name], MIN_VALUE), (high, 255, 255))
            for name, (low, high) in HUES.items()}


def candidates(gray: np.ndarray, masks: dict[str, np.ndarray]) -> list:
    """Rotated rectangles ((cx, cy), (w, h), angle) of plate-shaped blobs: colour blobs, and
    stroke blobs at full and half resolution (the closing then joins characters of plates
    from ~30 to ~300 px wide) on a contrast-levelled copy (CLAHE: a box around a rendered
    plate 60–300 px wide was among the candidates for 96.5 % of plates instead of 94 %,
    the misses being night and double-row plates)."""
    cv2 = opencv()
    rects = []
    for mask in masks.values():
        rects += _blobs(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)), 1.0)
    levelled = cv2.createCLAHE(2.0, (8, 8)).apply(gray)  # night plates and glare: local contrast
    rects += _blobs(_strokes(levelled), 1.0)
    rects += _blobs(_strokes(cv2.resize(levelled, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)), 2.0)
    return rects[:MAX_CANDIDATES]


def _strokes(gray: np.ndarray) -> np.ndarray:
    """Strong horizontal gradients (character strokes are vertical), joined sideways."""
    cv2 = opencv()
    edges = np.abs(cv2.Sobel(gray, cv2.CV_16S, 1, 0, ksize=3))
    edges = cv2.convertScaleAbs(edges, alpha=0.25)
    _, binary = cv2.threshold(edges, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    binary = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (15, 3)))
    return cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 5)))


def _blobs(mask: np.ndarray, scale: float) -> list:
    """The plate-shaped outer contours of ``mask`` as rotated rectangles, upright within
    ±30°, in the coordinates of a mask ``scale`` times larger."""
    cv2 = opencv()
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    rects = []
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


def features_of(gray: np.ndarray, masks: dict[str, np.ndarray], rect, hog) -> np.ndarray:
    """HOG of the upright 96×32 patch, the share of each plate colour in it, the aspect,
    the contrast and the two-tone measures."""
    cv2 = opencv()
    (cx, cy), (w, h), angle = rect
    pad_w, pad_h = w * 1.1 + 4, h * 1.2 + 4  # a little of the frame around the characters
    matrix = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    matrix[:, 2] += (pad_w / 2 - cx, pad_h / 2 - cy)
    matrix = np.diag([PATCH[0] / pad_w, PATCH[1] / pad_h]) @ matrix
    patch = cv2.warpAffine(gray, matrix, PATCH, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    shares = [cv2.warpAffine(m, matrix, PATCH, flags=cv2.INTER_NEAREST).mean() / 255 for m in masks.values()]
    gradients = hog.compute(cv2.equalizeHist(patch)).ravel()
    return np.concatenate([gradients, shares, [np.log(w / h), patch.std() / 64], _two_tone(patch)]).astype(np.float32)


def _two_tone(patch: np.ndarray) -> list[float]:
    """What sets characters on a plate apart from foliage or gravel: two tones (the share
    of the grey variance an Otsu split explains), the minority tone's share, and how often
    the middle rows switch tone (about 14–16 times across 7 characters)."""
    cv2 = opencv()
    _, ink = cv2.threshold(patch, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    values = patch.astype(np.float32)
    spread = values.var() + 1e-6
    within = sum(values[ink == side].var() * np.mean(ink == side) for side in (0, 1) if np.any(ink == side))
    middle = ink[PATCH[1] // 3: 2 * PATCH[1] // 3]
    switches = np.abs(np.diff(middle.astype(np.int8), axis=1)).sum(axis=1).mean()
    return [1 - within / spread, min(ink.mean(), 1 - ink.mean()), switches / 16]


def box_of(rect, shape) -> tuple[float, float, float, float]:
    corners = opencv().boxPoints(rect)
    x0, y0 = corners.min(axis=0)
    x1, y1 = corners.max(axis=0)
    return max(0.0, x0), max(0.0, y0), min(float(shape[1]), x1), min(float(shape[0]), y1)


def _merge(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[tuple[float, ...]]:
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


def overlap(a, b) -> float:
    """Intersection over the smaller box's area."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return width * height / max(smaller, 1e-9)


def predict(model: dict[str, np.ndarray], features: np.ndarray) -> np.ndarray:
    """Plate probability per row of ``features``: standardise, one tanh layer, sigmoid."""
    x = (features - model["mean"]) / model["scale"]
    hidden = np.tanh(x @ model["w1"] + model["b1"])
    return 1 / (1 + np.exp(-(hidden @ model["w2"] + model["b2"]).ravel()))


@functools.cache
def _model() -> dict[str, np.ndarray]:
    with resources.files("civicreport").joinpath("data/plates.npz").open("rb") as handle:
        with np.load(handle) as weights:
            return {name: weights[name] for name in weights.files}


def hog_descriptor():
    """HOG over the 96×32 patch: 16 px blocks of 8 px cells, 9 unsigned orientations (1188
    values). One per detection (a few microseconds to make), so no thread shares one."""
    return opencv().HOGDescriptor(PATCH, (16, 16), (8, 8), (8, 8), 9)

