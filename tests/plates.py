"""Rendered Chinese licence plates in street scenes, with their ground-truth boxes.

Used by tests/test_plates.py, bench/plates.py and bench/train_plates.py. Plates follow GA 36
in proportion: single-row 440×140 mm (blue 蓝牌, yellow 黄牌, white police 警 plates, black
plates), the green new-energy plate 480×140 mm with 8 characters on a white-to-green
gradient, and double-row plates (large-vehicle rear plates 440×220 mm, motorcycles 220×140
mm). Each plate is drawn upright, then warped (perspective, rotation ±15°) onto a car in a
scene, which is blurred, noised, JPEG-compressed and, at night, darkened with headlight glare.

Characters come from a CJK font from Debian's packages when one is installed
(fonts-wqy-microhei, fonts-wqy-zenhei or fonts-noto-cjk); otherwise Pillow's built-in font
draws Latin stand-ins for the province character, so everything here runs anywhere.
Backgrounds are generated; ``corpus_backgrounds`` adds the shared corpus' street photos.
"""

from __future__ import annotations

import functools
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

COLOURS = ("blue", "yellow", "green", "white", "black")
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # plates use no I or O
DIGITS = "0123456789"
CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"
SCENE_SIZE = (1280, 960)
MM = 1.0  # plates are drawn at 1 px per millimetre, then scaled to their width in the scene

# background, characters, first character (police plates write 警 in red), border line
STYLES = {
    "blue": ((20, 60, 190), (245, 245, 245), None, (235, 235, 235)),
    "yellow": ((245, 190, 20), (15, 15, 15), None, (20, 20, 20)),
    "green": (None, (15, 15, 15), None, (30, 30, 30)),
    "white": ((240, 240, 236), (15, 15, 15), (200, 20, 20), (20, 20, 20)),
    "black": ((18, 18, 22), (240, 240, 240), None, (230, 230, 230)),
}


@dataclass
class Scene:
    """A rendered photo and, for each plate in it, its box (x0, y0, x1, y1 in pixels), colour
    and upright width in pixels (the size bucket)."""

    image: Image.Image
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)
    colours: list[str] = field(default_factory=list)
    widths: list[int] = field(default_factory=list)


def cjk_font_path() -> str | None:
    return next((path for path in CJK_FONTS if os.path.isfile(path)), None)


@functools.lru_cache(maxsize=256)
def _glyph_mask(char: str, font_path: str | None) -> Image.Image:
    if font_path is None and not char.isascii():
        char = LETTERS[ord(char) % len(LETTERS)]  # Latin stand-in without a CJK font
    font = ImageFont.truetype(font_path, 96) if font_path else ImageFont.load_default(size=96)
    canvas = Image.new("L", (160, 160), 0)
    ImageDraw.Draw(canvas).text((20, 10), char, fill=255, font=font)
    return canvas.crop(canvas.getbbox() or (0, 0, 1, 1))


def _glyph(char: str, box: tuple[int, int], colour, font_path: str | None) -> Image.Image:
    """One character stretched into its (width, height) box, as plate fonts are tall and
    narrow; returns an RGBA tile."""
    tile = Image.new("RGBA", box, colour)
    tile.putalpha(_glyph_mask(char, font_path).resize(box, Image.Resampling.LANCZOS))
    return tile


def plate_text(rng: np.random.Generator, colour: str) -> str:
    """Province, issuing-office letter, then 5 characters (6 on new-energy plates)."""
    count = 6 if colour == "green" else 5
    tail = "".join(rng.choice(list(LETTERS + DIGITS * 2)) for _ in range(count))
    if colour == "white":
        tail = tail[:-1] + "警"
    return rng.choice(list(PROVINCES)) + rng.choice(list(LETTERS)) + tail


def _background(colour: str, size: tuple[int, int]) -> Image.Image:
    if colour != "green":
        return Image.new("RGB", size, STYLES[colour][0])
    # new-energy plates: near white at the top fading to green at the bottom
    t = np.linspace(0, 1, size[1])[:, None, None]
    top, bottom = np.array([228, 246, 232]), np.array([60, 186, 96])
    rows = (top * (1 - t) + bottom * t).astype(np.uint8)
    return Image.fromarray(np.repeat(rows, size[0], axis=1))


