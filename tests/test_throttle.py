"""Wrong passwords and wrong receipts are throttled per account and per address (abuse.throttle)."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from civicreport.abuse.models import Throttle
from civicreport.accounts import access, auth
from civicreport.db_types import utcnow
from civicreport.extensions import db
from tests.helpers import assert_error, override_settings

LIMIT, LOCK, LOCK_MAX = 3, 100, 300
GOOD = "Qijiang-river-2026"
LOGIN = "/api/v1/auth/login"


@pytest.fixture(autouse=True)
def small_limits(app, monkeypatch):
    """Three failures per minute, then 100 s, 200 s, then the 300 s cap."""
    override_settings(
        app,
        monkeypatch,
        THROTTLE_FAILURES=LIMIT,
        THROTTLE_WINDOW_SECONDS=60,
        THROTTLE_LOCK_SECONDS=LOCK,
        THROTTLE_LOCK_MAX_SECONDS=LOCK_MAX,
    )


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
        locks.append(
            assert_locked(
                login(client, "wang", GOOD, "10.0.4.250"), "login_account", min(LOCK * 2 ** len(locks), LOCK_MAX)
            )
        )
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
    override_settings(app, monkeypatch, THROTTLE_WINDOW_SECONDS=1)
    for _ in range(LIMIT - 1):
        login(client, "wang", "wrong-guess")
    time.sleep(1.1)
    login(client, "wang", "wrong-guess")
    assert login(client, "wang", GOOD).status_code == 200


# ---- in parallel: an attempt is counted before the password is hashed, in one atomic UPDATE ------


def at_once(app, sends):
    """Each of ``sends`` (client → response) from its own thread and test client, released together."""
    barrier = threading.Barrier(len(sends))

    def run(send):
        client = app.test_client()
        barrier.wait()
        return send(client).status_code

    with ThreadPoolExecutor(len(sends)) as pool:
        return list(pool.map(run, sends))


@pytest.fixture
def hashed(monkeypatch):
    """The calls to the real check_password_hash."""
    calls, real = [], auth.check_password_hash
    monkeypatch.setattr(auth, "check_password_hash", lambda *args: calls.append(1) or real(*args))
    return calls


def failures(scope, key):
    return db.session.scalar(select(Throttle.failures).where(Throttle.scope == scope, Throttle.key == key))


def one_account_many_addresses(n):
    return "wang", f"10.0.10.{n}"


def many_accounts_one_address(n):
    return f"guess{n}", "10.0.11.1"


@pytest.mark.parametrize("who", [one_account_many_addresses, many_accounts_one_address])
def test_parallel_wrong_logins_hash_no_more_than_the_limit(app, wang, hashed, monkeypatch, who):
    """Four rounds of six at once against a limit of ten: ten hashed, fourteen refused unhashed."""
    override_settings(app, monkeypatch, THROTTLE_FAILURES=10)
    statuses = []
    for round_ in range(4):
        statuses += at_once(
            app, [lambda c, n=round_ * 6 + n: login(c, who(n)[0], "wrong-guess", who(n)[1]) for n in range(6)]
        )
    assert len(hashed) == 10
    assert Counter(statuses) == {401: 10, 429: 14}


def test_parallel_failures_are_all_counted_and_successes_give_their_attempt_back(app, wang, hashed, monkeypatch):
    override_settings(app, monkeypatch, THROTTLE_FAILURES=100)
    wrong = [lambda c, n=n: login(c, "wang", "wrong-guess", f"10.0.12.{n}") for n in range(14)]
    assert at_once(app, wrong) == [401] * 14
    assert failures("login_account", f"user:{wang.id}") == 14
    mixed = [lambda c, n=n: login(c, f"guess{n}", "wrong-guess", "10.0.13.1") for n in range(7)] + [
        lambda c: login(c, "wang", GOOD, "10.0.13.1")
    ] * 7
    assert sorted(at_once(app, mixed)) == [200] * 7 + [401] * 7
    assert failures("login_ip", "10.0.13.1") == 7  # the seven wrong ones, none of the seven right
    assert failures("login_account", f"user:{wang.id}") == 0
    assert len(hashed) == 28


@pytest.mark.slow  # forty password hashes at once
def test_forty_logins_at_once_are_answered_without_a_server_error(app, wang, hashed, monkeypatch):
    """Each login used to hold two pooled connections at once: forty at once emptied the pool (500s)."""
    override_settings(app, monkeypatch, THROTTLE_FAILURES=100)
    sends = [lambda c, n=n: login(c, "wang", GOOD if n % 2 else "wrong-guess", f"10.0.14.{n}") for n in range(40)]
    assert Counter(at_once(app, sends)) == {200: 20, 401: 20}
    assert len(hashed) == 40


def test_parallel_wrong_receipts_compare_no_more_than_the_limit(loop, app, monkeypatch):  # noqa: F811
    rid = loop.new_report()
    compared, real = [], access.receipt_matches
    monkeypatch.setattr(access, "receipt_matches", lambda *args: compared.append(1) or real(*args))
    sends = [lambda c, how=how: wrong_receipt(c, how, rid, "10.0.15.1") for how in READS * 3]
    statuses = at_once(app, sends)
    assert len(compared) == LIMIT
    assert len(statuses) - statuses.count(429) == LIMIT


# ---- receipts: a receipt token is a bearer secret too -----------------------------------------


def lookup(client, rid, token, address):
    return client.post(
        "/api/v1/receipts/lookup",
        json={"receipts": [{"id": rid, "receipt_token": token}]},
        environ_base={"REMOTE_ADDR": address},
    )


def with_receipt(client, how, rid, token, address):
    headers, environ = {"X-Receipt-Token": token}, {"REMOTE_ADDR": address}
    if how == "transition":
        return client.post(
            f"/api/v1/reports/{rid}/transitions",
            json={"action": "add_evidence", "media_ids": []},
            headers=headers,
            environ_base=environ,
        )
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
