"""``flask --app civicreport …`` commands: data loading and user management."""

import sys
import time
from pathlib import Path

import click
from flask_migrate import upgrade

from civicreport import registry
from civicreport.abuse import blocks
from civicreport.accounts import auth, users
from civicreport.alerts import digests
from civicreport.cases import deadlines, privacy_pass, retention
from civicreport.cobuilding import cards, order_deadlines, partners, ranking
from civicreport.delivery import outbox
from civicreport.delivery.worker import run_worker
from civicreport.demo import history
from civicreport.demo import loader as demo_loader
from civicreport.errors import AppError
from civicreport.media.errors import StorageUnavailable
from civicreport.open311 import clients as open311_clients
from civicreport.ops import maintenance
from civicreport.ops.allocator import tune_malloc
from civicreport.oversight import checklists, listings, whistles
from civicreport.reference import loading
from civicreport.reporting import stats


def init_app(app):
    for command in (
        init_db,
        load_categories,
        load_checklists,
        load_demo,
        import_grid,
        create_user,
        create_team,
        partner_group,
        leader_group,
        create_token,
        set_calendar_day,
        worker,
        settle,
        block,
        outbox_group,
        anonymise_reporters,
        gc_media,
        storage_group,
        open311_key_group,
    ):
        app.cli.add_command(command)


def _fail(err):
    raise click.ClickException(f"{err.code}: {err.message} {err.details or ''}".strip())


@click.command("init-db")
def init_db():
    """Apply every migration (same as ``flask db upgrade``)."""
    upgrade()
    click.echo("database is at the latest migration")


@click.command("load-categories")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False), help="CSV; default: bundled list")
def load_categories(path):
    """Insert or update categories from the bundled (or given) CSV."""
    click.echo(f"{loading.load_categories(path)} categories loaded")


@click.command("load-checklists")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False), help="CSV; default: bundled list")
def load_checklists(path):
    """Insert or update the inspection checklists of the point kinds (点位检查标准) from the bundled
    (or given) CSV; the categories they name must be loaded."""
    try:
        click.echo(f"{checklists.load_checklists(path)} checklist items loaded")
    except AppError as err:
        _fail(err)


@click.command("load-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when a grid is already loaded.")
@click.option(
    "--history",
    "history_count",
    type=click.IntRange(min=0),
    default=0,
    help="Add N seeded past cases instead (the demo is loaded first only when no grid exists).",
)
@click.option("--seed", type=int, default=history.DEFAULT_SEED, show_default=True, help="Random seed for --history.")
def load_demo(if_empty, history_count, seed):
    """Load 綦江区 streets, communities, units, routing rules and a ~100 m demo grid."""
    if history_count:
        _load_history(history_count, seed)
        return
    if if_empty and demo_loader.demo_loaded():
        click.echo("grid already loaded; demo data left as it is")
        return
    click.echo(f"綦江 demo loaded: {demo_loader.load_demo()} grid cells")


def _load_history(count, seed):
    started = time.perf_counter()
    summary = history.load_history(count, seed=seed)
    states = "，".join(f"{status} {n}" for status, n in summary.statuses.most_common())
    click.echo(
        f"{summary.count} 条历史案件（{summary.first_day} 至 {summary.last_day}，{summary.events} 条事件，"
        f"{time.perf_counter() - started:.1f} 秒）：{states}；当前超期 {summary.overdue}"
    )
    cobuild = summary.cobuild
    months = "、".join(f"{month:%Y-%m}" for month in cobuild.months) or "无新月份"
    click.echo(
        f"社区文明共建（{months}）：任务 {cobuild.tasks}，申报 {cobuild.declarations}，联席会议 {cobuild.meetings}，"
        f"实事清单 {cobuild.matters}，点单 {cobuild.orders}；排名已结算 {len(cobuild.settled)} 个月"
    )
    oversight = summary.oversight
    click.echo(
        f"督查督办：吹哨 {oversight.whistles}，点位检查 {oversight.inspections}，联合整治行动 {oversight.operations}"
    )
    click.echo(f"案件统计：已结算 {len(stats.settle_months())} 个月")  # what flask settle would do next


