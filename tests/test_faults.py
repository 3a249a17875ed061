"""Faults on the production path, with real processes and sockets.

The object store stops mid-upload or stalls (a ``moto_server`` subprocess behind an
in-test TCP proxy that cuts or delays), the database drops a request's connection or
restarts (PostgreSQL only), the worker is SIGKILLed while delivering the outbox. Each
ends with no half report, no object that gc-media would not remove, and the client's
retry with the same Idempotency-Key getting exactly one report.
"""

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

import boto3
import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from civicreport import registry
from civicreport.cases.models import IdempotencyRecord, Media, Report, ReportEvent
from civicreport.delivery.models import OutboxMessage
from civicreport.delivery.outbox import enqueue
from civicreport.extensions import db
from civicreport.media.storage import S3Storage
from civicreport.ops.maintenance import collect_media_garbage
from civicreport.reference.areas import District
from tests.factories import INSIDE, make_unit
from tests.helpers import assert_error, free_port, post_report, referenced_keys

pytestmark = pytest.mark.e2e  # moto_server and gunicorn processes, a PostgreSQL restart
ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WAIT = 60  # seconds before a test gives up on something that should happen far sooner


def wait_until(condition, what, seconds=WAIT):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def stop_process(process):
    """SIGTERM the process this test started, SIGKILL if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def rows(model):
    count = db.session.scalar(select(func.count()).select_from(model))
    db.session.rollback()
    return count


def noisy_photo(seed, size=(1024, 768)):
    """A JPEG of random pixels: megabytes that compress badly, like a real photo."""
    noise = random.Random(seed).randbytes(size[0] * size[1] * 3)
    out = BytesIO()
    Image.frombytes("RGB", size, noise).save(out, "JPEG", quality=90)
    return out.getvalue()


def at_inside(**fields):
    return {"lat": INSIDE[0], "lon": INSIDE[1], "category": "06010", **fields}


# --- a real S3 endpoint we can kill, cut off and slow down ------------------------------


class MotoProcess:
    """``moto_server`` as its own process on a free port (its state dies with it)."""

    def __init__(self, log_path):
        self.log_path = log_path
        self.process = None
        self.port = None

    def start(self):
        self.port = free_port()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(self._answers, "moto_server to listen")

    def _answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def kill(self):
        self.process.kill()
        self.process.wait()

    def create_bucket(self, name):
        boto3.client("s3", endpoint_url=f"http://127.0.0.1:{self.port}", region_name="us-east-1").create_bucket(
            Bucket=name
        )


class FaultProxy:
    """A TCP proxy on 127.0.0.1 in front of moto that can stall or cut the connection.

    ``delay``: seconds to hold every chunk coming back from upstream (a stalled store).
    ``budget``: bytes the clients may send upstream in all before the proxy drops every
    connection and stops listening (the endpoint goes away mid-upload); ``on_cut`` runs
    then. ``start()`` listens again on the same port.
    """

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.port = None
        self.delay = 0.0
        self.budget = None
        self.on_cut = None
        self.cut = threading.Event()
        self.sent = 0
        self.lock = threading.Lock()
        self.sockets = set()
        self.listener = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port or 0))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self):
        """Refuse new connections and drop the open ones."""
        listener, self.listener = self.listener, None
        if listener is not None:
            _close(listener)
        with self.lock:
            open_sockets, self.sockets = list(self.sockets), set()
        for sock in open_sockets:
            _close(sock)

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            with self.lock:
                self.sockets |= {client, upstream}
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source, target, to_upstream):
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                break
            if not data:
                break
            if to_upstream and self._over_budget(len(data)):
                self._cut()
                break
            if not to_upstream and self.delay:
                time.sleep(self.delay)
            try:
                target.sendall(data)
            except OSError:
                break
        _close(source)
        _close(target)

    def _over_budget(self, size):
        with self.lock:
            self.sent += size
            return self.budget is not None and self.sent > self.budget

    def _cut(self):
        if not self.cut.is_set():
            self.cut.set()
            self.stop()
            if self.on_cut:
                self.on_cut()


def _close(sock):
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@pytest.fixture(scope="module")
def moto(aws_env, tmp_path_factory):
    """One moto_server for the module; a test that kills it starts the next one."""
    server = MotoProcess(tmp_path_factory.mktemp("moto") / "moto.log")
    server.start()
    yield server
    stop_process(server.process)


@pytest.fixture
def proxy(moto):
    fault_proxy = FaultProxy(moto.port)
    fault_proxy.start()
    yield fault_proxy
    fault_proxy.stop()


@pytest.fixture
def bucket(moto):
    name = f"faults-{uuid.uuid4().hex[:8]}"
    moto.create_bucket(name)
    return name


@pytest.fixture
def s3_behind_proxy(app, proxy, bucket, monkeypatch):
    """The app's storage is S3 through the proxy, with short timeouts and two tries."""
    store = S3Storage(
        bucket,
        endpoint_url=proxy.url,
        region="us-east-1",
        connect_timeout=1,
        read_timeout=1,
        max_attempts=2,
        check_timeout=1,
    )
    monkeypatch.setattr(registry.of(app), "storage", store)
    return store


