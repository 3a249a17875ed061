"""Recall and precision of the plate detector by colour × plate width, and its CPU per photo.

Run with ``.venv/bin/python bench/plates.py [--quick]``. Scenes are rendered by
tests/plates.py from seeds the training (bench/train_plates.py: seeds below 10^6) never
saw: 1280×960 photos, one car with a plate of each colour, widths drawn evenly in each
bucket, a fifth of them double-row, a quarter at night; half on generated streets and, when
../shared is present, half on the corpus' street photos (backgrounds the model never saw).
Plate-free scenes (paving, shop signs, street-name signs, notice boards, foliage) count for
precision; the regions found on them are printed by kind. Then the five real CCPD photos
of ../shared/data/plates, when present.

A plate counts as found when a returned region has IoU ≥ 0.3 with it or covers ≥ 80 % of
it; a region is a true hit when it finds a plate or lies mostly on one.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path[0] = str(Path(__file__).resolve().parents[1])

from civicreport.media.plates import PlateDetector  # noqa: E402
from tests.plates import (  # noqa: E402
    COLOURS,
    cjk_font_path,
    corpus_backgrounds,
    covers,
    on_a_plate,
    plate_free_scene,
    plate_scene,
)

BUCKETS = ((30, 60), (60, 120), (120, 300))
FREE_KINDS = ("paving", "shop", "street", "notice", "foliage")
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SEED = 1_000_000


class Tally:
    def __init__(self):
        self.plates = self.found = self.hits = self.true_hits = 0

    def add(self, scene, regions) -> None:
        size = scene.image.size
        self.plates += len(scene.boxes)
        self.found += sum(any(covers(r, box, size) for r in regions) for box in scene.boxes)
        self.hits += len(regions)
        self.true_hits += sum(on_a_plate(r, scene.boxes, size) for r in regions)

    def row(self) -> str:
        recall = f"{self.found / self.plates:6.1%} ({self.found:3d}/{self.plates:3d})" if self.plates else " " * 17
        precision = f"{self.true_hits / self.hits:6.1%}" if self.hits else "     -"
        return f"{recall}  {precision} of {self.hits:3d}"


def timed_detect(detector, image, cpu_ms):
    start = time.process_time()
    regions = detector.detect(image)
    cpu_ms.append((time.process_time() - start) * 1000)
    return regions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="10 scenes per cell instead of 40 (30 plate-free scenes instead of 120)"
    )
    per_cell = 10 if parser.parse_args().quick else 40
    detector, font, backgrounds = PlateDetector(), cjk_font_path(), corpus_backgrounds()
    print(f"font: {font or 'Pillow built-in (no CJK font installed)'}; corpus backgrounds: {len(backgrounds)}")
    cpu_ms, total, by_bucket = [], Tally(), {b: Tally() for b in BUCKETS}
    print(f"{'colour':8s} {'width px':9s} {'recall':>17s}  {'precision':>16s}")
    for colour_index, colour in enumerate(COLOURS):
        for bucket in BUCKETS:
            cell = Tally()
            for index in range(per_cell):
                seed = SEED + colour_index * 10_000 + bucket[0] * 100 + index
                rng = np.random.default_rng(seed)
                width = int(rng.uniform(*bucket))
                background = backgrounds[index % len(backgrounds)] if backgrounds and index % 2 else None
                scene = plate_scene(seed, colour, width, rng.random() < 0.2, rng.random() < 0.25, background, font)
                regions = timed_detect(detector, scene.image, cpu_ms)
                for tally in (cell, total, by_bucket[bucket]):
                    tally.add(scene, regions)
            print(f"{colour:8s} {bucket[0]:3d}–{bucket[1]:<4d} {cell.row()}")
    for bucket, tally in by_bucket.items():
        print(f"{'all':8s} {bucket[0]:3d}–{bucket[1]:<4d} {tally.row()}")
    free = {kind: Tally() for kind in FREE_KINDS}
    for index in range(per_cell * 3):
        kind = FREE_KINDS[index % len(FREE_KINDS)]
        scene = plate_free_scene(SEED + index, kind, font)
        free[kind].add(scene, timed_detect(detector, scene.image, cpu_ms))
    total.hits += sum(tally.hits for tally in free.values())
    print(
        f"plate-free scenes: {per_cell * 3}, regions found on them: "
        + ", ".join(f"{kind} {tally.hits}" for kind, tally in free.items())
    )
    print(f"{'all':8s} {'':9s} {total.row()}")
    print(
        f"CPU per 1280×960 photo: median {statistics.median(cpu_ms):.1f} ms, "
        f"90th percentile {np.percentile(cpu_ms, 90):.1f} ms, over {len(cpu_ms)} photos"
    )
    real_photos(detector)


def real_photos(detector) -> None:
    """The CCPD demo photos: whether each plate is found, and the regions found elsewhere."""
    manifest = SHARED / "manifest.json"
    if not manifest.is_file():
        return
    for entry in json.loads(manifest.read_text()):
        if "plate" not in entry:
            continue
        image = Image.open(SHARED / entry["dest"]).convert("RGB")
        start = time.process_time()
        regions = detector.detect(image)
        ms = (time.process_time() - start) * 1000
        box = entry["plate"]["box_xyxy"]
        found = any(covers(r, box, image.size) for r in regions)
        print(f"{entry['dest']}: plate {'found' if found else 'MISSED'}, {len(regions)} region(s), {ms:.0f} ms")


if __name__ == "__main__":
    main()