@click.command("import-grid")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--crs",
    type=click.Choice(["wgs84", "gcj02"]),
    required=True,
    help="Coordinate system of the file; gcj02 is converted to WGS-84.",
)
def import_grid(path, crs):
    """Import community (12-digit ``code``) and grid (15-digit) polygons from GeoJSON."""
    try:
        communities, cells = loading.import_grid(path.read_text(encoding="utf-8"), crs)
    except AppError as err:
        _fail(err)
    click.echo(f"imported {communities} communities and {cells} grid cells")


@click.command("create-user")
@click.argument("name")
@click.option(
    "--role",
    required=True,
    help="citizen, monitor, supervisor, unit_staff, leader, admin, community_staff or volunteer",
)
@click.option("--unit", "unit_code", help="Unit code, for unit staff.")
@click.option(
    "--area",
    "areas",
    multiple=True,
    help="Area a supervisor or monitor answers for: a street (9 digits), "
    "community (12) or grid (15) code; repeat it or separate codes by commas. None: district-wide. "
    "Community staff: their one community (12 digits).",
)
@click.option("--team", "team_name", help="Volunteer team name, for volunteers.")
@click.option("--password-prompt", is_flag=True, help="Ask for a password for later logins (hidden, typed twice).")
@click.option("--password-stdin", is_flag=True, help="Read a password for later logins from the first line of stdin.")
@click.option("--token-days", default=30, show_default=True, help="Lifetime of the printed API token.")
def create_user(name, role, unit_code, areas, team_name, password_prompt, password_stdin, token_days):
    """Create a user and print a bearer token for it (shown once).

    A password is never an argument (shell history, ``ps``): it is typed at a hidden prompt or
    piped in; too weak a one (accounts.auth.check_password) creates nothing.
    """
    password = _password(password_prompt, password_stdin)
    try:
        codes = users.known_area_codes(users.split_area_codes(areas))
        team_id = partners.team_named(team_name).id if team_name else None
        user = auth.create_user(name, role, unit_code=unit_code, password=password, areas=codes, team_id=team_id)
    except AppError as err:
        _fail(err)
    click.echo(auth.issue_token(user, days=token_days, label="cli"))


@click.command("create-team")
@click.argument("name")
@click.option("--community", "community_code", required=True, help="Community code (12 digits) the team serves.")
@click.option("--unit", "unit_code", help="Code of the partner unit whose team it is.")
@click.option("--phone", "contact_phone", help="The team's contact phone.")
def create_team(name, community_code, unit_code, contact_phone):
    """Create a volunteer team (志愿服务队); volunteers join it with ``create-user --team``."""
    try:
        team = partners.create_team(name, community_code, unit_code, contact_phone)
    except AppError as err:
        _fail(err)
    click.echo(f"team {team.id} {team.name} of {team.community_code}")


@click.group("partner")
def partner_group():
    """社区文明共建 partnerships: which unit builds with which community, from which day."""


@partner_group.command("add")
@click.option("--community", "community_code", required=True, help="Community code (12 digits).")
@click.option("--unit", "unit_code", required=True, help="Partner unit code.")
@click.option("--role", type=click.Choice(["lead", "member"]), required=True, help="lead (one at a time) or member.")
@click.option("--from", "starts_on", type=click.DateTime(formats=["%Y-%m-%d"]), help="First day (default today).")
def partner_add(community_code, unit_code, role, starts_on):
    """Pair a unit with a community; a new lead ends the previous lead the day before it starts."""
    try:
        row = partners.add_partnership(community_code, unit_code, role, starts_on.date() if starts_on else None)
    except AppError as err:
        _fail(err)
    click.echo(f"partnership {row.id}: {unit_code} {role} of {community_code} from {row.starts_on}")


