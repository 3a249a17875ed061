"""Open311 client keys: issued, listed and revoked by the CLI; the only thing taken as ``api_key``
(never a login's token); one jurisdiction and one rate limit per client; and request logs
(the dev server's and gunicorn's) that never keep a key."""

import hashlib
import io
import logging
import runpy
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from gunicorn.config import Config
from gunicorn.http.parser import RequestParser
from gunicorn.http.wsgi import create as gunicorn_wsgi
from sqlalchemy import select
from werkzeug.serving import make_server

from civicreport.cases.models import Report
from civicreport.extensions import db
from civicreport.open311.models import Open311Client
from tests.factories import (
    INSIDE,
    make_user,
    photo_bytes,
)
from tests.helpers import override_settings
from tests.open311_xml import BASE, spec_errors

FIELDS = {"service_code": "06010", "lat": INSIDE[0], "long": INSIDE[1], "description": "路边暴露垃圾"}
GUNICORN_CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def cli(app, *args):
    result = app.test_cli_runner().invoke(args=["open311-key", *args])
    return result.exit_code, result.output


def new_key(app, name="hotline-12345", *options):
    """``open311-key create``; the key is the last word of what it prints."""
    code, output = cli(app, "create", name, *options)
    assert code == 0, output
    return output.split()[-1]


def post(client, key, fmt="json", in_query=False, headers=None, **extra):
    form = {**FIELDS, **extra} if in_query else {**FIELDS, "api_key": key, **extra}
    url = f"{BASE}/requests.{fmt}" + (f"?api_key={urllib.parse.quote(key)}" if in_query else "")
    return client.post(url, data=form, headers=headers or {})


def listed(app):
    code, output = cli(app, "list")
    assert code == 0, output
    header, *rows = output.splitlines()
    assert header.split("\t") == ["name", "jurisdiction", "limit", "created", "last used", "revoked"]
    return {row.split("\t")[0]: row.split("\t") for row in rows}


def test_cli_creates_lists_and_revokes_client_keys(app, client, city_unit):
    key = new_key(app)
    other = new_key(app, "city-platform", "--jurisdiction", "500112", "--limit", "10/minute;100/day")
    assert key != other and len(key) >= 40
    rows = listed(app)
    assert rows["hotline-12345"][1:3] == ["500110", "600/hour;5000/day"]
    assert rows["hotline-12345"][4:] == ["-", "-"]
    assert rows["city-platform"][1:3] == ["500112", "10/minute;100/day"]
    assert key not in str(rows) and other not in str(rows)
    stored = db.session.scalar(select(Open311Client).where(Open311Client.name == "hotline-12345"))
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()  # the key itself is nowhere

    assert post(client, key).status_code == 201
    assert listed(app)["hotline-12345"][4] != "-"  # last used

    assert cli(app, "revoke", "hotline-12345") == (0, "revoked Open311 client hotline-12345\n")
    assert listed(app)["hotline-12345"][5] != "-"
    assert "invalid_api_key" in spec_errors(post(client, key), 403)[0]
    assert "invalid_api_key" in spec_errors(post(client, key, "xml", in_query=True), 403, "xml")[0]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["create", "hotline-12345"], "client_exists"),
        (["create", "dashboard", "--limit", "lots"], "invalid_rate_limit"),
        (["create", "x" * 65], "invalid_client_name"),
        (["revoke", "nobody"], "client_not_found"),
    ],
)
def test_cli_refuses_bad_input(app, city_unit, args, code):
    new_key(app)
    exit_code, output = cli(app, *args)
    assert exit_code != 0 and code in output
    assert sorted(listed(app)) == ["hotline-12345"]


def test_a_report_filed_with_a_key_names_its_client(app, client, city_unit):
    key = new_key(app)
    for in_query in (False, True):
        response = post(client, key, in_query=in_query)
        assert response.status_code == 201, response.data.decode()
        public_id = response.get_json()[0]["service_request_id"]
        report = db.session.scalar(select(Report).where(Report.public_id == public_id))
        assert report.channel == "open311" and report.reporter_user_id is None
        assert report.open311_client_id == db.session.scalar(select(Open311Client.id))


@pytest.mark.parametrize("role", ["admin", "supervisor", "citizen"])
def test_a_login_token_is_never_an_api_key(client, city_unit, role):
    _, bearer = make_user(f"{role}-1", role)
    token = bearer["Authorization"].split()[1]
    assert "invalid_api_key" in spec_errors(post(client, token), 403)[0]
    assert "invalid_api_key" in spec_errors(post(client, token, "xml", in_query=True), 403, "xml")[0]
    # Nor does the bearer header stand in for the key.
    assert "api_key_required" in spec_errors(client.post(f"{BASE}/requests.json", data=FIELDS, headers=bearer), 403)[0]
    assert db.session.scalar(select(Report)) is None


@pytest.mark.parametrize(
    ("options", "jurisdiction_id"),
    [
        ((), "500112"),  # a key for the district posting elsewhere
        (("--jurisdiction", "500112"), "500110"),  # a key for elsewhere posting here
        (("--jurisdiction", "500112"), None),  # … with the jurisdiction left out, which means here
    ],
)
def test_a_jurisdiction_the_key_may_not_post_to_is_403(app, client, city_unit, options, jurisdiction_id):
    key = new_key(app, "hotline-12345", *options)
    extra = {"jurisdiction_id": jurisdiction_id} if jurisdiction_id else {}
    for fmt in ("json", "xml"):
        assert "jurisdiction_not_allowed" in spec_errors(post(client, key, fmt, **extra), 403, fmt)[0]
    assert db.session.scalar(select(Report)) is None


