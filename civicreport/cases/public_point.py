"""Where a case is shown, and to whom precisely: the one definition every view of a point takes.

A report about what people do (``is_behaviour``: 闯红灯, 乱扔垃圾, 游商, 店外经营, 违停 …) names
a person's door, stall or parking place, so whoever may not see it precisely is shown the centre of
its fixed ~50 m cell (``geo.coarse.snap``). Precisely see it (``sees_precise_point``): the staff who
may read the case's private side (the centre within its areas, the unit it was dispatched to), its
reporter (they stood there: account, receipt or 查询码), and a monitor while the fix awaits their on-site
核查 within their areas. Everyone else — the public, Open311 clients, other units, monitors not
checking it — gets the cell. A report about a thing (a broken lid, a pile of rubbish) keeps its point.

What a caller without that right can learn is a function of the cell alone, so it leaks nothing
when asked again and again: a search by place (a bounding box, a circle, "within 50 m of here")
matches a behaviour report by its cell (``widened``, ``cells_within``), and a distance to it is
measured to the cell's centre and shown rounded (``rounded_distance``: "约 50 米").
"""

import math
from dataclasses import dataclass

from sqlalchemy import and_, false, or_, select

from civicreport.accounts.access import REPORTER
from civicreport.cases.models import Report
from civicreport.geo.coarse import lat_step, lon_step, snap
from civicreport.geo.distance import metres_per_degree
from civicreport.reference.categories import Category
from civicreport.reference.grid import grid_index

# Reports about what people do rather than about a thing, by the standard's classes: the local
# 文明行为 extension (group "behaviour": 闯红灯, 乱扔垃圾, 不文明养犬 …) and 街面秩序类 (major class
# 09: 游商, 店外经营, 流浪乞讨, 违停 …), whichever citizen group the phone page lists them under.
BEHAVIOUR_CATEGORY_GROUPS = frozenset({"behaviour"})
BEHAVIOUR_MAJORS = frozenset({"09"})
COARSE_M = 50.0
# How far a precise point may lie from its cell's centre (half the diagonal), plus rounding.
COARSE_REACH_M = COARSE_M * math.sqrt(0.5) + 1.0
ON_SITE_CHECK = frozenset({"resolved"})  # a monitor's 核查 (verify_pass / verify_fail) happens on site


@dataclass(frozen=True)
class Shown:
    """A point as one caller sees it; ``approximate`` when it is the cell's centre."""

    lat: float
    lon: float
    approximate: bool


def is_behaviour(report):
    """Whether the report is about people (its point coarse); one without a category may be too."""
    category = report.category
    return category is None or category.group in BEHAVIOUR_CATEGORY_GROUPS or category.major_code in BEHAVIOUR_MAJORS


def cell_centre(lat, lon):
    """(lat, lon) of the centre of the point's ~COARSE_M cell."""
    return snap(lat, lon, COARSE_M)


def public_point(report):
    """The point anyone may see: the cell's centre for a behaviour report, else the point."""
    if is_behaviour(report):
        return Shown(*cell_centre(report.lat, report.lon), approximate=True)
    return Shown(report.lat, report.lon, approximate=False)


def sees_precise_point(actor, report):
    """Whether ``actor`` (accounts.access.Actor) may see where ``report`` is to the metre."""
    if not is_behaviour(report) or actor.sees_private(report):
        return True
    roles = actor.roles_for(report)
    return REPORTER in roles or ("monitor" in roles and report.status in ON_SITE_CHECK)


def point_for(report, actor):
    """The point as ``actor`` sees it (``sees_precise_point``)."""
    if sees_precise_point(actor, report):
        return Shown(report.lat, report.lon, approximate=False)
    return public_point(report)


def rounded_distance(metres):
    """A distance to a cell's centre as shown: to the nearest COARSE_M, at least COARSE_M ("约 50 米")."""
    return COARSE_M * max(1, round(metres / COARSE_M))


def widened(bbox):
    """``bbox`` (west, south, east, north) grown by COARSE_REACH_M: a search by place over precise
    points in SQL finds every report whose cell centre lies inside, to be kept or dropped by
    ``public_point`` afterwards."""
    west, south, east, north = bbox
    m_lat, m_lon = metres_per_degree(max(abs(south), abs(north)))
    dlat, dlon = COARSE_REACH_M / m_lat, COARSE_REACH_M / m_lon
    return west - dlon, south - dlat, east + dlon, north + dlat


def sees_every_point(user):
    """Whether ``user`` sees to the metre every case their queue lists (accounts.access.case_scope):
    the centre and the units list only cases whose private side they read; a monitor does not."""
    return user.role != "monitor"


def behaviour_clause():
    """``is_behaviour`` as a condition on Report, for searches in SQL."""
    behaviour = select(Category.code).where(
        or_(Category.group.in_(BEHAVIOUR_CATEGORY_GROUPS), Category.major_code.in_(BEHAVIOUR_MAJORS))
    )
    return or_(Report.category_code.is_(None), Report.category_code.in_(behaviour))


def coarse_clause(user):
    """The cases of ``user``'s queue they see by their cells alone, as a condition on Report (a
    monitor's behaviour cases but while they await 核查); None when they see every point."""
    if sees_every_point(user):
        return None
    return and_(behaviour_clause(), Report.status.not_in(ON_SITE_CHECK))


def in_bbox_clause(bbox, user):
    """Report inside ``bbox`` as ``user`` sees it: by its point, or for a case ``user`` sees only
    coarsely by its cell's centre, so that the answer to any box depends on the cell alone."""
    west, south, east, north = bbox
    precise = and_(Report.lon.between(west, east), Report.lat.between(south, north))
    coarse = coarse_clause(user)
    if coarse is None:
        return precise
    cells = (
        and_(Report.lat >= south, Report.lat < north, Report.lon >= west, Report.lon < east)
        for west, south, east, north in cells_within(_on_the_grid(bbox))
    )
    return or_(and_(~coarse, precise), and_(coarse, or_(false(), *cells)))


def _on_the_grid(bbox):
    """``bbox`` cut to the service area and the cells at its edges (every case lies in a grid cell),
    which bounds the rows of cells to spell out; None when they do not meet."""
    bounds = grid_index().bounds
    if bounds is None:
        return None
    grid = widened(bounds)
    west, south, east, north = bbox
    cut = max(west, grid[0]), max(south, grid[1]), min(east, grid[2]), min(north, grid[3])
    return cut if cut[0] <= cut[2] and cut[1] <= cut[3] else None


def cells_within(bbox):
    """Per row of cells (``geo.coarse.snap``'s grid), the box (west, south, east, north; east and
    north excluded) of the row's cells whose centres lie inside ``bbox``."""
    if bbox is None:
        return
    west, south, east, north = bbox
    down = lat_step(COARSE_M)
    for row in range(math.ceil(south / down - 0.5), math.floor(north / down - 0.5) + 1):
        across = lon_step(COARSE_M, (row + 0.5) * down)
        first, last = math.ceil(west / across - 0.5), math.floor(east / across - 0.5)
        if first <= last:
            yield first * across, row * down, (last + 1) * across, (row + 1) * down


def in_bbox(shown, bbox):
    west, south, east, north = bbox
    return west <= shown.lon <= east and south <= shown.lat <= north
