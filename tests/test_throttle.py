"""Wrong passwords and wrong receipts are throttled per account and per address (services.throttle)."""
import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from civicreport.extensions import db
from civicreport.models import Throttle
from civicreport.models.types import utcnow
from civicreport.services import auth
from tests.test_intake import assert_error
from tests.test_workflow import loop  # noqa: F401  the loop fixture: grid, units, staff

LIMIT, LOCK, LOCK_MAX = 3, 100, 300
GOOD = "Qijiang-river-2026"
LOGIN = "/api/v1/auth/login"


@pytest.fixture(autouse=True)
def small_limits(app, monkeypatch):
    """Three failures per minute, then 100 s, 200 s, then the 300 s cap."""
    for key, value in {"THROTTLE_FAILURES": LIMIT, "THROTTLE_WINDOW_SECONDS": 60,
                       "THROTTLE_LOCK_SECONDS": LOCK, "THROTTLE_LOCK_MAX_SECONDS": LOCK_MAX}.items():
        monkeypatch.setitem(app.config, key, value)


@pytest.fixture
def wang(ctx):
    return auth.create_user("wang", "supervisor", password=GOOD, phone="13812345678")


def login(client, name, password, address="10.0.0.1"):
    return client.post(LOGIN, json={"login": name, "password": password}, environ_base={"REMOTE_ADDR": address})


def assert_locked(response, scope, most=LOCK):
    error = assert_error(response, 429, "too_many_attempts")
    retry_after = int(response.headers["Retry-After"])
    assert error["details"] == {"scope": scope, "retry_after": retry_after}
    assert most - 5 <= retry_after <= most
    return retry_after