def test_the_served_jurisdiction_named_or_not_is_fine(app, client, city_unit):
    key = new_key(app)
    assert post(client, key, jurisdiction_id="500110").status_code == 201
    assert post(client, key).status_code == 201


def test_each_client_has_its_own_limit_with_429_and_retry_after(app, client, city_unit, monkeypatch):
    limited_key = new_key(app, "hotline-12345", "--limit", "2/minute")
    default_key = new_key(app, "city-platform")
    assert [post(client, limited_key).status_code for _ in range(2)] == [201, 201]
    for fmt in ("json", "xml"):
        refused = post(client, limited_key, fmt)
        assert "rate_limited" in spec_errors(refused, 429, fmt)[0]
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert post(client, default_key).status_code == 201  # its own counter
    override_settings(app, monkeypatch, OPEN311_CLIENT_LIMIT="1/minute")  # the default, for keys without --limit
    assert post(client, default_key).status_code == 201  # a new limit counts afresh
    assert "rate_limited" in spec_errors(post(client, default_key), 429)[0]
    assert post(client, limited_key).status_code == 429  # its own limit, not the default


def test_a_live_key_is_counted_as_its_client_not_by_address(app, client, city_unit, monkeypatch):
    """One hotline server forwards many citizens; a wrong key is counted by address like anyone."""
    override_settings(app, monkeypatch, SUBMIT_LIMIT_PER_IP="2/minute")
    key = new_key(app)
    assert [post(client, key).status_code for _ in range(4)] == [201] * 4
    assert [post(client, "guessed-key").status_code for _ in range(2)] == [403, 403]
    assert "rate_limited" in spec_errors(post(client, "guessed-key"), 429)[0]


def test_an_api_key_outside_open311_escapes_no_limit(app, client, city_unit, monkeypatch):
    override_settings(app, monkeypatch, SUBMIT_LIMIT_PER_IP="1/minute")
    key = new_key(app)

    def report():
        return client.post(
            f"/api/v1/reports?api_key={key}",
            content_type="multipart/form-data",
            data={"photo": (io.BytesIO(photo_bytes((64, 48), gps=INSIDE)), "p.jpg"), "description": "占道"},
        )

    assert report().status_code == 201
    refused = report()
    assert refused.status_code == 429 and refused.get_json()["error"]["details"]["scope"] == "ip"


def test_idempotency_keys_of_two_clients_never_meet(app, client, city_unit):
    first, second = new_key(app), new_key(app, "city-platform")
    answers = [post(client, key, headers={"Idempotency-Key": "call-77"}) for key in (first, second, first)]
    assert [a.status_code for a in answers] == [201, 201, 201]
    ids = [a.get_json()[0]["service_request_id"] for a in answers]
    assert ids[0] == ids[2] != ids[1]
    assert answers[2].headers["Idempotent-Replayed"] == "true"


@pytest.fixture
def served(app, ctx):
    """The app behind werkzeug's own server (the dev server's request log) on a free port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_the_dev_server_log_keeps_no_key(app, city_unit, served, caplog):
    key = new_key(app)
    caplog.set_level(logging.INFO, logger="werkzeug")
    body = urllib.parse.urlencode(FIELDS).encode()
    with urllib.request.urlopen(f"{served}{BASE}/requests.json?api_key={key}", data=body) as answer:
        assert answer.status == 201
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{served}{BASE}/requests.json?api_key=a-staff-token&x=1", data=body)
    with urllib.request.urlopen(f"{served}{BASE}/services.json?jurisdiction_id=500110&access_token=t0ken"):
        pass
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug" and "/open311/" in r.getMessage()]
    assert len(lines) == 3, lines
    assert all(secret not in line for line in lines for secret in (key, "a-staff-token", "t0ken"))
    assert "requests.json?api_key=[redacted] HTTP/1.1" in lines[0]
    assert "api_key=[redacted]&x=1" in lines[1]
    assert "jurisdiction_id=500110&access_token=[redacted]" in lines[2]


def test_gunicorn_access_lines_keep_no_key(tmp_path):
    logger_class = runpy.run_path(str(GUNICORN_CONF))["logger_class"]
    config = Config()
    config.set("accesslog", str(tmp_path / "access.log"))
    config.set("access_log_format", '%(h)s "%(r)s" %(s)s q=%(q)s "%(f)s" %({raw_uri}e)s')
    raw = (
        b"POST /open311/v2/requests.json?api_key=K3y-secret&service_code=06010 HTTP/1.1\r\n"
        b"Host: civicreport.example\r\nReferer: https://hotline.example/form?token=T0ken&page=2\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    request = next(RequestParser(config, iter([raw]), ("203.0.113.5", 50000)))
    logger = logger_class(config)
    ours, theirs = socket.socketpair()
    try:
        response, environ = gunicorn_wsgi(request, ours, ("203.0.113.5", 50000), ("127.0.0.1", 8000), config)
        response.start_response("201 CREATED", [("Content-Type", "application/json")])
        logger.access(response, request, environ, timedelta(milliseconds=12))
    finally:
        ours.close()
        theirs.close()
        _drop_gunicorn_handlers(logger)
    line = (tmp_path / "access.log").read_text()
    assert "K3y-secret" not in line and "T0ken" not in line
    assert line.count("api_key=[redacted]&service_code=06010") == 3  # request line, query, RAW_URI
    assert "token=[redacted]&page=2" in line and line.startswith("203.0.113.5 ") and " 201 " in line


def _drop_gunicorn_handlers(logger):
    """gunicorn's loggers are process-wide: leave them as they were."""
    for log in (logger.access_log, logger.error_log):
        for handler in [h for h in log.handlers if getattr(h, "_gunicorn", False)]:
            log.removeHandler(handler)
            handler.close()
