"""Load test: gunicorn on PostgreSQL + a moto S3 server, N photo submissions and concurrent queue reads.

    .venv/bin/python bench/load.py              # 10,000 submissions (the issue's run)
    .venv/bin/python bench/load.py --quick      # 300, for make bench
    .venv/bin/python bench/load.py --quick --mix 8mp   # 8 MP JPEGs only: the rate target

Starts everything itself on 127.0.0.1 (a fresh database on the local PostgreSQL 15
cluster, dropped afterwards; moto's S3 server; gunicorn with 2+ workers, using
gunicorn.conf.py when the project has one), then drives the submissions with locust
(headless, as a library): 8 MP and 12 MP JPEGs with EXIF GPS inside the 綦江 demo grid,
each unique (see ``PhotoFactory``), a 12 MP HEIC, a few bytes-identical re-sends and
retries with the same Idempotency-Key; every submit carries one. Supervisor queue reads
run beside them. Afterwards it checks PostgreSQL and the bucket directly and prints
submissions/s, latency percentiles, errors by status and the integrity result.

Bounded: stops after ``--submissions`` or ``--max-seconds``, whichever comes first.
Exits 1 when a target is missed or the integrity check fails.
"""

import sys
from pathlib import Path

# bench/ goes to the end of the path: its queue.py must not shadow the standard ``queue``.
sys.path[0] = str(Path(__file__).resolve().parents[1])
sys.path.append(str(Path(__file__).resolve().parent))

# locust patches the standard library with gevent on import: it comes before the rest.
# isort: off
from locust import FastHttpUser, constant, constant_pacing  # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.exception import StopUser  # noqa: E402
# isort: on

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402

import _common as common  # noqa: E402
import gevent  # noqa: E402
import psutil  # noqa: E402
import requests  # noqa: E402
from ingest import naive  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

TARGET_RATE = 15.0  # submissions/s of 8 MP photos on this 2-core machine (issue 7)
CATEGORIES = ("01001", "02001", "03001", "06001", "07001", "09001", "L90001")


@dataclass
class Attempt:
    key: str
    kind: str
    status: int = 0
    ms: float = 0.0
    public_id: str | None = None
    error_code: str | None = None
    shaped: bool = True  # a failure carried the JSON error shape
    replay_of: "Attempt | None" = None
    body: bytes = b""  # the request, kept only while it may be sent again
    photo: bytes = b""
    content_type: str = ""
    headers: dict = field(default_factory=dict)


