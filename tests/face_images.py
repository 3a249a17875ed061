"""Real faces for detector tests, from photos scikit-image ships inside its wheel (the test
extra installs it): read as files, without importing skimage.

``astronaut.png`` is NASA's portrait of Eileen Collins (public domain), ``camera.png`` the
cameraman (3/4 profile, scikit-image's licence: BSD-3-Clause). ``lfw_subset.npy`` holds 100
different people's faces, 25 px grey crops forehead to chin, from Labeled Faces in the Wild
(news photos collected by UMass Amherst for research; scikit-image ships the subset in its
wheel): many people at the size of the smallest faces the detector must find.
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


# The face box (x, y, w, h) on an LFW crop: YuNet's own box on the 100 crops enlarged 8x
# (median; 99 of 100 found) runs from 1.3 px in, 19.5 px wide, over the crop's whole height.
LFW_FACE = (1.3, 0.0, 19.5, 25.0)
LFW_PEOPLE = 100


def lfw_face(index):
    """Person ``index`` (0-99) of the LFW subset: a 25×25 grey crop, forehead to chin."""
    spec = importlib.util.find_spec("skimage")
    assert spec is not None, "scikit-image (test extra) is not installed"
    faces = np.load(Path(spec.submodule_search_locations[0]) / "data" / "lfw_subset.npy", mmap_mode="r")
    return Image.fromarray((faces[index % LFW_PEOPLE] * 255).round().astype(np.uint8))


def lit_lfw_head(index, height, rng):
    """LFW person ``index`` scaled so the face is ``height`` px tall, under a lighting drawn
    from ``rng`` (gamma 0.6-1.5, contrast 60-100 %, half of them tinted to a skin tone, the
    others left grey), with a soft oval mask; returns what ``head`` does."""
    grey = np.asarray(lfw_face(index), np.float32) / 255
    grey = 0.5 + (grey ** rng.uniform(0.6, 1.5) - 0.5) * rng.uniform(0.6, 1.0)
    tint = rng.uniform([0.85, 0.65, 0.5], [1.0, 0.8, 0.7]) if rng.random() < 0.5 else np.ones(3)
    rgb = np.clip(grey[:, :, None] * tint / tint.max() * 255, 0, 255).astype(np.uint8)
    scale = height / LFW_FACE[3]
    size = (max(1, round(25 * scale)), max(1, round(25 * scale)))
    crop = Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS)
    # The face's oval, as ``head`` pastes the other faces: the crop's corners are the news
    # photo's background, which pasted as a square would frame the face like a sticker.
    mask = Image.new("L", size, 0)
    reach = size[0] * 0.08
    ImageDraw.Draw(mask).ellipse((-reach, -reach, size[0] - 1 + reach, size[1] - 1 + reach), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(max(0.5, size[0] / 16)))
    x, y, w, h = LFW_FACE
    return crop, mask, (x * scale, y * scale, w * scale, h * scale)


def with_lfw_faces(scene, people, height, places, rng):
    """A copy of ``scene`` with LFW person ``people[i]`` pasted at ``places[i]`` (the face
    box's top left), each under its own lighting; returns the image and the face boxes."""
    image = scene.copy()
    boxes = []
    for person, (x, y) in zip(people, places, strict=True):
        crop, mask, (fx, fy, fw, fh) = lit_lfw_head(person, height, rng)
        image.paste(crop, (round(x - fx), round(y - fy)), mask)
        boxes.append((x, y, fw, fh))
    return image, boxes


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
