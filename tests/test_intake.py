"""Submitting reports over the Flask test client: photos, place, routing, idempotency."""

import hashlib
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from sqlalchemy import select

from civicreport import registry
from civicreport.cases.models import Media, Report, ReportEvent
from civicreport.extensions import db
from civicreport.geo.crs import wgs84_to_gcj02
from tests.factories import (
    COMMUNITY,
    FAR_AWAY,
    INSIDE,
    make_rule,
    make_unit,
    make_user,
    photo_bytes,
)
from tests.helpers import assert_error, count, fetch, fetch_image, override_settings, post_report


@pytest.fixture
def routing(city_unit):
    """The shared grid and 区城市管理局, and 区交巡警支队 that a rule sends 违停 (09009)."""
    make_rule(make_unit("jxj", "traffic_police", "区交巡警支队"), code="09009")


def test_photo_gps_places_and_routes_the_report(client, routing, storage):
    raw = photo_bytes((1600, 1200), gps=INSIDE, orientation=6)
    response = post_report(client, [raw], category="06010", description="路边垃圾堆")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["id"].startswith("QJ") and body["status"] == "submitted"
    assert body["location_source"] == "exif"
    assert body["location"]["lat"] == pytest.approx(INSIDE[0], abs=1e-5)
    assert len(body["grid"]["code"]) == 15 and body["grid"]["code"].startswith(COMMUNITY)
    assert body["grid"]["community"]["name"] == "长乐社区"
    assert body["grid"]["street"]["name"] == "古南街道"
    assert body["unit"]["code"] == "cgj"
    photo = body["photos"][0]
    assert photo["sha256"] == hashlib.sha256(raw).hexdigest()
    assert "original_url" not in photo and "contact" not in body
    display = fetch_image(client, photo["display_url"])
    assert display.size == (960, 1280)  # orientation 6 turns 1600×1200 upright
    assert not display.getexif()
    assert fetch_image(client, photo["thumb_url"]).size == (240, 320)
    assert body["receipt_token"]
    report = db.session.scalar(select(Report))
    assert report.receipt_token_hash != body["receipt_token"]
    assert report.routing_rule_id is not None and report.routed_by == "rule"
    assert len(list(storage.iter_keys())) == 3


def test_client_location_in_gcj02_is_stored_as_wgs84(client, routing):
    gcj = wgs84_to_gcj02(*INSIDE)
    raw = photo_bytes(gps=(INSIDE[0] + 0.003, INSIDE[1]))  # photo taken ~330 m away
    _, headers = make_user("sup", "supervisor")
    response = post_report(
        client, [raw], headers, lat=gcj[0], lon=gcj[1], crs="gcj02", category="09009", contact="13800000000"
    )
    body = response.get_json()
    assert response.status_code == 201, body
    assert body["location"]["lat"] == pytest.approx(INSIDE[0], abs=1e-7)
    assert body["location"]["lon"] == pytest.approx(INSIDE[1], abs=1e-7)
    assert body["location_source"] == "device"
    assert body["input_location"]["crs"] == "gcj02"
    assert body["input_location"]["lat"] == pytest.approx(gcj[0])
    assert body["photo_distance_m"] == pytest.approx(333, abs=5)
    assert body["location_flagged"] is True
    assert body["unit"]["code"] == "jxj"
    assert body["contact"] == "13800000000"
    assert "receipt_token" not in body


def test_category_rule_beats_area_and_fallback_goes_to_street_office(client, routing):
    body = post_report(client, [photo_bytes(gps=INSIDE)], category="01001").get_json()
    assert body["unit"]["code"] == "st-gunan"
    report = db.session.scalar(select(Report))
    assert report.routed_by == "territorial" and report.routing_rule_id is None


def test_more_specific_area_wins_within_same_category_rank(client, routing):
    community_unit = make_unit("sq", "community", "长乐社区居委会")
    make_rule(community_unit, area_level="community", area_code=COMMUNITY, major="06")
    body = post_report(client, [photo_bytes(gps=INSIDE)], category="06010").get_json()
    assert body["unit"]["code"] == "sq"


def test_missing_category_gets_keyword_suggestions(client, routing):
    response = post_report(client, [photo_bytes(gps=INSIDE)], description="楼道里有人飞线充电，很危险")
    body = response.get_json()
    assert response.status_code == 201, body
    assert body["category"] is None and body["status"] == "submitted"
    assert body["suggested_categories"][0]["code"] == "L06001"


def test_outside_every_cell_names_the_nearest_area(client, routing):
    error = assert_error(post_report(client, [photo_bytes(gps=FAR_AWAY)]), 422, "outside_service_area")
    assert "长乐社区" in error["details"]["nearest_area"]
    assert error["details"]["distance_m"] > 50_000
    assert count(Report) == 0


def test_no_location_anywhere_is_422(client, routing, storage):
    assert_error(post_report(client, [photo_bytes()]), 422, "location_required")
    assert list(storage.iter_keys()) == []


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"category": "99999"}, "unknown_category"),
        ({"lat": "29.03"}, "lat_lon_pair"),  # its own code: the document names it (x-refusals)
        ({"lat": "north", "lon": "106.64"}, "validation_failed"),
        ({"lat": "95", "lon": "106.64"}, "validation_failed"),  # the document's range
        ({"crs": "epsg3857"}, "validation_failed"),
        ({"surprise": "x"}, "validation_failed"),
    ],
)
def test_bad_fields_are_422_with_details(client, routing, fields, code):
    error = assert_error(post_report(client, [photo_bytes(gps=INSIDE)], **fields), 422, code)
    if code in ("validation_failed", "lat_lon_pair"):
        assert error["details"]["fields"]