class Plan:
    """The submissions to make, built lazily so 10,000 photos never sit in memory at once."""

    def __init__(self, args, points, tokens):
        self.rng = random.Random(args.seed)
        self.total = args.submissions
        self.mixed = args.mix == "real"
        self.points = points
        self.tokens = tokens
        self.factories = {"jpeg 8 MP": common.PhotoFactory(common.MP8), "jpeg 12 MP": common.PhotoFactory(common.MP12)}
        lat, lon = points[0]
        self.heic = common.heic_photo(common.MP12, lat, lon, datetime(2026, 11, 1, 9, 0))
        self.issued = 0
        self.attempts = []
        self.deadline = time.monotonic() + args.max_seconds
        self.recent = []  # a few finished 201s to re-send or retry
        self.started = self.finished = None

    def take(self):
        """The next Attempt with its request ready, or None when the count or the time is used up."""
        if self.issued >= self.total or time.monotonic() > self.deadline:
            return None
        self.issued += 1
        self.started = self.started or time.perf_counter()
        roll = self.rng.random()
        if roll < 0.01 and self.recent:
            attempt = self._retry(self.rng.choice(self.recent))
        elif roll < 0.03 and self.recent:
            attempt = self._resend(self.rng.choice(self.recent))
        elif roll < 0.06 and self.mixed:
            attempt = self._fresh("heic 12 MP", self.heic)
        elif roll < 0.30 and self.mixed:
            attempt = self._fresh("jpeg 12 MP")
        else:
            attempt = self._fresh("jpeg 8 MP")
        self.attempts.append(attempt)
        return attempt

    def done(self, attempt):
        """Keep a few created reports for re-sends; drop the bytes of the others that need no retry."""
        self.finished = time.perf_counter()
        if attempt.status == 201 and attempt.replay_of is None and len(self.recent) < 50:
            self.recent.append(attempt)
        elif attempt.status and attempt.status < 500:
            attempt.body = attempt.photo = b""

    def _fresh(self, kind, photo=None):
        key = str(uuid.uuid4())
        lat, lon = self._near(self.rng.choice(self.points), 30)
        taken = datetime(2026, 11, 20, 8, 0) + timedelta(seconds=self.issued)
        fields = {"description": f"压测上报 {key}"}
        if self.rng.random() < 0.9:
            fields["category"] = self.rng.choice(CATEGORIES)
        if photo is None:
            photo = self.factories[kind].make(self.rng, lat, lon, taken)
            if self.rng.random() < 0.3:  # the phone's own fix, a few metres off the photo's
                fix_lat, fix_lon = self._near((lat, lon), 15)
                fields.update(lat=fix_lat, lon=fix_lon, accuracy=10)
        else:  # the HEIC always shows the same spot: the client sends where it is
            fields.update(lat=lat, lon=lon, accuracy=10)
        suffix = "heic" if kind.startswith("heic") else "jpg"
        return self._attempt(key, kind, fields, photo, suffix)

    def _resend(self, earlier):
        """The same photo bytes as an earlier report, as a new report (a new key)."""
        key = str(uuid.uuid4())
        lat, lon = self._near(self.rng.choice(self.points), 30)
        fields = {"description": f"压测上报 {key}", "lat": lat, "lon": lon}
        return self._attempt(key, "identical bytes", fields, earlier.photo, "jpg")

    def _retry(self, earlier):
        """The very same request again (a flaky network): must answer with the same report."""
        return Attempt(
            earlier.key,
            "retry same key",
            body=earlier.body,
            content_type=earlier.content_type,
            headers=earlier.headers,
            replay_of=earlier,
        )

    def _attempt(self, key, kind, fields, photo, suffix):
        attempt = Attempt(key, kind, photo=photo)
        attempt.body, attempt.content_type = common.multipart(fields, [(f"IMG.{suffix}", photo)])
        attempt.headers = {"Idempotency-Key": key}
        if self.rng.random() < 0.2:
            attempt.headers["Authorization"] = f"Bearer {self.tokens['monitor']}"
        return attempt

    def _near(self, point, metres):
        lat, lon = point
        return (lat + self.rng.uniform(-metres, metres) / 111_000, lon + self.rng.uniform(-metres, metres) / 97_000)


def submitter(plan):
    class Submitter(FastHttpUser):
        wait_time = constant(0)
        network_timeout = connection_timeout = 120.0

        def on_start(self):
            self.client.client.max_retries = 0  # a retry is the bench's decision, not the transport's

        def task_submit(self):
            attempt = plan.take()
            if attempt is None:
                raise StopUser()
            headers = {**attempt.headers, "Content-Type": attempt.content_type}
            started = time.perf_counter()
            response = self.client.post(
                "/api/v1/reports", data=attempt.body, headers=headers, name=f"submit {attempt.kind}"
            )
            attempt.ms = (time.perf_counter() - started) * 1000
            _record(attempt, response.status_code, response.content)
            plan.done(attempt)

        tasks = [task_submit]

    return Submitter


def _record(attempt, status, content):
    attempt.status = status
    try:
        payload = json.loads(content) if content else None
    except ValueError:
        payload = None
    if status == 201 and isinstance(payload, dict):
        attempt.public_id = payload.get("id")
    elif status != 201:
        error = payload.get("error") if isinstance(payload, dict) else None
        attempt.shaped = (
            isinstance(error, dict) and isinstance(error.get("code"), str) and isinstance(error.get("message"), str)
        )
        attempt.error_code = error.get("code") if attempt.shaped else None


