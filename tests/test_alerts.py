"""Area alerts end to end: subscribe, confirm by the e-mailed link, a digest by the worker through a
real local SMTP server (aiosmtpd), one-click unsubscribe; the digest's rhythm; limits and errors."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from civicreport import registry
from civicreport.alerts import digests
from civicreport.alerts.models import AreaSubscription
from civicreport.db_types import utcnow
from civicreport.delivery.outbox import deliver_due
from civicreport.delivery.senders import build_senders
from civicreport.extensions import db
from tests.factories import COMMUNITY, INSIDE, STREET, photo_bytes
from tests.helpers import assert_error, override_settings, post_report

EMAIL = "resident@example.cn"


@pytest.fixture
def mail(app, monkeypatch, smtp_server, grid):
    """E-mail through the real local SMTP server (the senders rebuilt from the settings), on the test grid."""
    override_settings(app, monkeypatch, SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port, SMTP_SECURITY="none")
    monkeypatch.setattr(registry.of(app), "senders", build_senders(app.config))
    return smtp_server


def subscribe(client, email=EMAIL, **area):
    body = {"email": email, **(area or {"area": "community", "code": COMMUNITY})}
    return client.post("/api/v1/alerts/subscriptions", json=body)


def accepted_report(loop, category="06010"):
    body = post_report(loop.client, [photo_bytes(gps=INSIDE)], category=category, contact="13900001111").get_json()
    loop.ok(body["id"], "supervisor", "accept")
    return body["id"]


def worker_round(app):
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output


def link_in(message, label):
    """The path and query of the link after ``label：`` in the plain-text body."""
    line = next(line for line in message.get_content().splitlines() if line.startswith(f"{label}："))
    url = urlsplit(line.split("：", 1)[1].strip())
    return f"{url.path}?{url.query}"


def assert_a_defended_page(page):
    """The alert pages (outside tests/test_security_headers.py's PAGES: they need a link's token)."""
    assert page.mimetype == "text/html" and page.headers["X-Frame-Options"] == "DENY"
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "form-action 'self'" in csp and "frame-ancestors 'none'" in csp
    assert not re.search(r"<script|<style\b|\sstyle=|\son[a-z]+=", page.get_data(as_text=True), re.IGNORECASE)


def confirmed(client, mail):
    assert subscribe(client).status_code == 202
    deliver_due()
    (message,) = mail.messages
    confirm = link_in(message, "确认订阅")
    page = client.get(confirm)
    assert page.status_code == 200 and "确认订阅" in page.get_data(as_text=True)
    assert_a_defended_page(page)
    token = confirm.split("token=")[1]
    assert client.post("/alerts/confirm", data={"token": token}).status_code == 200
    return message


def test_an_alert_arrives_by_smtp_after_double_opt_in_and_one_click_ends_it(app, loop, client, mail):
    confirmation = confirmed(client, mail)
    assert confirmation["To"] == EMAIL and "片区提醒订阅确认" in confirmation["Subject"]
    assert "长乐社区" in confirmation.get_content()
    report = accepted_report(loop)
    worker_round(app)  # queues the digest
    worker_round(app)  # sends it
    alert = mail.messages[-1]
    assert len(mail.messages) == 2 and alert["To"] == EMAIL
    assert "片区公开案件提醒" in alert["Subject"]
    body = alert.get_content()
    assert report in body and "新上报" in body and "13900001111" not in body
    unsubscribe = link_in(alert, "退订（一键）")
    assert alert["List-Unsubscribe"].startswith("<http") and unsubscribe.split("?")[1] in alert["List-Unsubscribe"]
    assert alert["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # RFC 8058: the mail client POSTs the header's URL with this body.
    answer = client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200 and answer.get_json() == {"status": "unsubscribed"}
    assert db.session.scalar(select(AreaSubscription.unsubscribed_at)) is not None
    accepted_report(loop)
    worker_round(app)
    worker_round(app)
    assert len(mail.messages) == 2  # nothing after unsubscribing


def test_the_unsubscribe_link_also_works_as_a_plain_get(client, mail):
    confirmation = confirmed(client, mail)
    page = client.get(link_in(confirmation, "退订（一键）"))
    assert page.status_code == 200 and "已退订" in page.get_data(as_text=True)
    assert_a_defended_page(page)
    again = client.get(link_in(confirmation, "退订（一键）"))
    assert again.status_code == 200  # harmless twice


def test_at_most_one_digest_per_window_and_only_with_news(app, loop, client, mail):
    confirmed(client, mail)
    assert digests.send_due() == 0  # nothing new yet: nothing sent, no window started
    accepted_report(loop)
    now = utcnow()
    assert digests.send_due(now) == 1
    accepted_report(loop)
    minutes = registry.settings().ALERTS_DIGEST_MINUTES
    assert digests.send_due(now + timedelta(minutes=minutes - 1)) == 0
    assert digests.send_due(now + timedelta(minutes=minutes + 1)) == 1
    assert digests.send_due(now + timedelta(minutes=3 * minutes)) == 0  # no news since


def test_unconfirmed_subscriptions_get_no_alert(loop, client, mail):
    assert subscribe(client).status_code == 202
    accepted_report(loop)
    assert digests.send_due(utcnow() + timedelta(days=1)) == 0


def test_a_circle_and_a_street_are_followed_too(loop, client, mail):
    circle = {"area": "circle", "lat": INSIDE[0], "lon": INSIDE[1], "radius": 300}
    assert subscribe(client, "a@example.cn", **circle).status_code == 202
    assert subscribe(client, "b@example.cn", area="street", code=STREET).status_code == 202
    far = {"area": "circle", "lat": INSIDE[0] + 0.05, "lon": INSIDE[1], "radius": 2000}
    assert subscribe(client, "c@example.cn", **far).status_code == 202
    for subscription in db.session.scalars(select(AreaSubscription)):
        subscription.confirmed_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    accepted_report(loop)
    assert digests.send_due() == 2


def test_subscribing_again_answers_alike_and_mails_a_confirmed_address_nothing(client, mail):
    confirmed(client, mail)
    again = subscribe(client)
    assert again.status_code == 202 and again.get_json()["status"] == "pending"
    deliver_due()
    assert len(mail.messages) == 1


def test_a_pending_subscription_gets_a_fresh_link_and_the_old_one_stops(client, mail):
    subscribe(client)
    subscribe(client)
    deliver_due()
    first, second = (link_in(m, "确认订阅").split("token=")[1] for m in mail.messages)
    assert_error(client.post("/alerts/confirm", data={"token": first}), 404, "subscription_not_found")
    assert client.post("/alerts/confirm", data={"token": second}).status_code == 200


def test_wrong_expired_and_forged_links_are_404(client, mail):
    subscribe(client)
    deliver_due()
    (message,) = mail.messages
    token = link_in(message, "确认订阅").split("token=")[1]
    assert_error(client.get("/alerts/confirm?token=nope"), 404, "subscription_not_found")
    assert_error(client.get("/alerts/confirm"), 404, "subscription_not_found")
    assert_error(client.post("/alerts/confirm", data={}), 404, "subscription_not_found")
    unsubscribe = link_in(message, "退订（一键）")
    forged = unsubscribe[:-4] + ("0000" if not unsubscribe.endswith("0000") else "1111")
    assert_error(client.get(forged), 404, "subscription_not_found")
    for query in ("", "?id=x&sig=y", "?id=99999999999999999999999&sig=y", "?id=-1&sig=y"):
        assert_error(client.get(f"/alerts/unsubscribe{query}"), 404, "subscription_not_found")
    subscription = db.session.scalar(select(AreaSubscription))
    subscription.created_at = utcnow() - timedelta(days=4)
    db.session.commit()
    assert_error(client.get(f"/alerts/confirm?token={token}"), 404, "subscription_not_found")


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-address", "area": "community", "code": COMMUNITY},
        {"email": EMAIL, "area": "district", "code": "500110"},
        {"email": EMAIL, "area": "community"},
        {"email": EMAIL, "area": "circle", "lat": 29.0, "lon": 106.6},
        {"email": EMAIL, "area": "circle", "lat": 29.0, "lon": 106.6, "radius": 2001},
        {"email": EMAIL, "area": "circle", "lat": 95, "lon": 106.6, "radius": 500},
        {"email": EMAIL, "area": "community", "code": COMMUNITY, "extra": 1},
    ],
)
def test_bad_subscriptions_are_422(client, grid, body):
    assert_error(client.post("/api/v1/alerts/subscriptions", json=body), 422, "validation_failed")


def test_an_unknown_area_is_404_and_a_non_object_400(client, grid):
    assert_error(subscribe(client, area="community", code="500110001999"), 404, "area_not_found")
    assert_error(
        client.post("/api/v1/alerts/subscriptions", data="x", content_type="text/plain"), 400, "malformed_json"
    )


def test_subscribing_is_limited_per_address_and_per_email(app, client, grid, monkeypatch):
    override_settings(app, monkeypatch, SUBSCRIBE_LIMIT_PER_EMAIL="2/hour", SUBSCRIBE_LIMIT_PER_IP="4/hour")
    for _ in range(2):
        assert subscribe(client, "Same@Example.cn").status_code == 202
    error = assert_error(subscribe(client, "same@example.cn "), 429, "rate_limited")
    assert error["details"]["scope"] == "email"
    assert subscribe(client, "other@example.cn").status_code == 202
    assert subscribe(client, "third@example.cn").status_code == 202
    refused = subscribe(client, "fourth@example.cn")
    assert assert_error(refused, 429, "rate_limited")["details"]["scope"] == "ip"
    assert int(refused.headers["Retry-After"]) > 0
    assert subscribe(client, "fifth@example.cn", **{"area": "street", "code": STREET}).status_code == 429
    assert db.session.scalar(select(AreaSubscription).where(AreaSubscription.email == "fourth@example.cn")) is None
