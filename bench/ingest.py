"""Ingest benchmark: our process_photo against a naive Pillow pipeline and the decode floor.

Run with ``.venv/bin/python bench/ingest.py [--json PATH]``. Generates a noisy 12 MP JPEG with EXIF
orientation 6 and GPS, then times four pipelines in interleaved rounds and prints medians.
"""

import argparse
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from civicreport.media.images import Limits, process_photo  # noqa: E402

SIZE = (4000, 3000)
ROUNDS = 7
LIMITS = Limits()


def noisy_photo() -> bytes:
    """A 4000x3000 JPEG (quality 90) of gradients, blotches and grain, EXIF orientation 6 + GPS."""
    width, height = SIZE
    gradient = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").rotate(90).resize(SIZE),
            Image.linear_gradient("L").resize(SIZE),
            Image.radial_gradient("L").resize(SIZE),
        ),
    )
    blotches = Image.frombytes("RGB", (width // 8, height // 8), os.urandom(width * height * 3 // 64))
    grain = Image.frombytes("RGB", SIZE, os.urandom(width * height * 3))
    texture = Image.blend(blotches.resize(SIZE, Image.Resampling.BICUBIC), grain, 0.25)
    photo = Image.blend(gradient, texture, 0.45)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8825).update({1: "N", 2: (29.0, 1.0, 41.1), 3: "E", 4: (106.0, 39.0, 5.1)})
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def ours(data: bytes) -> None:
    process_photo(data, LIMITS)


def naive(data: bytes) -> None:
    """Full decode, exif_transpose, two thumbnail copies, two JPEG encodes."""
    im = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    for long_px in (LIMITS.display_px, LIMITS.thumb_px):
        copy = im.copy()
        copy.thumbnail((long_px, long_px))
        copy.save(io.BytesIO(), "JPEG", quality=LIMITS.jpeg_quality)


def _drafted(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    scale = LIMITS.display_px / max(im.size)
    im.draft("RGB", (int(im.width * scale), int(im.height * scale)))
    im.load()
    return im


def floor(data: bytes) -> None:
    """The least any pipeline must do: open + reduced-scale draft decode."""
    _drafted(data)


def floor_plus_derivatives(data: bytes) -> None:
    """Floor plus the same two resizes and encodes as ours, no metadata or orientation work."""
    im = _drafted(data)
    scale = LIMITS.display_px / max(SIZE)
    size = (round(SIZE[0] * scale), round(SIZE[1] * scale))
    display = im.resize(size, Image.Resampling.BOX, reducing_gap=2.0)
    thumb = display.resize((size[0] // 4, size[1] // 4), Image.Resampling.BOX, reducing_gap=2.0)
    display.save(io.BytesIO(), "JPEG", quality=LIMITS.jpeg_quality)
    thumb.save(io.BytesIO(), "JPEG", quality=LIMITS.jpeg_quality)


PIPELINES = {
    "ours (process_photo)": ours,
    "naive Pillow": naive,
    "floor: open+draft+load": floor,
    "floor + resizes + encodes": floor_plus_derivatives,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="also write the medians and ratios to this file")
    args = parser.parse_args()
    data = noisy_photo()
    print(f"input: {SIZE[0]}x{SIZE[1]} JPEG, {len(data) / 1e6:.2f} MB, EXIF orientation 6 + GPS")
    for run in PIPELINES.values():  # warm-up
        run(data)
    samples = {name: [] for name in PIPELINES}
    for _ in range(ROUNDS):
        for name, run in PIPELINES.items():
            start = time.perf_counter()
            run(data)
            samples[name].append((time.perf_counter() - start) * 1000)
    medians = {name: statistics.median(ms) for name, ms in samples.items()}
    for name, ms in medians.items():
        print(f"{name:28s} median {ms:7.1f} ms   (min {min(samples[name]):6.1f}, max {max(samples[name]):6.1f})")
    ours_ms = medians["ours (process_photo)"]
    print(f"naive/ours  = {medians['naive Pillow'] / ours_ms:.2f}x   (target >= 3x)")
    print(f"ours/floor  = {ours_ms / medians['floor: open+draft+load']:.2f}x   (target <= 1.3x)")
    print(f"ours/(floor + derivatives) = {ours_ms / medians['floor + resizes + encodes']:.2f}x")
    if args.json:
        figures = {
            "median_ms": {name: round(ms, 1) for name, ms in medians.items()},
            "naive_over_ours": round(medians["naive Pillow"] / ours_ms, 2),
            "ours_over_floor": round(ours_ms / medians["floor: open+draft+load"], 2),
        }
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
