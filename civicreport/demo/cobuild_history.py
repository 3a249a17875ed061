"""Seeded co-building history: the past months of 社区文明共建 beside the seeded cases.

``load_cobuild_history`` fills the months the case history covers (from the month of its first
day to the current one) for every demo community that has a community staff login
(``demo.loader``): the office's monthly tasks (月初安排, two or three a month, some for all
communities, some for a list) and each community's declarations (月底申报: most accepted with a
score, some late, some returned and re-submitted, a few never re-submitted or never declared),
a 联席会议 every other month with the 实事清单 items it agreed (progress notes, done on time,
late, dropped or still overdue), and residents' needs orders (点单 → 派单 → 接单 → 完成 →
评单, with rejected and cancelled ones). Each community and each partner unit gets a diligence
level, so the monthly ranking means something. Every story is played forward from its start and
cut at ``now``; timelines are written as the services would have written them, oldest first.

Deliberately left out, as for the cases: photos, outbox messages and receipt tokens. A month
that already has tasks is left as it is, so loading again adds only months not yet generated.
"""

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import delete, func, insert, select

from civicreport import registry
from civicreport.accounts.models import User
from civicreport.cobuilding import ranking
from civicreport.cobuilding.models import (
    Declaration,
    DeclarationEvent,
    Matter,
    MatterNote,
    Meeting,
    MeetingAttendee,
    NeedOrder,
    NeedOrderEvent,
    Partnership,
    RankingMonth,
    Task,
    TaskCommunity,
    VolunteerTeam,
)
from civicreport.delivery.models import OutboxMessage
from civicreport.extensions import db
from civicreport.geo.geojson import parse_geometry
from civicreport.reference.areas import Community
from civicreport.reporting.stats import Period
from civicreport.worktime import WorkingLine

DAY = 7 * 60  # working minutes in an office day (08:30–12:00, 14:00–17:30)

# (title, indicator of the 测评体系指标, points, for all communities, what the community declares)
TASKS = (
    ("公益广告宣传全覆盖", "A3.2", 10, True, "更新社区公益广告{n}处，楼道、宣传栏全覆盖"),
    ("背街小巷环境卫生整治", "B1.4", 20, True, "组织志愿者{n}人次清扫背街小巷，清运垃圾{m}车"),
    ("农贸市场周边秩序整治", "B2.1", 15, False, "联合城管劝导占道经营{n}起，规范摊点{m}个"),
    ("文明养犬宣传劝导", "C1.3", 10, False, "入户宣传文明养犬{n}户，劝导不牵绳遛狗{m}起"),
    ("新时代文明实践志愿服务活动", "D1.1", 15, True, "开展志愿服务活动{m}场，参与志愿者{n}人次"),
    ("老旧小区楼道堆物清理", "B1.6", 15, False, "清理楼道堆物{n}处，疏通消防通道{m}条"),
    ("未成年人思想道德建设活动", "E2.1", 10, True, "举办“童心向党”主题活动{m}场，参与少年儿童{n}人"),
    ("垃圾分类宣传入户", "B3.2", 10, True, "垃圾分类宣传入户{n}户，设置分类督导点{m}个"),
    ("消防通道占用排查", "B4.1", 10, False, "排查消防通道{m}条，清理占用车辆杂物{n}处"),
)
RESUBMITTED = "（已按要求补充现场照片和活动记录）"
RETURN_NOTES = (
    "照片未体现整改前后对比，请补充",
    "申报内容与任务要求不符，请补充活动记录",
    "缺少现场照片，请补充后重新申报",
)
ACCEPT_NOTES = ("材料齐全，予以通过", "完成较好", "基本完成，照片可再清晰些", None)

