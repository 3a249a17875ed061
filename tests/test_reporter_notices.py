"""Telling the reporter (cases.notices): opt in at submit, opt out with the receipt, a notice in
Chinese per accepted/dispatched/resolved/closed/rejected through the outbox to a real SMTP
server or an SMS gateway; Tencent Cloud's request signing against its published example; the
phone page's unread updates with an ETag."""

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from civicreport import config, registry
from civicreport.cases import notices
from civicreport.cases.models import Report
from civicreport.cases.reporter_models import NoticeSubscription
from civicreport.delivery import outbox, sms
from civicreport.delivery.models import OutboxMessage
from civicreport.delivery.outbox import deliver_due
from civicreport.delivery.senders import SmsSender, build_senders
from civicreport.extensions import db
from tests.factories import INSIDE, photo_bytes
from tests.helpers import assert_error, count, override_settings, post_report

ADDRESS = "wang.citizen@example.cn"
MOBILE = "+86 138-0013-8000"


@pytest.fixture
def mail(app, monkeypatch, smtp_server):
    """The outbox's e-mail sender pointed at the real local SMTP server."""
    override_settings(app, monkeypatch, SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port, SMTP_SECURITY="none")
    monkeypatch.setattr(registry.of(app), "senders", build_senders(app.config))
    return smtp_server


@pytest.fixture
def texts(app, monkeypatch):
    """The SMS gateway replaced by the recording double."""
    gateway = sms.RecordingGateway()
    monkeypatch.setitem(registry.of(app).senders, "sms", SmsSender(gateway))
    return gateway


def file(client, contact=ADDRESS, notify=True, **fields):
    response = post_report(
        client,
        [photo_bytes(gps=INSIDE)],
        category="06010",
        description="路边暴露垃圾，联系我 13900001111",
        contact=contact,
        notify=str(notify).lower(),
        **fields,
    )
    return response


def filed(client, **fields):
    response = file(client, **fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def notice_rows():
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.topic.like("notice_%")).order_by(OutboxMessage.id)
    ).all()


def drive(loop, public_id, *steps):
    for who, action, fields in steps:
        if fields == "photo":
            fields = {"media_ids": [loop.upload(who)]}
        loop.ok(public_id, who, action, **fields)


TO_CLOSED = [
    ("supervisor", "accept", {}),
    ("supervisor", "dispatch", {}),
    ("own_staff", "claim", {}),
    ("own_staff", "resolve", "photo"),
    ("monitor", "verify_pass", {}),
    ("supervisor", "close", {}),
]


def test_an_accepted_case_tells_the_reporter_by_e_mail_through_a_real_smtp_server(loop, client, mail):
    body = filed(loop.client)
    assert body["notify"] == {"channel": "email", "active": True}
    loop.ok(body["id"], "supervisor", "accept", note="请城管尽快处理（内部备注，张科长）")
    deliver_due()

    (message,) = mail.messages
    assert message["To"] == ADDRESS
    assert message["Subject"] == f"【随手拍】案件受理通知：{body['id']}"
    text = message.get_content()
    assert "您上报的问题已受理" in text and body["id"] in text and "当前状态：已受理" in text
    assert "张科长" not in text and "内部备注" not in text and "13900001111" not in text  # no notes, no others


def test_each_step_the_reporter_cares_about_is_told_once_and_no_other(loop, mail):
    public_id = filed(loop.client)["id"]
    drive(loop, public_id, *TO_CLOSED)
    assert [m.topic for m in notice_rows()] == [
        "notice_accepted",
        "notice_dispatched",
        "notice_resolved",
        "notice_closed",
    ]
    dispatched = notice_rows()[1].payload
    assert "区城市管理局" in dispatched["message"] and dispatched["status"] == "已派遣"
    deliver_due()  # the unit's own notices (dispatch, …) go to the log beside them
    assert [m["Subject"].split("：")[0] for m in mail.messages] == [
        "【随手拍】案件受理通知",
        "【随手拍】案件派遣通知",
        "【随手拍】案件处置通知",
        "【随手拍】案件结案通知",
    ]


def test_a_rejected_case_tells_the_reporter(loop, mail):
    public_id = filed(loop.client)["id"]
    loop.ok(public_id, "supervisor", "reject", note="不属于受理范围")
    (row,) = notice_rows()
    assert row.topic == "notice_rejected" and row.target == ADDRESS and row.method == "email"
    assert "不予受理" in row.payload["message"] and "不属于受理范围" not in json.dumps(row.payload, ensure_ascii=False)


def test_a_mobile_number_is_told_by_sms(loop, texts):
    public_id = filed(loop.client, contact=MOBILE)["id"]
    drive(loop, public_id, *TO_CLOSED[:2])
    deliver_due()
    first, second = texts.sent
    assert first.phone == "13800138000"
    assert first.text.startswith("【随手拍】您上报的问题已受理") and public_id in first.text
    assert second.params == (public_id, "已派遣") and "区城市管理局" in second.text


