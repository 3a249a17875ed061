"""Queue benchmark: a million cases in PostgreSQL, p50/p95 of the common queue queries and monthly stats.

Run it against an empty PostgreSQL database (the schema comes from the migrations)::

    pg_ctlcluster 15 main start
    su postgres -c "psql -c 'CREATE DATABASE civic_bench OWNER civicreport'"
    .venv/bin/python bench/queue.py --database-url postgresql+psycopg://civicreport:civicreport@localhost/civic_bench
    su postgres -c "psql -c 'DROP DATABASE civic_bench'"

It loads the 綦江 demo, then ``--cases`` (1,000,000) seeded cases over the last ``--days``
(365) from the history generator (``civicreport.demo.history``): ``--workers`` forked
processes (one per core) each build chunks of whole days and write them with COPY. As
PostgreSQL's "Populating a Database" advises, the secondary indexes and foreign keys of
``report`` and ``report_event`` are dropped for the load and recreated after it (also when the
load fails); then VACUUM of ``report`` (its visibility map, as autovacuum would set it) and
ANALYZE. Then it times each query ``--runs`` times (the monthly statistics ``--stats-runs``
times) after one warm-up run, through the app's own services
(``queue.search``, ``stats.unit_stats`` and ``stats.area_stats``), and prints p50/p95 against the
targets (queue p95 < 100 ms, monthly stats < 1 s). The monthly figures are timed for the last full
month once settled (``stats.settle_month``, timed per month, as ``flask settle`` runs it), for the
last full month as it stood an hour before its end (a whole month in progress, the worst case of
a live month, read from the case rows ``flask settle`` keeps: its passes are timed too) and for
the current month to date. Loading and settling
show progress bars on a terminal and log one line per stage otherwise.

A database that already holds reports is refused, so a real one is never filled with
generated cases; ``--reuse`` times such a database as it is (e.g. a second run).
Exits with status 1 when a target is missed, 2 on bad arguments or a refused database.
"""

import sys
from pathlib import Path

# The project instead of bench/ on the path: this file must not shadow the standard ``queue``.
sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import timedelta  # noqa: E402
from operator import itemgetter  # noqa: E402

import psycopg  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from civicreport import create_app, progress, registry  # noqa: E402
from civicreport.accounts.models import Unit, User  # noqa: E402
from civicreport.cases.models import Report, ReportEvent  # noqa: E402
from civicreport.cases.status import OPEN_STATES  # noqa: E402
from civicreport.db_types import UTCDateTime, utcnow  # noqa: E402
from civicreport.demo import history  # noqa: E402
from civicreport.demo.loader import demo_loaded, load_demo  # noqa: E402
from civicreport.extensions import db  # noqa: E402
from civicreport.reporting import queue, stats  # noqa: E402

QUEUE_TARGET_MS = 100
STATS_TARGET_MS = 1000
CHUNK = 20_000  # cases generated and copied per round
REPORT_COLUMNS = [c.name for c in Report.__table__.columns]
EVENT_COLUMNS = [c.name for c in ReportEvent.__table__.columns if c.name != "id"]
EVENT_ROW = itemgetter(*EVENT_COLUMNS)
REPORT_TIMES = [c.name for c in Report.__table__.columns if isinstance(c.type, UTCDateTime)]
EVENT_TIMES = [c.name for c in ReportEvent.__table__.columns if isinstance(c.type, UTCDateTime)]


def main():
    args = _arguments()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")  # stage lines off a terminal
    app = create_app({"DATABASE_URL": args.database_url, "SECRET_KEY": "bench-only"})
    with app.app_context():
        upgrade()
        existing = db.session.scalar(select(func.count()).select_from(Report))
        if existing and not args.reuse:
            print(
                f"refusing: the database already holds {existing:,} reports (use --reuse to time it as it is)",
                file=sys.stderr,
            )
            sys.exit(2)
        if not existing:
            load(args)
        cases = sizes()
        results = time_queries(args)
    missed = report(results)
    if args.json:
        write_json(args.json, cases, results)
    sys.exit(1 if missed else 0)


