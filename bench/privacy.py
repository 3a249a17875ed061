"""What face/plate blurring adds to ingest: process_photo with the OpenCV detector against
the same pipeline with the null detector, side by side: wall time, and CPU time summed
over OpenCV's threads, which says more than wall time on a busy machine.

Run with ``.venv/bin/python bench/privacy.py``. Inputs: the generated noisy 12 MP JPEG of
bench/ingest.py (a worst case: texture everywhere keeps the cascades busy) and, when
../shared is present, real phone photos. Rounds are interleaved; medians are printed.
"""
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import noisy_photo  # noqa: E402

from civicreport.media.images import Limits, process_photo  # noqa: E402
from civicreport.media.privacy import NullDetector, OpenCVDetector  # noqa: E402

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


if __name__ == "__main__":
    main()