def reader(plan, token, points, reads):
    lat, lon = points[0]
    queries = itertools.cycle(
        [
            {},
            {"status": "submitted"},
            {"street": "500110001"},
            {"overdue": "true"},
            {"bbox": f"{lon - 0.005},{lat - 0.005},{lon + 0.005},{lat + 0.005}"},
            {"status": "submitted", "format": "geojson"},
            {"q": "压测"},
            {"sort": "priority"},
        ]
    )

    class Reader(FastHttpUser):
        wait_time = constant_pacing(0.5)
        network_timeout = connection_timeout = 120.0

        def task_read(self):
            if plan.issued >= plan.total or time.monotonic() > plan.deadline:
                raise StopUser()
            started = time.perf_counter()
            response = self.client.get(
                "/api/v1/queue", params=next(queries), headers={"Authorization": f"Bearer {token}"}, name="queue"
            )
            reads.append((response.status_code, (time.perf_counter() - started) * 1000))

        tasks = [task_read]

    return Reader


def drive(base, plan, args, tokens, points):
    """Run the locust users until the plan is used up; returns the queue reads [(status, ms)]."""
    reads = []
    Submitter, Reader = submitter(plan), reader(plan, tokens["supervisor"], points, reads)
    Submitter.fixed_count, Reader.fixed_count = args.users, args.readers
    env = Environment(user_classes=[Submitter, Reader], host=base)
    runner = env.create_local_runner()
    runner.start(args.users + args.readers, spawn_rate=args.users + args.readers)
    last = time.monotonic()
    while runner.user_count or not plan.issued:
        gevent.sleep(0.5)
        if time.monotonic() - last >= 15:
            last = time.monotonic()
            done = sum(1 for a in plan.attempts if a.status)
            print(f"  … {done:,} of {plan.total:,} submissions answered", flush=True)
    runner.quit()
    return reads


def retry_unanswered(base, plan):
    """Re-send (same key, same bytes) each submission that got no answer or a 5xx, as a phone would."""
    retried = []
    for attempt in [a for a in plan.attempts if a.status == 0 or a.status >= 500]:
        if not attempt.body:
            continue
        again = Attempt(attempt.key, attempt.kind, replay_of=attempt)
        response = requests.post(
            base + "/api/v1/reports",
            data=attempt.body,
            timeout=120,
            headers={**attempt.headers, "Content-Type": attempt.content_type},
        )
        _record(again, response.status_code, response.content)
        retried.append(again)
    return retried


