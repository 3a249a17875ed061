"""Seeded history: months of realistic past cases for demos, statistics and benchmarks.

``load_history(n)`` writes ``n`` cases filed over the last ``days`` days on the demo grid,
each with a consistent append-only timeline and the cached columns ``report`` keeps
(status, unit, deadline, warning, counts, rating …) exactly as the workflow would have set
them. The same seed and the same ``now`` give the same cases on a fresh database.

What the cases look like
    Categories follow the weights in ``CATEGORIES`` (暴露垃圾 and 乱停车 lead); places
    are drawn from the grid cells with a few hot spots; about a third come from the demo
    monitors, the rest from anonymous citizens. Every case is routed by the real routing
    service. Each unit gets a performance level (``Performance``) so that on-time rates,
    rework and satisfaction differ clearly between units and the monthly 红黑榜 means
    something. A case's story (受理 → 派遣 → 接单 → 处置 → 核查 → 结案 → 评价, with
    回退, 延期, 挂账, 返工 and 督办 on the way) is played forward from its filing time and
    cut at ``now``: old cases are mostly closed or rated, recent ones still open, slow
    units leave overdue cases behind. The worker's 预警/超期 events are included.

The same months of 社区文明共建 (tasks, declarations, 联席会议 and 实事清单, needs orders) come
from ``cobuild_history``, in the same transaction.

Deliberately left out: photos (no media rows, so no objects to fake), outbox messages
(nothing is sent for the past) and receipt tokens (nobody could hold one).

Public ids follow intake's ``QJ<yyyymmdd>-<nnnn>``: each day's numbers are reserved on
``daily_counter`` with the same atomic upsert, so later submissions never collide and a
second run continues the numbering.
"""

import random
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import shapely
from sqlalchemy import bindparam, insert, select, update

from civicreport import progress, registry
from civicreport.accounts.access import REPORTER
from civicreport.accounts.models import Unit, User, UserArea
from civicreport.cases.deadlines import work_calendar
from civicreport.cases.intake import reserve_numbers
from civicreport.cases.models import Report, ReportEvent
from civicreport.cases.routing import CategoryKey, route
from civicreport.cases.status import CLOCK_RUNNING
from civicreport.db_types import utcnow
from civicreport.demo.cobuild_history import forget_rankings, load_cobuild_history, months_since, settle_rankings
from civicreport.demo.loader import demo_loaded, load_demo
from civicreport.demo.oversight import load_oversight_history
from civicreport.extensions import db
from civicreport.geo.crs import wgs84_to_gcj02
from civicreport.geo.geojson import parse_geometry
from civicreport.geo.grid import GridCell
from civicreport.reference.areas import Community, GridCellArea, Street
from civicreport.reference.categories import PRIORITY, Category, RoutingRule
from civicreport.reporting import stats
from civicreport.worktime import WorkingLine

DEFAULT_SEED = 2026
DEFAULT_DAYS = 120
BATCH_SIZE = 2000  # reports per INSERT executemany (their events go in the same round)

SECOND = timedelta(seconds=1)
SCAN_LAG = timedelta(minutes=1)  # how long after a warning/deadline the worker notices it

