"""Distances on the WGS-84 ellipsoid."""

import math

from geopy.distance import geodesic


def distance_m(lat1, lon1, lat2, lon2):
    """Geodesic distance in metres; geopy raises ValueError for out-of-range latitudes."""
    return geodesic((lat1, lon1), (lat2, lon2)).meters


def metres_per_degree(lat):
    """Approximate (metres per degree of latitude, of longitude) at latitude lat."""
    phi = math.radians(lat)
    m_lat = 111132.92 - 559.82 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi) - 0.0023 * math.cos(6 * phi)
    m_lon = 111412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi) + 0.118 * math.cos(5 * phi)
    return m_lat, m_lon
