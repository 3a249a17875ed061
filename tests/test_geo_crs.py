import math

import pytest

from civicreport.geo.crs import (
    SUPPORTED_CRS,
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from civicreport.geo.distance import distance_m

CHINA = {
    "Harbin": (45.80, 126.53),
    "Mohe": (52.97, 122.54),
    "Urumqi": (43.83, 87.62),
    "Kashgar": (39.47, 75.99),
    "Lhasa": (29.65, 91.17),
    "Xining": (36.62, 101.78),
    "Sanya": (18.25, 109.51),
    "Haikou": (20.04, 110.34),
    "Shanghai": (31.23, 121.47),
    "Qijiang": (29.03, 106.65),
    "Chongqing": (29.56, 106.55),
    "Beijing": (39.9087, 116.3975),
    "Guangzhou": (23.13, 113.26),
    "Shenzhen": (22.54, 114.06),
    "Kunming": (25.04, 102.71),
    "Chengdu": (30.66, 104.07),
    "Xi'an": (34.34, 108.94),
    "Lanzhou": (36.06, 103.83),
    "Hohhot": (40.84, 111.75),
    "Shenyang": (41.80, 123.43),
    "Wuhan": (30.59, 114.31),
    "Fuzhou": (26.07, 119.30),
    "Nanning": (22.82, 108.32),
    "Hulunbuir": (49.21, 119.77),
}
ABROAD = {"Tokyo": (35.68, 139.77), "London": (51.51, -0.13), "Sydney": (-33.87, 151.21)}


@pytest.mark.parametrize("name", CHINA)
def test_round_trips_within_half_a_metre(name):
    lat, lon = CHINA[name]
    assert distance_m(lat, lon, *gcj02_to_wgs84(*wgs84_to_gcj02(lat, lon))) < 0.5
    assert distance_m(lat, lon, *bd09_to_wgs84(*wgs84_to_bd09(lat, lon))) < 0.5
    assert distance_m(lat, lon, *bd09_to_gcj02(*gcj02_to_bd09(lat, lon))) < 0.5
    for crs in SUPPORTED_CRS:
        assert distance_m(lat, lon, *to_wgs84(*from_wgs84(lat, lon, crs), crs)) < 0.5


@pytest.mark.parametrize("name", CHINA)
def test_offsets_are_hundreds_of_metres(name):
    lat, lon = CHINA[name]
    assert 100 < distance_m(lat, lon, *wgs84_to_gcj02(lat, lon)) < 700


def test_qijiang_offset():
    offset = distance_m(29.03, 106.65, *wgs84_to_gcj02(29.03, 106.65))
    assert 100 < offset < 700


def test_tiananmen_reference_value():
    assert distance_m(39.910096, 116.403716, *wgs84_to_gcj02(39.908692, 116.397477)) < 1.0


def test_offset_at_formula_origin_worked_by_hand():
    # At (35, 105) every sine and sqrt term of the published polynomial vanishes, so the
    # raw shift is -100 m north and +300 m east on the Krasovsky ellipsoid.
    a, ee = 6378245.0, 0.00669342162296594323
    w = 1 - ee * math.sin(math.radians(35)) ** 2
    meridian, normal = a * (1 - ee) / w**1.5, a / math.sqrt(w)
    expected = (35 - math.degrees(100 / meridian), 105 + math.degrees(300 / (normal * math.cos(math.radians(35)))))
    assert wgs84_to_gcj02(35.0, 105.0) == pytest.approx(expected, abs=1e-12)


def test_bd09_is_a_further_shift_of_gcj02():
    gcj = wgs84_to_gcj02(29.03, 106.65)
    assert 300 < distance_m(*gcj, *gcj02_to_bd09(*gcj)) < 1500


@pytest.mark.parametrize("name", ABROAD)
def test_outside_china_unchanged(name):
    lat, lon = ABROAD[name]
    assert wgs84_to_gcj02(lat, lon) == (lat, lon)
    assert gcj02_to_wgs84(lat, lon) == (lat, lon)
    assert from_wgs84(lat, lon, "GCJ02") == (lat, lon)


def test_wgs84_is_identity_and_crs_is_case_insensitive():
    assert to_wgs84(29.03, 106.65, "WGS84") == (29.03, 106.65)
    assert to_wgs84(29.03, 106.65, " Bd09 ") == bd09_to_wgs84(29.03, 106.65)


@pytest.mark.parametrize("crs", ["utm", "", None, "epsg:4326"])
def test_unknown_crs_raises(crs):
    with pytest.raises(ValueError, match="unknown crs"):
        to_wgs84(29.0, 106.0, crs)
    with pytest.raises(ValueError, match="unknown crs"):
        from_wgs84(29.0, 106.0, crs)


@pytest.mark.parametrize(
    "lat, lon",
    [(91, 106), (-90.5, 106), (29, 180.1), (29, -181), (math.nan, 106), (29, math.inf), ("x", 106), (None, 1)],
)
def test_bad_coordinates_raise(lat, lon):
    with pytest.raises(ValueError):
        to_wgs84(lat, lon, "gcj02")
    with pytest.raises(ValueError):
        from_wgs84(lat, lon, "wgs84")
