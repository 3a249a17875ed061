"""Test app on a real database: SQLite by default, PostgreSQL when CIVICREPORT_DATABASE_URL says so.

Storage is local unless CIVICREPORT_STORAGE=s3 (CI points it at a moto server over HTTP).
The schema comes from the migrations, so every run also proves they apply.
Fixtures many modules share live here too: the test grid (``grid``, ``city_unit``), a supervisor,
the closed ``loop``, fake AWS credentials and a real local SMTP server (``smtp_server``); plain helpers
are in tests/helpers.py.
"""

import os
import uuid
from email import message_from_bytes, policy
from types import SimpleNamespace

import boto3
import pytest
from aiosmtpd.controller import Controller
from flask_migrate import upgrade
from moto.server import ThreadedMotoServer
from sqlalchemy import text

from civicreport import create_app, registry
from civicreport.extensions import db, limiter
from civicreport.reference.grid import invalidate_grid_index
from civicreport.reference.loading import load_categories
from tests.browser import chromiums, serve
from tests.factories import make_geography, make_rule, make_unit, make_user
from tests.helpers import Loop, free_port, override_settings

KEEP_TABLES = {"alembic_version", "category"}


def _test_settings(tmp_root):
    # QUEUE_TOTALS_SECONDS 0: one app serves every test, so a count kept from one would answer the next
    settings = {"SECRET_KEY": "test-secret", "MEDIA_ROOT": str(tmp_root / "media"), "QUEUE_TOTALS_SECONDS": 0}
    if not os.environ.get("CIVICREPORT_DATABASE_URL"):
        settings["DATABASE_URL"] = f"sqlite:///{tmp_root / 'test.sqlite3'}"
    if os.environ.get("CIVICREPORT_STORAGE") == "s3":
        settings["S3_BUCKET"] = f"civicreport-test-{uuid.uuid4().hex[:8]}"
    return settings


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = create_app(_test_settings(tmp_path_factory.mktemp("civicreport")))
    app.config["TESTING"] = True
    with app.app_context():
        if app.config["STORAGE"] == "s3":
            _s3_client(app).create_bucket(Bucket=app.config["S3_BUCKET"])
        _drop_everything()
        upgrade()
        load_categories()
    return app


def _s3_client(app):
    return boto3.client(
        "s3", endpoint_url=app.config["S3_ENDPOINT_URL"] or None, region_name=app.config["S3_REGION"] or "us-east-1"
    )


def _drop_everything():
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(autouse=True)
def _clean_state(app):
    """Each test starts with reference categories only and an empty object store."""
    with app.app_context():
        _truncate()
        invalidate_grid_index()
        limiter.reset()  # abuse-limit counters start empty too
        _empty_storage(app)
    yield
    with app.app_context():
        db.session.remove()


def _truncate():
    db.session.remove()
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEEP_TABLES]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


def _empty_storage(app):
    storage = registry.of(app).storage
    for key in list(storage.iter_keys()):
        storage.delete(key)


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def storage(app):
    return registry.of(app).storage


@pytest.fixture
def grid(ctx):
    """The 16-cell test grid in 古南街道; returns the street office, which gets what no rule routes."""
    return make_geography()


@pytest.fixture
def city_unit(grid):
    """区城市管理局, which a district rule sends every 市容环境 (06) problem."""
    unit = make_unit("cgj", "urban_management", "区城市管理局")
    make_rule(unit, major="06")
    return unit


@pytest.fixture
def supervisor(ctx):
    """The bearer header of a 指挥中心 supervisor."""
    return make_user("sup", "supervisor")[1]


@pytest.fixture
def loop(city_unit, client):
    """Everyone the closed loop needs, 区交巡警支队 as the other unit, ready to drive reports."""
    make_unit("jxj", "traffic_police", "区交巡警支队")
    people = {
        "citizen": make_user("citizen", "citizen")[1],
        "monitor": make_user("monitor", "monitor")[1],
        "supervisor": make_user("sup", "supervisor")[1],
        "own_staff": make_user("staff-cgj", "unit_staff", "cgj")[1],
        "other_staff": make_user("staff-jxj", "unit_staff", "jxj")[1],
        "leader": make_user("leader", "leader")[1],
        "admin": make_user("admin", "admin")[1],
        "anonymous": {},
    }
    return Loop(client, people)


@pytest.fixture(scope="module")
def aws_env():
    """Fake AWS credentials and no profile, config file or endpoint from the developer's machine."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }.items():
            mp.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
            mp.delenv(name, raising=False)
        yield


@pytest.fixture(scope="module")
def moto_endpoint(aws_env):
    """A real S3 API over HTTP (moto's server) on a free local port: its endpoint URL."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


class _Inbox:
    """An aiosmtpd handler that keeps every message it receives, parsed with the modern policy
    (headers such as a Chinese Subject come back decoded; get_content() gives the text)."""

    def __init__(self, messages):
        self.messages = messages

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free local port: .host, .port and .messages (email.message.Message)."""
    messages = []
    port = free_port()
    controller = Controller(_Inbox(messages), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SimpleNamespace(host="127.0.0.1", port=port, messages=messages)
    finally:
        controller.stop()


@pytest.fixture
def live_server(app, monkeypatch):
    """The app served on a free loopback port for a browser, without map tiles (the tests' network has
    no tile server; the pages say so and work on): its base URL."""
    override_settings(app, monkeypatch, MAP_TILE_URL="")
    with serve(app) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def open_browser(tmp_path):
    """``open_browser(*flags, mobile=None)`` starts a headless Chromium (tests/browser.py); at the end
    all are closed and no page may have had anything refused by its Content-Security-Policy."""
    with chromiums(tmp_path) as start:
        yield start
