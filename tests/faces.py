"""Generated street scenes with a face the Haar cascades find, and a measure of blur."""

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SIZE = (1600, 1200)
FACE = (640, 300, 320, 400)  # x, y, width, height of the drawn head on SIZE
BACKGROUND = (80, 820, 400, 300)  # a patch of paving far from the face


def _draw_face(draw, x, y, w, h):
    """Skin oval, dark hair cap, brows, eyes, a lit nose and a mouth: the light/dark
    bands (eyes darker than cheeks, bridge lighter than eyes) that Haar features test."""
    draw.ellipse((x, y, x + w, y + h), fill=(222, 190, 160))
    draw.chord((x - w * 0.03, y - h * 0.08, x + w * 1.03, y + h * 0.55), 180, 360, fill=(40, 30, 25))
    eye_y = y + h * 0.42
    for cx in (x + w * 0.3, x + w * 0.7):
        draw.ellipse((cx - w * 0.12, eye_y - h * 0.045, cx + w * 0.12, eye_y + h * 0.045), fill=(30, 25, 25))
        draw.rectangle((cx - w * 0.15, eye_y - h * 0.12, cx + w * 0.15, eye_y - h * 0.09), fill=(50, 40, 35))
    draw.polygon(
        [(x + w * 0.5, eye_y), (x + w * 0.43, y + h * 0.66), (x + w * 0.57, y + h * 0.66)], fill=(200, 165, 140)
    )
    draw.ellipse((x + w * 0.3, y + h * 0.74, x + w * 0.7, y + h * 0.82), fill=(120, 40, 40))


def street_scene(size=SIZE, face=FACE, seed=6):
    """Coloured paving tiles with dark joints (texture everywhere) and, if ``face``, a head
    on a plain grey patch (a wall behind the person)."""
    width, height = size
    rng = np.random.default_rng(seed)
    tiles = rng.integers(60, 200, size=(height // 40 + 1, width // 40 + 1, 3), dtype=np.uint8)
    image = Image.fromarray(tiles).resize((tiles.shape[1] * 40, tiles.shape[0] * 40), Image.Resampling.NEAREST)
    image = image.crop((0, 0, width, height))
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 40):
        draw.line((x, 0, x, height), fill=(30, 30, 30), width=3)
    for y in range(0, height, 40):
        draw.line((0, y, width, y), fill=(30, 30, 30), width=3)
    if face:
        x, y, w, h = face
        draw.rectangle((x - w * 0.2, y - h * 0.1, x + w * 1.2, y + h * 1.15), fill=(110, 110, 115))
        _draw_face(draw, *face)
    return image.filter(ImageFilter.GaussianBlur(2))


def jpeg(image, **kwargs):
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, **kwargs)
    return out.getvalue()


def face_photo(size=SIZE, face=FACE, seed=6):
    return jpeg(street_scene(size, face, seed))


def scaled(box, from_size, to_size):
    """A pixel box (x, y, w, h) on ``from_size`` as (left, top, right, bottom) on ``to_size``."""
    sx, sy = to_size[0] / from_size[0], to_size[1] / from_size[1]
    x, y, w, h = box
    return round(x * sx), round(y * sy), round((x + w) * sx), round((y + h) * sy)


def edge_energy(image, box):
    """Mean absolute difference between neighbouring grey pixels inside ``box``: detail."""
    grey = np.asarray(image.convert("L").crop(box), dtype=np.float32)
    return float(np.abs(np.diff(grey, axis=0)).mean() + np.abs(np.diff(grey, axis=1)).mean())


def open_image(data):
    return Image.open(io.BytesIO(data))