def run_out_the_locks():
    """As if the locks had run out: every counter's lock ended a second ago."""
    db.session.execute(update(Throttle).values(locked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_an_account_is_locked_whatever_address_and_name_or_phone_it_is_tried_from(client, wang):
    for attempt, name in enumerate(["wang", "13812345678", "wang"]):
        assert_error(login(client, name, "wrong-guess", f"10.0.1.{attempt}"), 401, "invalid_credentials")
    assert_locked(login(client, "wang", GOOD, "10.0.1.99"), "login_account")
    assert_locked(login(client, "13812345678", GOOD, "10.0.1.98"), "login_account")


def test_an_unknown_login_name_is_locked_too(client, wang):
    for attempt in range(LIMIT):
        login(client, "ghost", "x", f"10.0.2.{attempt}")
    assert_locked(login(client, "ghost", "x", "10.0.2.99"), "login_account")
    assert login(client, "wang", GOOD, "10.0.2.98").status_code == 200


def test_an_address_is_locked_across_accounts(client, wang):
    for name in ["li", "zhao", "wang"]:
        assert_error(login(client, name, "wrong-guess", "10.0.3.1"), 401, "invalid_credentials")
    assert_locked(login(client, "wang", GOOD, "10.0.3.1"), "login_ip")
    assert login(client, "wang", GOOD, "10.0.3.2").status_code == 200


def test_an_ipv6_address_counts_by_its_64(client, wang):
    for host in range(LIMIT):
        login(client, f"user{host}", "wrong-guess", f"2001:db8:1:2::{host + 1}")
    assert_locked(login(client, "wang", GOOD, "2001:db8:1:2:ffff::9"), "login_ip")
    assert login(client, "wang", GOOD, "2001:db8:1:3::1").status_code == 200


def test_each_further_lockout_doubles_the_lock_up_to_the_cap(client, wang):
    locks = []
    for _ in range(4):
        for attempt in range(LIMIT):
            login(client, "wang", "wrong-guess", f"10.0.4.{len(locks)}{attempt}")
        locks.append(assert_locked(login(client, "wang", GOOD, "10.0.4.250"), "login_account",
                                   min(LOCK * 2 ** len(locks), LOCK_MAX)))
        run_out_the_locks()
    assert locks[0] < locks[1] < locks[2] == locks[3]


def test_a_throttled_attempt_is_answered_without_hashing(client, wang, monkeypatch):
    hashed = []
    real = auth.check_password_hash
    monkeypatch.setattr(auth, "check_password_hash", lambda *args: hashed.append(1) or real(*args))
    for _ in range(LIMIT):
        login(client, "wang", "wrong-guess")
    assert len(hashed) == LIMIT
    assert_locked(login(client, "wang", GOOD, "10.0.5.1"), "login_account")
    assert_locked(login(client, "nobody", "x"), "login_ip")
    assert len(hashed) == LIMIT


def test_a_success_resets_the_accounts_counter_but_not_the_addresss(client, wang):
    for _ in range(LIMIT - 1):
        login(client, "wang", "wrong-guess", "10.0.6.1")
    assert login(client, "wang", GOOD, "10.0.6.1").status_code == 200
    for attempt in range(LIMIT - 1):
        login(client, "wang", "wrong-guess", f"10.0.6.{attempt + 2}")
    assert login(client, "wang", GOOD, "10.0.6.9").status_code == 200  # the account starts over
    login(client, "li", "wrong-guess", "10.0.6.1")  # the third failure from 10.0.6.1
    assert_locked(login(client, "wang", GOOD, "10.0.6.1"), "login_ip")


def test_failures_older_than_the_window_are_forgotten(client, wang, app, monkeypatch):
    monkeypatch.setitem(app.config, "THROTTLE_WINDOW_SECONDS", 1)
    for _ in range(LIMIT - 1):
        login(client, "wang", "wrong-guess")
    time.sleep(1.1)
    login(client, "wang", "wrong-guess")
    assert login(client, "wang", GOOD).status_code == 200


# ---- receipts: a receipt token is a bearer secret too -----------------------------------------

def lookup(client, rid, token, address):
    return client.post("/api/v1/receipts/lookup", json={"receipts": [{"id": rid, "receipt_token": token}]},
                       environ_base={"REMOTE_ADDR": address})


def with_receipt(client, how, rid, token, address):
    headers, environ = {"X-Receipt-Token": token}, {"REMOTE_ADDR": address}
    if how == "transition":
        return client.post(f"/api/v1/reports/{rid}/transitions", json={"action": "add_evidence", "media_ids": []},
                           headers=headers, environ_base=environ)
    suffix = "/events" if how == "events" else ""
    return client.get(f"/api/v1/reports/{rid}{suffix}", headers=headers, environ_base=environ)


READS = ["report", "events", "transition", "lookup"]


def wrong_receipt(client, how, rid, address):
    if how == "lookup":
        return lookup(client, rid, "a-guessed-token", address)
    return with_receipt(client, how, rid, "a-guessed-token", address)


@pytest.mark.parametrize("how", READS)
def test_wrong_receipts_lock_the_address_for_every_receipt_use(loop, client, how):  # noqa: F811
    rid = loop.new_report()
    token = loop.people["receipt"]["X-Receipt-Token"]
    for _ in range(LIMIT):
        assert wrong_receipt(client, how, rid, "10.0.7.1").status_code != 429
    for use in ["report", "events", "transition"]:
        assert_locked(with_receipt(client, use, rid, token, "10.0.7.1"), "receipt_ip")
    assert_locked(lookup(client, rid, token, "10.0.7.1"), "receipt_ip")
    assert client.get(f"/api/v1/reports/{rid}", environ_base={"REMOTE_ADDR": "10.0.7.1"}).status_code == 200
    assert with_receipt(client, "report", rid, token, "10.0.7.2").get_json()["allowed_actions"] == ["add_evidence"]


def test_receipts_that_cannot_match_are_not_counted(loop, client):  # noqa: F811
    """A phone keeping a receipt of a case long gone (or never there) is not locked out."""
    rid = loop.new_report()
    token = loop.people["receipt"]["X-Receipt-Token"]
    for day in range(LIMIT + 2):
        assert lookup(client, f"QJ20990101-{day:04d}", "old-receipt", "10.0.8.1").get_json()["reports"] == []
    assert lookup(client, rid, token, "10.0.8.1").get_json()["reports"][0]["id"] == rid


def test_one_lookup_with_many_wrong_receipts_counts_each(loop, client):  # noqa: F811
    rids = [loop.new_report() for _ in range(LIMIT)]
    body = {"receipts": [{"id": rid, "receipt_token": "a-guessed-token"} for rid in rids]}
    answer = client.post("/api/v1/receipts/lookup", json=body, environ_base={"REMOTE_ADDR": "10.0.9.1"})
    assert answer.status_code == 200 and answer.get_json()["reports"] == []
    assert_locked(lookup(client, rids[0], "a-guessed-token", "10.0.9.1"), "receipt_ip")
