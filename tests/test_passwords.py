"""Weak passwords are refused in one place (accounts.auth.check_password), from the CLI and the service."""

import pytest
from sqlalchemy import func, select

from civicreport.accounts import auth
from civicreport.accounts.models import User
from civicreport.errors import ValidationFailed
from civicreport.extensions import db
from tests.helpers import override_settings

NAME = "zhangwei88"
WEAK = [
    ("a", "too_short"),
    ("Abc12345!", "too_short"),  # nine characters
    ("1234567890", "common"),
    ("woaini1314", "common"),
    ("5201314520", "common"),
    ("qq123456789", "common"),
    ("a123456789", "common"),
    ("1qaz2wsx3edc", "common"),
    ("Qwertyuiop", "common"),
    ("88888888888", "common"),
    ("9876543210", "common"),
    ("abcdefghijk", "common"),
    ("Password2024!", "common"),
    ("liu19900101", "common"),
    ("zhangwei88", "contains_name"),
    ("ZhangWei88-home", "contains_name"),
    ("my-13812345678", "contains_name"),
]
GOOD = ["Qijiang-river-2026", "路灯杆倒了请赶紧修好吧", "tb7#Kq2x!mWz"]
# Accepted by the earlier rules for the login name wangwei (the attack review's list).
PATTERNED = [
    "1234512345",
    "12341234123",
    "abcd1234ab",
    "aa112233aa",
    "1357924680",
    "2468013579",
    "13800138000",
    "supervisor1",
    "civicreport1",
    "dev-only-change-me",
    "!QAZ2wsx3edc",
    "zaq12wsxcde",
    "1 2 3 4 5 6 7",
]
# The same classes, other members: repeats, steps, walks (shifted too), birthdays and mobile numbers
# with little beside them, app words and role names plus digits, interleaved runs, spaced digits.
VARIANTS = [
    "6789067890",
    "123123123123",
    "abcabcabcabc",
    "qwerqwerqwer",
    "111222333444",
    "acegikmoqs",
    "a1b2c3d4e5f6",
    "@WSX3edc4rfv",
    "xsw2zaq1cde3",
    "poiuytrewq",
    "zhang19880512",
    "wang-1988.05.12",
    "18612345678a",
    "Admin@2026",
    "monitor12345",
    "QiJiang_2025",
    "綦江区12345678",
    "unit_staff01",
    "0 0 0 1 1 1 2 2 2",
]
REASONABLE = [
    "Tea-kettle-on-Nanshan-9",
    "xq7#Lm2pV9rT",
    "correct horse battery",
    "Gunan-street-lamp-42",
    "my cat eats noodles",
    "Blue-heron-at-dawn",
    "R3d!Lantern_Bridge",
    "plum rain in june 7",
    "v8Nq-2mXr-Lp4w",
    "Sanjiang-ferry-1987x",
    "wenlong#river#bend",
    "738294651023",
]


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def users():
    return db.session.scalar(select(func.count()).select_from(User))


@pytest.mark.parametrize("password, reason", WEAK)
def test_a_weak_password_is_refused_by_the_service(ctx, password, reason):
    with pytest.raises(ValidationFailed) as refused:
        auth.create_user(NAME, "admin", password=password, phone="13812345678")
    assert (refused.value.code, refused.value.details["reason"]) == ("weak_password", reason)
    assert users() == 0


@pytest.mark.parametrize("password", PATTERNED + VARIANTS)
def test_a_patterned_password_is_refused_whatever_its_shape(ctx, password):
    with pytest.raises(ValidationFailed) as refused:
        auth.create_user("wangwei", "supervisor", password=password)
    assert refused.value.code == "weak_password"
    assert refused.value.details["reason"] in {"common", "too_short", "digits_only"}
    assert users() == 0


@pytest.mark.parametrize("password", REASONABLE + GOOD)
def test_a_reasonable_password_is_accepted(ctx, password):
    assert auth.create_user("wangwei", "supervisor", password=password).password_hash


@pytest.mark.parametrize("password", ["1 2 3 4 5 6 7", "12 34 56 78 9"])
def test_whitespace_is_not_counted_in_the_length(ctx, password):
    with pytest.raises(ValidationFailed) as refused:
        auth.check_password(password)
    assert refused.value.details["reason"] == "too_short"


def test_digits_only_need_their_own_length_which_is_a_setting(ctx, app, monkeypatch):
    with pytest.raises(ValidationFailed) as refused:
        auth.check_password("73829465102")
    assert refused.value.details == {"reason": "digits_only", "min_length": 12}
    auth.check_password("738294651023")
    override_settings(app, monkeypatch, PASSWORD_MIN_DIGITS=13)
    with pytest.raises(ValidationFailed):
        auth.check_password("738294651023")


@pytest.mark.parametrize("password, reason", WEAK[:3] + WEAK[14:15])
def test_a_weak_password_is_refused_by_the_cli_and_creates_nothing(cli, ctx, password, reason):
    result = cli.invoke(args=["create-user", NAME, "--role", "admin", "--password-stdin"], input=password + "\n")
    assert result.exit_code != 0 and "weak_password" in result.output and reason in result.output
    assert users() == 0


def test_the_prompt_refuses_a_weak_password_too(cli, ctx):
    result = cli.invoke(args=["create-user", NAME, "--role", "admin", "--password-prompt"], input="woaini1314\n" * 2)
    assert result.exit_code != 0 and "weak_password" in result.output
    assert users() == 0


def test_a_password_is_no_longer_a_command_line_value(cli, ctx):
    result = cli.invoke(args=["create-user", NAME, "--role", "admin", "--password", "Qijiang-river-2026"])
    assert result.exit_code != 0 and users() == 0


def test_prompt_and_stdin_together_are_refused(cli, ctx):
    result = cli.invoke(
        args=["create-user", NAME, "--role", "admin", "--password-prompt", "--password-stdin"],
        input="Qijiang-river-2026\n",
    )
    assert result.exit_code != 0 and users() == 0


@pytest.mark.parametrize("password", GOOD)
def test_a_good_password_from_stdin_logs_in(cli, ctx, client, password):
    result = cli.invoke(
        args=["create-user", NAME, "--role", "admin", "--password-stdin"], input=password + "\nsecond line is ignored\n"
    )
    assert result.exit_code == 0, result.output
    answer = client.post("/api/v1/auth/login", json={"login": NAME, "password": password})
    assert answer.status_code == 200 and answer.get_json()["user"]["role"] == "admin"


def test_a_good_password_at_the_prompt_logs_in(cli, ctx, client):
    result = cli.invoke(
        args=["create-user", NAME, "--role", "supervisor", "--password-prompt"],
        input="Qijiang-river-2026\nQijiang-river-2026\n",
    )
    assert result.exit_code == 0, result.output
    assert "Qijiang-river-2026" not in result.output.replace("Password", "")  # hidden: not echoed
    answer = client.post("/api/v1/auth/login", json={"login": NAME, "password": "Qijiang-river-2026"})
    assert answer.status_code == 200


def test_the_minimum_length_is_a_setting(ctx, app, monkeypatch):
    override_settings(app, monkeypatch, PASSWORD_MIN_LENGTH=16)
    with pytest.raises(ValidationFailed) as refused:
        auth.create_user(NAME, "admin", password="Qijiang-river-2")
    assert refused.value.details == {"reason": "too_short", "min_length": 16}