def integrity(database_url, endpoint, bucket, attempts):
    """Compare what the clients were told with PostgreSQL and the bucket; returns {check: problems}."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        reports = conn.execute(text("SELECT id, public_id, description FROM report")).all()
        media = conn.execute(
            text("SELECT report_id, original_key, display_key, thumb_key, privacy_pending FROM media")
        ).all()
    engine.dispose()
    keys = common.bucket_keys(endpoint, bucket)
    by_public = {public_id: (rid, desc) for rid, public_id, desc in reports}
    rows_per_key = Counter(desc.rsplit(" ", 1)[-1] for _, _, desc in reports)
    objects = {}
    for report_id, original, display, thumb, pending in media:
        # A photo awaiting the privacy pass has only its original; every other one has all three.
        objects.setdefault(report_id, []).extend((original,) if pending else (original, display, thumb))
    created = {a.key for a in attempts if a.status == 201}
    problems = {
        "201 without its report row": [
            a.public_id
            for a in attempts
            if a.status == 201 and (a.public_id not in by_public or by_public[a.public_id][1] != f"压测上报 {a.key}")
        ],
        "201 with a missing object": [
            a.public_id
            for a in attempts
            if a.status == 201
            and a.public_id in by_public
            and not _complete(objects.get(by_public[a.public_id][0]), keys)
        ],
        "replay with another report": [
            a.key
            for a in attempts
            if a.replay_of and a.status == 201 and a.replay_of.public_id not in (None, a.public_id)
        ],
        "key with more than one row": [k for k, n in rows_per_key.items() if n > 1],
        "row whose submit failed": [k for k in rows_per_key if k not in created],
        "failure without the error shape": [
            f"{a.key} {a.status}" for a in attempts if a.status not in (0, 201) and not a.shaped
        ],
        "media row without a report": [m[1] for m in media if m[0] is None],
        "object without a row": sorted(keys - {k for m in media for k in m[1:4]}),
    }
    return {"reports": len(reports), "media": len(media), "objects": len(keys), "problems": problems}


def _complete(object_keys, stored):
    return bool(object_keys) and all(k in stored for k in object_keys)


def percentiles(samples):
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)
    rank = lambda share: ordered[max(0, math.ceil(share * len(ordered)) - 1)]  # noqa: E731  nearest rank
    return {
        "n": len(ordered),
        "p50": statistics.median(ordered),
        "p95": rank(0.95),
        "p99": rank(0.99),
        "max": ordered[-1],
    }


def summarise(plan, reads, retried, checked, cpu):
    attempts = plan.attempts
    answered = [a for a in attempts if a.status]
    wall = (plan.finished or time.perf_counter()) - (plan.started or time.perf_counter())
    created = [a for a in attempts if a.status == 201]
    eight = [a for a in created if a.kind == "jpeg 8 MP"]
    problems = checked["problems"]
    lost = sum(
        len(problems[k])
        for k in ("201 without its report row", "201 with a missing object", "replay with another report")
    )
    lost += sum(1 for a in retried if a.status != 201)
    return {
        "planned": plan.total,
        "submissions": len(attempts),
        "answered": len(answered),
        "created_201": len(created),
        "seconds": round(wall, 1),
        "submissions_per_s": round(len(created) / wall, 2) if wall else 0.0,
        "submissions_8mp_share": round(len(eight) / len(created), 2) if created else 0.0,
        "submit_ms": _rounded(percentiles([a.ms for a in answered])),
        "submit_ms_by_kind": {
            kind: _rounded(percentiles([a.ms for a in answered if a.kind == kind]))
            for kind in sorted({a.kind for a in answered})
        },
        "queue_ms": _rounded(percentiles([ms for status, ms in reads if status == 200])),
        "queue_errors": dict(Counter(str(status) for status, _ in reads if status != 200)),
        "statuses": dict(sorted(Counter(str(a.status) for a in attempts).items())),
        "error_codes": dict(Counter(f"{a.status} {a.error_code}" for a in attempts if a.status not in (0, 201))),
        "five_xx": sum(1 for a in attempts if a.status >= 500),
        "transport_errors": sum(1 for a in attempts if a.status == 0),
        "retried_after_run": len(retried),
        "lost": lost,
        "integrity": {
            "reports": checked["reports"],
            "media": checked["media"],
            "objects": checked["objects"],
            "problems": {k: len(v) for k, v in problems.items()},
            "examples": {k: v[:5] for k, v in problems.items() if v},
        },
        "integrity_ok": not any(problems.values()) and lost == 0,
        "cpu_seconds": cpu,
    }


def _rounded(figures):
    return {k: round(v, 1) if isinstance(v, float) else v for k, v in figures.items()}


def print_figures(f, args):
    print(
        f"\nload: {f['submissions']:,} submissions in {f['seconds']} s with {args.users} submitting "
        f"and {args.readers} queue-reading clients"
    )
    if f["submissions"] < f["planned"]:
        print(f"  stopped by --max-seconds {args.max_seconds:g} after {f['submissions']:,} of {f['planned']:,}")
    print(
        f"  submissions/s (201 answers): {f['submissions_per_s']:.2f}   (target >= {TARGET_RATE:g} with 8 MP "
        f"photos only, --mix 8mp; {f['submissions_8mp_share']:.0%} of these 8 MP)"
    )
    line = "  {:24s} {:>6s} {:>8s} {:>8s} {:>8s} {:>8s}"
    print(line.format("latency ms", "n", "p50", "p95", "p99", "max"))
    rows = [("submit (all)", f["submit_ms"])] + [(f"  {k}", v) for k, v in f["submit_ms_by_kind"].items()]
    for name, p in rows + [("queue read", f["queue_ms"])]:
        if p["n"]:
            print(line.format(name, str(p["n"]), *(f"{p[k]:.1f}" for k in ("p50", "p95", "p99", "max"))))
    print(
        f"  statuses: {f['statuses']}   error codes: {f['error_codes'] or 'none'}   "
        f"queue errors: {f['queue_errors'] or 'none'}"
    )
    print(
        f"  5xx: {f['five_xx']}   no answer: {f['transport_errors']}   re-sent after the run: "
        f"{f['retried_after_run']}   lost: {f['lost']}"
    )
    i = f["integrity"]
    print(
        f"  integrity: {i['reports']:,} report rows, {i['media']:,} media rows, {i['objects']:,} objects; "
        + ", ".join(f"{k}: {n}" for k, n in i["problems"].items())
    )
    for k, v in i["examples"].items():
        print(f"    e.g. {k}: {v}")
    print(f"  integrity check: {'PASSED' if f['integrity_ok'] else 'FAILED'}")
    print(
        "  CPU seconds: "
        + ", ".join(f"{k} {v:.0f}" for k, v in f["cpu_seconds"].items())
        + f"; gunicorn workers per 201: {f['web_cpu_per_201_s']:.3f} s "
        f"(of it in the kernel: {f['web_system_cpu_per_201_s']:.3f} s)"
    )
    h = f["host_cpu"]
    print(
        f"  the {os.cpu_count()} CPUs during the run: {h['busy']:.0%} busy, {h['idle']:.0%} idle, "
        f"{h['steal']:.0%} stolen by the hypervisor (time this VM was ready to run but another guest ran)"
    )
    if f["privacy_mode"] == "worker":
        print(
            f"  privacy pass backlog at the end: {f['privacy_pending_at_end']:,} photos not yet checked "
            "(public views show them without URLs until then)"
        )
    print(
        f"  public photos/s (derivatives stored, first submission to end of drain): "
        f"{f['public_photos_per_s']:.2f} = {f['public_photos_per_s'] / f['naive_photos_per_core_s']:.2f}x the naive "
        f"pipeline on one core ({f['naive_photos_per_core_s']:.2f}/s; target >= 2x)"
    )
    print(
        f"  CPU-bound rate: {f['cpu_per_public_photo_s'] or 0:.3f} CPU s per public photo (every process above, the "
        f"load client too) = {f['cpu_bound_photos_per_s']:.2f} photos/s on {os.cpu_count()} CPUs = "
        f"{f['cpu_bound_photos_per_s'] / f['naive_photos_per_core_s']:.2f}x the naive pipeline: the rate if the "
        "machine were the burst's alone (the wall rate above falls when others share it)"
    )
    d = f["drain"]
    if d:
        print(
            f"  privacy pass alone afterwards: {d['cleared']:,} photos in {d['seconds']} s = "
            f"{d['photos_per_s']:.2f} photos/s, {d['cpu_per_photo_s'] or 0:.2f} CPU s per photo (all processes)"
        )
        if d["sustained_per_s"]:
            print(
                f"  sustained estimate with the pass keeping up: {d['sustained_per_s']} submissions/s "
                f"({os.cpu_count()} CPUs, {d['photos_per_submission']} photos per submission)"
            )


class Profiler:
    """py-spy sampling every gunicorn worker while the load runs; prints where their time went."""

    def __init__(self, pids, out_dir):
        self.files = [Path(out_dir) / f"py-spy-{pid}.txt" for pid in pids]
        self.processes = [
            subprocess.Popen(
                [
                    str(common.VENV_BIN / "py-spy"),
                    "record",
                    "--pid",
                    str(pid),
                    "--format",
                    "raw",
                    "--rate",
                    "50",
                    "--nonblocking",
                    "--output",
                    str(path),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for pid, path in zip(pids, self.files, strict=True)
        ]

    def report(self, top=25):
        for process in self.processes:
            process.send_signal(signal.SIGINT)
            process.wait(60)
        inclusive, leaves, total = Counter(), Counter(), 0
        for path in self.files:
            if not path.exists():
                continue
            for line in path.read_text().splitlines():
                stack, _, count = line.rpartition(" ")
                frames = [self._short(f) for f in stack.split(";")]
                total += int(count)
                leaves[frames[-1]] += int(count)
                for frame in set(frames):
                    inclusive[frame] += int(count)
        if not total:
            print("  profile: py-spy recorded nothing (is ptrace allowed?)")
            return
        # Frames on nearly every stack (threads, gunicorn, Flask dispatch) say nothing.
        inner = [(f, n) for f, n in inclusive.most_common() if n < 0.6 * total][:top]
        print(f"\nprofile of the gunicorn workers ({total:,} samples of busy threads)")
        print("  share of samples with the function on the stack:")
        for frame, count in inner:
            print(f"  {count / total:6.1%}  {frame}")
        print("  share of samples with the function at the top (its own time):")
        for frame, count in leaves.most_common(top // 2):
            print(f"  {count / total:6.1%}  {frame}")

    @staticmethod
    def _short(frame):
        """``func (path/to/file.py:12)`` as ``func (file.py)``: lines would split one function."""
        name, _, where = frame.partition(" (")
        return f"{name} ({Path(where.split(':')[0]).name})"


def cpu_seconds(processes, kinds=("user", "system")):
    """CPU seconds per name, each process's own plus its reaped children's: gunicorn recycles
    workers (max_requests), and a recycled worker's time lands in the master's children.
    ``kinds=("system",)`` counts the kernel's share alone (page faults, sockets)."""
    fields = [*kinds, *(f"children_{kind}" for kind in kinds)]
    total = {}
    for name, procs in processes.items():
        seconds = 0.0
        for proc in procs() if callable(procs) else procs:
            try:
                times = proc.cpu_times()
                seconds += sum(getattr(times, field) for field in fields)
            except psutil.NoSuchProcess:
                pass
        total[name] = seconds
    return total


