"""Settling a month (``flask settle``) beside the worker: a settler stalled between its chunks or
killed mid-month never holds up a notification, a killed one is resumed from its last chunk, and
the figures read from the stored rows per unit, area and monitor equal those summed from the
per-case rows and those computed from the timeline, over seeded random histories.
"""

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from statistics import fmean

import pytest
from sqlalchemy import delete, func, select, update

from civicreport import registry
from civicreport.accounts.models import Unit
from civicreport.delivery.models import OutboxMessage
from civicreport.delivery.outbox import enqueue
from civicreport.delivery.senders import build_senders
from civicreport.demo import history
from civicreport.demo.loader import load_demo
from civicreport.extensions import db
from civicreport.reporting import stats
from civicreport.reporting.models import StatsCaseLive, StatsCaseMonth, StatsGroupMonth, StatsLiveMonth, StatsMonth
from tests.helpers import override_settings

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
OCTOBER = stats.Period.month(2026, 10)
MONTHS = (stats.Period.month(2026, 9), OCTOBER, stats.Period.month(2026, 11))
LEVELS = ("district", "street", "community", "grid")

# A second process settling October: it stops after its first chunk (printing how far it got)
# and sleeps there until it is killed, like a settler whose machine hangs mid-month.
STALLED_SETTLER = """
import sys, time
from civicreport import create_app
from civicreport.reporting import stats

def stall(period, marker):
    print(marker.done_through, flush=True)
    time.sleep(600)

settings = {"DATABASE_URL": sys.argv[1], "SECRET_KEY": "k" * 40, "STORAGE": "local", "MEDIA_ROOT": sys.argv[2]}
app = create_app(settings)
with app.app_context():
    stats.settle_month(stats.Period.month(2026, 10), chunk=40, on_chunk=stall)
"""


def load(seed, count=300):
    load_demo()
    history.load_history(count, seed=seed, now=NOW, days=75)


def tables(period, now=None):
    """Every statistics table of ``period`` as plain data, without the figure of now."""
    found = {"units": stats.unit_stats(period, now), "monitors": stats.monitor_stats(period, now)}
    found.update({level: stats.area_stats(period, level, now) for level in LEVELS})
    return {
        kind: ([{k: v for k, v in row.items() if k != "overdue_now"} for row in t.rows], t.red_list, t.black_list)
        for kind, t in found.items()
    }


@pytest.fixture
def mail_unit(app, monkeypatch, smtp_server):
    """A unit notified by e-mail through the real local SMTP server."""
    override_settings(app, monkeypatch, SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port)
    monkeypatch.setattr(registry.of(app), "senders", build_senders(app.config))
    unit = db.session.scalar(select(Unit).where(Unit.code == "qj-cgj"))
    unit.delivery_method, unit.delivery_target = "email", "cgj@example.org"
    db.session.commit()
    return unit


@pytest.fixture
def october_loaded(ctx):
    load(seed=5)


def test_a_stalled_then_killed_settler_never_holds_up_delivery_and_is_resumed(
    app, october_loaded, mail_unit, smtp_server, tmp_path
):
    url = db.engine.url.render_as_string(hide_password=False)
    settler = subprocess.Popen(
        [sys.executable, "-c", STALLED_SETTLER, url, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=os.getcwd(),
    )
    try:
        done_through = int(settler.stdout.readline())  # its first chunk is committed; it now stalls
        marker = db.session.get(StatsMonth, OCTOBER.start)
        assert (marker.done_through, marker.cases, marker.finished_at) == (done_through, 40, None)
        assert stats.month_state(OCTOBER) == "settling"
        assert not stats.settle_month(OCTOBER)  # its lease holds the month: no second settler

        message = enqueue("dispatch", {"report": "QJ-1", "message": "案件派遣"}, unit=mail_unit)
        db.session.commit()
        result = app.test_cli_runner().invoke(args=["worker", "--once"])  # a real round, every job
        assert result.exit_code == 0, result.output
        assert "sent=1" in result.output
        assert db.session.get(OutboxMessage, message.id).status == "sent"
        assert len(smtp_server.messages) == 1
    finally:
        settler.send_signal(signal.SIGKILL)
        settler.wait()
        settler.stdout.close()

    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(StatsCaseMonth)) == 40  # what it committed
    after_lease = datetime.now(UTC) + stats.SETTLE_LEASE + timedelta(seconds=1)
    assert stats.settle_month(OCTOBER, after_lease, chunk=40)
    assert stats.month_state(OCTOBER) == "settled"
    resumed = tables(OCTOBER)
    cases = db.session.get(StatsMonth, OCTOBER.start).cases
    assert cases == db.session.scalar(select(func.count()).select_from(StatsCaseMonth)) > 40

    stats.forget_settled()
    db.session.commit()
    assert stats.settle_month(OCTOBER)  # in one go
    assert tables(OCTOBER) == resumed
    assert db.session.get(StatsMonth, OCTOBER.start).cases == cases


