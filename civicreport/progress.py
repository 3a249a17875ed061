"""Progress of long work (loading, importing, settling, collecting garbage): rows per second and the
time left on a terminal, one line per stage in the logs otherwise.

On a terminal a stage is a rich progress bar (rich renders and refreshes it from its own thread,
so the work is never slowed by drawing); where stderr is not a terminal (a service, cron, CI)
nothing is drawn and each stage ends with one INFO line on the ``civicreport.progress`` logger:
what, how many, how long, how fast. Plain Python: no Flask, no database.
"""

import logging
import sys
import time
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

log = logging.getLogger(__name__)


class Stage:
    """One stage of a long job: ``advance(n)`` after each piece of ``n`` rows is done."""

    def __init__(self, label, total, unit, bar=None):
        self.label, self.total, self.unit, self.done = label, total, unit, 0
        self.started = time.monotonic()
        self._bar, self._task = bar, bar.add_task(label, total=total, unit=unit) if bar else None

    def advance(self, rows=1):
        self.done += rows
        if self._bar is not None:
            self._bar.update(self._task, advance=rows)

    def summary(self):
        seconds = time.monotonic() - self.started
        rate = f", {self.done / seconds:,.0f} {self.unit}/s" if seconds > 0 and self.done else ""
        return f"{self.label}: {self.done:,} {self.unit} in {seconds:.1f} s{rate}"


class _Speed(ProgressColumn):
    """Rows per second, as rich measures it over the last samples."""

    def render(self, task):
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} {task.fields['unit']}/s", style="progress.data.speed")


def _ensure_handler():
    """A command run with no logging set up (cron, a pipe) still gets its stage lines, on stderr."""
    if not log.hasHandlers():
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


@contextmanager
def stage(label, total=None, *, unit="rows", stream=None):
    """A stage of ``total`` rows (None: unknown, a spinner-less bar with no ETA); yields a ``Stage``.

    The summary line is logged when the stage ends, also when it fails (then at WARNING).
    """
    stream = stream or sys.stderr
    if not stream.isatty():
        _ensure_handler()
        current = Stage(label, total, unit)
        try:
            yield current
        except BaseException:
            log.warning("%s (failed)", current.summary())
            raise
        log.info("%s", current.summary())
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _Speed(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(file=stream)) as bar:
        yield Stage(label, total, unit, bar)