# code: (weight, descriptions); {place} is a spot, {community} the 社区 it lies in.
CATEGORIES = {
    "06010": (
        18,
        [
            "{community}{place}有暴露垃圾，堆了好几天没人清运",
            "{place}垃圾乱堆，气味很大，影响居民出行",
            "{community}{place}生活垃圾散落一地",
        ],
    ),
    "09009": (
        12,
        [
            "{place}机动车乱停放，占用人行道",
            "{community}{place}车辆违停，堵塞通道",
            "私家车长期停在{place}，挡住消防通道",
        ],
    ),
    "09006": (
        10,
        ["{place}有流动摊贩占道经营", "{community}{place}水果摊占道摆卖，行人无法通行", "早市摊点占用{place}人行道"],
    ),
    "07001": (9, ["{place}电线杆上贴满小广告", "{community}{place}墙面乱贴乱画小广告", "{place}楼道口牛皮癣小广告"]),
    "06013": (
        7,
        ["{place}人行道地砖破损松动", "{community}{place}路面坑洼，雨天积水", "{place}路面塌陷，存在安全隐患"],
    ),
    "06042": (5, ["{place}垃圾桶满溢，周边散落垃圾", "{community}{place}垃圾站满了没人清运"]),
    "09010": (5, ["{place}电瓶车乱停乱放，占用盲道", "{community}{place}电动车堆在路口"]),
    "L06001": (4, ["{community}{place}楼上拉电线给电动车充电", "{place}私拉电线飞线充电，存在火灾隐患"]),
    "09005": (4, ["{place}商铺出店经营，货物摆到人行道上", "{community}{place}餐馆把桌椅摆到店外"]),
    "06036": (4, ["{place}乱堆杂物，占用公共通道", "{community}{place}楼下堆放废旧家具杂物"]),
    "01023": (3, ["{place}井盖缺失，非常危险", "{community}{place}井盖破损松动，车辆经过哐哐响"]),
    "01037": (3, ["{place}路灯不亮，晚上很黑", "{community}{place}路灯损坏一直没修"]),
    "06012": (3, ["{place}路面油污泥土，清扫不到位", "{community}{place}落叶垃圾未清扫"]),
    "06007": (2, ["{place}沿街晾晒衣物被子，影响市容"]),
    "06029": (2, ["{place}夜间露天烧烤，油烟扰民"]),
    "L90003": (2, ["{place}有人遛狗不牵绳，犬只粪便无人清理"]),
    "L90004": (2, ["{place}有人随地乱扔烟头垃圾"]),
    "01002": (1.5, ["{place}污水井盖破损，有异味冒出"]),
    "01003": (1.5, ["{place}雨水井盖下沉破损"]),
    "06027": (1.5, ["{community}{place}餐馆油烟直排，熏到楼上住户"]),
    "08004": (1.5, ["{place}工地未覆盖，扬尘很大"]),
    "08002": (1.5, ["{place}施工占用车道，未设置警示标志"]),
    "06051": (1.5, ["{place}盲道破损，部分被占用"]),
    "06008": (1.5, ["{place}线缆乱拉乱挂，像蜘蛛网一样"]),
    "03005": (1.5, ["{place}垃圾箱破损，盖子没了"]),
    "09020": (1, ["{community}农贸市场外摊位占道，秩序混乱"]),
    "L09001": (1, ["{community}农贸市场地面污水横流，卫生差"]),
    "06016": (1, ["{place}斑马线标线模糊不清"]),
    "04002": (1, ["{place}行道树倒伏，压到人行道"]),
    "06028": (1, ["{community}{place}夜间噪声扰民"]),
    "06034": (1, ["{place}有辆废弃车辆长期停放，落满灰尘"]),
    "L90001": (0.5, ["{place}行人闯红灯、翻越护栏现象多"]),
}
PLACES = (
    "小区门口",
    "菜市场旁",
    "公交站附近",
    "学校门口",
    "人行道上",
    "十字路口",
    "河堤步道",
    "背街小巷",
    "商铺门前",
    "停车场入口",
    "医院附近",
    "广场边",
    "老旧小区楼下",
    "超市门口",
)
# Local hour of filing → relative weight (citizens snap from morning to late evening).
HOUR_WEIGHTS = (1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 3, 6, 8, 8, 7, 5, 5, 7, 8, 8, 7, 6, 6, 5, 4, 3, 2)

NOTES = {
    "reject": ("照片模糊，无法核实问题", "不属于城市管理受理范围", "问题已现场自行处理完毕", "上报位置与照片不符"),
    "return": ("非本单位职责，请改派", "属地管理范围，建议派往街道", "产权单位不明，请重新派遣"),
    "suspend": ("涉及产权争议，需协调相关单位", "已纳入片区整体改造计划，暂缓办理", "需等待天气条件允许后施工"),
    "request_extension": ("需采购材料，申请延期", "工程量较大，需延长处置时间", "需协调产权单位共同处置"),
    "escalate": ("案件已超期，请加快办理", "群众反映强烈，请立即处置并反馈", "请于今日内反馈处置情况"),
    "verify_fail": ("现场核查未整改到位", "问题反弹，需重新处置", "处置后照片与现场不符"),
    "resolve": ("已处置完毕，现场已恢复", "已安排人员清理", "已更换修复", "已劝导整改，现场已规范"),
    "good": ("处理很及时，点赞", "效率高，满意", "现场干净了，谢谢"),
    "bad": ("处理太慢", "问题没有彻底解决", "过两天又反弹了"),
}
MONITORS = ("刘芳", "张伟", "李娜", "王强", "陈静", "杨洋", "赵磊", "黄敏")


class _StoryEnds(Exception):
    """The case stays where it is: its next step would fall after ``now``, or it never comes."""


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    role: str


SYSTEM = Actor(None, "system")


@dataclass(frozen=True)
class Performance:
    """How a unit works, from ``quality`` 0 (black list) to 1 (red list)."""

    quality: float

    @property
    def late(self):  # share of cases resolved after the deadline
        return 0.02 + 0.35 * (1 - self.quality)

    @property
    def stall(self):  # share left lying for many times the allowance (the overdue backlog)
        return 0.06 * (1 - self.quality)

    @property
    def rework(self):
        return 0.02 + 0.12 * (1 - self.quality)

    def claim_minutes(self, allowed):
        """The range of minutes a unit takes to 接单: at most a quarter of the allowance."""
        return 1, max(2, int(allowed * (0.05 + 0.2 * (1 - self.quality))))

    def rating(self, rng, troubled):
        mean = 3.1 + 1.8 * self.quality - (1.0 if troubled else 0.0)
        return max(1, min(5, round(rng.gauss(mean, 0.8))))


@dataclass(frozen=True)
class Kind:
    """What the generator needs of a category (plain values: nothing to reload after a commit)."""

    code: str
    key: CategoryKey
    urgent: bool
    priority: int
    deadline_minutes: int


