import json
import random

import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon

from civicreport.geo.crs import gcj02_to_wgs84
from civicreport.geo.distance import distance_m, metres_per_degree
from civicreport.geo.geojson import parse_geometry, to_geojson_text, transform_geometry
from civicreport.geo.grid import GridCell, GridIndex, lattice

SOUTH, WEST = 29.03, 106.65


def make_cells(rows):
    return [
        GridCell(
            code=f"500110{r:05d}{c:04d}",
            community_code=f"500110001{r:03d}",
            community_name=f"community {r}",
            street_code="500110001",
            street_name="古南街道",
            district_code="500110",
            district_name="綦江区",
            geometry=geom,
        )
        for r, row in enumerate(rows)
        for c, geom in enumerate(row)
    ]


def box_for(n_rows, n_cols, cell_m=100.0):
    m_lat, m_lon = metres_per_degree(SOUTH)
    return SOUTH, WEST, SOUTH + (n_rows - 0.5) * cell_m / m_lat, WEST + (n_cols - 0.5) * cell_m / m_lon


@pytest.fixture(scope="module")
def grid3():
    rows = lattice(*box_for(3, 3))
    return rows, GridIndex(make_cells(rows))


def test_lattice_shape_order_and_shared_edges(grid3):
    rows, _ = grid3
    assert [len(r) for r in rows] == [3, 3, 3]
    assert rows[0][0].bounds[1] > rows[1][0].bounds[1]  # north first
    assert rows[0][0].bounds[0] < rows[0][1].bounds[0]  # west first
    assert rows[0][0].bounds[2] == rows[0][1].bounds[0]
    assert rows[0][0].bounds[1] == rows[1][0].bounds[3]
    south, west, north, east = box_for(3, 3)
    assert shapely.union_all([c for r in rows for c in r]).covers(shapely.box(west, south, east, north))


def test_lattice_cells_are_about_100_m():
    for row in lattice(*box_for(4, 5)):
        for cell in row:
            w, s, e, n = cell.bounds
            assert distance_m(s, w, n, w) == pytest.approx(100, abs=2)
            assert distance_m(s, w, s, e) == pytest.approx(100, abs=2)


def test_lattice_rejects_bad_box():
    with pytest.raises(ValueError):
        lattice(29.1, 106.6, 29.0, 106.7)
    with pytest.raises(ValueError):
        lattice(29.0, 106.6, 29.1, 106.7, cell_m=0)


def test_locate_inside_each_cell(grid3):
    rows, index = grid3
    assert len(index) == 9
    for r, row in enumerate(rows):
        for c, geom in enumerate(row):
            centre = geom.centroid
            assert index.locate(centre.y, centre.x).code == f"500110{r:05d}{c:04d}"


def test_locate_on_shared_edge_and_corner_is_smallest_code(grid3):
    rows, index = grid3
    w, s, e, n = rows[1][1].bounds
    assert index.locate((s + n) / 2, e).code == "500110000010001"  # shared with [1][2]
    assert index.locate(s, (w + e) / 2).code == "500110000010001"  # shared with [2][1]
    assert index.locate(n, w).code == "500110000000000"  # corner of four cells


def test_locate_outside_is_none(grid3):
    _, index = grid3
    min_lon, min_lat, max_lon, max_lat = index.bounds
    assert index.locate(max_lat + 0.001, min_lon) is None
    assert index.locate(min_lat, min_lon - 1e-7) is None
    assert index.locate(39.9, 116.4) is None


def test_nearest_north_of_grid(grid3):
    rows, index = grid3
    w, s, e, n = rows[0][1].bounds
    m_lat, _ = metres_per_degree(n)
    lat, lon = n + 500 / m_lat, (w + e) / 2
    cell, metres = index.nearest(lat, lon)
    assert cell.code == "500110000000001"
    assert metres == pytest.approx(distance_m(lat, lon, n, lon), rel=0.05)
    assert metres == pytest.approx(500, rel=0.05)


def test_nearest_prefers_metres_over_degrees():
    # At lat 29 a degree of longitude is shorter than a degree of latitude, so the cell
    # 0.0010 deg east (~97 m) is nearer than the one 0.0009 deg north (~100 m).
    east = shapely.box(106.6010, 28.99, 106.6020, 29.00)
    north = shapely.box(106.59, 29.0009, 106.5999, 29.01)
    cells = make_cells([[north, east]])
    cell, metres = GridIndex(cells).nearest(29.0, 106.6)
    assert cell.geometry.equals(east)
    assert metres == pytest.approx(distance_m(29.0, 106.6, 29.0, 106.601), rel=1e-3)