@partner_group.command("end")
@click.argument("partnership_id", type=int)
@click.option("--on", "ends_on", type=click.DateTime(formats=["%Y-%m-%d"]), help="First day out (default today).")
def partner_end(partnership_id, ends_on):
    """End a partnership; it stays in the history."""
    try:
        row = partners.end_partnership(partnership_id, ends_on.date() if ends_on else None)
    except AppError as err:
        _fail(err)
    click.echo(f"partnership {row.id} ends on {row.ends_on}")


@click.group("leader")
def leader_group():
    """District leaders' 联系点 (责任包干): the streets and communities each answers for."""


@leader_group.command("link")
@click.argument("user_name")
@click.option("--area", "area_code", required=True, help="Street (9 digits) or community (12) code.")
@click.option("--from", "starts_on", type=click.DateTime(formats=["%Y-%m-%d"]), help="First day (default today).")
def leader_link(user_name, area_code, starts_on):
    """Link a leader account to a street or community."""
    try:
        link = partners.link_leader(user_name, area_code, starts_on.date() if starts_on else None)
    except AppError as err:
        _fail(err)
    click.echo(f"leader link {link.id}: {user_name} → {area_code} from {link.starts_on}")


@leader_group.command("end")
@click.argument("link_id", type=int)
@click.option("--on", "ends_on", type=click.DateTime(formats=["%Y-%m-%d"]), help="First day out (default today).")
def leader_end(link_id, ends_on):
    """End a leader link; it stays in the history."""
    try:
        link = partners.end_leader_link(link_id, ends_on.date() if ends_on else None)
    except AppError as err:
        _fail(err)
    click.echo(f"leader link {link.id} ends on {link.ends_on}")


def _password(prompt, stdin):
    """The password asked for by ``--password-prompt`` or ``--password-stdin``; None for neither."""
    if prompt and stdin:
        raise click.UsageError("use either --password-prompt or --password-stdin")
    if prompt:
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return None


@click.command("worker")
@click.option("--once", is_flag=True, help="Run one round and exit.")
@click.option("--interval", type=float, help="Seconds between rounds (default WORKER_INTERVAL).")
def worker(once, interval):
    """Deliver notifications with retries, raise warning/overdue events on deadlines (cases' and the
    needs orders' 派单 and service clocks), escalate the
    units summoned by a whistle that did not 报到 in time, link new cases near listed problems, blur photos
    uploaded in PRIVACY_MODE=worker, judge the communities' 红黄牌 of months past their tasks' due
    times, store the community rankings of settled months. The case figures of ended months are
    settled by ``flask settle``, run beside it."""
    tune_malloc()  # the privacy pass decodes photos and runs OpenCV: see civicreport.ops.allocator
    jobs = (
        deadlines.scan,
        order_deadlines.scan,
        whistles.escalate_late,
        listings.suggest_all,
        cards.judge_due,  # before the ranking: a settled month shows its cards
        ranking.settle_closed_months,
        maintenance.PeriodicMediaGc(),
        privacy_pass.clear_pending,
        digests.send_due,  # area alerts: queued here, sent by the next round's outbox delivery
    )
    counts = run_worker(once=once, interval=interval, jobs=jobs)
    if once:
        click.echo(" ".join(f"{key}={value}" for key, value in counts.items()))
        if counts["errors"]:
            raise click.ClickException(f"{counts['errors']} worker step(s) failed; see the log")


@click.command("settle")
@click.option("--once", is_flag=True, help="Settle what is due and exit.")
@click.option("--interval", type=float, help="Seconds between rounds (default WORKER_INTERVAL).")
def settle(once, interval):
    """Settle the case figures of ended months (per case, then per unit, area and monitor), in chunks
    that commit as they go: run it beside ``flask worker``, never inside it, so a month's minutes of
    settling never hold up a notification. A settler that dies is resumed from its last chunk.
    Each round also brings the case rows of the month in progress up to date (its live figures)."""
    jobs = (stats.settle_months, stats.refresh_live_month)
    counts = run_worker(once=once, interval=interval, jobs=jobs, deliver=False)
    if once and counts["errors"]:
        raise click.ClickException("settling failed; see the log")


