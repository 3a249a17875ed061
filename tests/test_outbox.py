"""Outbox delivery over a real local webhook receiver (and a tiny SMTP server).

Time is driven by ``deliver_due(now=...)``; the network is real: a
ThreadingHTTPServer on 127.0.0.1 that fails, stalls or accepts as scripted.
"""

import base64
import hashlib
import hmac
import json
import logging
import os
import signal
import socket
import socketserver
import threading
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from civicreport import registry
from civicreport.accounts.models import Unit
from civicreport.delivery.models import OutboxMessage
from civicreport.delivery.outbox import deliver_due, enqueue
from civicreport.delivery.retry import backoff
from civicreport.delivery.senders import build_senders
from civicreport.delivery.worker import run_worker
from civicreport.extensions import db
from civicreport.reference.areas import District
from tests.factories import make_unit
from tests.helpers import override_settings

SECRET = "s3cret-密钥"
T0 = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)  # well after every enqueue


class Receiver:
    """Scripted webhook endpoint: ``plan`` lists actions for the first requests, then 204."""

    def __init__(self, plan=(), stall_seconds=1.0):
        self.plan = list(plan)
        self.stall_seconds = stall_seconds
        self.requests = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # stalled clients hang up
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.record(dict(self.headers), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

    def record(self, headers, body):
        with self.lock:
            action = self.plan.pop(0) if self.plan else "ok"
            self.requests.append({"headers": headers, "body": body, "action": action})
        if action == "stall":
            time.sleep(self.stall_seconds)
        return {"ok": 204, "fail": 500, "stall": 204, "redirect": 302}[action]

    def accepted(self):
        return [r for r in self.requests if r["action"] == "ok"]

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class SmtpSink(socketserver.ThreadingTCPServer):
    """Just enough SMTP for smtplib: accepts every message and keeps its raw text.

    It offers AUTH PLAIN (and keeps the decoded credentials) but never STARTTLS.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        self.messages, self.logins = [], []
        super().__init__(("127.0.0.1", 0), self._Handler)

    class _Handler(socketserver.StreamRequestHandler):
        def reply(self, line):
            self.wfile.write(line.encode() + b"\r\n")

        def handle(self):
            self.reply("220 sink")
            for raw in self.rfile:
                line = raw.decode().strip()
                verb = line.upper()
                if verb.startswith("EHLO"):
                    self.reply("250-sink")
                    self.reply("250 AUTH PLAIN")
                elif verb.startswith("AUTH PLAIN "):
                    self.server.logins.append(base64.b64decode(line.split()[2]).split(b"\0")[1:])
                    self.reply("235 welcome")
                elif verb.startswith("DATA"):
                    self.reply("354 go on")
                    self.server.messages.append(self._read_data())
                    self.reply("250 queued")
                elif verb.startswith("QUIT"):
                    self.reply("221 bye")
                    return
                else:
                    self.reply("250 ok")

        def _read_data(self):
            lines = []
            for raw in self.rfile:
                if raw == b".\r\n":
                    break
                lines.append(raw)
            return b"".join(lines)


def closed_port_url():
    """A URL on 127.0.0.1 where nothing listens: connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


@pytest.fixture
def configure(app, monkeypatch):
    """Set outbox settings for one test and rebuild the senders from them."""

    def apply(**settings):
        override_settings(app, monkeypatch, **settings)
        monkeypatch.setattr(registry.of(app), "senders", build_senders(app.config))

    apply(
        OUTBOX_MAX_ATTEMPTS=5,
        OUTBOX_BACKOFF_SECONDS=30,
        OUTBOX_BACKOFF_MAX_SECONDS=3600,
        WEBHOOK_TIMEOUT=2.0,
        SMTP_HOST="",
    )
    return apply


@pytest.fixture
def district(ctx):
    db.session.add(District(code="500110", name="綦江区"))
    db.session.flush()


def webhook_unit(code, url, secret=SECRET):
    unit = make_unit(code, name=f"{code} 处置单位")
    unit.delivery_method, unit.delivery_target, unit.delivery_secret = "webhook", url, secret
    return unit


def queue(topic, unit=None, **payload):
    notice = {"report": "QJ20261123-0042", "event": topic, "message": "案件 QJ20261123-0042（井盖缺失）派遣"}
    message = enqueue(topic, {**notice, **payload}, unit=unit)
    db.session.commit()
    return message.id


def reload(message_id):
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def verify_signature(request, secret=SECRET):
    headers = request["headers"]
    timestamp = headers["X-Civicreport-Timestamp"]
    signed = f"{timestamp}.".encode() + request["body"]
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["X-Civicreport-Signature"], f"sha256={expected}")