def assert_exactly_one_report_and_no_orphan(storage, report_id):
    assert rows(Report) == rows(IdempotencyRecord) == 1
    assert db.session.scalar(select(Report.public_id)) == report_id
    db.session.rollback()
    assert rows(ReportEvent) >= 1
    assert set(storage.iter_keys()) == referenced_keys() != set()
    assert collect_media_garbage(0).removed == 0


def health_details(client):
    response = client.get("/api/v1/health")
    error = assert_error(response, 503, "unhealthy")
    assert error["details"]["status"] == "degraded"
    return error["details"]["checks"]


@pytest.mark.parametrize("how", ["endpoint_stops", "server_killed"])
def test_s3_goes_away_mid_upload(app, client, grid, moto, proxy, bucket, s3_behind_proxy, how):
    photos = [noisy_photo(1), noisy_photo(2)]
    key = {"Idempotency-Key": f"phone-{how}"}
    proxy.budget = len(photos[0]) + 100_000  # past the first original, inside its display copy
    if how == "server_killed":
        proxy.on_cut = moto.kill

    assert_error(post_report(client, photos, key, **at_inside()), 503, "storage_unavailable")
    assert proxy.cut.is_set()
    assert rows(Report) == rows(Media) == rows(ReportEvent) == rows(IdempotencyRecord) == 0
    assert health_details(client) == {"database": "ok", "storage": "error: storage_unavailable"}

    if how == "server_killed":  # a new, empty store on another port
        moto.start()
        moto.create_bucket(bucket)
        proxy.upstream_port = moto.port
    proxy.budget = None
    proxy.start()
    assert client.get("/api/v1/health").status_code == 200
    left = set(s3_behind_proxy.iter_keys())
    if how == "endpoint_stops":
        assert left, "the first original was stored before the cut"
    assert collect_media_garbage(0, dry_run=True).removed == len(left)  # all orphans

    retry = post_report(client, photos, key, **at_inside())
    assert retry.status_code == 201, retry.get_json()
    again = post_report(client, photos, key, **at_inside())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == retry.get_json()["id"]
    assert rows(Media) == 2
    assert_exactly_one_report_and_no_orphan(s3_behind_proxy, retry.get_json()["id"])


# --- the same through gunicorn: a stalled store costs a 503, not a worker ---------------------


def encode_multipart(fields, files):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data) in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def http(method, url, body=None, headers=None):
    """(status, JSON body) over real HTTP; error statuses are answers, not exceptions."""
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            return response.status, json.loads(response.read()), response.headers
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), err.headers


