"""All benchmarks and one table of figures against the issues' targets (``make bench``).

    .venv/bin/python bench/summary.py [--cases 1000000] [--submissions 300] [--out DIR]
    .venv/bin/python bench/summary.py --from DIR      # the table of an earlier run only

Runs bench/ingest.py, bench/queue.py (on a fresh PostgreSQL database with ``--cases``
cases, dropped afterwards), bench/load.py --quick (the real mix of photos with a minute
of the privacy pass alone afterwards, then 8 MP JPEGs only for the rate target) and
bench/memory.py (worker mode, then inline, where the web worker itself decodes) one
after the other, each writing its figures as JSON into ``--out``, then prints the table
with met/missed per row. A bench that crashes leaves its rows "no figure" and the others
still run. Exits 1 unless every row is met.
"""

import sys
from pathlib import Path

# bench/ goes to the end of the path: its queue.py must not shadow the standard ``queue``.
sys.path[0] = str(Path(__file__).resolve().parents[1])
sys.path.append(str(Path(__file__).resolve().parent))

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import _common as common  # noqa: E402

BENCH = Path(__file__).resolve().parent
RESULTS = ("ingest", "queue", "load", "load-8mp", "memory", "memory-inline", "privacy")


def run_all(out, cases, submissions):
    """Run the four benches; returns {name: (exit status, seconds)}."""
    runs = {}

    def run(name, *args, script=None):
        script = script or name
        print(f"\n=== bench/{script}.py {' '.join(args)}", flush=True)
        started = time.monotonic()
        status = subprocess.run(
            [sys.executable, str(BENCH / f"{script}.py"), *args, "--json", str(out / f"{name}.json")]
        ).returncode
        runs[name] = (status, time.monotonic() - started)

    for name in RESULTS:
        (out / f"{name}.json").unlink(missing_ok=True)
    run("ingest")
    run("privacy", "--quick")
    with common.postgres_database("queue") as url:
        run("queue", "--database-url", url, "--cases", str(cases))
    run("load", "--quick", "--submissions", str(submissions), "--drain", "60")
    run("load-8mp", "--quick", "--submissions", str(submissions), "--mix", "8mp", script="load")
    run("memory")
    run("memory-inline", "--setting", "PRIVACY_MODE=inline", script="memory")  # the web worker decodes and detects
    return runs


def rows(out):
    """[(figure, value text, target text, met: True/False/None)] from the JSON files in ``out``."""
    ingest, queue, load, load_8mp, memory, memory_inline, privacy = (_read(out / f"{n}.json") for n in RESULTS)
    table = _privacy_rows(privacy)
    if ingest:
        ratio = ingest["naive_over_ours"]
        table.append(("ingest 12 MP JPEG: naive Pillow / ours", f"{ratio:.2f}×", "≥ 3×", ratio >= 3))
    else:
        table.append(("ingest ratio vs naive Pillow", "no figure", "≥ 3×", False))
    if load_8mp:
        rate = load_8mp["submissions_per_s"]
        public = load_8mp["public_photos_per_s"] / load_8mp["naive_photos_per_core_s"]
        table += [
            (
                "load, 8 MP only: public photos/s ÷ naive Pillow pipeline on one core",
                f"{public:.2f}× ({load_8mp['public_photos_per_s']:.1f} / {load_8mp['naive_photos_per_core_s']:.1f})",
                "≥ 2×",
                public >= 2,
            ),
            (
                f"load: submissions/s, 8 MP photos only ({load_8mp['submissions']:,})",
                f"{rate:.1f}",
                "≥ 15",
                rate >= 15 and load_8mp["integrity_ok"] and load_8mp["five_xx"] == 0,
            ),
            (
                "load, 8 MP only: lost / 5xx",
                f"{load_8mp['lost']} / {load_8mp['five_xx']}",
                "0 / 0",
                load_8mp["lost"] == 0 and load_8mp["five_xx"] == 0,
            ),
            *_cpu_rows(load_8mp),
        ]
    else:
        table.append(("load: submissions/s, 8 MP photos only", "no figure", "≥ 15", False))
    if load:
        rate, mix = load["submissions_per_s"], load["submissions_8mp_share"]
        table += [
            (
                f"load: submissions/s ({load['submissions']:,}, {mix:.0%} 8 MP, rest 12 MP/HEIC)",
                f"{rate:.1f}",
                "",
                None,
            ),
            (
                "load: submit latency p50 / p95 / p99",
                "{p50:.0f} / {p95:.0f} / {p99:.0f} ms".format(**load["submit_ms"]),
                "",
                None,
            ),
            ("load: queue read p95 during the load", f"{load['queue_ms'].get('p95', 0):.0f} ms", "", None),
            ("load: lost submissions", str(load["lost"]), "0", load["lost"] == 0),
            ("load: 5xx answers", str(load["five_xx"]), "0", load["five_xx"] == 0),
            (
                "load: integrity (rows, objects, error shape)",
                "passed" if load["integrity_ok"] else "FAILED",
                "passed",
                load["integrity_ok"],
            ),
            (
                f"load: gunicorn CPU per submission ({load['workers']} workers)",
                f"{load['web_cpu_per_201_s'] * 1000:.0f} ms",
                "",
                None,
            ),
            (
                f"load: privacy pass backlog at the end (PRIVACY_MODE={load['privacy_mode']})",
                f"{load['privacy_pending_at_end']:,}",
                "",
                None,
            ),
            *_drain_rows(load.get("drain")),
        ]
    else:
        table.append(("load test", "no figure", "≥ 15/s, 0 lost, 0 5xx", False))
    if queue:
        cases = f"{queue['cases']:,} cases"
        timed = [q for q in queue["queries"] if q["target_ms"]]
        lists = [q for q in timed if q["target_ms"] == 100]
        stats = [q for q in timed if q["target_ms"] == 1000]
        worst = max(lists, key=lambda q: q["p95_ms"])
        table.append(
            (
                f"queue p95, slowest of {len(lists)} queries ({cases})",
                f"{worst['p95_ms']:.1f} ms",
                "< 100 ms",
                all(q["p95_ms"] < 100 for q in lists),
            )
        )
        for q in stats:
            table.append((f"{q['name']} p95 ({cases})", f"{q['p95_ms']:.0f} ms", "< 1 s", q["p95_ms"] < 1000))
    else:
        table.append(("queue and monthly stats", "no figure", "< 100 ms, < 1 s", False))
    table += _memory_rows(memory, memory_inline)
    return table