def test_webhook_retries_with_backoff_then_is_sent_once_and_signed(district, configure):
    with Receiver(plan=["fail", "fail", "fail"]) as receiver:
        message_id = queue("dispatch", webhook_unit("cgj", receiver.url))

        assert deliver_due(now=T0) == {"sent": 0, "retried": 1, "dead": 0}
        assert reload(message_id).next_attempt_at == T0 + timedelta(seconds=30)
        assert deliver_due(now=T0 + timedelta(seconds=29)) == {"sent": 0, "retried": 0, "dead": 0}
        assert len(receiver.requests) == 1

        due = T0 + timedelta(seconds=30)
        assert deliver_due(now=due)["retried"] == 1
        assert reload(message_id).next_attempt_at == due + timedelta(seconds=60)
        due += timedelta(seconds=60)
        assert deliver_due(now=due)["retried"] == 1
        assert reload(message_id).next_attempt_at == due + timedelta(seconds=120)
        due += timedelta(seconds=120)
        assert deliver_due(now=due) == {"sent": 1, "retried": 0, "dead": 0}
        assert deliver_due(now=due + timedelta(days=30)) == {"sent": 0, "retried": 0, "dead": 0}

    message = reload(message_id)
    assert (message.status, message.attempts, message.sent_at, message.last_error) == ("sent", 3, due, None)
    assert len(receiver.requests) == 4 and len(receiver.accepted()) == 1
    delivered = receiver.accepted()[0]
    headers = delivered["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Civicreport-Event"] == "dispatch"
    assert headers["X-Civicreport-Delivery"] == str(message_id)
    assert abs(int(headers["X-Civicreport-Timestamp"]) - time.time()) < 60
    assert verify_signature(delivered)
    assert not verify_signature(delivered, secret="wrong")
    assert json.loads(delivered["body"])["message"] == "案件 QJ20261123-0042（井盖缺失）派遣"
    # every attempt carries the same delivery id, so a receiver can de-duplicate
    assert {r["headers"]["X-Civicreport-Delivery"] for r in receiver.requests} == {str(message_id)}