# (title, description) of 实事清单 items a 联席会议 agrees on.
MATTERS = (
    ("老旧小区路灯维修", "小区内{n}盏路灯损坏，居民夜间出行不便"),
    ("背街小巷路面修补", "巷道路面坑洼{n}处，雨天积水"),
    ("增设便民休闲座椅", "居民反映广场缺少休息座椅，拟增设{n}组"),
    ("楼道飞线充电整治", "{n}栋楼存在飞线充电，拟建集中充电桩"),
    ("社区图书角建设", "为社区儿童和老人建设图书角，配书{n}册"),
    ("独居老人结对帮扶", "摸排独居老人{n}户，结对定期走访"),
    ("农贸市场周边停车规划", "划定临时停车位{n}个，缓解占道停车"),
    ("社区健康义诊", "组织义诊{n}次，为居民免费测血压血糖"),
)
PROGRESS_NOTES = ("已现场踏勘，制定实施方案", "已落实资金和人员，正在推进", "已完成过半，预计按期完成")
DONE_NOTES = ("已办结，居民满意", "已完成并经社区验收", "已办结，现场照片已备案")
DROP_NOTES = ("经联席会议商议，纳入片区改造统一实施，本项撤销",)

# Residents' 急难愁盼 needs, and what the service took (hours).
ORDERS = (
    ("家里水龙头漏水，老人独居不会修，请帮忙维修", (1, 1.5, 2)),
    ("腿脚不便，想请志愿者帮忙代买常用药", (0.5, 1)),
    ("楼道灯坏了好几天，晚上上下楼很危险", (0.5, 1)),
    ("孩子放学后家里没人，希望有人辅导作业", (2, 3)),
    ("老人想理发，行动不便希望上门", (1, 1.5)),
    ("想学用智能手机挂号、视频通话", (1, 2)),
    ("家门口堆了装修垃圾，希望帮忙协调清运", (2, 3, 4)),
    ("家电坏了，想请人上门看看能不能修", (1, 2)),
    ("独居老人需要定期上门陪伴聊天", (2, 3)),
    ("小区健身器材松动，希望有人来加固", (1.5, 2)),
)
REJECT_NOTES = ("属于物业服务范围，已告知联系物业", "诉求涉及个人纠纷，已引导通过调解途径解决")
CANCEL_NOTES = ("问题已自行解决", "家人已回来处理，取消点单")
RATING_COMMENTS = ("志愿者很热心，谢谢", "服务很及时", "解决了大问题，感谢社区")


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    role: str


RESIDENT = Actor(None, "resident")  # the receipt's holder (cobuilding.orders)
STOP = {"deadline_at": None, "warning_at": None}  # a step that stops an order's clock
CARD_ISSUED = "card_issued"  # cobuilding.cards' outbox topic
RECENT = timedelta(days=4)  # orders filed since then may still wait for their next step


@dataclass
class Place:
    """A demo community as the generator needs it (plain values)."""

    code: str
    name: str
    staff: Actor
    team: tuple  # (id, name)
    volunteers: list
    lead: int  # the lead partner's unit id
    lead_staff: Actor  # its liaison (unit_staff), who serves the orders dispatched to it
    partners: list  # every partner's unit id, lead first
    unit_codes: dict  # unit id → code
    point: tuple  # (lat, lon) inside the community
    quality: float = 0.5


@dataclass
class CobuildSummary:
    months: list  # the months generated (first days)
    tasks: int
    declarations: int
    meetings: int
    matters: int
    orders: int
    settled: list = field(default_factory=list)  # months whose ranking was (re)settled


def load_cobuild_history(seed, now, first_day, calendar, office):
    """Write the co-building months from ``first_day``'s month to ``now``'s (the caller commits).

    ``office`` are the campaign office's actors (the demo dispatchers, supervisors).
    """
    zone = registry.current().zone
    first = first_day.replace(day=1)
    generator = _Generator(random.Random(f"cobuild-{seed}"), now, WorkingLine(calendar, first), zone, office)
    months = [month for month in months_since(first_day, now) if generator.month(month)]
    generator.pending.write()
    count = generator.pending.count
    return CobuildSummary(months, count(Task), count(Declaration), count(Meeting), count(Matter), count(NeedOrder))


def forget_rankings():
    """Drop the stored rankings (the past just changed under them); returns the months they held."""
    months = set(db.session.scalars(select(RankingMonth.month)))
    ranking.forget_settled()
    return months


