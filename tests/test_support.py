"""“我也遇到了”: one support per person per case, rate-limited, without flooding the timeline."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from civicreport.cases.models import Report, Support
from civicreport.cases.retention import anonymise_reporters
from civicreport.db_types import utcnow
from civicreport.extensions import db
from tests.factories import INSIDE, make_user
from tests.helpers import assert_error, override_settings, submit

DEVICES = [f"phone-{n}-0b7e6c1a" for n in range(3)]


@pytest.fixture
def unlimited(app, monkeypatch):
    override_settings(
        app, monkeypatch, SUPPORT_LIMIT_PER_DEVICE="", SUPPORT_LIMIT_PER_IP="", SUPPORT_LIMIT_PER_ACCOUNT=""
    )


def support(client, rid, device=None, headers=None, address="10.1.0.1"):
    sent = {**({"X-Device-Id": device} if device else {}), **(headers or {})}
    return client.post(f"/api/v1/reports/{rid}/support", headers=sent, environ_base={"REMOTE_ADDR": address})


def supports_at_once(app, rid, devices, address="10.1.0.1"):
    """One support per device, all sent together, each from a client of its own; their answers."""
    barrier = threading.Barrier(len(devices))

    def attempt(device):
        own = app.test_client()
        barrier.wait()
        return support(own, rid, device, address=address).get_json()

    with ThreadPoolExecutor(len(devices)) as pool:
        return list(pool.map(attempt, devices))


def timeline(client, rid):
    return [e["action"] for e in client.get(f"/api/v1/reports/{rid}/events").get_json()["events"]]


def test_the_same_phone_fifty_times_counts_once_and_adds_no_event(client, city_unit, unlimited):
    rid = submit(client, INSIDE)["id"]
    answers = [support(client, rid, DEVICES[0]) for _ in range(50)]
    assert {a.status_code for a in answers} == {200}
    assert answers[0].get_json() == {"id": rid, "support_count": 1, "already_supported": False}
    assert {(a.get_json()["support_count"], a.get_json()["already_supported"]) for a in answers[1:]} == {(1, True)}
    assert timeline(client, rid) == ["submit"]
    assert db.session.scalar(select(func.count()).select_from(Support)) == 1


def test_each_phone_counts(client, city_unit, unlimited):
    rid = submit(client, INSIDE)["id"]
    counts = [support(client, rid, device).get_json()["support_count"] for device in DEVICES]
    assert counts == [1, 2, 3]


def test_an_account_counts_once_whatever_phone_it_uses(client, city_unit, unlimited):
    rid = submit(client, INSIDE)["id"]
    _, headers = make_user("resident", "citizen")
    first, second = (
        support(client, rid, device, headers, f"10.1.1.{n}").get_json() for n, device in enumerate(DEVICES[:2])
    )
    assert (first["support_count"], first["already_supported"]) == (1, False)
    assert (second["support_count"], second["already_supported"]) == (1, True)
    assert support(client, rid, DEVICES[0]).get_json()["support_count"] == 2  # the phone without the account


def test_without_a_device_id_the_address_counts(client, city_unit, unlimited):
    rid = submit(client, INSIDE)["id"]
    assert [
        support(client, rid, address=a).get_json()["support_count"] for a in ["10.1.2.1", "10.1.2.1", "10.1.2.2"]
    ] == [1, 1, 2]


@pytest.mark.parametrize(
    "first, same_64, other",
    [
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:db8:1:3::1"),
        ("2001:db8:1:2::1", "2001:DB8:1:2:0:0:0:9", "2001:db8:2:2::1"),
    ],
)
def test_without_a_device_id_an_ipv6_address_counts_by_its_64(client, city_unit, unlimited, first, same_64, other):
    rid = submit(client, INSIDE)["id"]
    assert [support(client, rid, address=a).get_json()["support_count"] for a in [first, same_64, other]] == [1, 1, 2]


def test_the_address_limit_counts_an_ipv6_64_as_one_address(client, city_unit, app, unlimited, monkeypatch):
    override_settings(app, monkeypatch, SUPPORT_LIMIT_PER_IP="2/minute")
    rids = [submit(client, INSIDE, description=f"第{n}处")["id"] for n in range(3)]
    assert [support(client, rid, address=f"2001:db8:5:6::{n + 1}").status_code for n, rid in enumerate(rids[:2])] == [
        200,
        200,
    ]
    assert_error(support(client, rids[2], address="2001:db8:5:6:abcd::1"), 429, "rate_limited")
    assert support(client, rids[2], address="2001:db8:5:7::1").status_code == 200


FRESH_PHONES = [f"fresh-phone-{n:02d}-5d2e" for n in range(15)]


@pytest.mark.parametrize(
    "addresses",
    [
        ["10.1.5.1"] * 15,  # one IPv4 address, fifteen X-Device-Id values
        [f"2001:db8:9:9::{n + 1:x}" for n in range(15)],  # fifteen addresses of one /64
    ],
    ids=["ipv4", "ipv6-64"],
)
def test_one_address_adds_at_most_its_share_of_anonymous_supports(client, city_unit, unlimited, addresses):
    """Fresh device ids from one client: the first three count, the rest answer as repeats."""
    rid = submit(client, INSIDE)["id"]
    answers = [
        support(client, rid, device, address=address).get_json()
        for device, address in zip(FRESH_PHONES, addresses, strict=True)
    ]
    assert [a["support_count"] for a in answers] == [1, 2, 3] + [3] * 12
    assert [a["already_supported"] for a in answers] == [False] * 3 + [True] * 12
    assert support(client, rid, address=addresses[0]).get_json()["already_supported"] is True  # no device either
    assert support(client, rid, "another-phone-77", address="10.1.5.2").get_json()["support_count"] == 4
    assert db.session.scalar(select(func.count()).select_from(Support)) == 4


def test_the_share_per_address_is_a_setting_and_accounts_are_not_capped(client, city_unit, unlimited, app, monkeypatch):
    override_settings(app, monkeypatch, SUPPORT_PER_ADDRESS_PER_CASE=1)
    rid = submit(client, INSIDE)["id"]
    assert [support(client, rid, device).get_json()["support_count"] for device in FRESH_PHONES[:3]] == [1, 1, 1]
    accounts = [make_user(f"resident{n}", "citizen")[1] for n in range(3)]
    assert [support(client, rid, headers=headers).get_json()["support_count"] for headers in accounts] == [2, 3, 4]


def test_fresh_phones_at_once_from_one_address_still_add_only_its_share(app, client, city_unit, unlimited):
    rid = submit(client, INSIDE)["id"]
    answers = supports_at_once(app, rid, FRESH_PHONES[:10], address="10.1.6.1")
    assert sorted(a["already_supported"] for a in answers) == [False] * 3 + [True] * 7
    assert db.session.scalar(select(Report.support_count).where(Report.public_id == rid)) == 3


def test_supports_are_rate_limited_per_phone(client, city_unit, app, monkeypatch):
    override_settings(app, monkeypatch, SUPPORT_LIMIT_PER_DEVICE="2/minute")
    rids = [submit(client, INSIDE, description=f"第{n}处")["id"] for n in range(3)]
    assert [support(client, rid, DEVICES[0]).status_code for rid in rids[:2]] == [200, 200]
    refused = support(client, rids[2], DEVICES[0])
    assert_error(refused, 429, "rate_limited")
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert support(client, rids[2], DEVICES[1]).status_code == 200


def test_a_malformed_device_id_is_refused(client, city_unit):
    rid = submit(client, INSIDE)["id"]
    assert_error(support(client, rid, "bad id!"), 422, "invalid_device_id")


@pytest.mark.parametrize("status", ["rejected", "duplicate", "closed", "rated"])
def test_a_case_no_longer_open_is_still_409(client, city_unit, status):
    rid = submit(client, INSIDE)["id"]
    db.session.execute(update(Report).where(Report.public_id == rid).values(status=status))
    db.session.commit()
    assert_error(support(client, rid, DEVICES[0]), 409, "report_not_open")


def test_two_supports_at_once_from_one_phone_count_once(app, client, city_unit, unlimited):
    rid = submit(client, INSIDE)["id"]
    answers = supports_at_once(app, rid, [DEVICES[0]] * 2)
    assert sorted(a["already_supported"] for a in answers) == [False, True]
    assert {a["support_count"] for a in answers} == {1}


def test_retention_forgets_who_supported_a_case_and_keeps_the_count(client, city_unit, unlimited):
    old, recent = (submit(client, INSIDE, description=text)["id"] for text in ("旧案", "新案"))
    for rid in (old, recent):
        support(client, rid, DEVICES[0])
    db.session.execute(
        update(Report).where(Report.public_id == old).values(status="closed", closed_at=utcnow() - timedelta(days=400))
    )
    db.session.commit()
    anonymise_reporters(365)
    kept = db.session.execute(select(Support.report_id, Support.address)).all()
    assert kept == [(db.session.scalar(select(Report.id).where(Report.public_id == recent)), "10.1.0.1")]
    assert db.session.scalar(select(Report.support_count).where(Report.public_id == old)) == 1