def app_environment(app, **settings):
    """The environment a subprocess needs to run this test app's database and storage."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("CIVICREPORT_")}
    base = {
        key: app.config[key]
        for key in ("DATABASE_URL", "SECRET_KEY", "STORAGE", "MEDIA_ROOT", "S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION")
    }
    base.update(settings)
    env.update({f"CIVICREPORT_{key}": str(value) for key, value in base.items()})
    return env


@pytest.fixture
def gunicorn(app, proxy, bucket, tmp_path):
    """``make serve-prod``'s gunicorn (gunicorn.conf.py) with ONE worker of ONE thread."""
    port = free_port()
    env = app_environment(
        app,
        STORAGE="s3",
        S3_BUCKET=bucket,
        S3_ENDPOINT_URL=proxy.url,
        S3_REGION="us-east-1",
        S3_CONNECT_TIMEOUT=1,
        S3_READ_TIMEOUT=1,
        S3_MAX_ATTEMPTS=2,
        HEALTH_TIMEOUT=1,
        BIND=f"127.0.0.1:{port}",
        WEB_THREADS=1,
    )
    env["WEB_CONCURRENCY"] = "1"
    with open(tmp_path / "gunicorn.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"

    def answers():
        assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
        try:
            urllib.request.urlopen(base + "/api/v1/categories", timeout=5).close()
            return True
        except OSError:
            return False

    wait_until(answers, "gunicorn to serve")
    yield base
    stop_process(process)


def test_stalled_s3_is_a_clean_503_and_the_only_worker_serves_on(app, grid, proxy, gunicorn, bucket, aws_env):
    photo = noisy_photo(3, size=(640, 480))
    body, content_type = encode_multipart(at_inside(), [("photo", ("p.jpg", photo))])
    headers = {"Content-Type": content_type, "Idempotency-Key": "slow-store-1"}
    proxy.delay = 3  # longer than the read timeout (1 s)

    status, answer, _ = http("POST", gunicorn + "/api/v1/reports", body, headers)
    assert status == 503 and answer["error"]["code"] == "storage_unavailable", answer
    assert set(answer["error"]) == {"code", "message", "details"}
    status, answer, _ = http("GET", gunicorn + "/api/v1/health")  # the same worker, free again
    assert status == 503 and answer["error"]["details"]["checks"]["storage"] == "error: storage_unavailable"
    assert rows(Report) == rows(Media) == 0

    proxy.delay = 0
    assert http("GET", gunicorn + "/api/v1/health")[:2] == (
        200,
        {"status": "ok", "checks": {"database": "ok", "storage": "ok"}},
    )
    first = http("POST", gunicorn + "/api/v1/reports", body, headers)
    again = http("POST", gunicorn + "/api/v1/reports", body, headers)
    assert (first[0], again[0]) == (201, 201), (first[1], again[1])
    assert again[2]["Idempotent-Replayed"] == "true" and again[1]["id"] == first[1]["id"]
    store = S3Storage(bucket, endpoint_url=proxy.url, region="us-east-1")
    adapters = registry.of(app)
    adapters.storage, saved = store, adapters.storage
    try:
        assert_exactly_one_report_and_no_orphan(store, first[1]["id"])
    finally:
        adapters.storage = saved


# --- PostgreSQL: a request's connection dropped, the server restarted ------------------------


@pytest.fixture
def postgres(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: set CIVICREPORT_DATABASE_URL to run it")
    import psycopg

    url = make_url(app.config["DATABASE_URL"]).set(drivername="postgresql")
    return lambda: psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


class OnFirstPut:
    """The real storage, running ``action`` once just before the first object is written."""

    def __init__(self, backend, action):
        self.backend = backend
        self.action = action

    def put(self, key, data, content_type):
        action, self.action = self.action, None
        if action:
            action()
        self.backend.put(key, data, content_type)

    def __getattr__(self, name):
        return getattr(self.backend, name)


def submit_fails_then_retry_succeeds(app, client, storage, monkeypatch, fault):
    photos = [noisy_photo(4, size=(640, 480))]
    key = {"Idempotency-Key": "db-fault-1"}
    monkeypatch.setattr(registry.of(app), "storage", OnFirstPut(storage, fault))
    assert_error(post_report(client, photos, key, **at_inside()), 503, "database_unavailable")
    monkeypatch.setattr(registry.of(app), "storage", storage)
    assert rows(Report) == rows(Media) == rows(ReportEvent) == rows(IdempotencyRecord) == 0
    assert collect_media_garbage(0, dry_run=True).removed == len(list(storage.iter_keys())) > 0
    assert client.get("/api/v1/health").status_code == 200
    retry = post_report(client, photos, key, **at_inside())
    assert retry.status_code == 201, retry.get_json()
    again = post_report(client, photos, key, **at_inside())
    assert again.get_json()["id"] == retry.get_json()["id"]
    assert_exactly_one_report_and_no_orphan(storage, retry.get_json()["id"])


def test_connection_dropped_mid_request(app, client, grid, storage, postgres, monkeypatch):
    def terminate_this_requests_backend():
        pid = db.session.connection().connection.dbapi_connection.info.backend_pid
        with postgres() as conn:
            assert conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]

    submit_fails_then_retry_succeeds(app, client, storage, monkeypatch, terminate_this_requests_backend)


def test_pool_replaces_connections_the_server_closed(app, client, grid, postgres):
    assert client.get("/api/v1/health").status_code == 200  # the pool now holds a connection
    with postgres() as conn:
        killed = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND usename = current_user AND pid <> pg_backend_pid()"
        ).fetchone()[0]
    assert killed >= 1
    assert client.get("/api/v1/health").status_code == 200
    assert post_report(client, [noisy_photo(5, size=(640, 480))], **at_inside()).status_code == 201