def draw_plate(
    rng: np.random.Generator, colour: str, double: bool = False, font_path: str | None = None
) -> Image.Image:
    """An upright plate at 1 px/mm: the millimetre layout of GA 36 (characters 45×90 mm,
    12 mm apart, a 10 mm dot after the second), its frame line and rivets."""
    _, ink, first_ink, line = STYLES[colour]
    text = plate_text(rng, colour)
    if double:
        size = (440, 220) if rng.random() < 0.7 else (220, 140)
        plate = _background(colour, size)
        _double_row(plate, text, ink, font_path)
    else:
        size = (480, 140) if colour == "green" else (440, 140)
        plate = _background(colour, size)
        _single_row(plate, text, ink, first_ink, font_path)
    draw = ImageDraw.Draw(plate)
    draw.rounded_rectangle((4, 4, size[0] - 5, size[1] - 5), radius=10, outline=line, width=3)
    for x in (size[0] * 0.22, size[0] * 0.78):
        draw.ellipse((x - 5, 8, x + 5, 18), fill=tuple(int(v * 0.7) for v in line))
    return plate


def _single_row(plate, text, ink, first_ink, font_path):
    width, gap = (43, 9) if len(text) == 8 else (45, 12)
    start = (plate.width - (len(text) * width + (len(text) - 2) * gap + 34)) // 2
    x = start
    for index, char in enumerate(text):
        tile = _glyph(char, (width, 90), first_ink if char == "警" else ink, font_path)
        plate.paste(tile, (x, 25), tile)
        x += width + (34 if index == 1 else gap)
    dot_x = start + 2 * width + 12
    ImageDraw.Draw(plate).ellipse((dot_x, 66, dot_x + 10, 76), fill=ink)


def _double_row(plate, text, ink, font_path):
    """Two characters above, five below, laid out in the 440×220 mm grid and scaled to the
    plate (a 220×140 mm motorcycle plate squeezes it)."""
    sx, sy = plate.width / 440, plate.height / 220
    top_w, top_h, low_w, low_h, gap = int(80 * sx), int(60 * sy), int(65 * sx), int(110 * sy), int(15 * sx)
    x = plate.width // 2 - top_w - int(20 * sx)
    for char in text[:2]:
        tile = _glyph(char, (top_w, top_h), ink, font_path)
        plate.paste(tile, (x, int(15 * sy)), tile)
        x += top_w + int(40 * sx)
    tail = text[2:7]
    x = (plate.width - (len(tail) * low_w + (len(tail) - 1) * gap)) // 2
    for char in tail:
        tile = _glyph(char, (low_w, low_h), ink, font_path)
        plate.paste(tile, (x, int(90 * sy)), tile)
        x += low_w + gap


# --- scenes ------------------------------------------------------------------------------


