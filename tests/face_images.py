"""Real faces for detector tests, from photos scikit-image ships inside its wheel (the test
extra installs it): read as files, without importing skimage.

``astronaut.png`` is NASA's portrait of Eileen Collins (public domain), ``camera.png`` the
cameraman (3/4 profile, scikit-image's licence: BSD-3-Clause).
"""

import ctypes
import importlib.util
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# Face boxes (x, y, w, h), eyebrows to chin, on the shipped photos.
HEADS = {
    "astronaut": ("astronaut.png", (178, 63, 89, 112)),
    "cameraman": ("camera.png", (195, 113, 60, 80)),
}
# Photos and textures from the same folder, none showing a face (not motorcycle_left.png:
# YuNet scores its round headlight 0.75, a false positive the threshold keeps).
NO_FACES = ("brick.png", "gravel.png", "grass.png", "coffee.png", "rocket.jpg")


# libfacedetection's C++ entry point: int* facedetect_cnn(unsigned char* result_buffer,
#     unsigned char* bgr_pixels, int width, int height, int step); 0x20000 bytes of results:
# a count, then 16 shorts per face (score x 100, x, y, w, h, landmarks, padding).
LIBRARY_ENTRY = "_Z14facedetect_cnnPhS_iii"


def library_faces(library, bgr):
    """(n, 5) ints from the library's own C code: score x 100, x, y, w, h — what
    civicreport/media/faces.py's cv2.dnn port must reproduce."""
    function = getattr(ctypes.CDLL(library), LIBRARY_ENTRY)
    function.restype = ctypes.POINTER(ctypes.c_int)
    function.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]
    results = ctypes.create_string_buffer(0x20000)
    count = function(results, bgr.ctypes.data, bgr.shape[1], bgr.shape[0], bgr.strides[0])[0]
    return np.frombuffer(results, np.int16, count * 16, 4).reshape(count, 16)[:, :5].astype(int)


def shipped(filename):
    """A photo from scikit-image's data folder, as RGB."""
    spec = importlib.util.find_spec("skimage")
    assert spec is not None, "scikit-image (test extra) is not installed"
    return Image.open(Path(spec.submodule_search_locations[0]) / "data" / filename).convert("RGB")


def head(name, height, mirrored=False):
    """The head of ``name`` scaled so its face is ``height`` px tall, with a soft oval mask
    (no hard edge for a detector to lock on to) and the face box (x, y, w, h) in the crop."""
    filename, (x, y, w, h) = HEADS[name]
    photo = shipped(filename)
    if mirrored:
        photo, x = photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT), photo.width - x - w
    mx, my = w * 0.45, h * 0.45
    box = (
        max(0, round(x - mx)),
        max(0, round(y - my)),
        min(photo.width, round(x + w + mx)),
        min(photo.height, round(y + h + my)),
    )
    scale = height / h
    size = (max(1, round((box[2] - box[0]) * scale)), max(1, round((box[3] - box[1]) * scale)))
    crop = photo.crop(box).resize(size, Image.Resampling.LANCZOS)
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).ellipse((0, 0, size[0] - 1, size[1] - 1), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(max(1.0, size[0] / 12)))
    return crop, mask, ((x - box[0]) * scale, (y - box[1]) * scale, w * scale, h * scale)


def with_faces(scene, name, height, places, mirrored=False):
    """A copy of ``scene`` with the head pasted at each (x, y) of ``places`` (the face box's
    top left) and the pasted face boxes (x, y, w, h)."""
    image = scene.copy()
    crop, mask, (fx, fy, fw, fh) = head(name, height, mirrored)
    boxes = []
    for x, y in places:
        image.paste(crop, (round(x - fx), round(y - fy)), mask)
        boxes.append((x, y, fw, fh))
    return image, boxes


def covers(region, box, size, share=0.8):
    """Whether ``region`` covers at least ``share`` of the pixel box (x, y, w, h) on ``size``."""
    left, top, right, bottom = region.pixels(size)
    x, y, w, h = box
    overlap = max(0, min(right, x + w) - max(left, x)) * max(0, min(bottom, y + h) - max(top, y))
    return overlap >= share * w * h
