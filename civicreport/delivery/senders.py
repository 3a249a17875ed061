"""How an outbox message leaves the building: log line, signed webhook, e-mail, or SMS.

Every sender has one method, ``send(message)``, which returns on success and
raises ``DeliveryFailed(reason)`` on any failure. Senders never retry; the
outbox decides when to try again.
"""

import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import time
import urllib.request
from collections.abc import Mapping
from email.message import EmailMessage
from http.client import HTTPException
from typing import Any, Protocol
from urllib.error import HTTPError
from urllib.parse import urlsplit

from civicreport.accounts.models import Unit
from civicreport.delivery.sms import SmsFailed, build_gateway
from civicreport.extensions import db

log = logging.getLogger(__name__)

TOPIC_TITLES = {
    "dispatch": "派遣通知",
    "rework": "返工通知",
    "escalation": "督办通知",
    "warning": "临期预警",
    "overdue": "超期通知",
    "returned": "退回通知",
    "extension_approved": "延期已批准",
    "extension_denied": "延期未批准",
    "resolved": "办结通知",
    "rejected": "不予受理通知",
    "closed": "结案通知",
    "order_dispatched": "点单派单通知",  # cobuilding.orders: a needs order for the team or unit
    "order_cancelled": "点单取消通知",
    "order_warning": "点单临期预警",  # cobuilding.order_deadlines: a 派单 or service deadline near
    "order_overdue": "点单超时通知",
    "task_issued": "共建任务通知",  # cobuilding.tasks and cards: to the communities
    "task_changed": "共建任务调整通知",
    "task_withdrawn": "共建任务撤回通知",
    "card_issued": "红黄牌通知",
    "whistle_summoned": "吹哨报到通知",  # oversight.whistles: a unit summoned, with its 报到 deadline
    "whistle_returned": "吹哨任务退回通知",
    "area_confirm": "片区提醒订阅确认",  # alerts.subscriptions: the double opt-in link
    "area_alert": "片区公开案件提醒",  # alerts.digests: an area's news since the last one
    "notice_accepted": "案件受理通知",  # cases.notices: to the reporter who asked to be told
    "notice_dispatched": "案件派遣通知",
    "notice_resolved": "案件处置通知",
    "notice_closed": "案件结案通知",
    "notice_rejected": "案件不予受理通知",
}
FIELD_LABELS = {
    "report": "案件编号",
    "status": "当前状态",
    "deadline_at": "处置时限",
    "note": "备注",
    "whistle": "吹哨编号",
    "task": "任务",
    "checkin_due_at": "报到时限",
    "confirm_url": "确认订阅",
    "unsubscribe_url": "退订（一键）",
}
UNLISTED_FIELDS = ("message", "event")  # the message leads the body; the event is the subject