def drain(database_url, watched, seconds):
    """Leave the privacy pass the machine alone after the load, up to ``seconds`` or until its
    backlog is empty: photos cleared per second and the CPU (every process) each one took."""
    pending = first = common.pending_photos(database_url)
    before, started = cpu_seconds(watched), time.monotonic()
    print(f"draining the privacy pass backlog ({first:,} photos) for up to {seconds:g} s …", flush=True)
    while pending and time.monotonic() - started < seconds:
        time.sleep(1)
        pending = common.pending_photos(database_url)
    elapsed, cleared = time.monotonic() - started, first - pending
    cpu = sum(cpu_seconds(watched).values()) - sum(before.values())
    return {
        "seconds": round(elapsed, 1),
        "cleared": cleared,
        "photos_per_s": round(cleared / elapsed, 2),
        "cpu_per_photo_s": round(cpu / cleared, 3) if cleared else None,
        "cpu_s": cpu,
    }


def sustained(figures, drained):
    """Submissions/s the machine could keep up with the pass clearing every photo: all its CPUs
    over the CPU one submission costs at upload plus its photos' share of the pass (an estimate)."""
    if not drained["cpu_per_photo_s"]:
        return {"sustained_per_s": None}
    created = max(1, figures["created_201"])
    photos_per_submission = figures["integrity"]["media"] / max(1, figures["integrity"]["reports"])
    upload_cpu = sum(v for k, v in figures["cpu_seconds"].items() if k != "load client") / created
    per_submission = upload_cpu + drained["cpu_per_photo_s"] * photos_per_submission
    return {
        "sustained_per_s": round(os.cpu_count() / per_submission, 1),
        "photos_per_submission": round(photos_per_submission, 2),
    }


