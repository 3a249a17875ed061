"""Weak passwords are refused in one place (services.auth.check_password), from the CLI and the service."""
import pytest
from sqlalchemy import func, select

from civicreport.errors import ValidationFailed
from civicreport.extensions import db
from civicreport.models import User
from civicreport.services import auth

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
    result = cli.invoke(args=["create-user", NAME, "--role", "admin", "--password-prompt", "--password-stdin"],
                        input="Qijiang-river-2026\n")
    assert result.exit_code != 0 and users() == 0


@pytest.mark.parametrize("password", GOOD)
def test_a_good_password_from_stdin_logs_in(cli, ctx, client, password):
    result = cli.invoke(args=["create-user", NAME, "--role", "admin", "--password-stdin"],
                        input=password + "\nsecond line is ignored\n")
    assert result.exit_code == 0, result.output
    answer = client.post("/api/v1/auth/login", json={"login": NAME, "password": password})
    assert answer.status_code == 200 and answer.get_json()["user"]["role"] == "admin"


def test_a_good_password_at_the_prompt_logs_in(cli, ctx, client):
    result = cli.invoke(args=["create-user", NAME, "--role", "supervisor", "--password-prompt"],
                        input="Qijiang-river-2026\nQijiang-river-2026\n")
    assert result.exit_code == 0, result.output
    assert "Qijiang-river-2026" not in result.output.replace("Password", "")  # hidden: not echoed
    answer = client.post("/api/v1/auth/login", json={"login": NAME, "password": "Qijiang-river-2026"})
    assert answer.status_code == 200


def test_the_minimum_length_is_a_setting(ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_MIN_LENGTH", 16)
    with pytest.raises(ValidationFailed) as refused:
        auth.create_user(NAME, "admin", password="Qijiang-river-2")
    assert refused.value.details == {"reason": "too_short", "min_length": 16}