def test_backoff_doubles_and_is_capped():
    waits = [backoff(n, 30, 3600).total_seconds() for n in range(1, 10)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_stalled_receiver_times_out_and_is_retried(district, configure):
    configure(WEBHOOK_TIMEOUT=0.3)
    with Receiver(plan=["stall"], stall_seconds=2.0) as receiver:
        message_id = queue("escalation", webhook_unit("cgj", receiver.url))
        started = time.monotonic()
        assert deliver_due(now=T0)["retried"] == 1
        assert time.monotonic() - started < 1.5
        assert "timeout" in reload(message_id).last_error
        assert deliver_due(now=T0 + timedelta(minutes=1))["sent"] == 1
    assert reload(message_id).status == "sent"


def test_redirect_is_a_failure_not_a_silent_get(district, configure):
    with Receiver(plan=["redirect"]) as receiver:
        message_id = queue("dispatch", webhook_unit("cgj", receiver.url))
        deliver_due(now=T0)
    assert (reload(message_id).status, reload(message_id).last_error) == ("pending", "HTTP 302")
    assert len(receiver.requests) == 1


def test_message_is_dead_after_max_attempts(district, configure):
    configure(OUTBOX_MAX_ATTEMPTS=3)
    with Receiver(plan=["fail"] * 10) as receiver:
        message_id = queue("overdue", webhook_unit("cgj", receiver.url))
        outcomes = [deliver_due(now=T0 + timedelta(days=day)) for day in range(5)]
    assert [o["retried"] for o in outcomes] == [1, 1, 0, 0, 0]
    assert [o["dead"] for o in outcomes] == [0, 0, 1, 0, 0]
    message = reload(message_id)
    assert (message.status, message.attempts, message.last_error) == ("dead", 3, "HTTP 500")
    assert len(receiver.requests) == 3


class Exploding:
    def send(self, message):
        raise RuntimeError("sender bug")


def test_failing_messages_do_not_stop_the_others(district, configure, app, monkeypatch):
    monkeypatch.setitem(registry.of(app).senders, "exploding", Exploding())
    with Receiver() as receiver:
        down = queue("dispatch", webhook_unit("down", closed_port_url()))
        buggy, unknown = enqueue("dispatch", {}, method="exploding"), enqueue("dispatch", {}, method="pigeon")
        db.session.commit()
        buggy, unknown = buggy.id, unknown.id
        good = queue("dispatch", webhook_unit("good", receiver.url))
        logged = queue("closed")
        assert deliver_due(now=T0) == {"sent": 2, "retried": 3, "dead": 0}
    assert [reload(i).status for i in (good, logged)] == ["sent", "sent"]
    assert [r["headers"]["X-Civicreport-Delivery"] for r in receiver.requests] == [str(good)]
    assert "ConnectionRefusedError" in reload(down).last_error
    assert reload(buggy).last_error == "RuntimeError: sender bug"
    assert reload(unknown).last_error == "unknown delivery method 'pigeon'"


class DiesAfterSending:
    """The real webhook sender, then the worker is killed before it records the result."""

    def __init__(self, sender):
        self.sender = sender

    def send(self, message):
        self.sender.send(message)
        raise SystemExit("killed")


def test_worker_killed_after_sending_means_delivered_again(district, configure, app, monkeypatch):
    senders = registry.of(app).senders
    with Receiver() as receiver:
        message_id = queue("dispatch", webhook_unit("cgj", receiver.url))
        monkeypatch.setitem(senders, "webhook", DiesAfterSending(senders["webhook"]))
        with pytest.raises(SystemExit):
            deliver_due(now=T0)
        db.session.rollback()  # the dead process's transaction never commits
        assert (reload(message_id).status, reload(message_id).attempts) == ("pending", 0)
        monkeypatch.setitem(senders, "webhook", senders["webhook"].sender)
        assert deliver_due(now=T0)["sent"] == 1
    assert [r["headers"]["X-Civicreport-Delivery"] for r in receiver.requests] == [str(message_id)] * 2


def test_limit_bounds_one_call(district, configure):
    ids = [queue("dispatch") for _ in range(3)]
    assert deliver_due(now=T0, limit=2)["sent"] == 2
    assert [reload(i).status for i in ids] == ["sent", "sent", "pending"]
    assert deliver_due(now=T0, limit=2)["sent"] == 1


def test_log_method_writes_a_line(district, configure, caplog):
    message_id = queue("resolved", status="resolved")
    with caplog.at_level(logging.INFO, logger="civicreport.delivery.senders"):
        assert deliver_due(now=T0)["sent"] == 1
    assert reload(message_id).method == "log"
    assert f"outbox #{message_id} resolved" in caplog.text and "井盖缺失" in caplog.text


def email_unit(code="hw"):
    unit = make_unit(code, "sanitation", "区环卫所")
    unit.delivery_method, unit.delivery_target = "email", "huanwei@example.org"
    return unit


def test_email_without_smtp_is_retried_then_dead(district, configure):
    configure(OUTBOX_MAX_ATTEMPTS=2)
    message_id = queue("rework", email_unit())
    assert deliver_due(now=T0)["retried"] == 1
    assert reload(message_id).last_error == "smtp not configured"
    assert deliver_due(now=T0 + timedelta(days=1))["dead"] == 1


def test_email_goes_out_through_smtp_in_chinese(district, configure):
    sink = SmtpSink()
    threading.Thread(target=sink.serve_forever, args=(0.05,), daemon=True).start()
    try:
        configure(SMTP_HOST="127.0.0.1", SMTP_PORT=sink.server_address[1], SMTP_FROM="noreply@qj.example")
        message_id = queue("rework", email_unit(), note="核查未通过，请返工", deadline_at=None)
        assert deliver_due(now=T0)["sent"] == 1
    finally:
        sink.shutdown()
        sink.server_close()
    mail = message_from_bytes(sink.messages[0], policy=policy.default)
    assert mail["To"] == "huanwei@example.org" and mail["From"] == "noreply@qj.example"
    assert mail["Subject"] == "【随手拍】返工通知：QJ20261123-0042"
    assert mail["X-Civicreport-Delivery"] == str(message_id)
    body = mail.get_content().replace("\r\n", "\n")
    assert body.startswith("返工通知\n\n案件 QJ20261123-0042（井盖缺失）派遣\n")
    assert "案件编号：QJ20261123-0042" in body and "备注：核查未通过，请返工" in body
    assert "处置时限" not in body and "event" not in body


@pytest.fixture
def smtp_sink():
    sink = SmtpSink()
    threading.Thread(target=sink.serve_forever, args=(0.05,), daemon=True).start()
    yield sink
    sink.shutdown()
    sink.server_close()


def test_smtp_login_goes_out_only_where_asked(district, configure, smtp_sink):
    configure(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_sink.server_address[1],
        SMTP_SECURITY="none",
        SMTP_USERNAME="notice@qj.example",
        SMTP_PASSWORD="s3cret-1",
    )
    queue("rework", email_unit(), note="核查未通过，请返工", deadline_at=None)
    assert deliver_due(now=T0)["sent"] == 1
    assert smtp_sink.logins == [[b"notice@qj.example", b"s3cret-1"]] and len(smtp_sink.messages) == 1


def test_starttls_mode_never_sends_a_password_in_clear(district, configure, smtp_sink):
    configure(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_sink.server_address[1],
        SMTP_SECURITY="starttls",
        SMTP_USERNAME="notice@qj.example",
        SMTP_PASSWORD="secret",
    )
    message_id = queue("rework", email_unit(), note="核查未通过，请返工", deadline_at=None)
    assert deliver_due(now=T0)["retried"] == 1
    assert "no STARTTLS" in reload(message_id).last_error
    assert smtp_sink.logins == [] and smtp_sink.messages == []


def test_unknown_smtp_security_is_refused_at_start(app):
    with pytest.raises(ValueError, match="SMTP_SECURITY"):
        build_senders(app.config | {"SMTP_SECURITY": "tls1.0"})


def test_enqueue_never_waits_for_the_receiver(district, configure):
    with Receiver(plan=["stall"] * 5, stall_seconds=3.0) as receiver:
        unit = webhook_unit("slow", receiver.url)
        for _ in range(5):
            queue("dispatch", unit)
        assert receiver.requests == []  # enqueue made no network call


def test_enqueue_joins_the_callers_transaction(district, configure):
    enqueue("dispatch", {"n": 1}, unit=make_unit("cgj"))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_enqueue_defaults(district, configure):
    hook = webhook_unit("cgj", "http://receiver.invalid/hook")
    fresh = Unit(
        code="new",
        name="新单位",
        kind="other",
        district_code="500110",
        delivery_method="email",
        delivery_target="new@example.org",
    )
    db.session.add(fresh)
    by_unit = enqueue("dispatch", {"at": datetime(2026, 11, 23, 9, 0, tzinfo=UTC)}, unit=hook)
    override = enqueue("dispatch", {}, unit=hook, method="email", target="boss@example.org")
    other_method = enqueue("dispatch", {}, unit=hook, method="log")
    unflushed = enqueue("dispatch", {}, unit=fresh)
    no_unit = enqueue("closed", {})
    db.session.commit()
    assert (by_unit.method, by_unit.target, by_unit.unit_id) == ("webhook", "http://receiver.invalid/hook", hook.id)
    assert by_unit.payload == {"at": "2026-11-23T09:00:00+00:00"}
    assert (override.method, override.target) == ("email", "boss@example.org")
    assert (other_method.method, other_method.target) == ("log", None)
    assert (unflushed.unit_id, unflushed.target) == (fresh.id, "new@example.org")
    assert (no_unit.method, no_unit.target, no_unit.unit_id, no_unit.status) == ("log", None, None, "pending")
    with pytest.raises(TypeError):
        enqueue("dispatch", {"bad": object()})


def test_worker_once_runs_delivery_then_jobs(district, configure):
    queue("closed")
    calls = []

    def broken_job():
        raise RuntimeError("scanner down")

    counts = run_worker(once=True, jobs=(lambda: calls.append("first"), broken_job, lambda: calls.append("last")))
    assert counts == {"sent": 1, "retried": 0, "dead": 0, "errors": 1}
    assert calls == ["first", "last"]


def test_worker_loop_stops_on_sigterm(ctx, configure):
    rounds = []
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM))
    previous = signal.getsignal(signal.SIGTERM)
    timer.start()
    started = time.monotonic()
    assert run_worker(interval=0.05, jobs=(lambda: rounds.append(1),)) is None
    assert time.monotonic() - started < 2
    assert len(rounds) >= 2
    assert signal.getsignal(signal.SIGTERM) is previous