@dataclass(frozen=True)
class Routed:
    unit_id: int | None
    rule_id: int | None
    routed_by: str | None


@dataclass(frozen=True)
class Place:
    cell: GridCell
    inner: tuple  # (west, south, east, north), the cell's bounds shrunk so points stay inside
    box: bool  # the cell is its bounding box: any point of ``inner`` lies in it
    route_area: str  # the cell code when grid-level rules exist for it, else its community


@dataclass
class Case:
    """A generated report: its row (no id yet), its events, and the original it duplicates."""

    row: dict
    events: list
    duplicate_of: "Case | None" = None
    id: int | None = None


class Context:
    """Everything the generator reads from the database once: calendar, grid, routes, people.

    Creates the demo users it acts through (monitors, dispatchers, a leader, one staff member
    per unit that receives cases) when they do not exist yet, and commits them; raises
    ValueError when no demo grid or none of the ``CATEGORIES`` is loaded. Holds plain values
    only, so generating needs no database (the benchmark generates in forked processes).
    """

    def __init__(self, rng, first_day):
        cfg = registry.settings()
        self.calendar = work_calendar()
        self.zone = registry.current().zone
        self.line = WorkingLine(self.calendar, first_day)
        self.prefix = cfg.PUBLIC_ID_PREFIX
        self.warning_keep = 1 - cfg.WARNING_RATIO
        self.categories = self._categories()
        self.places = _places()
        if not self.places:
            raise ValueError("no grid cells loaded: run load-demo first")
        self.place_by_code = {place.cell.code: place for place in self.places}
        self.routes = self._routes()
        streets = {place.cell.street_code for place in self.places}
        self.territorial = dict(
            db.session.execute(select(Street.code, Street.territorial_unit_id).where(Street.code.in_(streets))).all()
        )
        units = self._units()
        self.units = {unit_id: unit.code for unit_id, unit in units.items()}
        self.performance = _performance(rng, self.units)
        self.people = _people(units, sorted({p.cell.community_code for p in self.places}))
        db.session.commit()

    def _categories(self):
        rows = {c.code: c for c in db.session.scalars(select(Category).where(Category.active.is_(True)))}
        found = {
            code: Kind(
                code,
                CategoryKey.of(rows[code]),
                rows[code].urgency == "urgent",
                PRIORITY[rows[code].urgency],
                rows[code].deadline_hours * 60,
            )
            for code in CATEGORIES
            if code in rows
        }
        if not found:
            raise ValueError("none of the history categories is loaded: run load-categories first")
        return found

    def _routes(self):
        """(category, route area) → Routed, from the real routing service, once per pair."""
        routes = {}
        for place in self.places:
            for code, kind in self.categories.items():
                if (code, place.route_area) not in routes:
                    found = route(kind.key, place.cell)
                    routes[code, place.route_area] = Routed(
                        found.unit.id if found.unit else None, found.rule.id if found.rule else None, found.routed_by
                    )
        return routes

    def _units(self):
        ids = {r.unit_id for r in self.routes.values()} | set(self.territorial.values())
        return {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(ids)).order_by(Unit.code))}

    def add(self, urgent, start, minutes):
        """``minutes`` after ``start``: wall-clock for urgent categories, else working time."""
        if urgent:
            return start + timedelta(minutes=minutes)
        return self.line.add(start, minutes)

    def between(self, urgent, start, end):
        """Whole minutes from ``start`` to ``end`` (0 when not after it), counted like ``add``."""
        if urgent:
            return max(0, int((end - start).total_seconds() // 60))
        return self.line.between(start, end)


def _places():
    """Every grid cell with its chain of areas, sorted by code."""
    grid_rules = set(db.session.scalars(select(RoutingRule.area_code).where(RoutingRule.area_level == "grid")))
    rows = db.session.execute(
        select(
            GridCellArea.code,
            GridCellArea.boundary,
            Community.code,
            Community.name,
            Street.code,
            Street.name,
            Street.district_code,
        )
        .join(Community, GridCellArea.community_code == Community.code)
        .join(Street, Community.street_code == Street.code)
        .order_by(GridCellArea.code)
    )
    places = []
    for code, boundary, community, community_name, street, street_name, district in rows:
        geometry = parse_geometry(boundary)
        west, south, east, north = geometry.bounds
        dx, dy = (east - west) * 0.1, (north - south) * 0.1
        cell = GridCell(code, community, community_name, street, street_name, district, "", geometry)
        places.append(
            Place(
                cell,
                (west + dx, south + dy, east - dx, north - dy),
                abs(geometry.envelope.area - geometry.area) < 1e-12,
                code if code in grid_rules else community,
            )
        )
    return places


def _performance(rng, units):
    """Evenly spread quality levels dealt out at random, so some units are clearly better."""
    levels = [i / max(1, len(units) - 1) for i in range(len(units))]
    rng.shuffle(levels)
    return {unit_id: Performance(level) for unit_id, level in zip(units, levels, strict=True)}


@dataclass
class People:
    dispatchers: list
    leader: Actor
    monitors: dict  # community code → [Actor]
    staff: dict  # unit id → Actor
    all_monitors: list


def _people(units, communities):
    """Get or create the demo users; monitors patrol the communities in turn."""
    dispatchers = [
        _user("demo-dispatcher-1", "supervisor", "值班长 王磊"),
        _user("demo-dispatcher-2", "supervisor", "派遣员 陈静"),
    ]
    leader = _user("demo-leader", "leader", "区文明办 督办员")
    monitors = {code: [] for code in communities}
    every = []
    for i, name in enumerate(MONITORS):
        area = communities[i % len(communities)]
        user = _user(f"demo-monitor-{i + 1}", "monitor", f"文明监督员 {name}", areas=[UserArea(code=area)])
        monitors[area].append(user)
        every.append(user)
    staff = {
        unit_id: _user(f"demo-staff-{unit.code}", "unit_staff", f"{unit.name}值班员", unit_id=unit_id)
        for unit_id, unit in units.items()
    }
    db.session.flush()

    def actor(user):
        return Actor(user.id, user.role)

    return People(
        [actor(u) for u in dispatchers],
        actor(leader),
        {code: [actor(u) for u in users] for code, users in monitors.items()},
        {unit_id: actor(u) for unit_id, u in staff.items()},
        [actor(u) for u in every],
    )


def _user(name, role, display_name, **fields):
    user = db.session.scalar(select(User).where(User.name == name))
    if user is None:
        user = User(name=name, role=role, display_name=display_name, **fields)
        db.session.add(user)
    return user


class _Life:
    """One case's timeline under construction: the report row, its events and its clock.

    Mirrors ``workflow`` and ``deadlines`` on a plain dict: every ``act`` is one transition
    (its effect, then its event); the worker's warning/overdue events are slipped in when
    the clock passes them.
    """

    def __init__(self, ctx, row, urgent, now):
        self.ctx, self.row, self.urgent, self.now = ctx, row, urgent, now
        self.events = []
        self.last = None

    def act(self, at, action, actor, target=None, note=None, effect=None):
        """Record ``action`` at ``at`` (nudged after the previous event); raises _StoryEnds after now."""
        if self.last is not None:
            at = max(at, self.last + SECOND)
        if at > self.now:
            raise _StoryEnds
        self.scan(at)
        data = effect(at) if effect else None
        self._event(at, action, actor, target, note, data)
        return at

    def _event(self, at, action, actor, target, note, data):
        row = self.row
        from_status = row["status"] if self.events else None
        row["status"] = target or row["status"]
        row["updated_at"] = at
        self.events.append(
            {
                "actor_user_id": actor.user_id,
                "actor_role": actor.role,
                "action": action,
                "from_status": from_status,
                "to_status": row["status"],
                "note": note,
                "data": data,
                "created_at": at,
            }
        )
        self.last = at

    def scan(self, until):
        """The worker's warning and overdue events that fall before ``until``."""
        row = self.row
        if row["status"] not in CLOCK_RUNNING:
            return
        for kind, instant, flag in (
            ("warning", row["warning_at"], "warning_notified"),
            ("overdue", row["deadline_at"], "overdue_notified"),
        ):
            at = max(instant + SCAN_LAG, self.last + SECOND)
            if not row[flag] and at < until:
                row[flag] = True
                self._event(at, kind, SYSTEM, None, None, {"deadline_at": row["deadline_at"].isoformat()})

    def after(self, start, low, high, rng):
        """A random ``low``–``high`` minutes after ``start``, in working time unless urgent."""
        return self.ctx.add(self.urgent, start, rng.randint(low, high))

    def start_clock(self, now, minutes):
        self.row["allowed_minutes"] = minutes
        self._set_deadline(now, self.ctx.add(self.urgent, now, minutes))

    def extend(self, now, minutes):
        self.row["allowed_minutes"] += minutes
        self._set_deadline(now, self.ctx.add(self.urgent, self.row["deadline_at"], minutes))

    def resume(self, now):
        left = self.ctx.between(self.urgent, self.row["suspended_at"], self.row["deadline_at"])
        self._set_deadline(now, self.ctx.add(self.urgent, now, left))
        self.row["suspended_at"] = None

    def stop_clock(self):
        self.row.update(deadline_at=None, warning_at=None, allowed_minutes=None)

    def _set_deadline(self, now, deadline):
        row = self.row
        keep = int(round(self.ctx.warning_keep * row["allowed_minutes"]))
        until_warning = max(0, self.ctx.between(self.urgent, now, deadline) - keep)
        row.update(
            deadline_at=deadline,
            warning_at=self.ctx.add(self.urgent, now, until_warning),
            warning_notified=False,
            overdue_notified=False,
        )


class HistoryGenerator:
    """Seeded cases day by day; ``cases(day, count, first_number)`` builds one day's reports."""

    def __init__(self, seed=DEFAULT_SEED, now=None, days=DEFAULT_DAYS):
        if days < 1:
            raise ValueError("days must be at least 1")
        self.rng = random.Random(seed)
        self.now = now or utcnow()
        today = self.now.astimezone(registry.current().zone).date()
        self.days = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
        self.ctx = Context(self.rng, self.days[0])
        self.codes = list(self.ctx.categories)
        self.category_weights = _cumulative(CATEGORIES[code][0] for code in self.codes)
        self.place_weights = _cumulative(self.rng.lognormvariate(0, 1) for _ in self.ctx.places)

    def day_counts(self, count):
        """[(local date, cases)] over the last ``days`` days, ``count`` in all, fewer on days off."""
        weights = [self._day_weight(i, day) for i, day in enumerate(self.days)]
        weights[-1] *= sum(HOUR_WEIGHTS[: self._local_now().hour + 1]) / sum(HOUR_WEIGHTS)
        tally = Counter(self.rng.choices(range(len(self.days)), weights=weights, k=count))
        return [(day, tally[i]) for i, day in enumerate(self.days) if tally[i]]

    def _day_weight(self, index, day):
        working = 1.0 if self.ctx.calendar.is_working_day(day) else 0.7
        growth = 0.8 + 0.4 * index / max(1, len(self.days) - 1)  # the campaign gathers pace
        return working * growth * self.rng.uniform(0.85, 1.15)

    def _local_now(self):
        return self.now.astimezone(self.ctx.zone)

    def cases(self, day, count, first_number):
        """The ``count`` cases filed on local ``day``, numbered from ``first_number`` in time order."""
        times = sorted(self._filing_time(day) for _ in range(count))
        recent = {}  # category → valid cases filed earlier today (duplicate candidates)
        built = []
        for number, created_at in enumerate(times, start=first_number):
            case = self._case(f"{self.ctx.prefix}{day:%Y%m%d}-{number:04d}", created_at, recent)
            built.append(case)
            if case.row["status"] not in ("rejected", "duplicate"):
                recent.setdefault(case.row["category_code"], []).append(case)
        return built

    def _filing_time(self, day):
        """A local time of ``day`` (weighted by hour), never after ``now``, in UTC."""
        local_now = self._local_now()
        hours = len(HOUR_WEIGHTS) if day < local_now.date() else local_now.hour + 1
        hour = self.rng.choices(range(hours), weights=HOUR_WEIGHTS[:hours])[0]
        span = 3600 if hour < local_now.hour or day < local_now.date() else local_now.minute * 60 + local_now.second
        start = datetime.combine(day, time(hour), self.ctx.zone)
        return (start + timedelta(seconds=self.rng.randrange(max(1, span)))).astimezone(UTC)

    def _case(self, public_id, created_at, recent):
        rng = self.rng
        code = self.codes[_pick(rng, self.category_weights)]
        original = None
        if recent.get(code) and rng.random() < 0.06:
            original = rng.choice(recent[code])
        if original is not None:
            place = self.ctx.place_by_code[original.row["grid_code"]]
        else:
            place = self.ctx.places[_pick(rng, self.place_weights)]
        monitor = self._monitor(place)
        row = self._row(public_id, code, place, created_at, monitor, original)
        life = _Life(self.ctx, row, self.ctx.categories[code].urgent, self.now)
        life.act(
            created_at,
            "submit",
            monitor or Actor(None, "citizen"),
            "submitted",
            effect=lambda _: {
                "routed_by": row["routed_by"],
                "rule_id": row["routing_rule_id"],
                "unit_id": row["unit_id"],
                "location_source": row["location_source"],
            },
        )
        with suppress(_StoryEnds):
            _Story(self, life, place, monitor, original).play()
        life.scan(self.now)
        row["version"] = len(life.events)
        return Case(row, life.events, original if row["status"] == "duplicate" else None)

    def _monitor(self, place):
        patrol = self.ctx.people.monitors.get(place.cell.community_code)
        return self.rng.choice(patrol) if patrol and self.rng.random() < 0.3 else None

    def _row(self, public_id, code, place, created_at, monitor, original):
        rng, cell = self.rng, place.cell
        routed = self.ctx.routes[code, place.route_area]
        lat, lon = self._near(place, original) if original else self._point(place)
        source = rng.choices(("exif", "device", "manual"), weights=(5, 4, 1))[0]
        input_lat, input_lon = wgs84_to_gcj02(lat, lon) if source != "exif" else (None, None)
        return {
            "public_id": public_id,
            "category_code": code,
            "description": rng.choice(CATEGORIES[code][1]).format(
                place=rng.choice(PLACES), community=cell.community_name
            ),
            "suggested_categories": None,
            "lat": lat,
            "lon": lon,
            "input_crs": "gcj02" if source != "exif" else None,
            "input_lat": input_lat,
            "input_lon": input_lon,
            "location_source": source,
            "accuracy_m": None if source == "manual" else round(rng.uniform(3, 35), 1),
            "photo_distance_m": None,
            "location_flagged": False,
            "grid_code": cell.code,
            "community_code": cell.community_code,
            "street_code": cell.street_code,
            "district_code": cell.district_code,
            "unit_id": routed.unit_id,
            "routing_rule_id": routed.rule_id,
            "routed_by": routed.routed_by,
            "status": "submitted",
            "priority": self.ctx.categories[code].priority,
            "support_count": 0,
            "photo_reuse_flagged": False,
            "dispatched_at": None,
            "allowed_minutes": None,
            "deadline_at": None,
            "warning_at": None,
            "suspended_at": None,
            "resume_status": None,
            "extension_request_minutes": None,
            "warning_notified": False,
            "overdue_notified": False,
            "rework_count": 0,
            "return_count": 0,
            "escalation_count": 0,
            "resolved_at": None,
            "duplicate_of_id": None,
            "rating": None,
            "rating_comment": None,
            "channel": "monitor" if monitor else "citizen",
            "reporter_user_id": monitor.user_id if monitor else None,
            "receipt_token_hash": None,
            "contact": None,
            "created_at": created_at,
            "updated_at": created_at,
            "closed_at": None,
            "version": 1,
            "photo_age_s": None,
            "evidence_flags": None,
            "evidence_flagged": False,
            "device_id": None,
            "reporter_anonymised_at": None,
        }

    def _point(self, place):
        """A random point strictly inside the cell (checked against its polygon unless it is a box)."""
        west, south, east, north = place.inner
        for _ in range(20):
            lon, lat = self.rng.uniform(west, east), self.rng.uniform(south, north)
            if place.box or shapely.contains_xy(place.cell.geometry, lon, lat):
                return lat, lon
        inside = place.cell.geometry.representative_point()
        return inside.y, inside.x

    def _near(self, place, original):
        """A point within ~10 m of the original report, still inside its cell."""
        west, south, east, north = place.inner
        lat = min(max(original.row["lat"] + self.rng.uniform(-1e-4, 1e-4), south), north)
        lon = min(max(original.row["lon"] + self.rng.uniform(-1e-4, 1e-4), west), east)
        if place.box or shapely.contains_xy(place.cell.geometry, lon, lat):
            return lat, lon
        return original.row["lat"], original.row["lon"]


class _Story:
    """The steps one case goes through; any step may raise _StoryEnds to end it at ``now``."""

    def __init__(self, generator, life, place, monitor, original):
        self.rng, self.ctx, self.life = generator.rng, generator.ctx, life
        self.people = self.ctx.people
        self.place, self.monitor, self.original = place, monitor, original
        self.category = self.ctx.categories[life.row["category_code"]]
        self.row = life.row

    def play(self):
        rng, life = self.rng, self.life
        t = life.after(life.last, 10, 180, rng)
        if self.original is not None:
            self._merge(t)
            return
        if rng.random() < (0.02 if self.monitor else 0.06):
            self._close_at(life.act(t, "reject", self._dispatcher(), "rejected", rng.choice(NOTES["reject"])))
            return
        t = life.act(t, "accept", self._dispatcher(), "accepted")
        if self.row["unit_id"] is None:
            raise _StoryEnds  # nobody covers the street: it waits in 受理 for a manual dispatch
        t = self._dispatch(life.after(t, 2, 30, rng), self.row["unit_id"])
        if rng.random() < 0.03:
            t = self._return_and_redispatch(t)
        self._handle(t)

    def _dispatcher(self):
        return self.rng.choice(self.people.dispatchers)

    def _close_at(self, at):
        self.row["closed_at"] = at

    def _merge(self, t):
        original = self.original

        def effect(at):
            original.row["support_count"] += 1
            return {"duplicate_of": original.row["public_id"]}

        self._close_at(
            self.life.act(t, "mark_duplicate", self._dispatcher(), "duplicate", "与已受理案件重复，已合并", effect)
        )

    def _dispatch(self, at, unit_id):
        """派遣 to ``unit_id`` with a fresh deadline; returns the event time."""

        def effect(now):
            self.row.update(unit_id=unit_id, dispatched_at=now)
            self.life.start_clock(now, self.category.deadline_minutes)
            return {"unit": self.ctx.units[unit_id], "deadline_at": self.row["deadline_at"].isoformat()}

        return self.life.act(at, "dispatch", self._dispatcher(), "dispatched", effect=effect)

    def _return_and_redispatch(self, t):
        rng, life = self.rng, self.life

        def effect(_):
            self.row["return_count"] += 1
            life.stop_clock()

        t = life.act(
            life.after(t, 20, 240, rng), "return", self._staff(), "returned", rng.choice(NOTES["return"]), effect
        )
        return self._dispatch(life.after(t, 20, 180, rng), self._other_unit())

    def _other_unit(self):
        """The street's 属地 unit, or another unit when the case already was with it."""
        territorial = self.ctx.territorial.get(self.place.cell.street_code)
        if territorial is not None and territorial != self.row["unit_id"]:
            return territorial
        return self.rng.choice([u for u in self.ctx.units if u != self.row["unit_id"]])

    def _staff(self):
        return self.people.staff[self.row["unit_id"]]

    def _performance(self):
        return self.ctx.performance[self.row["unit_id"]]

    def _handle(self, t):
        """接单, maybe 挂账 or 延期, 处置 (late or not, with 督办), then 核查 until it passes."""
        rng, life = self.rng, self.life
        claim = self._performance().claim_minutes(self.row["allowed_minutes"])
        t = life.act(life.after(t, *claim, rng), "claim", self._staff(), "in_progress")
        if not life.urgent and rng.random() < 0.015:
            t = self._suspend(t)
        if not life.urgent and rng.random() < 0.06:
            t = self._extension(t)
        late = False
        while True:  # 处置, then 核查 at most three times
            t, was_late = self._resolve(t)
            late = late or was_late
            t = life.after(t, 30, 480, rng)
            if self.row["rework_count"] >= 2 or rng.random() >= self._performance().rework:
                break
            t = self._verify_fail(t)
        t = life.act(t, "verify_pass", self._checker(), "verified")
        self._close_at(life.act(life.after(t, 10, 240, rng), "close", self._dispatcher(), "closed"))
        self._rate(late)

    def _suspend(self, t):
        """挂账 some time after claiming; half of them resume days later, the others stay suspended."""
        rng, life = self.rng, self.life

        def pause(at):
            self.row.update(resume_status=self.row["status"], suspended_at=at)

        t = life.act(
            life.after(t, 60, 600, rng), "suspend", self._dispatcher(), "suspended", rng.choice(NOTES["suspend"]), pause
        )
        if rng.random() < 0.5:
            raise _StoryEnds  # left in 挂账
        target = self.row["resume_status"]

        def resume(at):
            life.resume(at)
            self.row["resume_status"] = None

        return life.act(life.after(t, 420 * 2, 420 * 20, rng), "resume", self._dispatcher(), target, effect=resume)

    def _extension(self, t):
        """申请延期 before the deadline; the centre approves most and denies the rest."""
        rng, life = self.rng, self.life
        hours = rng.choice((8, 16, 24, 40))
        remaining = self.ctx.between(False, t, self.row["deadline_at"])
        at = self.ctx.add(False, t, max(1, int(remaining * rng.uniform(0.2, 0.7))))

        def request(_):
            self.row["extension_request_minutes"] = hours * 60
            return {"hours": hours}

        t = life.act(
            at, "request_extension", self._staff(), note=rng.choice(NOTES["request_extension"]), effect=request
        )
        if rng.random() < 0.15:
            return life.act(
                life.after(t, 30, 240, rng),
                "deny_extension",
                self._dispatcher(),
                note="理由不充分，请按期办结",
                effect=self._clear_request,
            )

        def approve(now):
            self._clear_request(now)
            life.extend(now, hours * 60)
            return {"hours": hours, "deadline_at": self.row["deadline_at"].isoformat()}

        return life.act(life.after(t, 30, 240, rng), "approve_extension", self._dispatcher(), effect=approve)

    def _clear_request(self, _):
        self.row["extension_request_minutes"] = None

    def _resolve(self, t):
        """处置完毕 on time or late (督办 on the way when late); returns (time, late)."""
        rng, life, perf, row = self.rng, self.life, self._performance(), self.row
        draw = rng.random()
        if draw < perf.stall:
            target = self._past_deadline(rng.uniform(3, 25))
        elif draw < perf.stall + perf.late:
            target = self._past_deadline(rng.uniform(0.05, 1.2))
        else:
            remaining = self.ctx.between(life.urgent, t, row["deadline_at"])
            target = self.ctx.add(life.urgent, t, max(1, int(remaining * rng.uniform(0.1, 0.95))))
        late = target > row["deadline_at"]
        if (late and rng.random() < 0.6) or rng.random() < 0.02:
            t = self._escalate(max(t, row["deadline_at"]) if late else t, target)

        def effect(at):
            row["resolved_at"] = at

        return life.act(
            max(target, t + SECOND), "resolve", self._staff(), "resolved", rng.choice(NOTES["resolve"]), effect
        ), late

    def _past_deadline(self, share):
        minutes = max(1, int(self.row["allowed_minutes"] * share))
        return self.ctx.add(self.life.urgent, self.row["deadline_at"], minutes)

    def _escalate(self, start, resolve_at):
        """督办 once or twice after ``start`` while the case is still being handled."""
        for _ in range(1 + (self.rng.random() < 0.3)):
            at = self.life.after(start, 10, 240, self.rng)
            if at >= resolve_at:
                break
            actor = self.people.leader if self.rng.random() < 0.3 else self._dispatcher()
            start = self.life.act(
                at, "escalate", actor, note=self.rng.choice(NOTES["escalate"]), effect=self._count_escalation
            )
        return start

    def _count_escalation(self, _):
        self.row["escalation_count"] += 1
        return {"escalation_count": self.row["escalation_count"]}

    def _checker(self):
        patrol = self.people.monitors.get(self.place.cell.community_code) or self.people.all_monitors
        if self.monitor is not None and self.rng.random() < 0.7:
            return self.monitor
        return self.rng.choice(patrol) if self.rng.random() < 0.7 else self._dispatcher()

    def _verify_fail(self, t):
        life = self.life

        def effect(now):
            self.row["rework_count"] += 1
            self.row["resolved_at"] = None
            life.start_clock(now, self.category.deadline_minutes)
            return {"rework_count": self.row["rework_count"], "deadline_at": self.row["deadline_at"].isoformat()}

        return life.act(t, "verify_fail", self._checker(), "rework", self.rng.choice(NOTES["verify_fail"]), effect)

    def _rate(self, late):
        """The reporter's 回访评价, given by most citizens and some monitors, hours after closing."""
        rng, row = self.rng, self.row
        if rng.random() >= (0.25 if self.monitor else 0.6):
            return
        rating = self._performance().rating(rng, late or row["rework_count"] > 0)
        comment = rng.choice(NOTES["good" if rating >= 4 else "bad"]) if rng.random() < 0.4 else None
        at = _daytime(self.life.last + timedelta(minutes=rng.randint(60, 72 * 60)), self.ctx.zone)

        def effect(_):
            row.update(rating=rating, rating_comment=comment)
            return {"rating": rating}

        self.life.act(at, "rate", self.monitor or Actor(None, REPORTER), "rated", effect=effect)


def _daytime(moment, zone):
    """``moment``, or 08:xx the next morning when it falls in the night (local time)."""
    local = moment.astimezone(zone)
    if 8 <= local.hour < 22:
        return moment
    day = local.date() + timedelta(days=1 if local.hour >= 22 else 0)
    return datetime.combine(day, time(8, local.minute), zone).astimezone(UTC)


def _cumulative(weights):
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _pick(rng, cumulative):
    return rng.choices(range(len(cumulative)), cum_weights=cumulative)[0]


@dataclass
class Summary:
    count: int
    first_day: object
    last_day: object
    statuses: Counter
    overdue: int
    events: int
    cobuild: object = None  # cobuild_history.CobuildSummary
    oversight: object = None  # demo.oversight.OversightSummary


def load_history(count, seed=DEFAULT_SEED, now=None, days=DEFAULT_DAYS):
    """Write ``count`` past cases (loading the demo first when no grid exists) in one transaction.

    Raises ValueError for a negative count or when the categories are missing; a database
    error rolls everything back, including the reserved id numbers.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if not demo_loaded():
        load_demo()
    generator = HistoryGenerator(seed, now, days)
    summary = Summary(count, None, None, Counter(), 0, 0)
    batch = []
    try:
        with progress.stage("history cases", total=count, unit="cases") as bar:
            for day, day_count in generator.day_counts(count):
                batch += generator.cases(day, day_count, reserve_numbers(day, day_count))
                summary.first_day = summary.first_day or day
                summary.last_day = day
                if len(batch) >= BATCH_SIZE:
                    _write(batch, summary, generator.now)
                    bar.advance(len(batch))
                    batch = []
            _write(batch, summary, generator.now)
            bar.advance(len(batch))
        with progress.stage("co-building and oversight history", unit="parts") as bar:
            summary.cobuild = load_cobuild_history(
                seed, generator.now, generator.days[0], generator.ctx.calendar, generator.ctx.people.dispatchers
            )
            bar.advance()
            summary.oversight = load_oversight_history(seed, generator.now)
            bar.advance()
        stats.forget_settled()
        stored = forget_rankings()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    summary.cobuild.settled = settle_rankings(
        stored | set(months_since(generator.days[0], generator.now)), generator.now
    )
    return summary


def _write(cases, summary, now):
    """Insert the reports, read their ids back by public id, link duplicates, insert the events.

    A duplicate's original is filed the same day, so it is in the same batch and its
    ``support_count`` is already counted in its row. (Plain executemany without RETURNING:
    with RETURNING, psycopg re-parses every page of thousands of placeholders.)
    """
    if not cases:
        return
    reports, events = Report.__table__, ReportEvent.__table__
    conn = db.session.connection()
    conn.execute(insert(reports), [case.row for case in cases])
    by_public_id = {case.row["public_id"]: case for case in cases}
    for report_id, public_id in conn.execute(
        select(reports.c.id, reports.c.public_id).where(reports.c.public_id.in_(list(by_public_id)))
    ):
        by_public_id[public_id].id = report_id
    links = [
        {"b_id": c.id, "b_original": c.duplicate_of.id, "b_updated": c.row["updated_at"]}
        for c in cases
        if c.duplicate_of
    ]
    if links:  # updated_at is named, or its onupdate would stamp the load time
        conn.execute(
            update(reports)
            .where(reports.c.id == bindparam("b_id"))
            .values(duplicate_of_id=bindparam("b_original"), updated_at=bindparam("b_updated")),
            links,
        )
    rows = [dict(event, report_id=case.id) for case in cases for event in case.events]
    conn.execute(insert(events), rows)
    summary.events += len(rows)
    for case in cases:
        summary.statuses[case.row["status"]] += 1
        summary.overdue += _overdue(case.row, now)


def _overdue(row, now):
    return row["status"] in CLOCK_RUNNING and row["deadline_at"] is not None and now > row["deadline_at"]
