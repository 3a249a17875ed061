"""Categories, the 綦江 demo, grid import and user commands, through the Flask CLI."""

import json

import pytest
from sqlalchemy import func, select

from civicreport.extensions import db
from civicreport.geo.crs import wgs84_to_gcj02
from civicreport.geo.grid import lattice
from civicreport.reference.areas import Community, GridCellArea
from civicreport.reference.categories import RoutingRule
from civicreport.reference.grid import locate
from tests.factories import make_geography, photo_bytes
from tests.helpers import assert_error, post_report

REQUIRED_NAMES = [
    "井盖",
    "道路破损",
    "盲道",
    "擅自架设管线",
    "暴露垃圾",
    "公共厕所",
    "外立面",
    "占道经营",
    "游商",
    "小广告",
    "沿街晾挂",
    "机动车乱停放",
    "交通标线",
]
LOCAL_NAMES = ["飞线充电", "农贸市场环境卫生", "闯红灯", "车窗抛物", "不文明养犬", "随地吐痰", "散发传单"]


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


@pytest.fixture
def demo(cli, ctx):
    result = cli.invoke(args=["load-demo"])
    assert result.exit_code == 0, result.output
    return result


def test_categories_cover_the_seeds(client):
    categories = client.get("/api/v1/categories").get_json()["categories"]
    names = " ".join(c["name"] for c in categories)
    for name in REQUIRED_NAMES + LOCAL_NAMES:
        assert name in names, name
    local = [c for c in categories if not c["standard"]]
    assert {c["code"][0] for c in local} == {"L"} and len(local) == 7
    standard = [c for c in categories if c["standard"]]
    assert all(len(c["code"]) == 5 and c["code"].isdigit() for c in standard)
    assert all(c["deadline_hours"] > 0 and c["default_unit_kind"] for c in categories)


def test_demo_grid_covers_the_old_town_box(demo, ctx):
    assert "綦江 demo loaded" in demo.output
    misses = []
    for i in range(21):
        for j in range(21):
            lat, lon = 29.020 + i * 0.001, 106.640 + j * 0.001
            try:
                cell = locate(lat, lon)
            except Exception:
                misses.append((lat, lon))
                continue
            assert cell.code.startswith("500110") and len(cell.code) == 15
    assert misses == []


def test_demo_is_idempotent_with_if_empty(demo, cli, ctx):
    cells = db.session.scalar(select(func.count()).select_from(GridCellArea))
    again = cli.invoke(args=["load-demo", "--if-empty"])
    assert "already loaded" in again.output
    assert db.session.scalar(select(func.count()).select_from(GridCellArea)) == cells
    assert db.session.scalar(select(func.count()).select_from(RoutingRule)) > 20


def test_demo_communities_and_numbering(demo, ctx):
    names = set(db.session.scalars(select(Community.name)))
    assert {"长乐社区", "百步梯社区", "沙溪社区", "新街子社区", "新正社区"} <= names
    first = db.session.get(GridCellArea, "500110001001001")
    second = db.session.get(GridCellArea, "500110001001002")
    assert second.centroid_lon > first.centroid_lon  # west → east inside a row
    assert 9_000 < first.area_m2 < 11_000


def test_exif_photo_in_the_demo_box_comes_back_fully_routed(demo, client):
    response = post_report(
        client, [photo_bytes((1600, 1200), gps=(29.0251, 106.6512), orientation=6)], category="09009"
    )
    body = response.get_json()
    assert response.status_code == 201, body
    assert body["grid"]["code"].startswith("500110") and len(body["grid"]["code"]) == 15
    assert body["grid"]["community"]["name"] == "新正社区"
    assert body["unit"]["name"] == "綦江区公安局交巡警支队"
    assert body["location_source"] == "exif"


def test_locate_endpoint_reports_routes_per_group(demo, client):
    gcj = wgs84_to_gcj02(29.0400, 106.6550)
    body = client.get(f"/api/v1/grid/locate?lat={gcj[0]}&lon={gcj[1]}&crs=gcj02").get_json()
    assert body["community"]["name"] == "百步梯社区" and body["street"]["name"] == "文龙街道"
    assert body["location"]["lat"] == pytest.approx(29.0400, abs=1e-7)
    assert body["routes"]["component"]["unit"]["name"] == "綦江区市政设施管理所"
    assert body["routes"]["behaviour"]["routed_by"] == "territorial"
    assert_error(client.get("/api/v1/grid/locate?lat=29.6&lon=106.5"), 422, "outside_service_area")
    assert_error(client.get("/api/v1/grid/locate?lat=abc&lon=106.5"), 422, "validation_failed")


def _feature(code, geom, name=None):
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name},
        "geometry": json.loads(json.dumps(geom.__geo_interface__)),
    }


def test_import_grid_converts_gcj02(cli, ctx, tmp_path):
    make_geography()
    south, west = 29.10, 106.70
    cells = lattice(south, west, south + 0.0018, west + 0.002)

    def to_gcj(geom):
        return type(geom)([(wgs84_to_gcj02(lat, lon)[::-1]) for lon, lat in geom.exterior.coords])

    features = [_feature("500110001002", to_gcj(cells[0][0].union(cells[-1][-1]).envelope), "新建社区")]
    features += [_feature(f"500110001002{i + 1:03d}", to_gcj(g)) for i, g in enumerate(c for row in cells for c in row)]
    path = tmp_path / "grid.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    result = cli.invoke(args=["import-grid", str(path), "--crs", "gcj02"])
    assert result.exit_code == 0, result.output
    assert "imported 1 communities and 4 grid cells" in result.output
    centre = cells[0][0].centroid
    assert locate(centre.y, centre.x).code == "500110001002001"  # WGS-84 point lands in its cell


def test_import_grid_rejects_bad_files_and_writes_nothing(cli, ctx, tmp_path):
    make_geography()
    before = db.session.scalar(select(func.count()).select_from(GridCellArea))
    bad = tmp_path / "bad.geojson"
    bad.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": {"code": "123"}, "geometry": None}],
            }
        )
    )
    result = cli.invoke(args=["import-grid", str(bad), "--crs", "wgs84"])
    assert result.exit_code != 0 and "invalid_area_code" in result.output
    orphan = tmp_path / "orphan.geojson"
    square = lattice(29.1, 106.7, 29.1009, 106.701)[0][0]
    orphan.write_text(json.dumps({"type": "FeatureCollection", "features": [_feature("500110009999001", square)]}))
    result = cli.invoke(args=["import-grid", str(orphan), "--crs", "wgs84"])
    assert result.exit_code != 0 and "unknown_community" in result.output
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(GridCellArea)) == before


def test_create_user_prints_a_working_token(cli, client, ctx):
    result = cli.invoke(args=["create-user", "zhang", "--role", "supervisor"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    make_geography()
    body = post_report(client, [photo_bytes(gps=(29.0318, 106.6420))], contact="x").get_json()
    staff = client.get(f"/api/v1/reports/{body['id']}", headers={"Authorization": f"Bearer {token}"})
    assert staff.get_json()["contact"] == "x"
    bad = cli.invoke(args=["create-user", "li", "--role", "emperor"])
    assert bad.exit_code != 0 and "unknown_role" in bad.output
