"""Memory bench: peak RSS of the app's processes while they ingest a 16 MP HEIC and a 12 MP JPEG.

    .venv/bin/python bench/memory.py [--json PATH] [--setting PRIVACY_MODE=inline]

Runs the production path on 127.0.0.1 (a fresh PostgreSQL database, a moto S3 server,
gunicorn with one worker and gunicorn.conf.py's threads, and ``flask worker``), warms
the web worker up with four small photos at once, then submits the 16 MP HEIC, the
12 MP JPEG, both at once (two threads of the same worker) and both in one report. With
PRIVACY_MODE=worker (as bench/load.py runs) the web worker decodes nothing and the
worker's privacy pass then decodes them and runs the face/plate detector; the bench waits
for it. With PRIVACY_MODE=inline the web worker does that itself. The figures are each
process's VmHWM from /proc (its peak resident set since it started), target < 300 MB.
Exits 1 when a target is missed or a submission fails.
"""

import sys
from pathlib import Path

# bench/ goes to the end of the path: its queue.py must not shadow the standard ``queue``.
sys.path[0] = str(Path(__file__).resolve().parents[1])
sys.path.append(str(Path(__file__).resolve().parent))

import argparse  # noqa: E402
import io  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from datetime import datetime  # noqa: E402

import _common as common  # noqa: E402
import requests  # noqa: E402
from PIL import Image  # noqa: E402

TARGET_MB = 300


def status_mb(pid, field):
    """``VmRSS`` / ``VmHWM`` of ``pid`` in MB (1e6 bytes) from /proc/PID/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def submit(base, photos):
    """POST one report with ``photos`` [(name, bytes)]; RuntimeError unless it answers 201."""
    body, content_type = common.multipart({"description": "内存测试", "category": "01001"}, photos)
    response = requests.post(
        base + "/api/v1/reports",
        data=body,
        timeout=300,
        headers={"Content-Type": content_type, "Idempotency-Key": str(uuid.uuid4())},
    )
    if response.status_code != 201:
        raise RuntimeError(f"submit answered {response.status_code}: {response.text[:300]}")
    return response.json()["id"]


def small_jpeg(lat, lon):
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (120, 140, 160)).save(
        out, "JPEG", exif=common.exif_bytes(lat, lon, datetime(2026, 11, 20, 9, 0))
    )
    return out.getvalue()


def measure(base, worker, points):
    """[(step, VmRSS after, VmHWM after)] for the warm-up and the four ingest steps."""
    (lat, lon), (lat2, lon2) = points[0], points[len(points) // 2]
    taken = datetime(2026, 11, 20, 9, 30)
    heic = ("IMG_0001.HEIC", common.heic_photo(common.MP16, lat, lon, taken))
    jpeg = ("IMG_0002.JPG", common.plain_jpeg(common.MP12, lat2, lon2, taken))
    steps = []

    def step(name, run):
        run()
        steps.append((name, status_mb(worker, "VmRSS"), status_mb(worker, "VmHWM")))

    # Threads of one worker load their detector classifiers on first use: warm up all of them.
    with ThreadPoolExecutor(4) as pool:
        step(
            "warm-up: 4 small photos at once",
            lambda: list(pool.map(lambda i: submit(base, [(f"small{i}.jpg", small_jpeg(lat, lon))]), range(4))),
        )
        step(f"16 MP HEIC ({len(heic[1]) / 1e6:.1f} MB)", lambda: submit(base, [heic]))
        step(f"12 MP JPEG ({len(jpeg[1]) / 1e6:.1f} MB)", lambda: submit(base, [jpeg]))
        step("both at once (two threads)", lambda: list(pool.map(lambda photo: submit(base, [photo]), [heic, jpeg])))
        step("both in one report", lambda: submit(base, [heic, jpeg]))
    return steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="app setting for this run, e.g. PRIVACY_DETECTOR=none (as CIVICREPORT_KEY)",
    )
    args = parser.parse_args()
    with (
        common.run_dir("memory") as logs,
        common.postgres_database("memory") as url,
        common.moto_s3(logs) as (endpoint, bucket, _),
    ):
        env = common.app_env(url, endpoint, bucket, {**common.BENCH_SETTINGS, **common.settings_env(args.setting)})
        common.prepare(env)
        points = common.grid_points(url)
        with common.gunicorn(env, logs, workers=1) as (base, master), common.flask_worker(env, logs) as background:
            (web,) = common.worker_pids(master.pid)
            baseline = status_mb(web, "VmRSS")
            steps = measure(base, web, points)
            pending = wait_for_privacy_pass(url, background)
            background_peak = status_mb(background.pid, "VmHWM")
    peak = max(hwm for _, _, hwm in steps)
    mode = env["CIVICREPORT_PRIVACY_MODE"]
    print(f"\nmemory: one gunicorn worker (pid {web}, privacy detection {mode}), RSS after start {baseline:.0f} MB")
    print(f"  {'step':36s} {'RSS after':>10s} {'peak so far':>12s}")
    for name, rss, hwm in steps:
        print(f"  {name:36s} {rss:7.0f} MB {hwm:9.0f} MB")
    print(f"  web worker peak RSS (VmHWM) {peak:.0f} MB   (target < {TARGET_MB} MB) {_verdict(peak)}")
    print(
        f"  flask worker peak RSS (VmHWM) {background_peak:.0f} MB, privacy pass "
        f"{'done' if not pending else f'NOT done ({pending} photos left)'}   {_verdict(background_peak)}"
    )
    common.write_json(
        args.json,
        {
            "baseline_mb": round(baseline, 1),
            "peak_rss_mb": round(peak, 1),
            "worker_peak_rss_mb": round(background_peak, 1),
            "privacy_mode": mode,
            "privacy_pending": pending,
            "steps": [{"step": n, "rss_mb": round(r, 1), "hwm_mb": round(h, 1)} for n, r, h in steps],
        },
    )
    sys.exit(0 if max(peak, background_peak) < TARGET_MB and not pending else 1)


def wait_for_privacy_pass(url, process, seconds=300):
    """Photos still pending after the worker had ``seconds`` to clear them (0 when done)."""
    deadline = time.monotonic() + seconds
    while (pending := common.pending_photos(url)) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(1)
    return pending


def _verdict(mb):
    return "ok" if mb < TARGET_MB else "MISSED"


if __name__ == "__main__":
    main()