def test_postgresql_restart_mid_request(app, client, grid, storage, postgres, monkeypatch):
    cluster = os.environ.get("CIVICREPORT_TEST_PG_CLUSTER", "").split()
    if len(cluster) != 2:
        pytest.skip('restarts a whole cluster: set CIVICREPORT_TEST_PG_CLUSTER="15 main" (CI does)')

    def restart():
        subprocess.run(["pg_ctlcluster", *cluster, "restart"], check=True, timeout=WAIT)

    submit_fails_then_retry_succeeds(app, client, storage, monkeypatch, restart)


# --- the worker killed while it delivers ---------------------------------------------------


class StallingReceiver:
    """Webhook endpoint that holds the first delivery until ``release`` is set."""

    def __init__(self):
        self.deliveries = []
        self.first_arrived = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.deliveries.append(self.headers["X-Civicreport-Delivery"])
                if len(receiver.deliveries) == 1:
                    receiver.first_arrived.set()
                    receiver.release.wait(WAIT)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # the killed worker hangs up
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def start_worker(app, log_path):
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "civicreport", "worker", "--interval", "0.2"],
            cwd=ROOT,
            env=app_environment(app, MEDIA_GC_EVERY_HOURS=0),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def outbox_statuses(ids):
    db.session.expire_all()
    found = {
        m.id: (m.status, m.attempts, m.sent_at is not None)
        for m in db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))
    }
    db.session.rollback()  # hold no read lock while the worker writes (SQLite)
    return [found[i] for i in ids]


def test_worker_killed_mid_delivery_delivers_again_and_marks_once(app, ctx, tmp_path):
    receiver = StallingReceiver()
    try:
        db.session.add(District(code="500110", name="綦江区"))
        unit = make_unit("cgj-faults", name="城管执法大队")
        unit.delivery_method, unit.delivery_target = "webhook", receiver.url
        ids = [enqueue("dispatch", {"report": f"QJ20261202-000{i}", "message": "派遣"}, unit=unit) for i in range(1, 4)]
        db.session.commit()
        ids = [message.id for message in ids]

        first = start_worker(app, tmp_path / "worker.log")
        assert receiver.first_arrived.wait(WAIT), (tmp_path / "worker.log").read_text()
        first.send_signal(signal.SIGKILL)  # mid-delivery: the receiver has not answered
        first.wait()
        receiver.release.set()
        assert outbox_statuses(ids) == [("pending", 0, False)] * 3

        second = start_worker(app, tmp_path / "worker.log")
        try:
            wait_until(lambda: all(s[0] == "sent" for s in outbox_statuses(ids)), "every message sent")
        finally:
            stop_process(second)
        assert outbox_statuses(ids) == [("sent", 0, True)] * 3
        result = app.test_cli_runner().invoke(args=["worker", "--once"])
        assert "sent=0" in result.output
    finally:
        receiver.close()
    delivered = receiver.deliveries
    assert sorted(set(delivered)) == sorted(str(i) for i in ids)  # each at least once
    assert delivered.count(str(ids[0])) == 2  # the one in flight when the worker died, again
    assert [delivered.count(str(i)) for i in ids[1:]] == [1, 1]
