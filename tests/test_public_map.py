"""The public map's API, page and Atom feeds: which reports show, what of them, where, and how
bad input is answered (always the one error shape, never a 5xx)."""

import json
import re
import xml.etree.ElementTree as ET

import pytest

from civicreport.geo.distance import distance_m
from tests.factories import COMMUNITY, INSIDE, NE_CORNER, STREET, SW_CORNER, photo_bytes
from tests.helpers import assert_error, override_settings, post_report

ATOM = "{http://www.w3.org/2005/Atom}"
BBOX = "106.63,29.02,106.66,29.04"
CONTACT = "13987654321"


def file_report(loop, point=INSIDE, category="06010", accept=True):
    body = post_report(
        loop.client,
        [photo_bytes(gps=point)],
        category=category,
        lat=point[0],
        lon=point[1],
        contact=CONTACT,
        description=f"详情请打 {CONTACT}",
    ).get_json()
    if accept:
        loop.ok(body["id"], "supervisor", "accept")
    return body["id"]


def features(client, query=""):
    response = client.get(f"/api/v1/public/reports?format=geojson&bbox={BBOX}{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_accepted_problem_reports_show_with_public_fields_only(loop, client):
    shown = file_report(loop)
    file_report(loop, accept=False)  # waiting for 受理: may be spam
    rejected = file_report(loop, accept=False)
    loop.ok(rejected, "supervisor", "reject", note="非本区域问题")
    praise = loop.new_report(kind="praise")  # the 光荣榜's, never the map's
    body = features(client)
    assert [f["id"] for f in body["features"]] == [shown]
    assert praise not in json.dumps(body)
    props = body["features"][0]["properties"]
    assert props["status"] == "accepted" and props["status_label"] == "已受理"
    assert props["category"] == {"code": "06010", "name": props["category"]["name"]}
    assert props["community"] == "长乐社区" and props["street"] == "古南街道"
    assert props["thumb_url"] and not props["approximate"]
    assert body["features"][0]["geometry"]["coordinates"] == [INSIDE[1], INSIDE[0]]
    text = json.dumps(body, ensure_ascii=False)
    assert CONTACT not in text and "详情" not in text and "original" not in text


def test_behaviour_reports_are_placed_to_about_50_m(loop, client):
    report = file_report(loop, category="L90004")  # 随地吐痰/乱扔垃圾
    body = features(client)
    feature = body["features"][0]
    lon, lat = feature["geometry"]["coordinates"]
    assert feature["properties"]["approximate"] is True
    assert (lat, lon) != INSIDE and 0 < distance_m(lat, lon, *INSIDE) <= 36  # the centre of a 50 m cell
    assert not re.search(rf"{INSIDE[0]}(?!\d)", json.dumps(body))  # a centre may share its first digits
    again = features(client)["features"][0]["geometry"]["coordinates"]
    assert again == [lon, lat]  # the same cell every time: nothing to average away
    listed = client.get(f"/api/v1/public/reports?bbox={BBOX}").get_json()["reports"]
    assert [(r["id"], r["lat"], r["lon"]) for r in listed] == [(report, lat, lon)]


def test_filters_by_bbox_group_category_and_status(loop, client):
    south_west = file_report(loop, point=SW_CORNER)
    north_east = file_report(loop, point=NE_CORNER, category="L90004")
    loop.ok(north_east, "supervisor", "dispatch")
    mid = (SW_CORNER[0] + NE_CORNER[0]) / 2
    west_half = f"106.63,29.02,106.66,{mid}"
    ids = lambda query: [f["id"] for f in client.get(f"/api/v1/public/reports?{query}").get_json()["reports"]]  # noqa: E731
    assert ids(f"bbox={west_half}") == [south_west]
    assert ids(f"bbox={BBOX}&group=文明行为") == [north_east]
    assert ids(f"bbox={BBOX}&category=06010") == [south_west]
    assert ids(f"bbox={BBOX}&status=dispatched") == [north_east]
    assert set(ids(f"bbox={BBOX}&status=accepted,dispatched")) == {south_west, north_east}
    assert set(ids("")) == {south_west, north_east}  # no bbox: the newest, capped


def test_the_answer_is_capped_and_says_so(app, loop, client, monkeypatch):
    override_settings(app, monkeypatch, PUBLIC_MAP_MAX=2)
    reports = [file_report(loop) for _ in range(3)]
    body = features(client)
    assert [f["id"] for f in body["features"]] == reports[:0:-1]  # the newest two
    assert body["truncated"] is True and body["limit"] == 2
    assert features(client, "&limit=1")["limit"] == 1
    assert features(client, "&limit=50")["limit"] == 2


@pytest.mark.parametrize(
    "query",
    [
        "bbox=1,2,3",
        "bbox=a,b,c,d",
        "bbox=1,2,3,4,5",
        "status=submitted",  # not public
        "status=nonsense",
        "group=夜市",
        "format=kml",
        "limit=0",
        "radius=5",  # unknown parameter
    ],
)
def test_bad_queries_are_422(client, grid, query):
    assert_error(client.get(f"/api/v1/public/reports?{query}"), 422, "validation_failed")


@pytest.mark.parametrize("bbox", ["107,29,106,30", "106,-91,107,30"])  # west east of east; south past the pole
def test_a_bbox_out_of_range_is_its_own_documented_refusal(client, grid, bbox):
    # well-formed by the document's pattern, refused by a rule it can only name (x-refusals)
    assert_error(client.get(f"/api/v1/public/reports?bbox={bbox}"), 422, "bbox_out_of_range")


def test_a_blank_bbox_is_no_bbox(client, grid):
    assert client.get("/api/v1/public/reports?bbox=").status_code == 200


def atom_entries(response):
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed" and root.find(f"{ATOM}title").text.startswith("随手拍公开案件")
    return root.findall(f"{ATOM}entry")


def test_atom_feeds_of_a_community_a_street_and_a_circle(loop, client):
    report = file_report(loop, category="L90004")
    for path in (f"/feeds/areas/{COMMUNITY}.atom", f"/feeds/areas/{STREET}.atom"):
        (entry,) = atom_entries(client.get(path))
        assert report in entry.find(f"{ATOM}id").text
        assert "长乐社区" in entry.find(f"{ATOM}title").text
        assert "位置约 50 米" in entry.find(f"{ATOM}summary").text
    near = client.get(f"/feeds/areas/circle.atom?lat={INSIDE[0]}&lon={INSIDE[1]}&r=100")
    assert len(atom_entries(near)) == 1
    far = client.get(f"/feeds/areas/circle.atom?lat={INSIDE[0] + 0.02}&lon={INSIDE[1]}&r=2000")
    assert atom_entries(far) == []
    text = client.get(f"/feeds/areas/{COMMUNITY}.atom").get_data(as_text=True)
    assert CONTACT not in text and "详情" not in text


@pytest.mark.parametrize("code", ["999999999999", "500110999", "cgj", "12345", "50011000100x"])
def test_an_unknown_area_is_404(client, grid, code):
    assert_error(client.get(f"/feeds/areas/{code}.atom"), 404, "area_not_found")


@pytest.mark.parametrize(
    "query",
    ["lat=29&lon=106.6&r=2001", "lat=29&lon=106.6&r=0", "lat=29&lon=106.6", "lat=91&lon=0&r=5", "lat=x&lon=1&r=5"],
)
def test_a_bad_circle_is_422(client, query):
    assert_error(client.get(f"/feeds/areas/circle.atom?{query}"), 422, "validation_failed")


def test_the_map_page_is_a_phone_first_shell_on_vendored_leaflet(client):
    response = client.get("/map")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'name="viewport"' in page and "公开地图" in page
    assert "/static/vendor/leaflet/leaflet.js" in page and "/static/public/map.js" in page
    settings = json.loads(page.split('id="page-settings" type="application/json">')[1].split("</script>")[0])
    assert settings["reports_url"] == "/api/v1/public/reports" and "submitted" not in settings["statuses"]