def naive_baseline(rounds=8):
    """Photos/s of the naive Pillow pipeline (bench/ingest.py: open, exif_transpose, two LANCZOS
    thumbnails, two JPEG saves) on one core, over 8 MP photos of the burst's own factory: the
    yardstick of issue 19 (the whole server must make public photos at twice this rate)."""
    factory, rng = common.PhotoFactory(common.MP8), random.Random(99)
    photos = [factory.make(rng, 29.03, 106.65, datetime(2026, 11, 20, 8, i)) for i in range(rounds + 1)]
    naive(photos.pop())  # warm-up
    started = time.process_time()
    for photo in photos:
        naive(photo)
    return round(rounds / (time.process_time() - started), 2)


def public_rate(figures, drained, database_url):
    """Photos/s made public (derivatives stored) from the first submission to the end of the
    drain: a photo counts only once its blurred derivatives exist, whatever the mode."""
    public = common.public_photos(database_url)
    seconds = figures["seconds"] + (drained["seconds"] if drained else 0)
    cpu = sum(figures["cpu_seconds"].values()) + (drained["cpu_s"] if drained else 0)
    return {
        "public_photos": public,
        "public_photos_per_s": round(public / seconds, 2) if seconds else 0.0,
        "cpu_per_public_photo_s": round(cpu / public, 3) if public else None,
        "cpu_bound_photos_per_s": round(os.cpu_count() * public / cpu, 2) if cpu else 0.0,
    }