@click.command("create-token")
@click.argument("name")
@click.option("--days", default=30, show_default=True, help="Lifetime of the token.")
def create_token(name, days):
    """Print a new bearer token for an existing user (shown once)."""
    try:
        click.echo(auth.issue_token(auth.user_named(name), days=days, label="cli"))
    except AppError as err:
        _fail(err)


@click.command("set-calendar-day")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("kind", type=click.Choice(["holiday", "workday", "official"]))
@click.option("--name", help="e.g. 元旦 or 元旦调休")
def set_calendar_day(day, kind, name):
    """Mark a date as holiday or 调休 workday (overrides the package); ``official`` removes the override."""
    loading.set_calendar_day(day.date(), kind, name)
    click.echo(f"{day:%Y-%m-%d}: {kind}")


@click.group("block")
def block():
    """The block list: devices (X-Device-Id), accounts (login name) and IP addresses/networks."""


@block.command("add")
@click.argument("kind", type=click.Choice(["device", "account", "ip"]))
@click.argument("value")
@click.option("--reason", help="Why, for the other admins.")
@click.option("--days", type=click.IntRange(min=1), help="Expire after N days (default: until removed).")
def block_add(kind, value, reason, days):
    """Stop KIND VALUE from submitting reports and photos."""
    try:
        entry = blocks.add_block(kind, value, reason=reason, days=days)
    except AppError as err:
        _fail(err)
    click.echo(f"blocked {entry.kind} {entry.value} (id {entry.id})")


@block.command("remove")
@click.argument("kind", type=click.Choice(["device", "account", "ip"]))
@click.argument("value")
def block_remove(kind, value):
    """Lift the block on KIND VALUE."""
    try:
        blocks.remove_block(blocks.block_named(kind, value).id)
    except AppError as err:
        _fail(err)
    click.echo(f"unblocked {kind} {value}")


@block.command("list")
def block_list():
    """Print every block: id, kind, value, expiry, reason; "none" when there is none."""
    entries = blocks.list_blocks()
    for entry in entries:
        expiry = f"{entry.expires_at:%Y-%m-%d %H:%M}" if entry.expires_at else "-"
        click.echo(f"{entry.id}\t{entry.kind}\t{entry.value}\t{expiry}\t{entry.reason or ''}")
    _none_if_empty(entries)


@click.group("outbox")
def outbox_group():
    """Notifications to units: those that used up their delivery attempts."""


@outbox_group.command("dead")
@click.option("--unit", "unit_code", help="Only this unit's messages (unit code).")
def outbox_dead(unit_code):
    """Print every dead message: id, topic, unit, attempts, last error; "none" when there is none."""
    try:
        messages = outbox.dead_messages(unit_code)
    except AppError as err:
        _fail(err)
    for message, unit_code in messages:
        click.echo(f"{message.id}\t{message.topic}\t{unit_code or '-'}\t{message.attempts}\t{message.last_error or ''}")
    _none_if_empty(messages)


def _none_if_empty(rows):
    """An empty list says so: an operator took silence for a command that did nothing."""
    if not rows:
        click.echo("none")


@outbox_group.command("requeue")
@click.option("--id", "ids", type=int, multiple=True, help="This message (repeatable).")
@click.option("--unit", "unit_code", help="This unit's dead messages (unit code).")
@click.option("--all", "everything", is_flag=True, help="Every dead message.")
def outbox_requeue(ids, unit_code, everything):
    """Deliver dead messages again, with a fresh set of attempts (after fixing a unit's address)."""
    if not (ids or unit_code or everything):
        raise click.UsageError("name the messages: --id N, --unit CODE or --all")
    try:
        count = outbox.requeue_dead(ids, unit_code)
    except AppError as err:
        _fail(err)
    click.echo(f"{count} dead message(s) requeued")


