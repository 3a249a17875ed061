"""Distances on the WGS-84 ellipsoid."""

import math

from geopy.distance import geodesic


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Geodesic distance in metres; geopy raises ValueError for out-of-range latitudes."""
    return float(geodesic((lat1, lon1), (lat2, lon2)).meters)  # geopy is untyped


def metres_per_degree(lat: float) -> tuple[float, float]:
    """Approximate (metres per degree of latitude, of longitude) at latitude lat."""
    phi = math.radians(lat)
    m_lat = 111132.92 - 559.82 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi) - 0.0023 * math.cos(6 * phi)
    m_lon = 111412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi) + 0.118 * math.cos(5 * phi)
    return m_lat, m_lon
