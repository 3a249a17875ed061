"""Shared bench helpers: a throw-away PostgreSQL database, a moto S3 server, gunicorn, and photos.

Everything listens on 127.0.0.1 only and is stopped (the database dropped) when its
``with`` block ends, also after a failure. Photos are generated with Pillow and cached
under ``instance/bench/`` so a second run does not pay for them again.
"""

import io
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
CACHE = ROOT / "instance" / "bench"
PG_VERSION = "15"
ROLE = "civicreport"


# --- processes and ports ------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url, seconds=60, process=None):
    """Poll ``url`` until it answers (any status); RuntimeError on time-out or if ``process`` died."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def stop(process, seconds=20):
    """SIGTERM, then SIGKILL after ``seconds``; only the process this bench started."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- PostgreSQL ---------------------------------------------------------------------


def _psql(sql, port):
    subprocess.run(
        ["su", "postgres", "-c", f'psql -q -v ON_ERROR_STOP=1 -p {port} -c "{sql}"'],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def pg_port():
    """Port of the local cluster, started if it is down (as .ci/run does); CalledProcessError on failure."""
    subprocess.run(["pg_ctlcluster", PG_VERSION, "main", "start"], stderr=subprocess.DEVNULL)
    port = subprocess.run(
        ["pg_conftool", "-s", PG_VERSION, "main", "show", "port"], check=True, capture_output=True, text=True
    ).stdout.strip()
    for _ in range(30):
        if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", port]).returncode == 0:
            return int(port)
        time.sleep(1)
    raise RuntimeError("PostgreSQL did not become ready")


def postmaster_pid():
    """Pid of the local cluster's postmaster (its children are the backends), or None."""
    pid_file = Path(f"/var/run/postgresql/{PG_VERSION}-main.pid")
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


@contextmanager
def postgres_database(label):
    """A fresh database owned by the ``civicreport`` role; yields its URL and drops it afterwards."""
    port = pg_port()
    name = f"civicreport_bench_{label}_{os.getpid()}"
    _psql(
        f"DO \\$\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN "
        f"CREATE ROLE {ROLE} LOGIN PASSWORD '{ROLE}'; END IF; END \\$\\$;",
        port,
    )
    _psql(f"CREATE DATABASE {name} OWNER {ROLE}", port)
    try:
        yield f"postgresql+psycopg://{ROLE}:{ROLE}@127.0.0.1:{port}/{name}"
    finally:
        _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", port)


# --- moto S3 ------------------------------------------------------------------------

# The bench clients all come from 127.0.0.1: per-IP limits stay out of the figures. Face and
# plate detection runs in the worker's privacy pass (0.4-1 s of CPU per photo would otherwise
# sit inside every upload); --setting PRIVACY_MODE=inline measures the other way.
BENCH_SETTINGS = {"CIVICREPORT_RATELIMIT_ENABLED": "false", "CIVICREPORT_PRIVACY_MODE": "worker"}

S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@contextmanager
def moto_s3(log_dir):
    """A moto S3 server on a free port with one bucket; yields (endpoint URL, bucket, process).

    moto keeps objects in memory up to its key buffer size; larger ones spill to temp
    files, so 10,000 originals do not fill the RAM (they cost one file descriptor each).
    """
    port = free_port()
    env = {**os.environ, **S3_ENV, "MOTO_S3_DEFAULT_KEY_BUFFER_SIZE": str(1024 * 1024)}
    with open(Path(log_dir) / "moto.log", "wb") as log:
        process = subprocess.Popen(
            [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_http(endpoint + "/moto-api/", process=process)
        bucket = f"civicreport-bench-{uuid.uuid4().hex[:8]}"
        s3_client(endpoint).create_bucket(Bucket=bucket)
        yield endpoint, bucket, process
    finally:
        stop(process)


def s3_client(endpoint):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def bucket_keys(endpoint, bucket):
    keys = set()
    for page in s3_client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return keys


# --- the app under gunicorn ---------------------------------------------------------


def settings_env(pairs):
    """``["KEY=VALUE", …]`` as CIVICREPORT_KEY environment variables; ValueError without a ``=``."""
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--setting needs KEY=VALUE, got {pair!r}")
        env[f"CIVICREPORT_{key.upper()}"] = value
    return env


def app_env(database_url, endpoint, bucket, extra=None):
    """Environment of the app's processes: PostgreSQL, S3 on moto, and ``extra`` CIVICREPORT_* settings."""
    return {
        **os.environ,
        **S3_ENV,
        "CIVICREPORT_DATABASE_URL": database_url,
        "CIVICREPORT_STORAGE": "s3",
        "CIVICREPORT_S3_BUCKET": bucket,
        "CIVICREPORT_S3_ENDPOINT_URL": endpoint,
        "CIVICREPORT_S3_REGION": "us-east-1",
        "CIVICREPORT_SECRET_KEY": "bench-only",
        **(extra or {}),
    }


def flask(env, *args):
    """Run ``flask --app civicreport ARGS`` and return its stdout; CalledProcessError on failure."""
    return subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "civicreport", *args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def prepare(env):
    """Migrations and the 綦江 demo; returns bearer tokens of a supervisor and a monitor."""
    flask(env, "db", "upgrade")
    flask(env, "load-demo", "--if-empty")
    return {
        role: flask(env, "create-user", f"bench-{role}", "--role", role).splitlines()[-1]
        for role in ("supervisor", "monitor")
    }


@contextmanager
def gunicorn(env, log_dir, workers=None, threads=None):
    """gunicorn serving ``wsgi:app`` on a free loopback port; yields (base URL, master process).

    Uses the project's gunicorn.conf.py when there is one (command-line options win);
    without it, sync workers with an upload-sized timeout.
    """
    port = free_port()
    command = [
        str(VENV_BIN / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--error-logfile",
        str(Path(log_dir) / "gunicorn.log"),
    ]
    conf = ROOT / "gunicorn.conf.py"
    if conf.exists():
        command += ["--config", str(conf)]
    else:
        command += ["--timeout", "120", "--workers", str(workers or 2)]
    if workers:
        command += ["--workers", str(workers)]
    if threads:
        command += ["--threads", str(threads)]
    process = subprocess.Popen(
        [*command, "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/api/v1/health", process=process)
        yield base, process
    finally:
        stop(process, seconds=30)


@contextmanager
def flask_worker(env, log_dir):
    """``flask worker`` (outbox, deadlines, the privacy pass) beside the web processes; yields the process.

    It runs at the lowest CPU priority, as the README advises for a shared host: the
    privacy pass then takes only the CPU that uploads leave idle and catches up afterwards.
    """
    with open(Path(log_dir) / "worker.log", "wb") as log:
        command = ["nice", "-n", "19", str(VENV_BIN / "flask"), "--app", "civicreport", "worker"]
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        stop(process, seconds=60)


def pending_photos(database_url):
    """Photos still waiting for the worker's privacy pass (PRIVACY_MODE=worker)."""
    return _count_media(database_url, "privacy_pending")


def public_photos(database_url):
    """Photos whose public derivatives exist (the privacy pass is done with them)."""
    return _count_media(database_url, "display_key IS NOT NULL")


def _count_media(database_url, condition):
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        count = conn.execute(text(f"SELECT count(*) FROM media WHERE {condition}")).scalar_one()
    engine.dispose()
    return count


def worker_pids(master_pid):
    """Pids of the gunicorn workers (the master's children)."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return [int(pid) for pid in children]


def grid_points(database_url):
    """Centres of the demo grid cells [(lat, lon)], west to east, north to south."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        points = conn.execute(text("SELECT centroid_lat, centroid_lon FROM grid_cell ORDER BY code")).all()
    engine.dispose()
    return [tuple(p) for p in points]


@contextmanager
def run_dir(label, keep=False):
    """A scratch directory for logs under instance/bench/runs; removed afterwards unless ``keep``."""
    path = CACHE / "runs" / f"{label}-{os.getpid()}"
    path.mkdir(parents=True, exist_ok=True)
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)


def write_json(path, figures):
    if path:
        Path(path).write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# --- photos -------------------------------------------------------------------------

MP8 = (3264, 2448)
MP12 = (4032, 3024)
MP16 = (4608, 3456)


def _texture(size, seed, grain=0.3):
    """A photo-like RGB image: a smooth random left-right profile per channel, blotches and grain.

    The profile differs per seed, so two textures have unrelated difference hashes.
    """
    from PIL import Image

    rng = random.Random(seed)
    width, height = size
    channels = []
    for _ in range(3):
        profile = bytes(rng.randrange(40, 216) for _ in range(9))
        channels.append(Image.frombytes("L", (9, 1), profile).resize(size, Image.Resampling.BICUBIC))
    base = Image.merge("RGB", channels)
    blotches = Image.frombytes("RGB", (width // 16, height // 16), rng.randbytes(width * height * 3 // 256))
    noise = Image.frombytes("RGB", size, rng.randbytes(width * height * 3))
    texture = Image.blend(blotches.resize(size, Image.Resampling.BICUBIC), noise, grain)
    return Image.blend(base, texture, 0.35)


def _jpeg_parts(data):
    """(header up to the end of SOS, [entropy-coded restart intervals]) of a baseline JPEG with RST markers."""
    pos = 2
    while True:
        marker, length = data[pos + 1], int.from_bytes(data[pos + 2 : pos + 4], "big")
        pos += 2 + length
        if marker == 0xDA:
            break
    body = data[pos : data.rindex(b"\xff\xd9")]
    intervals, start, i = [], 0, 0
    while True:
        i = body.find(b"\xff", i)
        if i < 0:
            break
        if 0xD0 <= body[i + 1] <= 0xD7:
            intervals.append(body[start:i])
            start = i + 2
        i += 2 if body[i + 1] == 0 or 0xD0 <= body[i + 1] <= 0xD7 else 1
    intervals.append(body[start:])
    return data[:pos], intervals


_RESTART_MARKERS = [bytes((0xFF, 0xD0 + n)) for n in range(8)]


class PhotoFactory:
    """Unique real-size JPEGs at almost no cost: restart intervals (one per MCU row) spliced from
    a few textures of the same size, quality and (standard) Huffman tables, plus a fresh EXIF block.

    Each of ``STRIPES`` horizontal stripes takes its rows from one texture, three to each row
    of the 8×9 difference hash, so the hashes of two photos rarely share a byte in place (as
    with real photos: the dHash band index then has few candidates to weed out); the EXIF
    carries the GPS point and a capture time, so no two photos are bytes-identical unless asked
    to be.
    """

    STRIPES = 24

    def __init__(self, size, textures=6, quality=90):
        self.size = size
        self.parts = [_jpeg_parts(_texture_jpeg(size, seed, quality)) for seed in range(textures)]
        headers = {header for header, _ in self.parts}
        counts = {len(intervals) for _, intervals in self.parts}
        if len(headers) != 1 or len(counts) != 1:
            raise RuntimeError("textures differ in their JPEG tables; cannot splice them")

    def make(self, rng, lat, lon, taken):
        """One JPEG with EXIF GPS (lat, lon) and DateTimeOriginal ``taken`` (naive local time).

        Joined once: the client shares the server's two cores, and each extra copy of a
        photo-sized buffer costs it a millisecond there."""
        header, _ = self.parts[0]
        stripes = [rng.randrange(len(self.parts)) for _ in range(self.STRIPES)]
        count = len(self.parts[0][1])
        chunks = [_with_exif(header, exif_bytes(lat, lon, taken))]
        for row in range(count):
            if row:
                chunks.append(_RESTART_MARKERS[(row - 1) % 8])
            chunks.append(self.parts[stripes[row * self.STRIPES // count]][1][row])
        chunks.append(b"\xff\xd9")
        return b"".join(chunks)


def _with_exif(header, exif):
    """``header`` (from SOI) with an APP1 EXIF segment right after SOI."""
    segment = b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif
    return header[:2] + segment + header[2:]


def exif_bytes(lat, lon, taken):
    """EXIF (``Exif\\0\\0`` + TIFF) with GPS in degrees/minutes/seconds and DateTimeOriginal."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x0110] = "civicreport bench"
    exif.get_ifd(0x8825).update({1: "N", 2: _dms(lat), 3: "E", 4: _dms(lon)})
    exif.get_ifd(0x8769)[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    return exif.tobytes()


def _dms(value):
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return (float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 4))


def heic_photo(size, lat, lon, taken):
    """A cached HEIC of ``size`` with EXIF GPS (encoded once: x265 is slow).

    Less grain than the JPEGs: HEVC spends bits on noise, and phones' HEICs run at about
    0.4–0.8 bits per pixel (the corpus: a 16 MP Nokia HEIF of 0.9 MB), not 6."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    return _cached(
        f"photo-{size[0]}x{size[1]}-{lat:.5f}-{lon:.5f}-g5.heic",
        lambda: _encoded(_texture(size, 99, grain=0.05), "HEIF", quality=75, exif=exif_bytes(lat, lon, taken)),
    )


def _texture_jpeg(size, seed, quality):
    """A cached JPEG of one texture with a restart marker after every MCU row, ready to splice."""
    return _cached(
        f"texture-{size[0]}x{size[1]}-q{quality}-{seed}.jpg",
        lambda: _encoded(_texture(size, seed), "JPEG", quality=quality, restart_marker_rows=1),
    )


def plain_jpeg(size, lat, lon, taken, seed=7):
    """A cached single-texture JPEG of ``size`` with EXIF GPS (for the memory bench)."""
    return _cached(
        f"photo-{size[0]}x{size[1]}-{seed}-{lat:.5f}-{lon:.5f}.jpg",
        lambda: _encoded(_texture(size, seed), "JPEG", quality=90, exif=exif_bytes(lat, lon, taken)),
    )


def _encoded(image, fmt, **options):
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _cached(name, make):
    """Bytes of CACHE/name, made by ``make()`` and written atomically the first time."""
    path = CACHE / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{name}.{os.getpid()}")
        temp.write_bytes(make())
        temp.replace(path)
    return path.read_bytes()


def multipart(fields, photos):
    """(body, content type) of a multipart/form-data request with ``photos`` as ``photo`` parts."""
    boundary = uuid.uuid4().hex
    chunks = []
    for name, value in fields.items():
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for filename, data in photos:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        )
        chunks.append(data)
        chunks.append(b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"