def street_background(rng: np.random.Generator, size=SCENE_SIZE) -> Image.Image:
    """Sky, a facade with a grid of windows, a kerb and grey tarmac with grain: edges and
    colour everywhere, as in a street photo."""
    width, height = size
    t = np.linspace(0, 1, height)[:, None, None]
    sky, road = rng.integers(120, 230, 3), rng.integers(60, 140, 1).repeat(3)
    column = (sky * (1 - t) + road * t).clip(0, 255).astype(np.uint8)
    image = Image.fromarray(np.ascontiguousarray(np.broadcast_to(column, (height, width, 3))))
    draw = ImageDraw.Draw(image)
    facade_bottom = int(height * rng.uniform(0.4, 0.6))
    draw.rectangle((0, int(height * 0.05), width, facade_bottom), fill=tuple(int(v) for v in rng.integers(90, 220, 3)))
    step = int(rng.integers(40, 90))
    for x in range(step // 2, width, step):
        for y in range(int(height * 0.08), facade_bottom - step // 2, step):
            draw.rectangle((x, y, x + step // 2, y + step // 2), fill=tuple(int(v) for v in rng.integers(20, 120, 3)))
    draw.rectangle((0, facade_bottom, width, facade_bottom + 12), fill=(170, 170, 165))
    for _ in range(int(rng.integers(1, 5))):
        image.paste(*_foliage(rng, size))
    grain = rng.standard_normal((height, width, 1), dtype=np.float32) * 10
    return Image.fromarray((np.asarray(image, np.float32) + grain).clip(0, 255).astype(np.uint8))


def _foliage(rng: np.random.Generator, size) -> tuple[Image.Image, tuple[int, int], Image.Image]:
    """A tree crown, hedge or flower bed: multi-octave noise in greens, browns or blossom
    colours with hundreds of leaf and petal blobs on top (natural texture, which fools
    stroke detectors), where to paste it and its oval mask."""
    width, height = int(rng.uniform(0.1, 0.45) * size[0]), int(rng.uniform(0.1, 0.4) * size[1])
    noise = sum(
        cv2.resize(
            rng.random((max(2, height // cell), max(2, width // cell)), dtype=np.float32),
            (width, height),
            interpolation=cv2.INTER_CUBIC,
        )
        / octave
        for octave, cell in enumerate((64, 16, 4), start=1)
    )
    low, high = rng.integers(10, 90, 3), rng.integers(90, 250, 3)
    if rng.random() < 0.6:  # leaves: green dominates
        low[1], high[1] = low[1] + 30, min(255, high[1] + 40)
    texture = low + (high - low) * (noise / noise.max())[..., None]
    patch = Image.fromarray(texture.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(patch)
    blob = max(2, int(rng.uniform(0.01, 0.05) * width))
    base = (low + high) / 2
    colours = [tuple(int(v) for v in (base + rng.uniform(-80, 80, 3)).clip(0, 255)) for _ in range(3)]
    colours.append(tuple(int(v) for v in rng.integers(150, 256, 3)))  # blossom or sunlit leaves
    for _ in range(int(rng.integers(100, 600))):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        w, h = rng.uniform(0.5, 2.5) * blob, rng.uniform(0.3, 1.2) * blob
        draw.ellipse((x, y, x + w, y + h), fill=colours[int(rng.integers(0, 4))])
    patch = Image.fromarray(cv2.GaussianBlur(np.asarray(patch), (0, 0), rng.uniform(0.5, 2.5)))
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, width, height), fill=255)
    return patch, (int(rng.integers(0, size[0] - width)), int(rng.integers(0, size[1] - height))), mask


def paving(rng: np.random.Generator, size=SCENE_SIZE) -> Image.Image:
    """Coloured paving tiles with dark joints, like tests/faces.py's street."""
    width, height = size
    tile = int(rng.integers(24, 60))
    tiles = rng.integers(60, 200, size=(height // tile + 1, width // tile + 1, 3), dtype=np.uint8)
    image = Image.fromarray(tiles).resize((tiles.shape[1] * tile, tiles.shape[0] * tile), Image.Resampling.NEAREST)
    image = image.crop((0, 0, width, height))
    draw = ImageDraw.Draw(image)
    for x in range(0, width, tile):
        draw.line((x, 0, x, height), fill=(30, 30, 30), width=3)
    for y in range(0, height, tile):
        draw.line((0, y, width, y), fill=(30, 30, 30), width=3)
    return image


def draw_sign(image: Image.Image, rng: np.random.Generator, kind: str, font_path: str | None) -> None:
    """A shop sign (red or blue board, white characters; blue is the classic false plate), a
    blue street-name sign (``draw_street_sign``) or a white notice board with black text,
    somewhere in the upper two thirds."""
    if kind == "street":
        draw_street_sign(image, rng, font_path)
        return
    width = int(rng.uniform(0.15, 0.5) * image.width)
    height = int(width / rng.uniform(1.8, 6.0))
    x = int(rng.integers(0, image.width - width))
    y = int(rng.integers(0, int(image.height * 0.66) - height))
    board, ink = {
        "shop": ((20, 60, 190) if rng.random() < 0.6 else (200, 30, 30), (245, 245, 245)),
        "notice": ((238, 238, 232), (20, 20, 20)),
    }[kind]
    ImageDraw.Draw(image).rectangle((x, y, x + width, y + height), fill=board, outline=(200, 200, 200), width=2)
    count = int(rng.integers(2, 7)) if kind != "notice" else int(rng.integers(6, 12))
    text_h = int(height * 0.7)
    char_w = min(text_h, int(width * 0.9 / count))
    left = x + (width - count * char_w) // 2
    for index in range(count):
        char = rng.choice(list(SIGN_CHARACTERS))
        tile = _glyph(char, (max(1, int(char_w * 0.85)), max(1, text_h)), ink, font_path)
        image.paste(tile, (left + index * char_w, y + (height - text_h) // 4), tile)


SIGN_CHARACTERS = "中华超市饭店药房银行修车烟酒茶行便利店路街道大学"
STREET_NAMES = (
    "中山",
    "人民",
    "解放",
    "建设",
    "文化",
    "新华",
    "和平",
    "胜利",
    "青年",
    "朝阳",
    "东风",
    "长江",
    "黄河",
    "南京",
    "学府",
    "滨江",
    "古南",
    "通惠",
)


def draw_street_sign(image: Image.Image, rng: np.random.Generator, font_path: str | None) -> None:
    """A street-name sign (路牌) on its pole, high in the frame: a blue board with a white
    inner frame, 3–6 large white characters (the name, then 路, 街 or 大道), the pinyin in a
    line of capitals below and sometimes an arrow with a direction (东, 西, 南, 北). Near
    ones are far larger than a plate; far ones are plate-sized, and the same white-on-blue
    with a plate's aspect (2.6–5), which is why the detector is trained against them."""
    width = int(np.exp(rng.uniform(np.log(60), np.log(0.45 * image.width))))
    sign = Image.new(
        "RGB",
        (width, int(width / rng.uniform(2.6, 5.0))),
        tuple(int(v) for v in rng.integers((15, 50, 140), (45, 95, 205))),
    )
    _street_sign_face(sign, rng, font_path)
    top = int(rng.uniform(0.02, 0.4) * image.height)
    centre = (int(rng.integers(width // 2, image.width - width // 2 + 1)), top + sign.height // 2)
    pole = max(2, width // 30)
    ImageDraw.Draw(image).rectangle(
        (centre[0] - pole, centre[1], centre[0] + pole, image.height * 0.8), fill=(110, 110, 112)
    )
    paste_plate(image, sign, centre, width, rng, max_angle=4.0)


def _street_sign_face(sign: Image.Image, rng: np.random.Generator, font_path: str | None) -> None:
    """Frame, name, pinyin and arrow drawn onto the blank board ``sign``."""
    width, height = sign.size
    ink = (240, 240, 240)
    draw = ImageDraw.Draw(sign)
    inset = max(1, height // 14)
    draw.rectangle((inset, inset, width - 1 - inset, height - 1 - inset), outline=ink, width=max(1, height // 40))
    name = "".join(rng.choice(STREET_NAMES, int(rng.integers(1, 3)))) + str(rng.choice(["路", "街", "大道"]))
    text_h = max(1, int(height * rng.uniform(0.4, 0.52)))
    char_w = min(int(text_h * 1.1), int(width * 0.8 / len(name)))
    left = (width - len(name) * char_w) // 2
    for index, char in enumerate(name):
        tile = _glyph(char, (max(1, int(char_w * 0.8)), text_h), ink, font_path)
        sign.paste(tile, (left + index * char_w, int(height * 0.15)), tile)
    pinyin_h = max(1, int(height * 0.14))
    font = ImageFont.truetype(font_path, pinyin_h) if font_path else ImageFont.load_default(size=pinyin_h)
    draw.text(
        (width // 2, int(height * 0.78)),
        str(rng.choice(["ZHONGSHAN LU", "RENMIN LU", "JIEFANG JIE", "BINJIANG DADAO"])),
        fill=ink,
        font=font,
        anchor="mm",
    )
    if rng.random() < 0.5:
        side = int(rng.integers(0, 2))
        x = int(width * (0.1 if side == 0 else 0.9))
        tip, tail = (x - height // 8, x + height // 8)[:: 1 - 2 * side]
        y = int(height * 0.45)
        draw.line((tail, y, tip, y), fill=ink, width=max(1, height // 25))
        draw.polygon(
            [(tip, y), (tip + (tail - tip) // 2, y - height // 10), (tip + (tail - tip) // 2, y + height // 10)],
            fill=ink,
        )


def draw_car(draw: ImageDraw.ImageDraw, rng: np.random.Generator, centre_x: int, bottom: int, width: int) -> int:
    """A car seen from behind: body, rear window, lights, bumper and wheels. Returns the y
    of the plate's centre (on the bumper)."""
    height = int(width * 0.75)
    left, top = centre_x - width // 2, bottom - height
    body = tuple(int(v) for v in rng.integers(20, 235, 3))
    draw.rounded_rectangle(
        (left, top + height * 0.3, left + width, bottom - height * 0.08), radius=width // 12, fill=body
    )
    draw.rounded_rectangle(
        (left + width * 0.12, top, left + width * 0.88, top + height * 0.42),
        radius=width // 10,
        fill=tuple(int(v * 0.8) for v in body),
    )
    draw.rectangle(
        (left + width * 0.18, top + height * 0.06, left + width * 0.82, top + height * 0.36), fill=(40, 50, 60)
    )
    for x in (left + width * 0.04, left + width * 0.8):
        draw.rectangle((x, top + height * 0.45, x + width * 0.16, top + height * 0.55), fill=(200, 30, 30))
    draw.rectangle((left, bottom - height * 0.3, left + width, bottom - height * 0.1), fill=(35, 35, 38))
    for x in (left + width * 0.05, left + width * 0.75):
        draw.rectangle((x, bottom - height * 0.1, x + width * 0.2, bottom), fill=(15, 15, 15))
    return int(top + height * 0.6)


def paste_plate(
    image: Image.Image,
    plate: Image.Image,
    centre: tuple[int, int],
    width: int,
    rng: np.random.Generator,
    max_angle: float = 15.0,
) -> tuple[int, int, int, int]:
    """Warp the upright ``plate`` to ``width`` px at ``centre``, rotated up to ±``max_angle``°
    and seen at an angle (one end nearer than the other); returns its box (x0, y0, x1, y1)."""
    draft = plate.resize(
        (max(8, width * 2), max(4, round(width * 2 * plate.height / plate.width))), Image.Resampling.LANCZOS
    )
    w, h = draft.size
    scale = width / w
    angle = np.radians(rng.uniform(-max_angle, max_angle))
    yaw = rng.uniform(-0.2, 0.2)  # the far end looks shorter and narrower
    corners = (
        np.array(
            [
                [-w / 2, -h / 2 * (1 - yaw)],
                [w / 2, -h / 2 * (1 + yaw)],
                [w / 2, h / 2 * (1 + yaw)],
                [-w / 2, h / 2 * (1 - yaw)],
            ]
        )
        * scale
    )
    corners[:, 0] *= 1 - abs(yaw)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    target = corners @ rotation.T + centre
    source = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    matrix = cv2.getPerspectiveTransform(source, target.astype(np.float32))
    rgba = cv2.warpPerspective(np.asarray(draft.convert("RGBA")), matrix, image.size, flags=cv2.INTER_LINEAR)
    image.paste(Image.fromarray(rgba[..., :3]), (0, 0), Image.fromarray(rgba[..., 3]))
    x0, y0 = np.floor(target.min(axis=0)).astype(int)
    x1, y1 = np.ceil(target.max(axis=0)).astype(int)
    return max(0, x0), max(0, y0), min(image.width, x1), min(image.height, y1)


def degrade(image: Image.Image, rng: np.random.Generator, night: bool, glare_at=None) -> Image.Image:
    """Night (dark, flat, headlight glare), then lens blur, sensor noise and JPEG."""
    pixels = np.asarray(image, np.float32)
    if night:
        pixels = pixels * rng.uniform(0.2, 0.4) + rng.uniform(5, 20)
        if glare_at is not None:
            pixels += _glare(pixels.shape[:2], glare_at, rng)
    pixels += rng.standard_normal(pixels.shape[:2], dtype=np.float32)[..., None] * rng.uniform(2, 7)
    pixels = cv2.GaussianBlur(pixels.clip(0, 255).astype(np.uint8), (0, 0), rng.uniform(0.01, 1.2))
    image = Image.fromarray(pixels)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=int(rng.integers(45, 92)))
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _glare(shape, centre, rng) -> np.ndarray:
    """Two headlights beside ``centre`` (x, y, spread): bright cores fading outwards."""
    x, y, spread = (v / 8 for v in centre)  # drawn on an eighth-size grid, then enlarged
    rows, cols = np.mgrid[0 : shape[0] // 8 + 1, 0 : shape[1] // 8 + 1].astype(np.float32)
    glare = np.zeros(rows.shape, np.float32)
    for side in (-1, 1):
        d2 = (cols - (x + side * spread)) ** 2 + (rows - y) ** 2
        glare += 255 * rng.uniform(0.5, 1.0) * np.exp(-d2 / (2 * (spread * 0.35) ** 2))
    return cv2.resize(glare, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)[..., None]


def plate_scene(
    seed: int,
    colour: str,
    width: int,
    double: bool = False,
    night: bool = False,
    background: Image.Image | None = None,
    font_path: str | None = None,
) -> Scene:
    """One car with a ``colour`` plate ``width`` px wide (upright) in a street scene,
    sometimes with a shop or street sign behind it; reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    image = (background.copy() if background is not None else street_background(rng)).resize(SCENE_SIZE)
    if rng.random() < 0.5:
        draw_sign(image, rng, str(rng.choice(["shop", "street", "notice"])), font_path)
    car_w = min(int(width * rng.uniform(3.5, 4.5)), SCENE_SIZE[0] - 20)
    centre_x = int(rng.integers(car_w // 2 + 10, SCENE_SIZE[0] - car_w // 2 - 10 + 1))
    bottom = int(rng.integers(int(SCENE_SIZE[1] * 0.55) + car_w * 3 // 8, SCENE_SIZE[1] + car_w // 8 + 1))
    bottom = min(bottom, SCENE_SIZE[1] + car_w // 8)
    plate_y = draw_car(ImageDraw.Draw(image), rng, centre_x, bottom, car_w)
    plate = draw_plate(rng, colour, double, font_path)
    plate_y = min(plate_y, SCENE_SIZE[1] - width * plate.height // plate.width // 2 - 4)
    box = paste_plate(image, plate, (centre_x, plate_y), width, rng)
    image = degrade(image, rng, night, glare_at=(centre_x, plate_y, car_w * 0.4))
    return Scene(image, [box], [colour], [width])


def plate_free_scene(
    seed: int, kind: str, font_path: str | None = None, background: Image.Image | None = None
) -> Scene:
    """A scene with no plate: ``paving``, ``foliage`` (trees, hedges, flower beds), or a
    street with a car whose plate is missing and several signs of ``kind`` (``shop``,
    ``street``, ``notice``)."""
    rng = np.random.default_rng(seed)
    if kind == "paving":
        return Scene(degrade(paving(rng), rng, night=False))
    image = (background.copy() if background is not None else street_background(rng)).resize(SCENE_SIZE)
    if kind == "foliage":
        for _ in range(int(rng.integers(4, 10))):
            image.paste(*_foliage(rng, SCENE_SIZE))
        return Scene(degrade(image, rng, night=rng.random() < 0.25))
    for _ in range(int(rng.integers(2, 5))):
        draw_sign(image, rng, kind, font_path)
    car_w = int(rng.integers(200, 600))
    draw_car(
        ImageDraw.Draw(image), rng, int(rng.integers(car_w // 2, SCENE_SIZE[0] - car_w // 2)), SCENE_SIZE[1] - 10, car_w
    )
    return Scene(degrade(image, rng, night=False))


def corpus_backgrounds(limit: int = 6) -> list[Image.Image]:
    """Street photos of the shared corpus (empty without ../shared), upright, 1280 px."""
    paths = sorted((CORPUS / "gps").glob("*.jpg"))[:limit]
    images = []
    for path in paths:
        with Image.open(path) as image:
            image.draft("RGB", SCENE_SIZE)
            images.append(_upright(image).convert("RGB").resize(SCENE_SIZE))
    return images


def _upright(image: Image.Image) -> Image.Image:
    from PIL import ImageOps

    return ImageOps.exif_transpose(image)


# --- scoring -----------------------------------------------------------------------------


def _pixels(region, size) -> tuple[float, float, float, float]:
    return region.left * size[0], region.top * size[1], region.right * size[0], region.bottom * size[1]


def _intersection(a, b) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def _area(box) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


def covers(region, box, size) -> bool:
    """Whether a detected region hides the plate ``box``: IoU ≥ 0.3, or ≥ 80 % of the plate
    inside the blurred region."""
    blurred = _pixels(region, size)
    inter = _intersection(blurred, box)
    return inter >= 0.8 * _area(box) or inter >= 0.3 * (_area(blurred) + _area(box) - inter)


def on_a_plate(region, boxes, size) -> bool:
    """Whether a detected region is a true hit: it hides a plate or lies mostly on one."""
    blurred = _pixels(region, size)
    return any(covers(region, box, size) or _intersection(blurred, box) >= 0.5 * _area(blurred) for box in boxes)