def test_photo_count_limits(client, routing, app):
    assert_error(post_report(client, []), 422, "photo_required")
    limit = app.config["MAX_PHOTOS_PER_REPORT"]
    photos = [photo_bytes(gps=INSIDE, color=(i, 0, 0)) for i in range(limit + 1)]
    error = assert_error(post_report(client, photos), 422, "too_many_photos")
    assert error["details"] == {"max": limit, "count": limit + 1}


def test_oversize_photo_is_413_and_names_the_photo(client, routing, app, monkeypatch):
    big = photo_bytes((2000, 1500), gps=INSIDE)
    limits = registry.of(app).limits
    monkeypatch.setattr(registry.of(app), "limits", replace(limits, max_bytes=len(big) - 1))
    error = assert_error(post_report(client, [photo_bytes(gps=INSIDE), big]), 413, "photo_too_large")
    assert error["details"]["photo_index"] == 1


def test_whole_request_over_the_cap_is_413_json(client, routing, app, monkeypatch):
    override_settings(app, monkeypatch, MAX_CONTENT_LENGTH=10_000)
    assert_error(post_report(client, [photo_bytes((1200, 900), gps=INSIDE)]), 413, "payload_too_large")


@pytest.mark.parametrize(
    "payload, code",
    [
        (b"GIF89a" + b"\0" * 100, "unsupported_image_type"),
        (b"not an image at all", "unsupported_image_type"),
        (photo_bytes((800, 600))[:3000], "image_unreadable"),
    ],
)
def test_bad_image_bytes_are_422(client, routing, storage, payload, code):
    assert_error(post_report(client, [payload], lat=INSIDE[0], lon=INSIDE[1]), 422, code)
    assert count(Report) == 0 and list(storage.iter_keys()) == []


def test_idempotency_key_replays_the_first_answer(client, routing):
    raw = photo_bytes(gps=INSIDE)
    headers = {"Idempotency-Key": "phone-42-attempt"}
    first = post_report(client, [raw], headers, category="06010")
    again = post_report(client, [raw], headers, category="06010")
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["receipt_token"] == first.get_json()["receipt_token"]
    assert count(Report) == 1 and count(Media) == 1 and count(ReportEvent) == 1
    changed = post_report(client, [raw], headers, category="06011")
    assert_error(changed, 422, "idempotency_key_reused")


def test_media_first_then_json_report(client, routing):
    upload = client.post(
        "/api/v1/media",
        data={"photo": (io.BytesIO(photo_bytes(gps=INSIDE)), "a.jpg")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201, upload.get_json()
    media = upload.get_json()
    assert media["gps"]["lat"] == pytest.approx(INSIDE[0], abs=1e-5)
    response = client.post("/api/v1/reports", json={"media_ids": [media["id"]], "category": "06010"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["location_source"] == "exif"
    assert response.get_json()["photos"][0]["id"] == media["id"]
    reused = client.post("/api/v1/reports", json={"media_ids": [media["id"]]})
    assert_error(reused, 409, "media_already_attached")
    assert_error(client.post("/api/v1/reports", json={"media_ids": ["nope"]}), 422, "unknown_media")


def test_public_and_staff_views(client, routing):
    body = post_report(client, [photo_bytes(gps=INSIDE)], contact="13900000000").get_json()
    public = client.get(f"/api/v1/reports/{body['id']}").get_json()
    assert "contact" not in public and "original_url" not in public["photos"][0]
    _, headers = make_user("sup", "supervisor")
    staff = client.get(f"/api/v1/reports/{body['id']}", headers=headers).get_json()
    assert staff["contact"] == "13900000000"
    assert fetch(client, staff["photos"][0]["original_url"], headers)[0] == 200
    assert_error(client.get("/api/v1/reports/QJ00000000-0000"), 404, "report_not_found")
    assert_error(client.get("/api/v1/reports/x", headers={"Authorization": "Bearer nope"}), 401, "invalid_token")


def test_originals_are_served_to_case_staff_only(client, routing, app):
    if app.config["STORAGE"] != "local":
        pytest.skip("S3 originals are presigned URLs that only staff views carry")
    raw = photo_bytes(gps=INSIDE)
    body = post_report(client, [raw]).get_json()
    _, headers = make_user("sup", "supervisor")
    staff = client.get(f"/api/v1/reports/{body['id']}", headers=headers).get_json()
    path = staff["photos"][0]["original_url"].replace("http://localhost", "")
    assert_error(client.get(path), 401, "login_required")
    assert_error(client.get(path, headers=make_user("mon", "monitor")[1]), 403, "private_to_case_staff")
    served = client.get(path, headers=headers)
    assert served.data == raw and served.headers["X-Content-Type-Options"] == "nosniff"


def test_public_ids_count_up_per_day(client, routing):
    ids = [post_report(client, [photo_bytes(gps=INSIDE, color=(i, 9, 9))]).get_json()["id"] for i in range(3)]
    numbers = [int(i.split("-")[1]) for i in ids]
    assert numbers == [1, 2, 3]


def test_concurrent_retries_with_one_key_make_one_report(app, routing):
    raw = photo_bytes(gps=INSIDE)
    barrier = threading.Barrier(4)

    def submit(_):
        client = app.test_client()
        barrier.wait()
        return post_report(client, [raw], {"Idempotency-Key": "same-phone-same-tap"}, category="06010")

    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(submit, range(4)))
    assert [r.status_code for r in responses] == [201] * 4, [r.get_json() for r in responses]
    assert len({r.get_json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 3
    db.session.rollback()
    assert count(Report) == 1 and count(Media) == 1
