"""What face/plate blurring adds to ingest: process_photo with the OpenCV detector against
the same pipeline with the null detector, side by side: wall time, and CPU time summed
over OpenCV's threads, which says more than wall time on a busy machine.

Run with ``.venv/bin/python bench/privacy.py``. Inputs: the generated noisy 12 MP JPEG of
bench/ingest.py (a worst case: texture everywhere keeps the cascades busy) and, when
../shared is present, real phone photos. Rounds are interleaved; medians are printed.

Then PRIVACY_MODE: the CPU one photo upload costs (the intake service: pipeline, local
storage, SQLite row) inline and in worker mode, and the worker's privacy pass over the
photos uploaded in worker mode: photos per second, and per core from its CPU time.
"""
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# The repository first, bench/ last: bench/queue.py must not shadow the standard library's queue.
sys.path[0] = str(Path(__file__).resolve().parents[1])
sys.path.append(str(Path(__file__).resolve().parent))

from ingest import noisy_photo  # noqa: E402
from PIL import Image  # noqa: E402

from civicreport import create_app  # noqa: E402
from civicreport.media.images import Limits, process_photo  # noqa: E402
from civicreport.media.privacy import NullDetector, OpenCVDetector  # noqa: E402
from civicreport.services import intake, privacy_pass  # noqa: E402
from civicreport.services.maintenance import upgrade_schema  # noqa: E402

ROUNDS = 5
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"
REAL = ["gps/iphone6_gps_alt_madrid_3264x2448.jpg", "heic/nokia83_hdr_gps_alt_4608x3456.heif"]


def inputs():
    yield "generated 4000x3000 JPEG (noise)", noisy_photo()
    for name in REAL:
        if (CORPUS / name).is_file():
            yield name.split("/")[-1], (CORPUS / name).read_bytes()


def main() -> None:
    detect_px = int(os.environ.get("CIVICREPORT_PRIVACY_DETECT_PX", 640))
    pipelines = {"without": NullDetector(), "with": OpenCVDetector(detect_px)}
    print(f"detector: OpenCV Haar (frontal alt2, profile both ways, plates) on a {detect_px} px copy; "
          f"{ROUNDS} rounds; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'':40s} {'wall ms':^20s}   {'CPU ms, all threads':^20s}")
    print(f"{'input':40s} {'without':>6s} {'with':>6s} {'added':>6s}   {'without':>6s} {'with':>6s} {'added':>6s}")
    for label, data in inputs():
        for detector in pipelines.values():  # warm-up: cascades load, caches fill
            process_photo(data, Limits(), detector=detector)
        wall = {name: [] for name in pipelines}
        cpu = {name: [] for name in pipelines}
        for _ in range(ROUNDS):
            for name, detector in pipelines.items():
                start, start_cpu = time.perf_counter(), time.process_time()
                process_photo(data, Limits(), detector=detector)
                wall[name].append((time.perf_counter() - start) * 1000)
                cpu[name].append((time.process_time() - start_cpu) * 1000)
        row = [statistics.median(samples[name]) for samples in (wall, cpu) for name in ("without", "with")]
        print(f"{label:40s} {row[0]:6.0f} {row[1]:6.0f} {row[1] - row[0]:+6.0f}   "
              f"{row[2]:6.0f} {row[3]:6.0f} {row[3] - row[2]:+6.0f}")


def timed(fn):
    start, start_cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - start_cpu


def modes() -> None:
    """Upload CPU per photo inline vs worker mode, then the privacy pass's throughput.

    Every upload is a different photo (noise), so no object is shared between rounds.
    """
    with tempfile.TemporaryDirectory() as root:
        app = create_app({"DATABASE_URL": f"sqlite:///{root}/bench.sqlite3", "MEDIA_ROOT": f"{root}/media",
                          "STORAGE": "local"})
        with app.app_context():
            upgrade_schema()
            # The detector's first call loads the cascades.
            app.extensions["civicreport.privacy_detector"].detect(Image.new("RGB", (640, 480), "grey"))
            upload = {"inline": [], "worker": []}
            for _ in range(ROUNDS):
                for mode in upload:
                    app.config["PRIVACY_MODE"] = mode
                    data = noisy_photo()
                    with app.test_request_context():
                        upload[mode].append(timed(lambda data=data: intake.upload_media(data, None)))
            wall, cpu = timed(lambda: privacy_pass.clear_pending(limit=ROUNDS))
    inline, worker = ([statistics.median(t[i] for t in upload[m]) * 1000 for i in (0, 1)] for m in upload)
    print(f"\nPRIVACY_MODE, generated 4000x3000 JPEG per upload ({ROUNDS} uploads each, medians):")
    print(f"  upload, inline:  {inline[1]:5.0f} ms CPU ({inline[0]:5.0f} ms wall)")
    print(f"  upload, worker:  {worker[1]:5.0f} ms CPU ({worker[0]:5.0f} ms wall)  "
          f"{inline[1] / worker[1]:.1f}x less CPU in the request")
    print(f"  privacy pass:    {ROUNDS} photos in {wall:.2f} s = {ROUNDS / wall:.1f} photos/s; "
          f"{cpu / ROUNDS * 1000:.0f} ms CPU per photo = {ROUNDS / cpu:.1f} photos/s per core")


if __name__ == "__main__":
    main()
    modes()