def _arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="postgresql+psycopg://user:password@host/db")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365, help="spread the cases over this many past days")
    parser.add_argument("--seed", type=int, default=history.DEFAULT_SEED)
    parser.add_argument("--runs", type=int, default=30, help="timed runs per queue query")
    parser.add_argument("--stats-runs", type=int, default=5, help="timed runs of the monthly statistics")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="processes building and copying rows")
    parser.add_argument("--reuse", action="store_true", help="time a database that already holds reports")
    parser.add_argument(
        "--keep-settled",
        action="store_true",
        help="with --reuse: read the months a previous run settled (their settling is not timed again)",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        parser.error("the benchmark needs PostgreSQL (it loads with COPY)")
    if args.runs < 2 or args.stats_runs < 1 or args.workers < 1:
        parser.error("--runs must be at least 2, --stats-runs and --workers at least 1")
    return args


def load(args):
    """Demo, then the cases in chunks of whole days, generated and copied by forked workers; ANALYZE."""
    started = time.perf_counter()
    if not demo_loaded():
        load_demo()
    generator = history.HistoryGenerator(args.seed, utcnow(), args.days)
    chunks = _plan(generator, args.cases)
    db.session.commit()
    raw = db.engine.raw_connection()
    try:
        with Unindexed(raw.driver_connection) as unindexed:
            reports, events, building, copying = _copy_in_workers(generator, chunks, args)
            _move_report_sequence(raw.driver_connection)
    finally:
        raw.close()
    mark = time.perf_counter()
    with progress.stage("VACUUM report, ANALYZE", unit="steps") as bar:
        _vacuum_report()
        bar.advance()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        bar.advance()
    print(
        f"loaded {reports:,} cases and {events:,} events in {time.perf_counter() - started:.1f} s "
        f"with {args.workers} workers: building rows {building:.1f} s and COPY {copying:.1f} s "
        f"(summed over workers), indexes and keys {unindexed.seconds:.1f} s, "
        f"ANALYZE {time.perf_counter() - mark:.1f} s"
    )


@dataclass(frozen=True)
class Chunk:
    """Consecutive days for one worker: [(day, cases, first number of the day)] and the first report id."""

    index: int
    days: list
    first_id: int


def _plan(generator, count):
    """Chunks of whole days (a duplicate's original is filed the same day); numbers reserved here."""
    next_id = (db.session.scalar(select(func.max(Report.id))) or 0) + 1
    chunks, days, size = [], [], 0
    for day, day_count in generator.day_counts(count):
        days.append((day, day_count, history.reserve_numbers(day, day_count)))
        size += day_count
        if size >= CHUNK:
            chunks.append(Chunk(len(chunks), days, next_id))
            next_id, days, size = next_id + size, [], 0
    if days:
        chunks.append(Chunk(len(chunks), days, next_id))
    return chunks


_WORKER = {}  # set in each forked worker: the inherited generator, the seed, where to connect


def _copy_in_workers(generator, chunks, args):
    """Generate and COPY the chunks in ``--workers`` forked processes; returns the summed figures."""
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    pool = multiprocessing.get_context("fork").Pool(
        args.workers, initializer=_start_worker, initargs=(db.engine, generator, args.seed, url)
    )
    total = sum(count for chunk in chunks for _, count, _ in chunk.days)
    with pool, progress.stage("loading cases", total=total, unit="cases") as bar:
        figures = []
        for done in pool.imap_unordered(_copy_chunk, chunks):
            figures.append(done)
            bar.advance(done[0])
        return [sum(column) for column in zip(*figures, strict=True)]


def _start_worker(engine, generator, seed, url):
    engine.dispose(close=False)  # never touch the parent's pooled connections
    _WORKER.update(generator=generator, seed=seed, url=url)


def _copy_chunk(chunk):
    """(reports, events, build seconds, copy seconds) of one chunk, reseeded by its index."""
    generator = _WORKER["generator"]
    generator.rng.seed(f"{_WORKER['seed']}:{chunk.index}")
    started = time.perf_counter()
    cases = [case for day, count, first in chunk.days for case in generator.cases(day, count, first)]
    built = time.perf_counter()
    with psycopg.connect(_WORKER["url"]) as conn:
        events = copy_cases(conn, cases, chunk.first_id)
    return len(cases), events, built - started, time.perf_counter() - built


def _vacuum_report():
    """VACUUM the loaded reports, as autovacuum would in time: its visibility map lets the overdue
    count of the statistics read its index alone. VACUUM runs outside a transaction."""
    raw = db.engine.raw_connection()
    try:
        raw.driver_connection.autocommit = True
        raw.driver_connection.execute("VACUUM report")
    finally:
        raw.close()


def _move_report_sequence(conn):
    conn.execute(
        "SELECT setval(pg_get_serial_sequence('report', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM report), false)"
    )
    conn.commit()


class Unindexed:
    """Drops the secondary indexes and foreign keys of report and report_event; recreates them on exit."""

    TABLES = "('report'::regclass, 'report_event'::regclass)"

    def __init__(self, conn):
        self.conn = conn
        self.seconds = 0.0

    def __enter__(self):
        self.keys = self.conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            f"WHERE contype = 'f' AND conrelid IN {self.TABLES}"
        ).fetchall()
        self.indexes = self.conn.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            f"WHERE indrelid IN {self.TABLES} AND NOT indisprimary AND NOT indisunique"
        ).fetchall()
        for table, name, _ in self.keys:
            self.conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in self.indexes:
            self.conn.execute(f'DROP INDEX "{name}"')
        self.conn.commit()
        return self

    def __exit__(self, *exc):
        started = time.perf_counter()
        self.conn.rollback()
        self.conn.execute("SET maintenance_work_mem = '256MB'")
        with progress.stage("indexes and foreign keys", total=len(self.indexes) + len(self.keys), unit="steps") as bar:
            for _, definition in self.indexes:
                self.conn.execute(definition)
                bar.advance()
            for table, name, definition in self.keys:
                self.conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
                bar.advance()
        self.conn.commit()
        self.seconds = time.perf_counter() - started