def test_nearest_from_the_equator_finds_a_cell(grid3):
    # Near the equator a degree of longitude is longer than one of latitude (schemathesis sent lat=0&lon=0).
    rows, index = grid3
    _, metres = index.nearest(0.0, 0.0)
    assert metres == pytest.approx(min(GridIndex([c]).nearest(0.0, 0.0)[1] for c in make_cells(rows)), rel=1e-5)
    assert metres > 3_000_000


def test_nearest_inside_is_zero_and_empty_index(grid3):
    rows, index = grid3
    centre = rows[2][2].centroid
    assert index.nearest(centre.y, centre.x)[1] == 0.0
    empty = GridIndex([])
    assert empty.nearest(29, 106) is None and empty.locate(29, 106) is None
    assert empty.bounds is None and len(empty) == 0


def test_bounds(grid3):
    rows, index = grid3
    assert index.bounds == (rows[2][0].bounds[0], rows[2][0].bounds[1], rows[0][2].bounds[2], rows[0][2].bounds[3])


def test_thousand_cells_match_brute_force():
    rows = lattice(*box_for(25, 40))
    cells = make_cells(rows)
    assert len(cells) == 1000
    index = GridIndex(cells)
    min_lon, min_lat, max_lon, max_lat = index.bounds
    rng = random.Random(42)
    points = [
        (rng.uniform(min_lat - 0.002, max_lat + 0.002), rng.uniform(min_lon - 0.002, max_lon + 0.002))
        for _ in range(10_000)
    ]
    found = [index.locate(lat, lon) for lat, lon in points]
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    expected = [None] * len(points)
    for cell in sorted(cells, key=lambda c: c.code, reverse=True):
        shapely.prepare(cell.geometry)
        for i in shapely.intersects_xy(cell.geometry, lons, lats).nonzero()[0]:
            expected[i] = cell.code
    assert [c.code if c else None for c in found] == expected
    assert 0 < expected.count(None) < len(points)


SQUARE = [[[106.6, 29.0], [106.61, 29.0], [106.61, 29.01], [106.6, 29.01], [106.6, 29.0]]]
TRIANGLE = [[[107, 30], [107.1, 30], [107.1, 30.1], [107, 30]]]
POLYGON = {"type": "Polygon", "coordinates": SQUARE}
MULTI = {"type": "MultiPolygon", "coordinates": [SQUARE, TRIANGLE]}


def test_parse_polygon_and_multipolygon():
    assert isinstance(parse_geometry(POLYGON), Polygon)
    assert isinstance(parse_geometry(json.dumps(MULTI)), MultiPolygon)


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "Point", "coordinates": [106.6, 29.0]},
        "not json at all {",
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},  # bow-tie
        {"type": "Polygon", "coordinates": [[[0, 0], [1]]]},
        {"type": "Polygon", "coordinates": []},
        {"type": "Polygon"},
        {"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [200, 1], [0, 0]]]},
        [1, 2],
    ],
)
def test_parse_rejects(bad):
    with pytest.raises(ValueError):
        parse_geometry(bad)


def test_transform_geometry_moves_vertices_and_round_trips_text():
    geom = parse_geometry(POLYGON)
    moved = transform_geometry(geom, gcj02_to_wgs84)
    for (lon, lat), (lon2, lat2) in zip(geom.exterior.coords, moved.exterior.coords, strict=True):
        assert 100 < distance_m(lat, lon, lat2, lon2) < 700
        assert (lat2, lon2) == pytest.approx(gcj02_to_wgs84(lat, lon))
    text = to_geojson_text(moved)
    assert " " not in text
    assert parse_geometry(text).equals_exact(moved, 1e-7)
    assert json.loads(text)["coordinates"][0][0] == [round(c, 7) for c in moved.exterior.coords[0]]


def test_nearest_matches_brute_force_geodesic():
    cells = make_cells(lattice(*box_for(6, 8)))
    index = GridIndex(cells)
    min_lon, min_lat, max_lon, max_lat = index.bounds
    rng = random.Random(7)
    for _ in range(150):
        lat, lon = rng.uniform(min_lat - 0.05, max_lat + 0.05), rng.uniform(min_lon - 0.05, max_lon + 0.05)
        cell, metres = index.nearest(lat, lon)
        brute = min(GridIndex([c]).nearest(lat, lon)[1] for c in cells)
        assert metres == pytest.approx(brute, rel=1e-9, abs=1e-6)
        assert (metres == 0) == cell.geometry.covers(shapely.Point(lon, lat))
