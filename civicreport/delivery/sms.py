"""SMS gateways: how a text reaches a mobile number. The outbox's "sms" sender (senders.SmsSender)
hands each message to the gateway SMS_PROVIDER names:

- "log": one log line per text, the number masked (the embedded default: nothing leaves);
- "recording": keeps what it was given (tests and demos read ``sent``);
- "tencent": Tencent Cloud SMS, API 3.0 ``SendSms`` signed with TC3-HMAC-SHA256, built on
  urllib rather than the SDK (one request; the signing is checked against Tencent's published
  example in tests/test_reporter_notices.py).

Mainland SMS carries only approved templates: a gateway gets the full ``text`` (for the log and
the double) and the template's ``params`` (what a provider template fills in). Gateways raise
``SmsFailed(reason)``; the sender turns it into a retry.
"""

import hashlib
import hmac
import json
import logging
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import HTTPException
from typing import Any, Protocol

log = logging.getLogger(__name__)

SMS_PROVIDERS = ("log", "recording", "tencent")


class SmsFailed(Exception):
    """The gateway did not take the text this time; ``reason`` says why."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class SmsGateway(Protocol):
    """Sends one text to one mainland mobile number (11 digits); raises ``SmsFailed``."""

    def send(self, phone: str, text: str, params: list[str]) -> None: ...


def masked(phone):
    """``138****8000``: enough to tell numbers apart in a log, not enough to call."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


class LogGateway:
    def send(self, phone, text, params):
        log.info("sms -> %s: %s", masked(phone), text)


@dataclass(frozen=True)
class SentSms:
    phone: str
    text: str
    params: tuple


class RecordingGateway:
    """The test double: keeps every text in ``sent``; ``failing`` makes the next sends fail."""

    def __init__(self) -> None:
        self.sent: list[SentSms] = []
        self.failing = ""

    def send(self, phone, text, params):
        if self.failing:
            raise SmsFailed(self.failing)
        self.sent.append(SentSms(phone, text, tuple(params)))


TC3 = "TC3-HMAC-SHA256"
JSON_TYPE = "application/json; charset=utf-8"


def tc3_authorization(secret_id, secret_key, service, headers, payload, timestamp):
    """The ``Authorization`` header of Tencent Cloud API 3.0 for a POST of ``payload`` (bytes) to
    "/" with the signed ``headers`` (name → value; content-type and host at least)."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")  # UTC, never local: see the docs
    signed = {name.lower(): str(value).strip().lower() for name, value in headers.items()}
    names = sorted(signed)
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            "".join(f"{name}:{signed[name]}\n" for name in names),
            ";".join(names),
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"{TC3}\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = _hmac(f"TC3{secret_key}".encode(), date)
    for part in (service, "tc3_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{TC3} Credential={secret_id}/{scope}, SignedHeaders={';'.join(names)}, Signature={signature}"


def _hmac(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


class TencentSmsGateway:
    """Tencent Cloud SMS ``SendSms`` (version 2021-01-11): one number, the configured sign and
    template (e.g. "您上报的案件{1}当前状态：{2}。"), the text's ``params`` as its parameters."""

    HOST = "sms.tencentcloudapi.com"
    VERSION = "2021-01-11"

    def __init__(self, *, secret_id, secret_key, app_id, sign_name, template_id, region, timeout, endpoint=""):
        self.secret_id, self.secret_key = secret_id, secret_key
        self.app_id, self.sign_name, self.template_id = app_id, sign_name, template_id
        self.region, self.timeout = region, timeout
        self.endpoint = endpoint or f"https://{self.HOST}/"

    def request(self, phone, params, timestamp):
        """The signed ``urllib`` request for one text, at ``timestamp`` (seconds)."""
        body = json.dumps(
            {
                "PhoneNumberSet": [f"+86{phone}"],
                "SmsSdkAppId": self.app_id,
                "SignName": self.sign_name,
                "TemplateId": self.template_id,
                "TemplateParamSet": list(params),
            },
            ensure_ascii=False,
        ).encode("utf-8")
        signed = {"Content-Type": JSON_TYPE, "Host": self.HOST, "X-TC-Action": "SendSms"}
        headers = {
            **signed,
            "Authorization": tc3_authorization(self.secret_id, self.secret_key, "sms", signed, body, timestamp),
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": self.VERSION,
            "X-TC-Region": self.region,
        }
        return urllib.request.Request(self.endpoint, data=body, headers=headers, method="POST")

    def send(self, phone, text, params):
        request = self.request(phone, params, int(datetime.now(UTC).timestamp()))
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - https endpoint
                answer = json.loads(response.read().decode("utf-8"))["Response"]
        except (OSError, HTTPException, ValueError, KeyError) as err:
            raise SmsFailed(f"{type(err).__name__}: {err}") from None
        _check_answer(answer)


def _check_answer(answer):
    """Tencent answers 200 with ``Error`` for a refused request, and a status per number."""
    if "Error" in answer:
        raise SmsFailed(f"{answer['Error'].get('Code')}: {answer['Error'].get('Message')}")
    statuses = answer.get("SendStatusSet") or [{}]
    if statuses[0].get("Code") != "Ok":
        raise SmsFailed(f"{statuses[0].get('Code')}: {statuses[0].get('Message')}")


def build_gateway(config: Mapping[str, Any]) -> SmsGateway:
    """The gateway SMS_PROVIDER names (config checked it); raises KeyError on a missing key."""
    provider = config["SMS_PROVIDER"]
    if provider == "tencent":
        return TencentSmsGateway(
            secret_id=config["TENCENT_SMS_SECRET_ID"],
            secret_key=config["TENCENT_SMS_SECRET_KEY"],
            app_id=config["TENCENT_SMS_APP_ID"],
            sign_name=config["TENCENT_SMS_SIGN_NAME"],
            template_id=config["TENCENT_SMS_TEMPLATE_ID"],
            region=config["TENCENT_SMS_REGION"],
            timeout=config["WEBHOOK_TIMEOUT"],
        )
    return RecordingGateway() if provider == "recording" else LogGateway()