def copy_cases(conn, cases, first_id):
    """COPY the reports (ids from ``first_id`` on) and their events, and commit; returns the event count."""
    for offset, case in enumerate(cases):
        case.id = first_id + offset
    events = 0
    # Columns the generator leaves out (added by later migrations) take their server defaults.
    columns = [name for name in REPORT_COLUMNS if name in cases[0].row or name in ("id", "duplicate_of_id")]
    report_row = itemgetter(*columns)
    with conn.cursor() as cursor:
        with cursor.copy(f"COPY report ({', '.join(columns)}) FROM STDIN") as copy:
            for case in cases:
                copy.write_row(report_row(_report_values(case)))
        with cursor.copy(f"COPY report_event ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
            for case in cases:
                for event in case.events:
                    copy.write_row(_event_values(case.id, event))
                events += len(case.events)
    conn.commit()
    return events


def _report_values(case):
    """The COPY row of a case (its row dict is reused: the case is not needed afterwards)."""
    row = case.row
    row.update(
        id=case.id,
        duplicate_of_id=case.duplicate_of.id if case.duplicate_of else None,
        suggested_categories=_json(row["suggested_categories"]),
    )
    _naive(row, REPORT_TIMES)
    return row


def _event_values(report_id, event):
    event.update(report_id=report_id, data=_json(event["data"]))
    _naive(event, EVENT_TIMES)
    return EVENT_ROW(event)


def _json(value):
    """JSON text; None becomes JSON null, as the ORM stores it."""
    return "null" if value is None else json.dumps(value, ensure_ascii=False)


def _naive(row, names):
    """The generator's aware UTC datetimes as the naive UTC values UTCDateTime columns hold."""
    for name in names:
        if row.get(name) is not None:
            row[name] = row[name].replace(tzinfo=None)


def sizes():
    reports = db.session.scalar(select(func.count()).select_from(Report))
    events = db.session.scalar(select(func.count()).select_from(ReportEvent))
    size = db.session.scalar(text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
    print(f"database: {reports:,} reports, {events:,} events, {size}")
    return reports


def time_queries(args):
    """[(name, target ms, [ms …])] for every query, each warmed up once."""
    now = utcnow()
    busiest = _busiest_unit()
    supervisor, staff = User(role="supervisor"), User(role="unit_staff", unit_id=busiest.id)
    open_states = tuple(sorted(OPEN_STATES))
    lat, lon = 29.0300, 106.6500  # the old town, where the demo communities meet
    cases = {
        f"open cases of {busiest.code}, newest 50": (staff, queue.Filters(statuses=open_states)),
        "dispatched/in_progress + street": (
            supervisor,
            queue.Filters(statuses=("dispatched", "in_progress"), street="500110001"),
        ),
        "overdue now": (supervisor, queue.Filters(overdue=True)),
        "bbox 500 m + open status": (
            supervisor,
            queue.Filters(
                statuses=("dispatched", "in_progress", "rework"),
                bbox=(lon - 0.00257, lat - 0.00225, lon + 0.00257, lat + 0.00225),
            ),
        ),
        "text search 斑马线": (supervisor, queue.Filters(text="斑马线")),
        "keyset page 2 (open, newest first)": (
            supervisor,
            queue.Filters(
                statuses=open_states, cursor=queue.search(queue.Filters(statuses=open_states), supervisor).next_cursor
            ),
        ),
    }
    results = [
        (name, QUEUE_TARGET_MS, _timed(lambda u=user, f=filters: queue.search(f, u, now), args.runs))
        for name, (user, filters) in cases.items()
    ]
    month = _last_full_month(now)
    if not (args.keep_settled and stats.month_state(month, now) == "settled"):
        stats.forget_settled()
        db.session.commit()
        for settled in (month.previous(), month):
            results.append((f"settle {settled.start:%Y-%m} (flask settle)", None, _settling(settled, now)))
    today = now.astimezone(registry.current().zone).date()
    live = stats.Period.month(today.year, today.month)
    month_end = month.instants(registry.current().zone)[1] - timedelta(hours=1)
    settled = {
        f"monthly unit stats {month.start:%Y-%m} (settled)": lambda: stats.unit_stats(month, now),
        f"monthly community stats {month.start:%Y-%m} (settled)": lambda: stats.area_stats(month, "community", now),
    }
    results += [(name, STATS_TARGET_MS, _timed(run, args.stats_runs)) for name, run in settled.items()]
    # The month in progress, at its worst: the last full month an hour before its end, its case rows
    # kept by flask settle's live pass (the first pass builds them all; later ones are incremental).
    results.append((f"live rows {month.start:%Y-%m}, first pass (flask settle)", None, _refreshing(month_end)))
    results.append((f"live rows {month.start:%Y-%m}, next pass (flask settle)", None, _refreshing(month_end)))
    last_day = {
        f"monthly unit stats {month.start:%Y-%m} on its last day": lambda: stats.unit_stats(month, month_end),
        f"monthly community stats {month.start:%Y-%m} last day": lambda: stats.area_stats(
            month, "community", month_end
        ),
    }
    results += [(name, STATS_TARGET_MS, _timed(run, args.stats_runs)) for name, run in last_day.items()]
    results.append((f"live rows {live.start:%Y-%m}, first pass (flask settle)", None, _refreshing(now)))
    to_date = {
        f"monthly unit stats {live.start:%Y-%m} (live, to date)": lambda: stats.unit_stats(live, now),
        f"monthly community stats {live.start:%Y-%m} (live)": lambda: stats.area_stats(live, "community", now),
    }
    results += [(name, STATS_TARGET_MS, _timed(run, args.stats_runs)) for name, run in to_date.items()]
    return results


def _refreshing(now):
    """Milliseconds of one pass of ``flask settle``'s live step (the month in progress at ``now``)."""
    started = time.perf_counter()
    stats.refresh_live_month(now)
    elapsed = (time.perf_counter() - started) * 1000
    db.session.remove()
    return [elapsed]


def _settling(month, now):
    """Milliseconds ``flask settle`` takes for ``month``, from nothing stored (its chunks, then its figures)."""
    started = time.perf_counter()
    stats.settle_month(month, now)
    elapsed = (time.perf_counter() - started) * 1000
    db.session.remove()
    return [elapsed]


def _busiest_unit():
    unit_id = db.session.scalar(select(Report.unit_id).group_by(Report.unit_id).order_by(func.count().desc()).limit(1))
    return db.session.get(Unit, unit_id)


def _last_full_month(now):
    first = now.astimezone(registry.current().zone).date().replace(day=1) - timedelta(days=1)
    return stats.Period.month(first.year, first.month)


def _timed(run, runs):
    """Milliseconds of ``runs`` calls after one warm-up; the session is emptied between calls."""
    samples = []
    for attempt in range(runs + 1):
        started = time.perf_counter()
        run()
        elapsed = (time.perf_counter() - started) * 1000
        db.session.remove()
        if attempt:
            samples.append(elapsed)
    return samples


def percentile(samples, share):
    ordered = sorted(samples)
    return ordered[math.ceil(share * len(ordered)) - 1]  # nearest rank


def report(results):
    """Print the table; True when a target was missed."""
    print(f"\n{'query':48s} {'runs':>4s} {'p50 ms':>9s} {'p95 ms':>9s} {'target':>9s}")
    missed = False
    for name, target, samples in results:
        p50, p95 = statistics.median(samples), percentile(samples, 0.95)
        if target is None:
            print(f"{name:48s} {len(samples):4d} {p50:9.1f} {p95:9.1f} {'-':>9s}")
            continue
        ok = p95 < target
        missed |= not ok
        print(f"{name:48s} {len(samples):4d} {p50:9.1f} {p95:9.1f} {'<' + str(target):>9s} {'ok' if ok else 'MISSED'}")
    print(f"\ntargets: queue p95 < {QUEUE_TARGET_MS} ms, monthly stats < {STATS_TARGET_MS} ms")
    return missed


def write_json(path, cases, results):
    figures = {
        "cases": cases,
        "queries": [
            {
                "name": name,
                "target_ms": target,
                "runs": len(samples),
                "p50_ms": round(statistics.median(samples), 1),
                "p95_ms": round(percentile(samples, 0.95), 1),
            }
            for name, target, samples in results
        ],
    }
    Path(path).write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