@click.group("storage")
def storage_group():
    """The photo store (CIVICREPORT_STORAGE: a local directory or an S3 bucket)."""


@storage_group.command("init")
def storage_init():
    """Create the bucket (or directory) if missing, make it private (block public access, private
    ACL) and check that this app may write, read and delete an object; print what was done.
    Safe to run again: it changes nothing that is already right."""
    try:
        done = registry.current().storage.init()
    except StorageUnavailable as err:
        raise click.ClickException(f"{err.code}: {err.message}") from None
    for line in done:
        click.echo(line)
    click.echo("storage ready")


@click.command("anonymise-reporters")
@click.option(
    "--older-than-days", type=click.IntRange(min=0), help="Cases closed longer ago than this (default RETENTION_DAYS)."
)
def anonymise_reporters(older_than_days):
    """Remove reporter data (contact, account link, device id, receipt) from long-closed cases."""
    days = registry.settings().RETENTION_DAYS if older_than_days is None else older_than_days
    summary = retention.anonymise_reporters(days)
    cleared = " ".join(f"{name}={count}" for name, count in summary.cleared.items())
    click.echo(f"anonymised {summary.cases} cases closed more than {days} days ago: {cleared}")


@click.command("gc-media")
@click.option(
    "--older-than-hours",
    type=click.FloatRange(min=0),
    help="Spare objects written or touched more recently (default MEDIA_GC_AGE_HOURS).",
)
@click.option("--dry-run", is_flag=True, help="Count the orphans; delete nothing.")
def gc_media(older_than_hours, dry_run):
    """Remove stored photo objects no media row references (left behind by failed requests)."""
    hours = registry.settings().MEDIA_GC_AGE_HOURS if older_than_hours is None else older_than_hours
    try:
        result = maintenance.collect_media_garbage(hours, dry_run=dry_run)
    except StorageUnavailable as err:
        _fail(err)
    click.echo(result.summary(dry_run))


@click.group("open311-key")
def open311_key_group():
    """Open311 client keys: the only thing accepted as ``api_key`` (never a login's token)."""


@open311_key_group.command("create")
@click.argument("name")
@click.option("--jurisdiction", help="The jurisdiction_id it may post to (default: DISTRICT_CODE).")
@click.option(
    "--limit", "rate_limit", help="Its own rate limit, e.g. 600/hour;5000/day (default: OPEN311_CLIENT_LIMIT)."
)
def open311_key_create(name, jurisdiction, rate_limit):
    """Register client NAME and print its api_key last (shown once; only its hash is kept)."""
    try:
        client, key = open311_clients.create(name, jurisdiction=jurisdiction, rate_limit=rate_limit)
    except AppError as err:
        _fail(err)
    click.echo(
        f"Open311 client {client.name} (jurisdiction {client.jurisdiction}, "
        f"limit {open311_clients.limit_of(client)}); api_key, shown once: {key}"
    )


@open311_key_group.command("list")
def open311_key_list():
    """Print every client: name, jurisdiction, limit, created, last used, revoked (UTC; never the key)."""
    clients = open311_clients.clients()
    if not clients:
        click.echo("none")
        return
    click.echo("name\tjurisdiction\tlimit\tcreated\tlast used\trevoked")
    for client in clients:
        times = (_minute(client.created_at), _minute(client.last_used_at), _minute(client.revoked_at))
        click.echo("\t".join((client.name, client.jurisdiction, open311_clients.limit_of(client), *times)))


def _minute(moment):
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "-"


@open311_key_group.command("revoke")
@click.argument("name")
def open311_key_revoke(name):
    """Refuse client NAME's api_key from now on."""
    try:
        client = open311_clients.revoke(name)
    except AppError as err:
        _fail(err)
    click.echo(f"revoked Open311 client {client.name}")
