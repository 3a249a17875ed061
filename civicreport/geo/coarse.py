"""Coarse positions: a point snapped to the centre of a fixed grid cell of about ``metres`` a side.

A fixed grid, not random jitter: the same point always gives the same answer, so averaging many
answers never recovers the precise one.
"""

import math

from civicreport.geo.distance import metres_per_degree


def snap(lat: float, lon: float, metres: float) -> tuple[float, float]:
    """(lat, lon) moved to the centre of its ~``metres`` cell. The latitude step is one for the whole
    globe (taken at the equator: cells are up to 1 % taller towards the poles) and the longitude step
    is taken at the snapped latitude, so every point of one cell gets the very same centre: a step
    taken at the point's own latitude moved the centre by a few decimetres across a cell, which told
    where in it the point lay."""
    step = lat_step(metres)
    snapped_lat = (math.floor(lat / step) + 0.5) * step
    step = lon_step(metres, snapped_lat)
    snapped_lon = (math.floor(lon / step) + 0.5) * step
    return round(snapped_lat, 6), round(snapped_lon, 6)


def lat_step(metres: float) -> float:
    """The grid's step of latitude in degrees: row ``i`` spans [i, i + 1) steps."""
    return metres / metres_per_degree(0.0)[0]


def lon_step(metres: float, centre_lat: float) -> float:
    """The step of longitude in degrees of the row whose centre is at ``centre_lat``."""
    return metres / metres_per_degree(centre_lat)[1]
