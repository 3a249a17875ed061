"""Progress of long work: a bar with the count, rows/s and the time left on a terminal, one log
line per stage elsewhere (civicreport.progress)."""

import io
import logging
import re

import pytest

from civicreport import progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_off_a_terminal_each_stage_is_one_log_line(caplog):
    stream = io.StringIO()
    with caplog.at_level(logging.INFO, logger="civicreport.progress"):
        with progress.stage("loading cases", total=30, unit="cases", stream=stream) as bar:
            for _ in range(3):
                bar.advance(10)
        with progress.stage("ANALYZE", unit="steps", stream=stream) as bar:
            bar.advance()
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2
    assert re.fullmatch(r"loading cases: 30 cases in \d+\.\d s(, [\d,]+ cases/s)?", lines[0])
    assert lines[1].startswith("ANALYZE: 1 steps in ")
    assert stream.getvalue() == ""  # nothing drawn


def test_a_failed_stage_still_says_how_far_it_got(caplog):
    settling = progress.stage("settling 2026-10", total=10, stream=io.StringIO())
    with caplog.at_level(logging.INFO, logger="civicreport.progress"), pytest.raises(RuntimeError), settling as bar:
        bar.advance(4)
        raise RuntimeError("killed")
    assert caplog.records[-1].levelname == "WARNING"
    assert caplog.records[-1].getMessage().startswith("settling 2026-10: 4 rows in ")


def test_on_a_terminal_a_bar_shows_the_count_and_the_rate():
    terminal = Terminal()
    with progress.stage("loading cases", total=3, unit="cases", stream=terminal) as bar:
        bar.advance(3)
    drawn = terminal.getvalue()
    assert "loading cases" in drawn and "3/3" in drawn and "ETA" in drawn