class DeliveryFailed(Exception):
    """A message could not be delivered this time; ``reason`` says why."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def payload_json(message):
    """The exact body bytes a receiver gets (UTF-8 JSON, Chinese kept readable)."""
    return json.dumps(message.payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(secret, timestamp, body):
    """Hex HMAC-SHA256 over ``b"<timestamp>." + body``, as sent in X-Civicreport-Signature."""
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def topic_title(topic):
    return TOPIC_TITLES.get(topic, topic)


class Sender(Protocol):
    """Delivers one outbox message by one method; raises ``DeliveryFailed`` to be retried later."""

    def send(self, message) -> None: ...


class LogSender:
    """Writes one log line per message; never fails (the embedded default)."""

    def send(self, message):
        log.info(
            "outbox #%s %s -> %s: %s",
            message.id,
            message.topic,
            message.target or "-",
            payload_json(message).decode("utf-8"),
        )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a GET; treat 3xx as a failure instead."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class WebhookSender:
    """POSTs the payload as JSON to ``message.target``, signed with the unit's secret.

    Raises ``DeliveryFailed`` for a missing or non-HTTP target, a non-2xx answer
    (redirects included), a timeout or a connection error. The signature header
    is left out when the unit has no ``delivery_secret``. ``timeout`` bounds the
    connect and each read, not the whole exchange.
    """

    def __init__(self, timeout):
        self.timeout = timeout
        self.opener = urllib.request.build_opener(_NoRedirect)

    def send(self, message):
        request = self._request(message)
        try:
            self.opener.open(request, timeout=self.timeout).close()
        except (OSError, HTTPException) as err:
            raise DeliveryFailed(self._describe(err)) from None

    def _describe(self, err):
        if isinstance(err, HTTPError):
            return f"HTTP {err.code}"
        reason = getattr(err, "reason", err)  # URLError wraps the socket error
        if isinstance(reason, TimeoutError):
            return f"timeout after {self.timeout}s"
        return f"{type(reason).__name__}: {reason}"

    def _request(self, message):
        if not message.target or urlsplit(message.target).scheme not in ("http", "https"):
            raise DeliveryFailed(f"not an http(s) webhook target: {message.target!r}")
        body = payload_json(message)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "civicreport-outbox",
            "X-Civicreport-Event": message.topic,
            "X-Civicreport-Delivery": str(message.id),
            "X-Civicreport-Timestamp": timestamp,
        }
        secret = _unit_secret(message)
        if secret:
            headers["X-Civicreport-Signature"] = "sha256=" + sign(secret, timestamp, body)
        return urllib.request.Request(message.target, data=body, headers=headers, method="POST")


def _unit_secret(message):
    """Read at send time, so a rotated secret applies to messages still queued."""
    unit = db.session.get(Unit, message.unit_id) if message.unit_id else None
    return unit.delivery_secret if unit else None


SMTP_SECURITY = ("starttls", "ssl", "none")


class EmailSender:
    """Sends a plain-text Chinese e-mail to ``message.target`` through SMTP.

    ``security`` "ssl" connects with TLS (port 465); "starttls" upgrades the connection when
    the server offers STARTTLS, and must upgrade before it logs in; "none" never encrypts.
    Raises ValueError for another ``security``. ``send`` raises ``DeliveryFailed("smtp not
    configured")`` when no host is set, and ``DeliveryFailed`` for a missing address, a login
    the server refuses or cannot protect, or any SMTP or network error.
    """

    def __init__(self, host, port, sender, timeout=10.0, *, security="starttls", username="", password=""):
        if security not in SMTP_SECURITY:
            raise ValueError(f"SMTP_SECURITY must be one of {SMTP_SECURITY}, got {security!r}")
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout
        self.security, self.username, self.password = security, username, password

    def send(self, message):
        if not self.host:
            raise DeliveryFailed("smtp not configured")
        if not message.target:
            raise DeliveryFailed("no e-mail address")
        try:
            with self._connect() as smtp:
                self._secure_and_login(smtp)
                smtp.send_message(self._compose(message))
        except (OSError, UnicodeError) as err:  # SMTPException is an OSError; smtplib logs in with ASCII only
            raise DeliveryFailed(f"{type(err).__name__}: {err}") from None

    def _connect(self):
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def _secure_and_login(self, smtp):
        """STARTTLS when asked and offered; the password never crosses an unencrypted "starttls" link."""
        smtp.ehlo()
        encrypted = self.security == "ssl"
        if self.security == "starttls" and smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
            encrypted = True
        if not self.username:
            return
        if self.security == "starttls" and not encrypted:
            raise DeliveryFailed("smtp server offers no STARTTLS: refusing to send the password in clear")
        smtp.login(self.username, self.password)

    def _compose(self, message):
        mail = EmailMessage()
        mail["Subject"] = email_subject(message)
        mail["From"] = self.sender
        mail["To"] = message.target
        mail["X-Civicreport-Event"] = message.topic
        mail["X-Civicreport-Delivery"] = str(message.id)
        unsubscribe = message.payload.get("unsubscribe_url")
        if unsubscribe:  # RFC 2369 and RFC 8058: the mail client's own one-click unsubscribe
            mail["List-Unsubscribe"] = f"<{unsubscribe}>"
            mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        mail.set_content(email_body(message))
        return mail


def email_subject(message):
    public_id = message.payload.get("report")
    return f"【随手拍】{topic_title(message.topic)}" + (f"：{public_id}" if public_id else "")


def email_body(message):
    """The payload's ``message`` text, then one ``标签：值`` line per other field."""
    payload = message.payload
    fields = [
        f"{FIELD_LABELS.get(key, key)}：{value}"
        for key, value in payload.items()
        if key not in UNLISTED_FIELDS and value is not None
    ]
    footer = f"（消息编号 {message.id}；本邮件由系统自动发送，请勿直接回复。）"
    lines = [topic_title(message.topic), "", payload.get("message") or "", "", *fields, "", footer]
    return "\n".join(lines) + "\n"


class SmsSender:
    """Sends a reporter's notice as a text through the configured gateway (delivery.sms): the
    full sentence for a gateway that takes free text, the case number and its state for a
    provider's approved template. Raises ``DeliveryFailed`` for a missing number or a refusal."""

    def __init__(self, gateway):
        self.gateway = gateway

    def send(self, message):
        if not message.target:
            raise DeliveryFailed("no mobile number")
        payload = message.payload
        text = f"【随手拍】{payload.get('message') or topic_title(message.topic)}（案件编号 {payload.get('report')}）"
        try:
            self.gateway.send(message.target, text, [payload.get("report") or "", payload.get("status") or ""])
        except SmsFailed as err:
            raise DeliveryFailed(f"sms: {err.reason}") from None


def build_senders(config: Mapping[str, Any]) -> dict[str, Sender]:
    """One sender per delivery method, from app config; raises KeyError on a missing key."""
    return {
        "log": LogSender(),
        "webhook": WebhookSender(timeout=config["WEBHOOK_TIMEOUT"]),
        "email": EmailSender(
            config["SMTP_HOST"],
            config["SMTP_PORT"],
            config["SMTP_FROM"],
            security=config["SMTP_SECURITY"],
            username=config["SMTP_USERNAME"],
            password=config["SMTP_PASSWORD"],
        ),
        "sms": SmsSender(build_gateway(config)),
    }