@pytest.mark.parametrize("seed", [3, 11])
def test_stored_figures_equal_the_per_case_rows_and_the_timeline(ctx, seed):
    load(seed)
    assert stats.settle_months(chunk=60) == [month.start for month in reversed(MONTHS)]
    for month in MONTHS:
        end = month.instants(registry.current().zone)[1]
        assert stats.month_state(month) == "settled"
        assert stats.month_state(month, end) == "live"  # at its end: computed from the timeline
        assert tables(month) == tables(month, end), month
        assert _unit_rows(month) == _from_case_rows(month), month


UNIT_FIGURES = ("received", "resolved", "closed", "due", "on_time", "rated", "satisfied", "avg_handling_hours")


def _unit_rows(month):
    rows = stats.unit_stats(month).rows
    return {row["code"]: tuple(row[k] for k in UNIT_FIGURES) for row in rows if row["received"]}


def _from_case_rows(month):
    """Per unit, the figures counted in Python from the month's stored case rows, by the definitions
    at the top of ``reporting.stats`` (an independent count of what the stored figures say)."""
    end = month.instants(registry.current().zone)[1]
    per_unit = {}
    for case in db.session.scalars(select(StatsCaseMonth).where(StatsCaseMonth.month == month.start)):
        if case.tagged_unit is None:
            continue
        per_unit.setdefault(case.tagged_unit[len(str(10**12)) :], []).append(case)
    return {unit: _figures(cases, end) for unit, cases in per_unit.items()}


def _figures(cases, end):
    def late(case, moment):
        return case.deadline_at is not None and case.deadline_at < moment

    live = [c for c in cases if c.suspended <= 0]
    resolved = [c for c in cases if c.resolved_at is not None]
    rated = [c for c in cases if c.rating is not None]
    hours = [c.handling_hours for c in cases if c.handling_hours is not None]
    return (
        len(cases),
        len(resolved),
        sum(c.closed for c in cases),
        sum(1 for c in live if c.resolved_at is not None or late(c, end)),
        sum(1 for c in live if c.resolved_at is not None and c.deadline_at is not None and not late(c, c.resolved_at)),
        len(rated),
        sum(1 for c in rated if c.rating >= 4),
        round(fmean(hours), 2) if hours else None,
    )


def test_the_stored_rows_cover_every_level_and_the_monitors(ctx):
    load(seed=9, count=150)
    stats.settle_month(OCTOBER)
    kinds = set(db.session.scalars(select(StatsGroupMonth.kind).where(StatsGroupMonth.month == OCTOBER.start)))
    assert kinds == {"unit", "district", "street", "community", "grid", "monitor"}


def test_the_month_in_progress_read_from_kept_rows_equals_the_timeline(ctx):
    load(seed=13)
    november = MONTHS[2]
    first = stats.refresh_live_month(NOW - timedelta(days=3))
    again = stats.refresh_live_month(NOW)  # only the cases with events since (less an hour)
    assert 0 < again < first + again
    assert db.session.get(StatsLiveMonth, november.start).as_of == NOW
    kept = tables(november, NOW)
    stale = NOW + stats.LIVE_MAX_AGE + timedelta(seconds=1)
    assert stats.unit_stats(november, stale).state == "live"  # rows too old: the timeline is read

    db.session.execute(delete(StatsLiveMonth))
    db.session.commit()
    assert kept == tables(november, NOW)  # the same month computed from the timeline

    stats.refresh_live_month(NOW)
    db.session.execute(update(StatsCaseLive).values(rating=5))  # the kept rows are what is read
    db.session.commit()
    rows = [row for row in stats.unit_stats(november, NOW).rows if row["rated"]]
    assert rows and all(row["satisfaction_rate"] == 1.0 for row in rows)