def _postgres_processes(database):
    """The backends serving ``database``: the cluster may be shared (other benches' COPY and
    autovacuum ran beside this one and were counted as the burst's 92 ms per photo). A backend
    that exits during the run takes its time with it, so pool connections are counted."""
    pid = common.postmaster_pid()
    if pid is None:
        return []
    try:
        backends = psutil.Process(pid).children()
    except psutil.NoSuchProcess:
        return []
    return [proc for proc in backends if _serves(proc, database)]


def _serves(proc, database):
    try:
        return f" {database} " in " ".join(proc.cmdline()) + " "
    except psutil.Error:
        return False


def host_cpu():
    """Jiffies of all CPUs since boot from /proc/stat: {busy, idle, steal}."""
    fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    return {"busy": user + nice + system + irq + softirq, "idle": idle + iowait, "steal": steal}


def host_shares(before, after):
    """Shares of the CPUs' time during the run: busy, idle, and stolen by the hypervisor for other guests."""
    spent = {k: after[k] - before[k] for k in after}
    total = sum(spent.values()) or 1
    return {k: round(v / total, 3) for k, v in spent.items()}


def _arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="300 submissions (for make bench)")
    parser.add_argument(
        "--users", type=int, default=16, help="concurrent submitting clients (enough to keep 2 cores busy)"
    )
    parser.add_argument("--readers", type=int, default=2, help="concurrent queue readers (2 reads/s each)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py, else 2)")
    parser.add_argument("--threads", type=int, help="gunicorn threads per worker")
    parser.add_argument("--max-seconds", type=float, default=1800, help="stop issuing submissions after this")
    parser.add_argument(
        "--mix",
        choices=("real", "8mp"),
        default="real",
        help="real: 8 and 12 MP JPEGs and a HEIC; 8mp: 8 MP JPEGs only (the rate target's photos)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="app setting for this run, e.g. PRIVACY_DETECTOR=none (as CIVICREPORT_KEY)",
    )
    parser.add_argument(
        "--drain",
        type=float,
        default=0,
        metavar="SECONDS",
        help="afterwards, time the privacy pass clearing its backlog alone for up to this long",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--keep-logs", action="store_true", help="keep instance/bench/runs/load-PID")
    parser.add_argument("--profile", action="store_true", help="sample the workers with py-spy and print the top")
    args = parser.parse_args()
    if args.quick:
        args.submissions = min(args.submissions, 300)
    if args.submissions < 1 or args.users < 1 or args.readers < 0:
        parser.error("--submissions and --users must be at least 1")
    return args


def main():
    args = _arguments()
    naive_per_core = naive_baseline()
    print(f"naive Pillow pipeline, 8 MP, one core: {naive_per_core} photos/s", flush=True)
    with (
        common.run_dir("load", keep=args.keep_logs) as logs,
        common.postgres_database("load") as url,
        common.moto_s3(logs) as (endpoint, bucket, moto),
    ):
        env = common.app_env(url, endpoint, bucket, {**common.BENCH_SETTINGS, **common.settings_env(args.setting)})
        tokens = common.prepare(env)
        points = common.grid_points(url)
        plan = Plan(args, points, tokens)
        with (
            common.gunicorn(env, logs, workers=args.workers, threads=args.threads) as (base, master),
            common.flask_worker(env, logs) as worker,
        ):
            server = [psutil.Process(pid) for pid in common.worker_pids(master.pid)]
            gunicorn = psutil.Process(master.pid)
            watched = {
                "gunicorn workers": lambda: [gunicorn, *gunicorn.children()],
                "flask worker": [psutil.Process(worker.pid)],
                "moto": [psutil.Process(moto.pid)],
                "load client": [psutil.Process()],
                "postgres": lambda: _postgres_processes(url.rsplit("/", 1)[-1]),
            }
            before, host_before = cpu_seconds(watched), host_cpu()
            kernel_before = cpu_seconds(watched, ("system",))
            profiler = Profiler([p.pid for p in server], logs) if args.profile else None
            mode = env["CIVICREPORT_PRIVACY_MODE"]
            print(
                f"driving {plan.total:,} submissions at {base} ({len(server)} gunicorn workers, "
                f"privacy detection {'in the worker' if mode == 'worker' else 'inline'}) …",
                flush=True,
            )
            reads = drive(base, plan, args, tokens, points)
            after, host_after = cpu_seconds(watched), host_cpu()
            kernel = {k: v - kernel_before[k] for k, v in cpu_seconds(watched, ("system",)).items()}
            if profiler:
                profiler.report()
            retried = retry_unanswered(base, plan)
            backlog = common.pending_photos(url)
            drained = drain(url, watched, args.drain) if args.drain and mode == "worker" else None
        checked = integrity(url, endpoint, bucket, plan.attempts + retried)  # the worker has stopped
        figures = summarise(plan, reads, retried, checked, {k: after[k] - before[k] for k in after})
        figures.update(public_rate(figures, drained, url), naive_photos_per_core_s=naive_per_core)
    figures.update(
        mix=args.mix,
        workers=len(server),
        privacy_mode=mode,
        privacy_pending_at_end=backlog,
        drain=drained and {**drained, **sustained(figures, drained)},
        web_cpu_per_201_s=round(figures["cpu_seconds"]["gunicorn workers"] / max(1, figures["created_201"]), 3),
        web_system_cpu_per_201_s=round(kernel["gunicorn workers"] / max(1, figures["created_201"]), 3),
        host_cpu=host_shares(host_before, host_after),
    )
    print_figures(figures, args)
    common.write_json(args.json, figures)
    fast_enough = args.mix == "real" or figures["submissions_per_s"] >= TARGET_RATE
    met = figures["integrity_ok"] and figures["five_xx"] == 0 and fast_enough
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
