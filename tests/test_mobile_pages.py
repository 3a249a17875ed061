"""The citizen pages over the Flask test client: the shells, their weight, and their two API endpoints."""

import io
import json
import os
import re

import pytest
from sqlalchemy import func, select

import civicreport
from civicreport.cases.citizen import CITIZEN_GROUPS, citizen_group
from civicreport.cases.models import Report
from civicreport.cases.schemas.citizen import MAX_RECEIPTS
from civicreport.extensions import db
from civicreport.reference.lookup import active_categories
from tests.factories import INSIDE, make_user, photo_bytes
from tests.helpers import PATHS, assert_error

STATIC = os.path.join(os.path.dirname(civicreport.__file__), "static")
DEVICE = {"X-Device-Id": "0b7e6c1a-5d7e-4f0e-9a37-3c2b1f6f9a10"}


def settings_of(page):
    match = re.search(r'<script id="page-settings" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(match.group(1))


def upload(client, **photo):
    response = client.post(
        "/api/v1/media",
        data={"photo": (io.BytesIO(photo_bytes(**photo)), "snap.jpg")},
        headers={**DEVICE, "Idempotency-Key": os.urandom(8).hex()},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def submit(client, key, **fields):
    """The page's final submit: JSON with media ids, a key made on the phone and the device id."""
    return client.post("/api/v1/reports", json=fields, headers={**DEVICE, "Idempotency-Key": key})


def lookup(client, *receipts):
    return client.post(
        "/api/v1/receipts/lookup", json={"receipts": [{"id": rid, "receipt_token": token} for rid, token in receipts]}
    )


# ---- pages ------------------------------------------------------------------------------------


def test_the_submit_page_is_a_phone_shell_with_grouped_categories(ctx, client):
    response = client.get("/m/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'lang="zh-CN"' in page and 'name="viewport"' in page
    assert re.search(r'<input type="file" id="camera" accept="image/\*" capture="environment" multiple', page)
    assert "匿名上报" in page and "提交上报" in page

    settings = settings_of(page)
    names = [name for name, _ in settings["groups"]]
    assert names[:5] == ["市容环境", "道路设施", "交通文明", "市场秩序", "文明行为"]
    listed = [code for _, items in settings["groups"] for code, _ in items]
    assert sorted(listed) == sorted(c.code for c in active_categories())  # every category, once
    assert settings["max_photos"] == 6 and settings["statuses"]["closed"] == "已结案"
    assert settings["leaflet"]["js"].startswith("/static/vendor/leaflet/")
    market = [code for code, _ in dict(settings["groups"])["市场秩序"]]
    assert market.index("09020") < market.index("09002")  # items people often report (with keywords) first


def test_the_mine_page_is_a_shell_that_needs_no_categories(client):
    response = client.get("/m/mine")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "我的上报" in page and "回执码" in page
    assert "groups" not in settings_of(page)
    assert client.get("/m").status_code == 308


@pytest.mark.parametrize("path", ["/m/", "/m/mine"])
def test_pages_load_nothing_from_other_hosts_and_stay_small(ctx, client, path):
    page = client.get(path).get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert urls and all(url.startswith("/") and not url.startswith("//") for url in urls)
    scripts = [
        "shared/page.js",
        "mobile/phone.js",
        "mobile/store.js",
        "mobile/outbox.js",
        "mobile/mobile.css",
        f"mobile/{'submit' if path == '/m/' else 'mine'}.js",
    ]
    if path == "/m/":
        scripts.append("mobile/location.js")  # Leaflet loads only if the map opens
    weight = len(page.encode()) + sum(os.path.getsize(os.path.join(STATIC, name)) for name in scripts)
    assert weight < 80_000, weight  # uncompressed; a slow 2G link carries it in a few seconds


def test_citizen_groups_follow_what_people_see():
    class C:
        def __init__(self, code, major):
            self.code, self.major_code = code, major

    cases = {
        ("06010", "06"): "市容环境",
        ("01001", "01"): "道路设施",
        ("09009", "09"): "交通文明",
        ("L90001", "L9"): "交通文明",
        ("09006", "09"): "市场秩序",
        ("L09001", "09"): "市场秩序",
        ("L90004", "L9"): "文明行为",
        ("08001", "08"): "施工工地",
        ("10001", "10"): "其他问题",
    }
    for (code, major), group in cases.items():
        assert citizen_group(C(code, major)) == group and group in CITIZEN_GROUPS


# ---- category suggestions ---------------------------------------------------------------------


def test_suggestions_come_from_the_description(ctx, client):
    body = client.get("/api/v1/categories/suggest", query_string={"text": "楼下有人飞线充电，电瓶车充电线从楼上拉下来"})
    assert body.status_code == 200
    first = body.get_json()["suggestions"][0]
    assert first["code"] == "L06001" and first["group"] == "市容环境" and first["score"] > 0
    garbage = client.get("/api/v1/categories/suggest", query_string={"text": "路边有暴露垃圾"}).get_json()
    assert garbage["suggestions"][0] == {"code": "06010", "name": "暴露垃圾", "group": "市容环境", "score": 6.0}
    assert client.get("/api/v1/categories/suggest", query_string={"text": "  "}).get_json() == {"suggestions": []}


def test_suggestions_validate_their_query(client):
    assert_error(client.get("/api/v1/categories/suggest"), 422, "validation_failed")
    assert_error(client.get("/api/v1/categories/suggest", query_string={"text": "x" * 2001}), 422, "validation_failed")
    assert_error(
        client.get("/api/v1/categories/suggest", query_string={"text": "垃圾", "q": "1"}), 422, "validation_failed"
    )


# ---- the page's submit, replayed ---------------------------------------------------------------


def test_the_upload_answer_carries_the_photo_gps_for_the_page(loop, client):
    media = upload(client, gps=INSIDE)
    assert media["gps"]["lat"] == pytest.approx(INSIDE[0], abs=1e-5) and "/thumb/" in media["thumb_url"]
    assert "original_url" not in media
    assert upload(client)["gps"] is None


def test_a_resent_submit_gives_back_the_same_report_and_receipt(loop, client):
    media = upload(client, gps=INSIDE)
    fields = {
        "media_ids": [media["id"]],
        "category": "06010",
        "description": "暴露垃圾",
        "lat": INSIDE[0],
        "lon": INSIDE[1],
        "crs": "wgs84",
        "accuracy": 12,
        "location_source": "device",
    }
    first = submit(client, "7d1f0c1e-1111-4a2b-8c3d-000000000001", **fields)
    again = submit(client, "7d1f0c1e-1111-4a2b-8c3d-000000000001", **fields)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["receipt_token"] == first.get_json()["receipt_token"]
    assert db.session.scalar(select(func.count()).select_from(Report)) == 1


# ---- 我的上报 by receipts --------------------------------------------------------------------------


def anonymous_report(client, key, contact=None):
    media = upload(client, gps=INSIDE)
    fields = {"media_ids": [media["id"]], "category": "06010", "description": "暴露垃圾"}
    body = submit(client, key, **fields, **({"contact": contact} if contact else {})).get_json()
    return body["id"], body["receipt_token"]


def test_receipts_fetch_this_phones_reports_with_timeline_and_actions(loop, client):
    first = anonymous_report(client, "k-first", contact="13800000000")
    second = anonymous_report(client, "k-second")
    answer = lookup(client, second, first, (first[0], "not-the-token"), ("QJ20990101-0001", "x"))
    assert answer.status_code == 200
    body = answer.get_json()
    assert [r["id"] for r in body["reports"]] == [second[0], first[0]]  # asked order; a repeated id once
    assert body["unknown"] == ["QJ20990101-0001"]
    report = body["reports"][1]
    assert report["status"] == "submitted" and report["unit"]["name"] == "区城市管理局"
    assert report["allowed_actions"] == ["add_evidence"]
    assert [e["action"] for e in report["events"]] == ["submit"]
    text = json.dumps(body, ensure_ascii=False)
    assert "13800000000" not in text and "original_url" not in text and "contact" not in text


def test_a_wrong_token_is_unknown_whether_or_not_the_case_exists(loop, client):
    rid, _ = anonymous_report(client, "k-one")
    body = lookup(client, (rid, "guess"), ("QJ20990101-0001", "guess")).get_json()
    assert body == {"reports": [], "unknown": [rid, "QJ20990101-0001"]}


def test_a_closed_case_offers_the_rating_and_shows_the_after_photo(loop, client):
    rid, token = anonymous_report(client, "k-close")
    for who, action, fields in PATHS["closed"]:
        loop.ok(rid, who, action, **({"media_ids": [loop.upload(who)]} if fields == "photo" else fields))
    report = lookup(client, (rid, token)).get_json()["reports"][0]
    assert report["status"] == "closed" and "rate" in report["allowed_actions"]
    assert sorted(p["kind"] for p in report["photos"]) == ["after", "evidence"]
    assert all("/display/" in p["display_url"] and "/thumb/" in p["thumb_url"] for p in report["photos"])

    rated = client.post(
        f"/api/v1/reports/{rid}/transitions", json={"action": "rate", "rating": 5}, headers={"X-Receipt-Token": token}
    )
    assert rated.status_code == 200
    report = lookup(client, (rid, token)).get_json()["reports"][0]
    assert (report["status"], report["rating"], report["allowed_actions"]) == ("rated", 5, [])


def test_a_signed_in_citizens_report_has_no_receipt_to_look_up(loop, client):
    _, headers = make_user("citizen-a", "citizen")
    media = upload(client, gps=INSIDE)
    body = client.post("/api/v1/reports", json={"media_ids": [media["id"]]}, headers=headers).get_json()
    assert "receipt_token" not in body
    assert lookup(client, (body["id"], "anything")).get_json()["unknown"] == [body["id"]]


@pytest.mark.parametrize(
    "payload, status, code",
    [
        ("not json", 400, "malformed_json"),
        ([], 400, "malformed_json"),
        ({}, 422, "validation_failed"),
        ({"receipts": []}, 422, "validation_failed"),
        ({"receipts": [{"id": "QJ1"}]}, 422, "validation_failed"),
        ({"receipts": [{"id": "QJ1", "receipt_token": "t", "extra": 1}]}, 422, "validation_failed"),
        (
            {"receipts": [{"id": f"QJ{i}", "receipt_token": "t"} for i in range(MAX_RECEIPTS + 1)]},
            422,
            "validation_failed",
        ),
    ],
)
def test_lookup_rejects_malformed_requests(client, payload, status, code):
    if isinstance(payload, str):
        response = client.post("/api/v1/receipts/lookup", data=payload, content_type="application/json")
    else:
        response = client.post("/api/v1/receipts/lookup", json=payload)
    assert_error(response, status, code)


def test_lookup_answers_fifty_receipts_in_one_request(loop, client):
    made = [anonymous_report(client, f"k-{i}") for i in range(3)]
    filler = [(f"QJ20990101-{i:04d}", "t") for i in range(MAX_RECEIPTS - len(made))]
    body = lookup(client, *made, *filler).get_json()
    assert [r["id"] for r in body["reports"]] == [rid for rid, _ in made]
    assert len(body["unknown"]) == MAX_RECEIPTS - len(made)
