"""Duplicate hints: open reports of the same kind nearby, and photos seen before.

Place: the DUPLICATE_CANDIDATES_MAX nearest open reports of the same major class (any
class when the category is unknown) within DUPLICATE_RADIUS_M and DUPLICATE_WINDOW_DAYS.
Photo: identical bytes (sha256) or a dHash within PHASH_MAX_DISTANCE bits, among photos
of the last PHOTO_REUSE_WINDOW_DAYS; a match far away (PHOTO_REUSE_DISTANCE_M) or far
apart in time (PHOTO_REUSE_DAYS) is suspicious — the same picture sent for another place
or day.
"""

import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import selectinload

from civicreport import registry
from civicreport.abuse.throttle import address_key
from civicreport.accounts.access import require_in_area
from civicreport.cases.lookup import set_flags
from civicreport.cases.models import Media, PhashBand, Report, Support
from civicreport.cases.public_point import COARSE_REACH_M, public_point
from civicreport.db_types import utcnow
from civicreport.errors import Conflict, NotFound
from civicreport.extensions import db
from civicreport.geo.distance import distance_m, metres_per_degree
from civicreport.media.images import hamming
from civicreport.reference.categories import Category

log = logging.getLogger(__name__)
HOTSPOT_ROWS = 200  # open cases of one class within ~90 m in a week: more means a hotspot, not a street


@dataclass(frozen=True)
class Nearby:
    report: Report
    distance_m: float  # to the point as the caller sees it (cases.public_point)
    approximate: bool = False


@dataclass(frozen=True)
class PhotoMatch:
    report: Report
    kind: str  # "identical" or "similar"
    distance_m: float
    suspicious: bool
    approximate: bool = False


def nearby_open(lat, lon, category=None, *, exclude_id=None, now=None, coarse=False):
    """The DUPLICATE_CANDIDATES_MAX open reports like this one nearest to the point, nearest
    first: at a hotspot, a phone gets the few that matter, not every case within the radius.

    ``coarse`` (a caller who may not see behaviour reports precisely: the phone before and after
    submitting, a monitor triaging): a behaviour report is found, ordered and measured by its
    cell's centre (cases.public_point), up to COARSE_REACH_M further so that none within the
    radius of its real point is missed, and its distance is shown rounded ("约 50 米"): asking
    from point after point then tells nothing finer than the cell the public map shows.
    """
    cfg = registry.settings()
    radius = cfg.DUPLICATE_RADIUS_M
    reach = radius + (COARSE_REACH_M if coarse else 0)
    m_lat, m_lon = metres_per_degree(lat)
    query = select(Report).where(
        Report.is_open,
        Report.created_at >= (now or utcnow()) - timedelta(days=cfg.DUPLICATE_WINDOW_DAYS),
        Report.lat.between(lat - reach / m_lat, lat + reach / m_lat),
        Report.lon.between(lon - reach / m_lon, lon + reach / m_lon),
    )
    if exclude_id is not None:
        query = query.where(Report.id != exclude_id)
    if category is not None:
        query = query.where(
            Report.category_code.in_(select(Category.code).where(Category.major_code == category.major_code))
        )
    # Planar distance within the box orders as the great-circle one does at this scale;
    # the box's corners lie beyond the radius, so they can only fill the tail of the list.
    # Coarse: the newest HOTSPOT_ROWS, which one real point cannot bring in or leave out.
    north, east = (Report.lat - lat) * m_lat, (Report.lon - lon) * m_lon
    wanted = cfg.DUPLICATE_CANDIDATES_MAX
    if coarse:
        query = query.order_by(Report.id.desc()).limit(HOTSPOT_ROWS)
    else:
        query = query.order_by(north * north + east * east, Report.id).limit(wanted)
    query = query.options(selectinload(Report.media), selectinload(Report.category))  # views show both
    measure = _as_shown if coarse else _precisely
    found = (measure(report, lat, lon) for report in db.session.scalars(query))
    within = (n for n in found if n.distance_m <= radius + (COARSE_REACH_M if n.approximate else 0))
    return sorted(within, key=lambda n: n.distance_m)[:wanted]


def _precisely(report, lat, lon):
    return Nearby(report, distance_m(lat, lon, report.lat, report.lon))


def _as_shown(report, lat, lon):
    """``report`` measured to its point as anyone sees it (a cell's centre counts as within the
    radius up to COARSE_REACH_M further, so that no report whose real point is within is lost)."""
    shown = public_point(report)
    return Nearby(report, distance_m(lat, lon, shown.lat, shown.lon), shown.approximate)


def photo_matches(photos, lat, lon, *, exclude_id=None, now=None):
    """Reports whose photos equal or resemble ``photos`` (objects with sha256 and phash).

    A photo without a hash yet (uploaded in worker mode, before the privacy pass) matches
    bytes-identical ones only; the pass compares its hash later (``privacy_pass``).
    """
    if not photos:
        return []
    cfg = registry.settings()
    now = now or utcnow()
    since = now - timedelta(days=cfg.PHOTO_REUSE_WINDOW_DAYS)
    same = Media.sha256.in_({p.sha256 for p in photos})
    similar = _sharing_two_bands(photos)
    rows = db.session.execute(
        select(Media.sha256, Media.phash, Media.report_id).where(
            Media.report_id.is_not(None),
            Media.created_at >= since,
            same if similar is None else same | Media.id.in_(similar),
        )
    ).all()
    kinds = {}
    for sha, phash, report_id in rows:
        if report_id == exclude_id:
            continue
        for photo in photos:
            if sha == photo.sha256:
                kinds[report_id] = "identical"
            elif phash and photo.phash and hamming(phash, photo.phash) <= cfg.PHASH_MAX_DISTANCE:
                kinds.setdefault(report_id, "similar")
    reports = db.session.scalars(select(Report).where(Report.id.in_(kinds))).all() if kinds else []
    return [_match(r, kinds[r.id], lat, lon, now) for r in reports]


