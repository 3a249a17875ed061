"""Train the plate classifier of civicreport/media/plates.py on rendered scenes.

Run with ``.venv/bin/python bench/train_plates.py`` (13 minutes on 2 cores at load ~8); it writes
civicreport/data/plates.npz. Deterministic: scenes come from fixed seeds (0 … N-1; the
benchmark and the tests use other seeds) and the network starts from a seeded draw.
Everything is generated (tests/plates.py, with fonts-wqy-microhei for the province
characters when installed), so no third-party data or weights go into the model.

Each scene's candidates (plates.candidates) become samples: those overlapping the plate
with IoU ≥ 0.45 are positives, those touching no plate negatives, the rest (half a plate,
a plate with its car) are left out. Plate-free scenes (paving, shop signs in red and
blue, blue street-name signs, white notice boards, trees and flower beds) add hard
negatives; blue street-name signs (tests/plates.draw_street_sign, 60 px to near half the
photo wide) come up twice as often as the other kinds, as they drew most stray regions.
"""

import argparse
import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path[0] = str(Path(__file__).resolve().parents[1])

from civicreport.media import plates  # noqa: E402
from tests.plates import COLOURS, cjk_font_path, plate_free_scene, plate_scene  # noqa: E402

OUTPUT = Path(__file__).resolve().parents[1] / "civicreport" / "data" / "plates.npz"
PLATE_SCENES = 1600
FREE_SCENES = 800
FREE_KINDS = ("paving", "shop", "street", "notice", "foliage", "street")  # street-name signs twice: most stray hits
HIDDEN = 32
L2 = 1e-3


def plate_case(seed: int):
    """The seed's colour, width (log-uniform 28–320 px), rows and lighting."""
    rng = np.random.default_rng(seed + 7_000_000)
    width = int(np.exp(rng.uniform(np.log(28), np.log(320))))
    return COLOURS[seed % len(COLOURS)], width, rng.random() < 0.2, rng.random() < 0.25


def iou(a, b) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def samples(scene):
    """Features and labels (1 plate, 0 not, -1 left out) of one scene's candidates."""
    gray, masks = plates.prepared(np.asarray(scene.image))
    rects = plates.candidates(gray, masks)
    if not rects:
        return [], []
    labels = []
    for rect in rects:
        box = plates.box_of(rect, gray.shape)
        best = max((iou(box, truth) for truth in scene.boxes), default=0.0)
        touches = any(plates.overlap(box, truth) > 0.2 for truth in scene.boxes)
        labels.append(1 if best >= 0.45 else (0 if not touches else -1))
    return list(plates.features(gray, masks, rects)), labels


def scene_samples(job):
    kind, seed = job
    font = cjk_font_path()
    if kind == "plate":
        colour, width, double, night = plate_case(seed)
        return samples(plate_scene(seed, colour, width, double, night, font_path=font))
    return samples(plate_free_scene(seed, FREE_KINDS[seed % len(FREE_KINDS)], font_path=font))


def dataset(plate_scenes: int, free_scenes: int):
    jobs = [("plate", seed) for seed in range(plate_scenes)] + [("free", seed) for seed in range(free_scenes)]
    with Pool(2) as pool:
        results = pool.map(scene_samples, jobs, chunksize=20)
    features = np.array([row for rows, _ in results for row in rows], np.float32)
    labels = np.array([label for _, labels in results for label in labels])
    keep = labels >= 0
    return features[keep], labels[keep].astype(np.float32)


def train(features, labels, hidden=HIDDEN, steps=800, seed=19, l2=L2):
    """One tanh layer and a sigmoid, full-batch Adam on class-balanced log loss with L2."""
    rng = np.random.default_rng(seed)
    mean, scale = features.mean(axis=0), features.std(axis=0) + 1e-3
    x = ((features - mean) / scale).astype(np.float32)
    weight = np.where(labels == 1, 0.5 / labels.mean(), 0.5 / (1 - labels.mean())).astype(np.float32)
    params = {
        "w1": rng.normal(0, 1 / np.sqrt(x.shape[1]), (x.shape[1], hidden)),
        "b1": np.zeros(hidden),
        "w2": rng.normal(0, 1 / np.sqrt(hidden), (hidden, 1)),
        "b2": np.zeros(1),
    }
    params = {key: value.astype(np.float32) for key, value in params.items()}
    moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in params.items()}
    for step in range(1, steps + 1):
        hidden_out = np.tanh(x @ params["w1"] + params["b1"])
        p = 1 / (1 + np.exp(-(hidden_out @ params["w2"] + params["b2"]).ravel()))
        delta = (weight * (p - labels) / len(labels))[:, None]
        back = (delta @ params["w2"].T) * (1 - hidden_out**2)
        grads = {
            "w2": hidden_out.T @ delta + l2 * params["w2"],
            "b2": delta.sum(axis=0),
            "w1": x.T @ back + l2 * params["w1"],
            "b1": back.sum(axis=0),
        }
        for key, grad in grads.items():
            m, v = moments[key]
            m[:] = 0.9 * m + 0.1 * grad
            v[:] = 0.999 * v + 0.001 * grad**2
            params[key] -= 0.01 * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return {"mean": mean, "scale": scale, **params}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", help="keep the rendered samples in this .npz and reuse them")
    args = parser.parse_args()
    if args.cache and Path(args.cache).is_file():
        with np.load(args.cache) as cached:
            features, labels = cached["features"], cached["labels"]
    else:
        features, labels = dataset(PLATE_SCENES, FREE_SCENES)
        if args.cache:
            np.savez(args.cache, features=features, labels=labels)
    print(f"{len(labels)} samples, {int(labels.sum())} plates, {features.shape[1]} features")
    model = {k: v.astype(np.float32) for k, v in train(features, labels).items()}
    p = plates.predict(model, features)
    print(
        f"training set: plates kept {np.mean(p[labels == 1] >= 0.5):.3f}, "
        f"others rejected {np.mean(p[labels == 0] < 0.5):.4f}"
    )
    np.savez_compressed(OUTPUT, **model)
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size // 1024} kB)")


if __name__ == "__main__":
    main()