def _privacy_rows(privacy):
    """Detection against today's Haar cascades (bench/privacy.py): CPU, recall, precision."""
    if not privacy:
        return [("privacy detection (bench/privacy.py)", "no figure", "≤ 0.2× CPU, ≥ 95 %, ≥ 90 %", False)]
    counted = {k: v for k, v in privacy["recall_new"].items() if not k.startswith("plate 30")}
    worst = min(counted, key=counted.get)
    return [
        (
            "privacy: detector CPU per photo, new ÷ Haar",
            f"{privacy['cpu_ratio']:.2f}× ({privacy['cpu_ms_new']:.0f} / {privacy['cpu_ms_old']:.0f} ms)",
            "≤ 0.2×",
            privacy["cpu_ratio"] <= 0.2,
        ),
        (
            f"privacy: lowest recall (plates ≥ 60 px, faces ≥ 1/40): {worst}",
            f"{counted[worst]:.1%}",
            "≥ 95 %",
            counted[worst] >= 0.95,
        ),
        (
            "privacy: precision, every region found",
            f"{privacy['precision_new']:.1%}",
            "≥ 90 %",
            privacy["precision_new"] >= 0.9,
        ),
    ]


def _memory_rows(memory, memory_inline):
    """Peak RSS of each process that decodes the 16 MP HEIC and the 12 MP JPEG: the web
    worker in inline mode, the flask worker's privacy pass in worker mode."""
    table = []
    for run, mode in ((memory_inline, "inline"), (memory, "worker")):
        if not run or run.get("privacy_mode") != mode:
            table.append((f"peak RSS, PRIVACY_MODE={mode}", "no figure", "< 300 MB", False))
            continue
        peak = run["peak_rss_mb"]
        table.append(
            (f"gunicorn worker peak RSS, 16 MP HEIC + 12 MP JPEG ({mode})", f"{peak:.0f} MB", "< 300 MB", peak < 300)
        )
        if mode == "worker":
            peak = run["worker_peak_rss_mb"]
            table.append(
                (
                    "flask worker peak RSS, privacy pass of the same",
                    f"{peak:.0f} MB",
                    "< 300 MB",
                    peak < 300 and not run["privacy_pending"],
                )
            )
    return table


def _drain_rows(drain):
    """What the privacy pass clears once the uploads stop, and the rate it could keep up with."""
    if not drain or not drain["cleared"]:
        return []
    sustained = drain["sustained_per_s"]
    return [
        (
            "load: privacy pass alone afterwards, photos/s (1 flask worker)",
            f"{drain['photos_per_s']:.2f} ({drain['cpu_per_photo_s']:.2f} CPU s each)",
            "",
            None,
        ),
        (
            "load: submissions/s with the pass keeping up (estimate from CPU)",
            f"{sustained:.1f}" if sustained else "no figure",
            "",
            None,
        ),
    ]


def _cpu_rows(load):
    """Where the machine's CPU went per created report, and how much the hypervisor took."""
    created = max(1, load["created_201"])
    spent = {k: v * 1000 / created for k, v in load["cpu_seconds"].items() if k != "flask worker"}
    parts = " + ".join(f"{name} {ms:.0f}" for name, ms in spent.items())
    host = load.get("host_cpu", {})
    return [
        ("load, 8 MP only: CPU ms per submission", f"{sum(spent.values()):.0f} ({parts})", "", None),
        ("load, 8 MP only: CPU stolen by the hypervisor", f"{host.get('steal', 0):.0%}", "", None),
    ]


def _read(path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def print_table(table, runs=None):
    width = max(len(name) for name, *_ in table)
    print(f"\n{'figure':{width}s}  {'value':>18s}  {'target':>9s}  result")
    for name, value, target, met in table:
        result = "" if met is None else ("met" if met else "MISSED")
        print(f"{name:{width}s}  {value:>18s}  {target:>9s}  {result}")
    for name, (status, seconds) in (runs or {}).items():
        print(f"bench/{name}.py: exit {status} after {seconds:.0f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases for bench/queue.py")
    parser.add_argument("--submissions", type=int, default=300, help="for bench/load.py --quick (at most 300)")
    parser.add_argument("--out", type=Path, default=common.CACHE / "results", help="where the JSON figures go")
    parser.add_argument("--from", dest="source", type=Path, help="only print the table of an earlier run")
    args = parser.parse_args()
    runs = None
    if args.source is None:
        args.out.mkdir(parents=True, exist_ok=True)
        runs = run_all(args.out, args.cases, args.submissions)
    table = rows(args.source or args.out)
    print_table(table, runs)
    sys.exit(0 if all(met is not False for *_, met in table) else 1)


if __name__ == "__main__":
    main()