def test_a_failing_gateway_is_retried_and_leaves_the_case_alone(loop, texts):
    public_id = filed(loop.client, contact=MOBILE)["id"]
    texts.failing = "LimitExceeded.PhoneNumberDailyLimit"
    loop.ok(public_id, "supervisor", "accept")
    assert deliver_due() == {"sent": 0, "retried": 1, "dead": 0}
    (row,) = notice_rows()
    assert row.status == "pending" and "PhoneNumberDailyLimit" in row.last_error
    assert db.session.scalar(select(Report.status).where(Report.public_id == public_id)) == "accepted"


def test_a_notice_that_cannot_be_queued_never_stops_the_change(loop, monkeypatch, caplog):
    public_id = filed(loop.client)["id"]

    def broken(*args, **kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(outbox, "enqueue", broken)
    with caplog.at_level(logging.ERROR, logger="civicreport.cases.notices"):
        assert loop.ok(public_id, "supervisor", "accept")["status"] == "accepted"
    assert "not queued" in caplog.text


def test_the_notice_commits_with_the_change_or_not_at_all(loop):
    public_id = filed(loop.client)["id"]
    response = loop.act(public_id, "supervisor", "accept", category="99999")
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "unknown_category"
    assert notice_rows() == []


def test_without_opting_in_nobody_is_told(loop):
    public_id = filed(loop.client, notify=False)["id"]
    drive(loop, public_id, *TO_CLOSED[:2])
    assert notice_rows() == [] and count(NoticeSubscription) == 0


@pytest.mark.parametrize("contact", ["王先生", "", "12345", "wang@", "138001380001"])
def test_opting_in_needs_a_mobile_number_or_an_e_mail_address(loop, contact):
    assert_error(file(loop.client, contact=contact), 422, "notice_contact_required")
    assert count(Report) == 0


def test_a_channel_the_city_has_not_enabled_is_refused(loop, app, monkeypatch):
    override_settings(app, monkeypatch, REPORTER_NOTICE_CHANNELS="email")
    error = assert_error(file(loop.client, contact=MOBILE), 422, "notice_channel_unavailable")
    assert error["details"] == {"channel": "sms", "channels": ["email"]}
    assert filed(loop.client)["notify"]["channel"] == "email"


@pytest.mark.parametrize("proof", ["receipt_token", "receipt_code"])
def test_the_reporter_opts_out_with_the_receipt(loop, proof):
    body = filed(loop.client)
    answer = loop.client.post("/api/v1/receipts/notices", json={"id": body["id"], proof: body[proof], "notify": False})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"id": body["id"], "notify": {"channel": "email", "active": False}}
    drive(loop, body["id"], *TO_CLOSED[:2])
    assert notice_rows() == []
    again = loop.client.post("/api/v1/receipts/notices", json={"id": body["id"], proof: body[proof], "notify": True})
    assert again.get_json()["notify"]["active"] is True


def test_opting_out_needs_the_right_receipt(loop):
    body = filed(loop.client)
    wrong = loop.client.post(
        "/api/v1/receipts/notices", json={"id": body["id"], "receipt_token": "x" * 43, "notify": False}
    )
    assert_error(wrong, 404, "receipt_not_found")
    unknown = loop.client.post(
        "/api/v1/receipts/notices", json={"id": "QJ19990101-0001", "receipt_code": "ABCDEFGH", "notify": False}
    )
    assert_error(unknown, 404, "receipt_not_found")
    both = loop.client.post(
        "/api/v1/receipts/notices",
        json={"id": body["id"], "receipt_token": body["receipt_token"], "receipt_code": "X", "notify": False},
    )
    assert_error(both, 422, "validation_failed")


def test_opting_out_without_having_opted_in_is_409(loop):
    body = filed(loop.client, notify=False)
    answer = loop.client.post(
        "/api/v1/receipts/notices", json={"id": body["id"], "receipt_token": body["receipt_token"], "notify": False}
    )
    assert_error(answer, 409, "notice_not_requested")


def test_retention_forgets_the_address(loop):
    from civicreport.cases.retention import anonymise_reporters

    loop.ok(filed(loop.client)["id"], "supervisor", "reject", note="说明")
    anonymise_reporters(0)
    assert count(NoticeSubscription) == 0