def hashed_late(media, photo):
    """Give a photo uploaded in worker mode the hash ``photo`` found (``media`` has none
    yet), with its bands, and flag its report's photo reuse as the submit would have, had
    the hash been known then. A photo not yet attached is compared at its submit."""
    media.bands = PhashBand.of(photo.phash)
    report = media.report
    if report is None:
        return
    matches = photo_matches([photo], report.lat, report.lon, exclude_id=report.id, now=report.created_at)
    if any(match.suspicious for match in matches):
        set_flags(report.id, photo_reuse_flagged=True)
        log.info("report %s: photo %s resembles an earlier report's, flagged", report.public_id, photo.sha256[:12])


def _sharing_two_bands(photos):
    """Ids of photos sharing at least two dHash bytes in place with one of ``photos``: every
    photo within PHASH_MAX_DISTANCE (≤ 6 bits) of it, and a few more that the caller weeds out.
    None when none of ``photos`` has a hash yet."""
    pairs = {(band.band, band.value) for p in photos if p.phash for band in PhashBand.of(p.phash)}
    if not pairs:
        return None
    return (
        select(PhashBand.media_id)
        .where(or_(*(and_(PhashBand.band == b, PhashBand.value == v) for b, v in sorted(pairs))))
        .group_by(PhashBand.media_id)
        .having(func.count() >= 2)
    )


def _match(report, kind, lat, lon, now):
    cfg = registry.settings()
    gap = distance_m(lat, lon, report.lat, report.lon)
    days = abs((now - report.created_at).total_seconds()) / 86400
    suspicious = gap > cfg.PHOTO_REUSE_DISTANCE_M or days > cfg.PHOTO_REUSE_DAYS
    return PhotoMatch(report, kind, round(gap, 1), suspicious)


def for_report(report, actor):
    """Triage view for a report already filed: nearby candidates and photo matches; 403
    ``outside_area`` for staff whose areas leave the case out."""
    require_in_area(actor, report)
    coarse = not actor.sees_private(report)  # a monitor: other cases as the public sees them
    at = report.lat, report.lon
    nearby = nearby_open(*at, report.category, exclude_id=report.id, now=report.created_at, coarse=coarse)
    matches = photo_matches(report.media, *at, exclude_id=report.id, now=report.created_at)
    return nearby, [_shown_match(m, *at) for m in matches] if coarse else matches


def _shown_match(match, lat, lon):
    """``match`` measured to its report's point as anyone sees it."""
    shown = _as_shown(match.report, lat, lon)
    return replace(match, distance_m=round(shown.distance_m, 1), approximate=shown.approximate)


@dataclass(frozen=True)
class Supporter:
    """Who supports (``key``), and for an anonymous supporter the ``address`` it is capped by."""

    key: str
    address: str | None = None


def supporter(user, device, address):
    """Who supports: the account when logged in, else the phone (``X-Device-Id``), else the address
    (an IPv6 address by its /64, as the limits count it)."""
    if user is not None:
        return Supporter(f"account:{user.id}")
    address = (address_key(address) or "")[:64] or None
    return Supporter(f"device:{device}" if device else f"ip:{address}", address)


def support(public_id, supporter):
    """“我也遇到了”: count ``supporter`` once for an open report; 409 when it is no longer open.

    Returns ``(report, already_supported)``; a repeat changes nothing, and neither does an
    anonymous support from an address that has already added SUPPORT_PER_ADDRESS_PER_CASE
    to this case (fresh X-Device-Id values from one client). No timeline event: the
    count is on the case and ``report_support`` keeps who and when, while an event per support
    let one script bury the steps staff read in the timeline.
    """
    # The count goes up first, in one UPDATE: that write takes the case's row lock (PostgreSQL)
    # or the database's write lock (SQLite) before anything is read, so parallel supports are
    # decided one after the other; a support that turns out to count nothing is rolled back.
    counted = db.session.execute(
        update(Report)
        .where(Report.public_id == public_id, Report.is_open)
        .values(support_count=Report.support_count + 1, version=Report.version + 1)
        .returning(Report.id)
    ).scalar()
    if counted is None:
        db.session.rollback()
        raise _not_supportable(public_id)
    repeated = _counted_already(counted, supporter)
    if repeated:
        db.session.rollback()
    else:
        db.session.add(Support(report_id=counted, supporter=supporter.key, address=supporter.address))
        db.session.commit()
    return db.session.get(Report, counted), repeated


def _not_supportable(public_id):
    status = db.session.scalar(select(Report.status).where(Report.public_id == public_id))
    if status is None:
        return NotFound("上报不存在", code="report_not_found", details={"id": public_id})
    return Conflict("该案件已办结，无需附议", code="report_not_open", details={"status": status})


def _counted_already(report_id, supporter):
    # The same supporter again, or an address that has added its share of anonymous supporters.
    if db.session.scalar(select(Support.id).where(Support.report_id == report_id, Support.supporter == supporter.key)):
        return True
    if supporter.address is None:
        return False
    from_address = db.session.scalar(
        select(func.count())
        .select_from(Support)
        .where(Support.report_id == report_id, Support.address == supporter.address)
    )
    return from_address >= registry.settings().SUPPORT_PER_ADDRESS_PER_CASE