def test_two_workers_never_send_the_same_message(app, district, configure):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks (SKIP LOCKED) need PostgreSQL")
    with Receiver(plan=["stall"] * 8, stall_seconds=0.1) as receiver:
        unit = webhook_unit("cgj", receiver.url)
        ids = [queue("dispatch", unit) for _ in range(8)]
        results = []

        def worker():
            with app.app_context():
                results.append(deliver_due(now=T0))

        threads = [threading.Thread(target=worker) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    delivered = [r["headers"]["X-Civicreport-Delivery"] for r in receiver.requests]
    assert sorted(delivered) == sorted(str(i) for i in ids)
    assert sum(r["sent"] for r in results) == 8


def test_dead_messages_are_listed_and_requeued_by_unit(district, configure, app):
    configure(OUTBOX_MAX_ATTEMPTS=2)
    runner = app.test_cli_runner()
    with Receiver(plan=["fail"] * 4) as receiver:
        unit = webhook_unit("cgj", receiver.url)
        cgj = [queue("overdue", unit), queue("rework", unit)]
        other = queue("closed", webhook_unit("hw", closed_port_url()))
        for day in range(3):
            deliver_due(now=T0 + timedelta(days=day))
        listed = runner.invoke(args=["outbox", "dead"])
        assert listed.exit_code == 0, listed.output
        lines = [line.split("\t") for line in listed.output.splitlines()]
        assert [(int(i), unit, attempts) for i, _, unit, attempts, _ in lines] == [
            (cgj[0], "cgj", "2"),
            (cgj[1], "cgj", "2"),
            (other, "hw", "2"),
        ]
        assert lines[0][4] == "HTTP 500"

        assert runner.invoke(args=["outbox", "requeue"]).exit_code == 2  # must name what
        unknown = runner.invoke(args=["outbox", "requeue", "--unit", "nope"])
        assert unknown.exit_code == 1 and "unit_not_found" in unknown.output
        requeued = runner.invoke(args=["outbox", "requeue", "--unit", "cgj"])
        assert requeued.output.strip() == "2 dead message(s) requeued"
        assert [(reload(i).status, reload(i).attempts) for i in (*cgj, other)] == [
            ("pending", 0),
            ("pending", 0),
            ("dead", 2),
        ]
        assert deliver_due() == {"sent": 2, "retried": 0, "dead": 0}
    assert len(receiver.requests) == 6
    assert [reload(i).status for i in cgj] == ["sent", "sent"]
    requeued = runner.invoke(args=["outbox", "requeue", "--id", str(other), "--id", str(cgj[0])])
    assert requeued.output.strip() == "1 dead message(s) requeued"
    assert reload(other).status == "pending"
