"""Abuse limits (per device, address, account; staff exempt) and the admin block list, over HTTP."""

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from civicreport import config as config_module
from civicreport import create_app
from civicreport.abuse.models import Block
from civicreport.cases.models import Report
from civicreport.db_types import utcnow
from civicreport.extensions import db
from civicreport.open311 import clients as open311_clients
from tests.factories import INSIDE, make_user, photo_bytes
from tests.helpers import assert_error, override_settings

PHOTO = photo_bytes((64, 48), gps=INSIDE)
PHONE = "phone-3f1c9a7e-0001"


def submit(client, device=None, headers=None):
    headers = {**(headers or {}), **({"X-Device-Id": device} if device else {})}
    return client.post(
        "/api/v1/reports",
        data={"photo": [(io.BytesIO(PHOTO), "p.jpg")], "description": "占道"},
        headers=headers,
        content_type="multipart/form-data",
    )


def upload(client, device=None, headers=None):
    headers = {**(headers or {}), **({"X-Device-Id": device} if device else {})}
    return client.post(
        "/api/v1/media",
        data={"photo": (io.BytesIO(PHOTO), "p.jpg")},
        headers=headers,
        content_type="multipart/form-data",
    )


def assert_limited(response, scope):
    error = assert_error(response, 429, "rate_limited")
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 24 * 3600
    assert error["details"]["scope"] == scope and error["details"]["retry_after"] == retry_after
    return error


def test_the_21st_submit_in_a_minute_from_one_device_gets_429(client, grid, app):
    assert app.config["SUBMIT_LIMIT_PER_DEVICE"].startswith("20/minute")
    for _ in range(20):
        assert submit(client, PHONE).status_code == 201
    error = assert_limited(submit(client, PHONE), "device")
    assert "设备" in error["message"] and error["details"]["limit"] == "20 per 1 minute"
    assert int(submit(client, PHONE).headers["Retry-After"]) <= 60
    assert submit(client, "another-phone-0002").status_code == 201  # the limit is per device
    assert db.session.scalar(select(Report).order_by(Report.id.desc())).device_id == "another-phone-0002"


def test_per_address_limit_counts_requests_without_a_device(client, grid, monkeypatch, app):
    override_settings(app, monkeypatch, SUBMIT_LIMIT_PER_IP="3/minute")
    assert [submit(client).status_code for _ in range(3)] == [201, 201, 201]
    assert_limited(submit(client), "ip")
    assert_limited(submit(client, "fresh-phone-0003"), "ip")  # a new device id does not escape it


def test_citizen_account_has_a_daily_limit(client, grid, monkeypatch, app):
    override_settings(app, monkeypatch, SUBMIT_LIMIT_PER_ACCOUNT="2/day")
    _, citizen = make_user("xiaoming", "citizen")
    assert submit(client, headers=citizen).status_code == 201
    assert submit(client, "phone-b-00000001", headers=citizen).status_code == 201
    error = assert_limited(submit(client, "phone-c-00000001", headers=citizen), "account")
    assert error["details"]["limit"] == "2 per 1 day"
    assert submit(client).status_code == 201  # anonymous submitters from the same address are not that account


def test_staff_are_exempt_and_a_bad_token_is_still_401(client, grid, monkeypatch, app):
    override_settings(app, monkeypatch, SUBMIT_LIMIT_PER_DEVICE="1/minute")
    for role in ("monitor", "supervisor"):
        _, headers = make_user(role, role)
        assert [submit(client, PHONE, headers).status_code for _ in range(3)] == [201, 201, 201]
    assert submit(client, PHONE).status_code == 201  # staff did not use up the device's allowance
    assert_limited(submit(client, PHONE), "device")
    bad_token = {"Authorization": "Bearer nope"}
    assert_error(submit(client, "phone-x-00000009", bad_token), 401, "invalid_token")
    override_settings(app, monkeypatch, SUBMIT_LIMIT_PER_DEVICE="")  # blank: no limit of that kind
    assert submit(client, PHONE).status_code == 201


def test_photo_uploads_have_their_own_counters(client, grid, monkeypatch, app):
    override_settings(app, monkeypatch, UPLOAD_LIMIT_PER_DEVICE="2/minute")
    assert [upload(client, PHONE).status_code for _ in range(2)] == [201, 201]
    assert_limited(upload(client, PHONE), "device")
    assert submit(client, PHONE).status_code == 201


def test_malformed_device_id_is_refused(client, grid):
    assert_error(submit(client, "short"), 422, "invalid_device_id")
    assert_error(upload(client, "has spaces in it"), 422, "invalid_device_id")


def test_malformed_limit_setting_fails_at_start_up(app):
    settings = {key: app.config[key] for key in config_module.DEFAULTS} | {"SUBMIT_LIMIT_PER_IP": "lots"}
    with pytest.raises(ValueError, match="SUBMIT_LIMIT_PER_IP"):
        create_app(settings)


def test_behind_a_trusted_proxy_the_forwarded_client_address_is_limited(app, ctx):
    settings = {key: app.config[key] for key in config_module.DEFAULTS}
    client = create_app(settings | {"TRUSTED_PROXIES": 1, "UPLOAD_LIMIT_PER_IP": "1/minute"}).test_client()
    first = {"X-Forwarded-For": "203.0.113.9"}
    assert upload(client, headers=first).status_code == 201
    assert upload(client, headers={"X-Forwarded-For": "198.51.100.4"}).status_code == 201
    assert_limited(upload(client, headers=first), "ip")


