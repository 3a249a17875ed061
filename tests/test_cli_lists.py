"""The operator's list commands say "none" when there is nothing to list (silence read as a
command that did nothing), and list rows, without "none", when there is something."""

import pytest


@pytest.mark.parametrize("args", [["outbox", "dead"], ["block", "list"], ["open311-key", "list"]])
def test_an_empty_list_says_none(app, ctx, args):
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert result.output == "none\n"


def test_a_list_with_rows_does_not_say_none(app, ctx):
    runner = app.test_cli_runner()
    added = runner.invoke(args=["block", "add", "device", "phone-0001-abcd", "--reason", "spam"])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(args=["block", "list"]).output
    assert "phone-0001-abcd" in listed and "none" not in listed
