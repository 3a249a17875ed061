"""gunicorn settings for production: ``gunicorn -c gunicorn.conf.py wsgi:app`` (``make serve-prod``).

Read from the environment: CIVICREPORT_BIND (default 127.0.0.1:8000; a list separated by
commas), WEB_CONCURRENCY (worker processes; default 2 × CPUs + 1, at most 12) and
CIVICREPORT_WEB_THREADS (threads per worker, default 4). The app itself reads its
CIVICREPORT_* settings as always; GUNICORN_CMD_ARGS overrides anything set here.
Migrations run once, in the master, before any worker starts.
"""

import os

from gunicorn.glogging import Logger

from civicreport.web.access_log import scrub

MAX_WORKERS = 12  # each worker holds a database pool and decodes photos: memory, not CPU, bounds it
# 2 × CPUs + 1 workers already share the cores: OpenCV's own thread pool in each (the face and
# plate detectors of inline uploads) only oversubscribes them. One thread each: an 8 MP burst
# (bench/load.py --mix 8mp, inline) went from 4.24 to 5.36 photos/s, 378 → 322 ms of worker CPU each.
# Set before the master's create_app imports OpenCV, so the forked workers inherit it.
os.environ.setdefault("OPENCV_FOR_THREADS_NUM", "1")
# The same for numpy's OpenBLAS: a second thread it wakes for a matrix product keeps spinning after it
# (the plate classifier's product cost 37 ms of CPU for 18 ms of work before it moved to cv2.gemm).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _cpus():
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may use (containers, taskset)
    except AttributeError:
        return os.cpu_count() or 1


bind = [part.strip() for part in os.environ.get("CIVICREPORT_BIND", "127.0.0.1:8000").split(",") if part.strip()]
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * _cpus() + 1, MAX_WORKERS))

# Threads keep a process serving while one of its requests waits on a slow phone's upload,
# the database or the object store. Photo decoding is limited per process
# (CIVICREPORT_PHOTO_DECODES_PER_PROCESS), so threads do not multiply decode memory.
threads = int(os.environ.get("CIVICREPORT_WEB_THREADS") or 4)
worker_class = "gthread"

# A phone on a weak 3G/4G link may take a minute or two to send 6 photos. With threads,
# ``timeout`` only kills a worker whose main loop stops responding; what bounds one
# request is the app's own S3 and database timeouts (CIVICREPORT_S3_*_TIMEOUT,
# CIVICREPORT_DB_CONNECT_TIMEOUT), which fail it with a 503 instead of hanging.
timeout = 120
graceful_timeout = 60  # on SIGTERM/SIGHUP, uploads in flight get this long to finish
keepalive = 5

# Header limits. gunicorn has no body limit: the app answers 413 in its JSON error shape
# above CIVICREPORT_MAX_REQUEST_BYTES (100 MiB by default: 6 photos of at most
# CIVICREPORT_MAX_PHOTO_BYTES = 15 MiB plus form fields). A reverse proxy in front must
# let that much through (nginx: client_max_body_size 100m).
limit_request_line = 8190  # queue and Open311 queries with bbox and several filters
limit_request_fields = 100
limit_request_field_size = 8190  # bearer tokens, Idempotency-Key (at most 100 chars), cookies

# Recycle workers now and then: decoding large photos fragments the heap.
max_requests = 2000
max_requests_jitter = 200

preload_app = False  # each worker opens its own database pool and S3 client after the fork
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"  # heartbeat file off the disk, so a slow disk cannot kill workers
accesslog = "-"
errorlog = "-"
control_socket_disable = True  # one fixed path in $HOME would clash between instances on a host


class ScrubbingLogger(Logger):
    """Access lines without Open311's ``api_key`` or token-like query values: every text atom
    (request line, query string, referrer, headers, environ) passes through
    ``civicreport.web.access_log.scrub``, whatever ``access_log_format`` picks."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {name: scrub(value) if isinstance(value, str) else value for name, value in atoms.items()}


logger_class = ScrubbingLogger


def post_fork(server, worker):
    """Tune malloc in each worker (see civicreport.ops.allocator)."""
    from civicreport.ops.allocator import tune_malloc

    tune_malloc()


def on_starting(server):
    """Migrate the database once, before forking (PostgreSQL: one host at a time)."""
    from civicreport import create_app
    from civicreport.extensions import db
    from civicreport.ops.maintenance import upgrade_schema

    app = create_app()
    with app.app_context():
        upgrade_schema()
        server.log.info(
            "database migrated; request bodies up to %d bytes, storage %s",
            app.config["MAX_CONTENT_LENGTH"],
            app.config["STORAGE"],
        )
        db.engine.dispose()  # no connection of the master's may leak into the workers