# --- the block list ---------------------------------------------------------------------


def test_admin_blocks_a_device_and_lifts_the_block(client, grid):
    _, admin = make_user("root", "admin")
    created = client.post(
        "/api/v1/admin/blocks", json={"kind": "device", "value": PHONE, "reason": "刷单"}, headers=admin
    )
    assert created.status_code == 201, created.get_json()
    block = created.get_json()
    assert block["kind"] == "device" and block["active"] is True and block["expires_at"] is None
    error = assert_error(submit(client, PHONE), 403, "blocked")
    assert error["details"] == {"kind": "device"}
    assert_error(upload(client, PHONE), 403, "blocked")
    assert submit(client, "other-phone-0004").status_code == 201
    assert_error(
        client.post("/api/v1/admin/blocks", json={"kind": "device", "value": PHONE}, headers=admin), 409, "block_exists"
    )
    listed = client.get("/api/v1/admin/blocks?kind=device", headers=admin).get_json()["blocks"]
    assert [b["value"] for b in listed] == [PHONE]
    assert client.delete(f"/api/v1/admin/blocks/{block['id']}", headers=admin).status_code == 204
    assert submit(client, PHONE).status_code == 201
    assert_error(client.delete(f"/api/v1/admin/blocks/{block['id']}", headers=admin), 404, "block_not_found")


def test_address_network_and_account_blocks(client, grid):
    _, admin = make_user("root", "admin")
    _, citizen = make_user("troll", "citizen")
    _, monitor = make_user("patrol", "monitor")
    response = client.post("/api/v1/admin/blocks", json={"kind": "account", "value": "troll", "days": 7}, headers=admin)
    assert response.status_code == 201 and response.get_json()["expires_at"]
    assert_error(submit(client, headers=citizen), 403, "blocked")
    assert submit(client).status_code == 201
    response = client.post("/api/v1/admin/blocks", json={"kind": "ip", "value": "127.0.0.1/8"}, headers=admin)
    assert response.get_json()["value"] == "127.0.0.0/8"
    assert_error(submit(client), 403, "blocked")
    assert submit(client, headers=monitor).status_code == 201  # staff are never refused


def test_expired_blocks_no_longer_apply_and_can_be_renewed(client, grid):
    db.session.add(Block(kind="device", value=PHONE, expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    assert submit(client, PHONE).status_code == 201
    _, admin = make_user("root", "admin")
    renewed = client.post("/api/v1/admin/blocks", json={"kind": "device", "value": PHONE}, headers=admin)
    assert renewed.status_code == 201 and renewed.get_json()["active"] is True
    assert_error(submit(client, PHONE), 403, "blocked")


def test_block_requests_are_validated_and_admin_only(client, grid):
    _, admin = make_user("root", "admin")
    _, supervisor = make_user("sup", "supervisor")
    assert_error(client.get("/api/v1/admin/blocks"), 401, "unauthorized")
    assert_error(client.get("/api/v1/admin/blocks", headers=supervisor), 403, "forbidden")
    for body, code in (
        ({"kind": "ip", "value": "not-an-ip"}, "invalid_block_value"),
        ({"kind": "account", "value": "nobody"}, "invalid_block_value"),
        ({"kind": "device", "value": "x"}, "invalid_block_value"),
        ({"kind": "phone", "value": "13800000000"}, "validation_failed"),
    ):
        assert_error(client.post("/api/v1/admin/blocks", json=body, headers=admin), 422, code)


def test_block_cli_adds_lists_and_removes(app, grid):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["block", "add", "ip", "198.51.100.7", "--reason", "脚本刷单", "--days", "3"])
    assert result.exit_code == 0, result.output
    assert "198.51.100.7/32" in result.output
    listed = runner.invoke(args=["block", "list"]).output
    assert "ip\t198.51.100.7/32" in listed and "脚本刷单" in listed
    assert runner.invoke(args=["block", "add", "ip", "198.51.100.7"]).exit_code != 0  # already blocked
    assert runner.invoke(args=["block", "remove", "ip", "198.51.100.7"]).exit_code == 0
    assert runner.invoke(args=["block", "list"]).output == "none\n"  # an empty list says so
    missing = runner.invoke(args=["block", "remove", "device", PHONE])
    assert missing.exit_code != 0 and "block_not_found" in missing.output


def test_open311_requests_share_the_device_counters_and_answer_in_the_spec_shape(client, grid, monkeypatch, app):
    """A device id an Open311 client passes on counts with the phone app's (client limits: test_open311_keys)."""
    override_settings(app, monkeypatch, SUBMIT_LIMIT_PER_DEVICE="2/minute")
    _, key = open311_clients.create("hotline-12345")

    def open311(fmt="json"):
        return client.post(
            f"/open311/v2/requests.{fmt}",
            headers={"X-Device-Id": PHONE},
            data={"api_key": key, "service_code": "06010", "lat": INSIDE[0], "long": INSIDE[1]},
        )

    assert submit(client, PHONE).status_code == 201
    assert open311().status_code == 201
    limited = open311()
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    [error] = limited.get_json()
    assert error["code"] == 429 and error["description"].startswith("rate_limited")
    assert open311("xml").status_code == 429
