"""The short receipt code (查询码): 8 unambiguous characters, valid only with its case number,
stored hashed, throttled per case and per address (cases.receipt_codes)."""

import pytest
from sqlalchemy import select

from civicreport.cases import receipt_codes
from civicreport.cases.reporter_models import ReceiptCode
from civicreport.extensions import db
from tests.factories import INSIDE, photo_bytes
from tests.helpers import assert_error, override_settings, post_report

LIMIT = 3


@pytest.fixture
def filed(city_unit, client):
    """An anonymous report and its submit answer."""
    response = post_report(client, [photo_bytes(gps=INSIDE)], category="06010", description="路边暴露垃圾")
    assert response.status_code == 201
    return response.get_json()


@pytest.fixture
def few_attempts(app, monkeypatch):
    override_settings(
        app,
        monkeypatch,
        THROTTLE_FAILURES=LIMIT,
        THROTTLE_WINDOW_SECONDS=60,
        THROTTLE_LOCK_SECONDS=60,
        THROTTLE_LOCK_MAX_SECONDS=600,
    )


def lookup(client, public_id, code, address="10.0.0.1"):
    return client.post(
        "/api/v1/receipts/lookup",
        json={"id": public_id, "receipt_code": code},
        environ_overrides={"REMOTE_ADDR": address},
    )


def wrong(code):
    """Another code of the same alphabet, differing in its first character."""
    first = receipt_codes.ALPHABET[(receipt_codes.ALPHABET.index(code[0]) + 1) % len(receipt_codes.ALPHABET)]
    return first + code[1:]


def test_the_submit_answer_carries_an_unambiguous_code_beside_the_token(filed):
    code = filed["receipt_code"]
    assert len(code) == 8 and set(code) <= set(receipt_codes.ALPHABET)
    assert not set("01OIL") & set(receipt_codes.ALPHABET)
    assert len(filed["receipt_token"]) == 43


def test_the_code_is_stored_only_as_a_hash(filed):
    stored = db.session.scalar(select(ReceiptCode.code_hash))
    assert stored.startswith("scrypt$") and filed["receipt_code"] not in stored


def test_a_retry_with_the_same_key_gets_the_same_code(city_unit, client):
    def send():
        return post_report(
            client,
            [photo_bytes(gps=INSIDE)],
            headers={"Idempotency-Key": "k-1"},
            category="06010",
        ).get_json()

    first, again = send(), send()
    assert again["id"] == first["id"] and again["receipt_code"] == first["receipt_code"]
    assert db.session.scalar(select(db.func.count()).select_from(ReceiptCode)) == 1


def test_staff_filing_get_no_code(city_unit, client, supervisor):
    body = post_report(client, [photo_bytes(gps=INSIDE)], headers=supervisor, category="06010").get_json()
    assert "receipt_code" not in body and "receipt_token" not in body


def test_the_code_with_its_case_number_answers_what_the_token_gives(filed, client):
    by_code = lookup(client, filed["id"], filed["receipt_code"])
    by_token = client.post(
        "/api/v1/receipts/lookup", json={"receipts": [{"id": filed["id"], "receipt_token": filed["receipt_token"]}]}
    )
    assert by_code.status_code == 200
    assert by_code.get_json() == by_token.get_json()
    assert by_code.get_json()["reports"][0]["id"] == filed["id"]


def test_a_person_may_type_it_in_lower_case_with_a_dash(filed, client):
    code = filed["receipt_code"]
    typed = f"{code[:4].lower()}-{code[4:]} "
    assert lookup(client, filed["id"], typed).get_json()["reports"][0]["id"] == filed["id"]


def test_a_wrong_code_and_a_missing_case_are_alike(filed, client):
    for public_id, code in ((filed["id"], wrong(filed["receipt_code"])), ("QJ19990101-0001", filed["receipt_code"])):
        answer = lookup(client, public_id, code)
        assert answer.status_code == 200
        assert answer.get_json() == {"reports": [], "unknown": [public_id]}


def test_the_code_is_valid_only_with_its_own_case(city_unit, client):
    one, other = (post_report(client, [photo_bytes(gps=INSIDE)], category="06010").get_json() for _ in range(2))
    assert lookup(client, other["id"], one["receipt_code"]).get_json()["reports"] == []


def test_wrong_codes_lock_the_case_whatever_address_they_come_from(filed, client, few_attempts):
    for n in range(LIMIT):
        assert lookup(client, filed["id"], wrong(filed["receipt_code"]), f"10.0.1.{n}").status_code == 200
    locked = lookup(client, filed["id"], filed["receipt_code"], "10.0.2.1")
    assert_error(locked, 429, "too_many_attempts")
    assert locked.get_json()["error"]["details"]["scope"] == "code_case"
    assert int(locked.headers["Retry-After"]) > 0


def test_the_long_token_still_works_on_a_case_locked_by_a_guesser(filed, client, few_attempts):
    for n in range(LIMIT):
        lookup(client, filed["id"], wrong(filed["receipt_code"]), f"10.0.1.{n}")
    by_token = client.post(
        "/api/v1/receipts/lookup", json={"receipts": [{"id": filed["id"], "receipt_token": filed["receipt_token"]}]}
    )
    assert by_token.get_json()["reports"][0]["id"] == filed["id"]


def test_wrong_codes_lock_the_address_across_cases(filed, client, few_attempts):
    for n in range(LIMIT):
        lookup(client, f"QJ19990101-000{n}", "ABCDEFGH", "10.0.3.3")
    locked = lookup(client, filed["id"], filed["receipt_code"], "10.0.3.3")
    assert_error(locked, 429, "too_many_attempts")
    assert locked.get_json()["error"]["details"]["scope"] == "code_ip"
    assert lookup(client, filed["id"], filed["receipt_code"], "10.0.3.4").get_json()["reports"]


def test_a_right_code_gives_its_attempt_back(filed, client, few_attempts):
    for _ in range(LIMIT * 2):
        assert lookup(client, filed["id"], filed["receipt_code"]).get_json()["reports"]


@pytest.mark.parametrize(
    "body",
    [
        {"id": "QJ1"},
        {"receipt_code": "ABCDEFGH"},
        {"id": "QJ1", "receipt_code": "ABCDEFGH", "receipts": [{"id": "QJ1", "receipt_token": "x"}]},
        {"id": "QJ1", "receipt_code": "A" * 33},
        {},
    ],
)
def test_a_malformed_lookup_is_422(client, body):
    assert_error(client.post("/api/v1/receipts/lookup", json=body), 422, "validation_failed")


def test_retention_forgets_the_code(filed, loop):
    from civicreport.cases.retention import anonymise_reporters

    loop.ok(filed["id"], "supervisor", "reject", note="不属于受理范围")
    anonymise_reporters(0)
    assert db.session.scalar(select(ReceiptCode)) is None