def settle_rankings(months, now):
    """Settle (red and yellow cards judged first, by the ranking) every month of ``months`` that
    is due by ``now``, oldest first; each commits. Returns those settled.

    The history sends nothing for the past: the ``card_issued`` messages judging these months
    queued are taken back out of the outbox before the worker sees them."""
    before = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    periods = [Period.month(month.year, month.month) for month in sorted(months)]
    settled = [period.start for period in periods if ranking.settle(period, now)]
    labels = {f"{month:%Y-%m}" for month in months}
    queued = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.payload).where(
            OutboxMessage.id > before, OutboxMessage.topic == CARD_ISSUED
        )
    )
    past = [message_id for message_id, payload in queued if payload.get("month") in labels]
    if past:
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(past)))
        db.session.commit()
    return settled


def months_since(first_day, now):
    """The first days of the months from ``first_day``'s to ``now``'s (local)."""
    month, today = first_day.replace(day=1), now.astimezone(registry.current().zone).date()
    while month <= today:
        yield month
        month = _next_month(month)


def _next_month(month):
    return (month + timedelta(days=32)).replace(day=1)


class _Generator:
    """The months' rows, built in memory (``pending``) from one seeded random stream."""

    def __init__(self, rng, now, line, zone, office):
        self.rng, self.now, self.line, self.zone, self.office = rng, now, line, zone, office
        cfg = registry.settings()
        self.resubmit_days = cfg.COBUILD_RESUBMIT_DAYS
        self.warning_ratio = cfg.WARNING_RATIO
        self.dispatch_minutes = cfg.COBUILD_ORDER_DISPATCH_HOURS * 60
        self.service_minutes = cfg.COBUILD_ORDER_SERVICE_HOURS * 60
        self.places = _places()
        levels = [i / max(1, len(self.places) - 1) for i in range(len(self.places))]
        rng.shuffle(levels)
        for place, level in zip(self.places, levels, strict=True):
            place.quality = level
        units = sorted({unit for place in self.places for unit in place.partners})
        self.partner_quality = {unit: rng.random() for unit in units}
        self.prefix = cfg.PUBLIC_ID_PREFIX
        self.pending = _Pending()

    def month(self, month):
        """One month's tasks, declarations, meetings, 实事清单 and orders; False when skipped."""
        start = self._local(month, time.min)
        issued = self.line.add(start, self.rng.randint(10, 90))
        if (
            not self.places
            or issued > self.now
            or db.session.scalar(select(func.count()).select_from(Task).where(Task.month == month))
        ):
            return False
        due = self._local(_next_month(month) - timedelta(days=1), time(18))
        common = self.rng.choice([spec for spec in TASKS if spec[3]])  # one task at least for all
        for spec in [common, *self.rng.sample([s for s in TASKS if s != common], self.rng.choice((1, 1, 2)))]:
            self._task(month, spec, issued, due)
        for index, place in enumerate(self.places):
            if (month.month + index) % 2 == 0:
                self._meeting(month, place)
            for _ in range(self.rng.randint(4, 9)):
                self._order(month, place)
        return True

    def _local(self, day, at):
        return datetime.combine(day, at, self.zone).astimezone(UTC)

    def _after(self, start, low, high):
        """A random ``low``–``high`` working minutes after ``start`` (an office-hours instant)."""
        return self.line.add(start, self.rng.randint(low, high))

    # 月初安排 and 月底申报

    def _task(self, month, spec, issued, due):
        title, indicator, points, everyone, declared = spec
        places = self.places if everyone else self.rng.sample(self.places, min(len(self.places), 2))
        row = {
            "month": month,
            "title": title,
            "description": f"{month.year}年{month.month}月重点任务：{title}，月底前申报完成情况并附现场照片。",
            "indicator": indicator,
            "points": float(points),
            "due_at": due,
            "all_communities": everyone,
            "created_by_user_id": self.rng.choice(self.office).user_id,
            "created_at": issued,
        }
        self.pending.add(Task, row)
        if not everyone:
            for place in places:
                self.pending.add(TaskCommunity, {"task_id": row, "community_code": place.code})
        for place in places:
            self._declaration(row, declared, place, issued)

    def _declaration(self, task, declared, place, issued):
        """A community's declaration of one task, played forward (none when never declared yet)."""
        rng, q = self.rng, place.quality
        if rng.random() < 0.03 + 0.12 * (1 - q):
            return  # never declared: a yellow card when the month is judged
        late = rng.random() < 0.04 + 0.2 * (1 - q)
        if late:
            submitted = self._after(task["due_at"], 60, DAY * 4)
        else:
            submitted = self._after(max(issued, task["due_at"] - timedelta(days=rng.uniform(1, 8))), 0, DAY // 2)
            submitted = min(submitted, task["due_at"] - timedelta(minutes=rng.randint(5, 120)))
        story = _Story(self.now)
        row = {
            "task_id": task,
            "community_code": place.code,
            "status": None,
            "text": f"{place.name}：" + declared.format(n=rng.randint(8, 60), m=rng.randint(2, 12)),
            "submitted_by_user_id": place.staff.user_id,
            "first_submitted_at": submitted,
            "submitted_at": submitted,
            "late": late,
            "returns": 0,
            "resubmit_due_at": None,
            "score": None,
            "reviewed_by_user_id": None,
            "reviewed_at": None,
            "review_note": None,
            "evidence_flags": None,
        }
        late_data = {"late": True} if late else None
        if not story.act(row, submitted, "submit", place.staff, "submitted", row["text"], late_data):
            return
        self._review(story, row, task, place)
        row["version"] = len(story.events)
        self.pending.add(Declaration, row, story.events)

    def _review(self, story, row, task, place):
        """审核: a return (then mostly a re-submit), then acceptance with a score; cut at now."""
        rng, q = self.rng, place.quality
        reviewer = rng.choice(self.office)
        at = self._after(row["submitted_at"], 60, DAY * 3)
        if rng.random() < 0.08 + 0.2 * (1 - q):
            note = rng.choice(RETURN_NOTES)
            resubmit_due = at + timedelta(days=self.resubmit_days)
            fields = {"reviewed_by_user_id": reviewer.user_id, "reviewed_at": at, "review_note": note}
            fields |= {"resubmit_due_at": resubmit_due, "returns": row["returns"] + 1}
            data = {"resubmit_due_at": resubmit_due.isoformat()}
            if not story.act(row, at, "return", reviewer, "returned", note, data, fields) or rng.random() < 0.12:
                return  # still returned now, or never re-submitted
            at = self._after(at, 60, DAY * 2)
            late = {"late": True} if at > resubmit_due else None
            text = row["text"] + RESUBMITTED
            fields = {"text": text, "submitted_at": at}
            if not story.act(row, at, "resubmit", place.staff, "submitted", text, late, fields):
                return
            at = self._after(at, 60, DAY * 2)
        share = min(1.0, max(0.4, rng.gauss(0.62 + 0.33 * q - (0.1 if row["late"] else 0), 0.08)))
        score = round(task["points"] * share, 1)
        note = rng.choice(ACCEPT_NOTES)
        fields = {"score": score, "reviewed_by_user_id": reviewer.user_id, "reviewed_at": at, "review_note": note}
        story.act(row, at, "accept", reviewer, "accepted", note, {"score": score}, fields)

    # 联席会议 and 实事清单

    def _meeting(self, month, place):
        rng = self.rng
        held_at = self._after(self._local(month, time.min), DAY * 2, DAY * 10)
        if held_at > self.now:
            return
        held_on = held_at.astimezone(self.zone).date()
        present = [place.lead] + [unit for unit in place.partners[1:] if rng.random() < 0.8]
        agreed = rng.sample(MATTERS, rng.randint(1, 2))
        meeting = self.pending.add(
            Meeting,
            {
                "community_code": place.code,
                "held_on": held_on,
                "title": f"{place.name}{held_on.month}月文明共建联席会议",
                "minutes": "会议听取了居民意见，商定实事清单："
                + "；".join(title for title, _ in agreed)
                + "。各共建单位按分工落实，社区跟踪备案。",
                "created_by_user_id": place.staff.user_id,
                "created_at": held_at,
            },
        )
        for unit in present:
            self.pending.add(MeetingAttendee, {"meeting_id": meeting, "unit_id": unit})
        for title, description in agreed:
            unit = place.lead if rng.random() < 0.6 else rng.choice(place.partners)
            self._matter(place, meeting, held_at, unit, title, description.format(n=rng.randint(2, 30)))

    def _matter(self, place, meeting, created, unit, title, description):
        """One 实事清单 item: started, progressed, then done (on time or late), dropped or stalled."""
        rng, q = self.rng, self.partner_quality[unit]
        due_on = (created + timedelta(days=rng.randint(20, 60))).astimezone(self.zone).date()
        due_end = self._local(due_on, time(18))
        row = {
            "community_code": place.code,
            "meeting_id": meeting,
            "unit_id": unit,
            "title": title,
            "description": description,
            "due_on": due_on,
            "status": None,
            "result": None,
            "done_at": None,
            "created_by_user_id": place.staff.user_id,
            "created_at": created,
            "updated_at": created,
        }
        story = _Story(self.now)
        staff = place.staff
        story.note(row, created, staff, "open", description, moves=False)  # filed: its first note
        at = self._after(created, DAY, DAY * 6)
        if story.note(row, at, staff, "in_progress", rng.choice(PROGRESS_NOTES[:2])):
            draw = rng.random()
            if draw < 0.05:
                story.note(row, self._after(at, DAY * 3, DAY * 15), rng.choice(self.office), "dropped", DROP_NOTES[0])
            elif draw >= 0.1 + 0.3 * (1 - q):  # else stalled: overdue once its deadline passes
                early = rng.random() < 0.55 + 0.4 * q
                finish = due_end + timedelta(days=rng.uniform(-18, -1) if early else rng.uniform(1, 20))
                finish = self.line.add(max(finish, at), rng.randint(1, DAY))
                reporter = place.lead_staff if unit == place.lead else staff  # the partner's own note
                if story.note(row, at + (finish - at) / 2, reporter, None, PROGRESS_NOTES[2]):
                    result = rng.choice(DONE_NOTES)
                    story.note(row, finish, staff, "done", result, fields={"result": result, "done_at": finish})
        row["version"] = story.moves  # one UPDATE per move after the INSERT
        self.pending.add(Matter, row, story.events)

    # 点单 → 派单 → 接单 → 完成 → 评单

    def _order(self, month, place):
        rng = self.rng
        days = (_next_month(month) - month).days
        created = self.line.add(self._local(month, time.min), rng.randint(0, DAY * days * 5 // 7))
        if created > self.now or created.astimezone(self.zone).date() >= _next_month(month):
            return
        description, hours = rng.choice(ORDERS)
        by_staff = rng.random() < 0.25
        lat, lon = place.point
        row = {
            "public_id": f"{self.prefix}D{created.astimezone(self.zone):%Y%m%d}-{rng.getrandbits(24):06X}",
            "description": description,
            "lat": None if by_staff else round(lat + rng.uniform(-0.002, 0.002), 6),
            "lon": None if by_staff else round(lon + rng.uniform(-0.002, 0.002), 6),
            "community_code": place.code,
            "status": None,
            "team_id": None,
            "unit_id": None,
            "contact": None,
            "receipt_token_hash": None,
            "device_id": None,
            "created_by_user_id": place.staff.user_id if by_staff else None,
            "deadline_at": None,
            "warning_at": None,
            "warning_notified": False,
            "overdue_notified": False,
            "dispatched_at": None,
            "accepted_at": None,
            "completed_at": None,
            "service_hours": None,
            "rating": None,
            "rating_comment": None,
            "created_at": created,
            "updated_at": created,
        }
        story = _Story(self.now, before=self._scan)
        self._clock(row, created, self.dispatch_minutes)
        data = {"deadline_at": row["deadline_at"].isoformat(), "on_behalf": by_staff}
        story.act(row, created, "submit", place.staff if by_staff else RESIDENT, "submitted", data=data)
        self._serve(story, row, place, hours)
        self._scan(row, self.now)
        row["version"] = len(story.events)
        self.pending.add(NeedOrder, row, story.events)

    def _serve(self, story, row, place, hours):
        """派单 (to the team, or to the lead partner now and then) → 接单 → 完成 → 评单, or a
        reject or cancel; each step late when after the running clock's deadline, as in orders."""
        rng = self.rng
        draw = rng.random()
        at = self._after(row["created_at"], 10, self.dispatch_minutes + 60)
        if draw < 0.07:
            story.act(row, at, "reject", place.staff, "rejected", rng.choice(REJECT_NOTES), fields=STOP)
            return
        if draw < 0.1:
            story.act(row, at, "cancel", RESIDENT, "cancelled", rng.choice(CANCEL_NOTES), fields=STOP)
            return
        if self._waits(row):
            return  # 待派单
        to_unit = rng.random() < 0.15
        data = _late(row, at)
        data |= {"unit_id": place.lead, "unit": place.unit_codes[place.lead]} if to_unit else {}
        data |= {} if to_unit else {"team_id": place.team[0], "team": place.team[1]}
        fields = {"dispatched_at": at, **self._clock({}, at, self.service_minutes)}
        data["deadline_at"] = fields["deadline_at"].isoformat()
        fields |= {"unit_id": place.lead} if to_unit else {"team_id": place.team[0]}
        if not story.act(row, at, "dispatch", place.staff, "dispatched", data=data, fields=fields):
            return
        server = place.lead_staff if to_unit else rng.choice(place.volunteers)
        at = self._after(at, 10, 240)
        if self._waits(row) or not story.act(row, at, "accept", server, "accepted", fields={"accepted_at": at}):
            return
        if self._waits(row):
            return  # 服务中
        at = self._after(at, 60, int(self.service_minutes * 1.1))
        spent = rng.choice(hours)
        fields = {"completed_at": at, "service_hours": spent} | STOP
        data = _late(row, at) | {"hours": float(spent)}
        if not story.act(row, at, "complete", server, "completed", data=data, fields=fields):
            return
        if rng.random() < 0.85:
            rating = rng.choices((5, 4, 3, 2), weights=(75, 20, 5 * (1 - place.quality), 2 * (1 - place.quality)))[0]
            comment = rng.choice(RATING_COMMENTS) if rng.random() < 0.4 else None
            at = self._after(at, 30, DAY * 2)
            fields = {"rating": rating, "rating_comment": comment}
            story.act(row, at, "rate", RESIDENT, "rated", data={"rating": rating}, fields=fields)

    def _clock(self, row, start, minutes):
        """Start a clock on ``row`` as order_deadlines does (deadline, warning, flags); returns it."""
        warning = self.line.add(start, round(self.warning_ratio * minutes))
        row |= {"deadline_at": self.line.add(start, minutes), "warning_at": warning}
        row |= {"warning_notified": False, "overdue_notified": False}
        return row

    def _scan(self, row, until):
        """The worker's notices on the running clock that fell before ``until`` (sent, so flagged)."""
        if row["deadline_at"] is not None:
            row["warning_notified"] |= row["warning_at"] <= until
            row["overdue_notified"] |= row["deadline_at"] <= until

    def _waits(self, row):
        """Some of the last days' orders wait at their step for now, so each list has work in it."""
        return self.now - row["created_at"] < RECENT and self.rng.random() < 0.4


class _Story:
    """A row's timeline under construction: each step sets its fields and appends its event,
    unless it would fall after ``now`` (then it and every later step are left out)."""

    def __init__(self, now, before=None):
        self.now, self.events, self.last = now, [], None
        self.before = before  # called with (row, instant) before a step changes the row
        self.moves = 1  # a matter's version: its INSERT, then one per move

    def _at(self, at):
        if self.last is not None:
            at = max(at, self.last + timedelta(seconds=1))
        return None if at > self.now else at

    def act(self, row, at, action, actor, target, note=None, data=None, fields=None):
        """Record a declaration or order step; False when it falls after now."""
        at = self._at(at)
        if at is None:
            return False
        if self.before:
            self.before(row, at)
        row.update(fields or {})
        self.events.append(
            {
                "actor_user_id": actor.user_id,
                "actor_role": actor.role,
                "action": action,
                "from_status": row["status"],
                "to_status": target,
                "note": note,
                "data": data,
                "created_at": at,
            }
        )
        self._moved(row, target, at)
        return True

    def note(self, row, at, actor, target, text, fields=None, moves=True):
        """Record a 实事清单 note: a move to ``target`` (None: a progress note, the status kept);
        False after now. ``moves`` False for the note filed with the item (no UPDATE of it)."""
        at = self._at(at)
        if at is None:
            return False
        row.update(fields or {})
        self.events.append(
            {"actor_user_id": actor.user_id, "from_status": row["status"], "to_status": target, "note": text}
            | {"created_at": at}
        )
        self.last = at
        if target:
            row["status"] = target
            if moves:  # the item's row changes (its onupdate time and version with it)
                row["updated_at"], self.moves = at, self.moves + 1
        return True

    def _moved(self, row, status, at):
        row["status"], self.last = status, at
        if "updated_at" in row:  # a declaration has none: its events say when
            row["updated_at"] = at


class _Pending:
    """Rows generated in memory, then written table by table, parents first: a child's foreign key
    holds its parent's row (a dict) until the parent's id is known. Each table is one executemany
    (with RETURNING in parameter order where ids are needed), its timeline rows one more."""

    TABLES = (Task, TaskCommunity, Declaration, Meeting, MeetingAttendee, Matter, NeedOrder)
    TIMELINES = {
        Declaration: (DeclarationEvent, "declaration_id"),
        Matter: (MatterNote, "matter_id"),
        NeedOrder: (NeedOrderEvent, "order_id"),
    }

    def __init__(self):
        self.rows = {model: [] for model in self.TABLES}

    def add(self, model, row, events=()):
        self.rows[model].append((row, events))
        return row

    def count(self, model):
        return len(self.rows[model])

    def write(self):
        conn = db.session.connection()
        for model, pairs in self.rows.items():
            if not pairs:
                continue
            table = model.__table__
            values = [{key: _resolved(value) for key, value in row.items()} for row, _ in pairs]
            if "id" not in table.c:
                conn.execute(insert(table), values)
                continue
            stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            for (row, _), row_id in zip(pairs, conn.execute(stmt, values).scalars().all(), strict=True):
                row["id"] = row_id
            if model in self.TIMELINES:
                timeline, key = self.TIMELINES[model]
                events = [dict(event, **{key: row["id"]}) for row, events in pairs for event in events]
                if events:
                    conn.execute(insert(timeline.__table__), events)


def _late(row, at):
    """``late`` as cobuilding.orders records it: the step came after the running deadline."""
    return {"late": True} if row["deadline_at"] is not None and at > row["deadline_at"] else {}


def _resolved(value):
    """A parent row (dict) stands for its id once written."""
    return value["id"] if isinstance(value, dict) else value


def _places():
    """The demo communities with their logins, team and lead partner (``demo.loader``), by code."""
    places = []
    for code, name in db.session.execute(select(Community.code, Community.name).order_by(Community.code)):
        partners = db.session.scalars(
            select(Partnership)
            .where(Partnership.community_code == code, Partnership.ends_on.is_(None))
            .order_by(Partnership.role, Partnership.id)  # "lead" before "member"
        ).all()
        team = db.session.scalar(
            select(VolunteerTeam).where(VolunteerTeam.community_code == code).order_by(VolunteerTeam.id)
        )
        if not partners or partners[0].role != "lead" or team is None:
            continue
        lead = partners[0].unit
        staff = _login(f"demo-community-{code}")
        lead_staff = _login(f"demo-staff-{lead.code}")
        volunteers = db.session.scalars(select(User).where(User.team_id == team.id).order_by(User.id)).all()
        if staff is None or lead_staff is None or not volunteers:
            continue
        places.append(
            Place(
                code,
                name,
                staff,
                (team.id, team.name),
                [Actor(v.id, v.role) for v in volunteers],
                lead.id,
                lead_staff,
                [p.unit_id for p in partners],
                {p.unit_id: p.unit.code for p in partners},
                _centre(code),
            )
        )
    return places


def _login(name):
    user = db.session.scalar(select(User).where(User.name == name))
    return Actor(user.id, user.role) if user else None


def _centre(code):
    boundary = db.session.scalar(select(Community.boundary).where(Community.code == code))
    point = parse_geometry(boundary).representative_point()
    return point.y, point.x