def test_the_phone_polls_updates_cheaply_by_etag(loop):
    one, other = filed(loop.client)["id"], filed(loop.client, notify=False)["id"]
    url = f"/api/v1/receipts/updates?ids={one},{other},QJ19990101-0001"
    first = loop.client.get(url)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-cache"
    assert first.get_json() == {
        "reports": [
            {"id": one, "status": "submitted", "notice": None},
            {"id": other, "status": "submitted", "notice": None},
        ],
        "cursor": 0,
    }
    unchanged = loop.client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.data == b""

    loop.ok(other, "supervisor", "accept")
    moved = loop.client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert moved.status_code == 200 and moved.headers["ETag"] != first.headers["ETag"]
    update = moved.get_json()["reports"][1]
    assert update["status"] == "accepted" and update["notice"]["event"] == "accepted"
    assert moved.get_json()["cursor"] == update["notice"]["event_id"]


@pytest.mark.parametrize("ids", [",,", ",".join(f"QJ{n}" for n in range(51)), "Q" * 33])
def test_updates_refuse_bad_ids(client, ids):
    assert_error(client.get(f"/api/v1/receipts/updates?ids={ids}"), 422, "invalid_ids")


@pytest.mark.parametrize("query", ["", "?ids="])
def test_updates_need_ids(client, query):
    assert_error(client.get(f"/api/v1/receipts/updates{query}"), 422, "validation_failed")


# Tencent Cloud API 3.0, "签名方法 v3" (cloud.tencent.com/document/api/213/30654 and its English
# twin): the worked example's body, key, timestamp and published signature, character for character.
DOC_PAYLOAD = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
DOC_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Host": "cvm.tencentcloudapi.com"}
DOC_SIGNATURE = "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"


def test_tc3_signing_reproduces_tencents_published_example():
    header = sms.tc3_authorization(
        "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        "cvm",
        DOC_HEADERS,
        DOC_PAYLOAD,
        1551113065,
    )
    assert header == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={DOC_SIGNATURE}"
    )


class _FakeTencent(BaseHTTPRequestHandler):
    answers: list = []
    seen: list = []

    def do_POST(self):  # noqa: N802 - http.server's hook name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((self.headers, json.loads(body)))
        data = json.dumps({"Response": self.answers.pop(0)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def tencent():
    server = HTTPServer(("127.0.0.1", 0), _FakeTencent)
    _FakeTencent.answers, _FakeTencent.seen = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    gateway = sms.TencentSmsGateway(
        secret_id="AKIDtest",
        secret_key="secret",
        app_id="1400000000",
        sign_name="文明城市",
        template_id="123456",
        region="ap-guangzhou",
        timeout=5,
        endpoint=f"http://127.0.0.1:{server.server_port}/",
    )
    yield gateway, _FakeTencent
    server.shutdown()
    thread.join(timeout=5)


def test_the_tencent_adapter_sends_a_signed_sendsms(tencent):
    gateway, fake = tencent
    fake.answers.append({"SendStatusSet": [{"Code": "Ok", "Message": "send success"}], "RequestId": "r-1"})
    gateway.send("13800138000", "【随手拍】……", ["QJ20261207-0001", "已受理"])
    headers, body = fake.seen[0]
    assert body == {
        "PhoneNumberSet": ["+8613800138000"],
        "SmsSdkAppId": "1400000000",
        "SignName": "文明城市",
        "TemplateId": "123456",
        "TemplateParamSet": ["QJ20261207-0001", "已受理"],
    }
    assert headers["X-TC-Action"] == "SendSms" and headers["X-TC-Version"] == "2021-01-11"
    assert headers["Authorization"].startswith("TC3-HMAC-SHA256 Credential=AKIDtest/")
    assert "/sms/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature=" in headers["Authorization"]


@pytest.mark.parametrize(
    "answer",
    [
        {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "bad"}},
        {"SendStatusSet": [{"Code": "LimitExceeded.PhoneNumberDailyLimit", "Message": "limit"}]},
    ],
)
def test_a_refusal_from_tencent_is_a_failure_to_retry(tencent, answer):
    gateway, fake = tencent
    fake.answers.append(answer)
    with pytest.raises(sms.SmsFailed, match="AuthFailure|LimitExceeded"):
        gateway.send("13800138000", "text", ["a", "b"])


def test_config_refuses_tencent_without_its_keys_and_unknown_channels():
    with pytest.raises(ValueError, match="TENCENT_SMS_SECRET_ID"):
        config._check(config.Settings(SECRET_KEY="x" * 40, SMS_PROVIDER="tencent"))
    with pytest.raises(ValueError, match="REPORTER_NOTICE_CHANNELS"):
        config._check(config.Settings(SECRET_KEY="x" * 40, REPORTER_NOTICE_CHANNELS="email,pigeon"))


def test_notices_name_no_one_and_carry_no_note(loop):
    public_id = filed(loop.client)["id"]
    loop.ok(public_id, "supervisor", "accept")
    payload = notice_rows()[0].payload
    assert set(payload) == {"report", "event", "status", "message"}
    assert notices.OPT_OUT_HINT in payload["message"]
