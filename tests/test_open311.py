"""Open311 GeoReport v2 over the Flask test client: every endpoint in JSON and XML,
spec-shaped errors, GET filters and limits, and privacy of what is published."""

import io
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from civicreport.accounts import auth
from civicreport.cases.models import Report, ReportEvent
from civicreport.db_types import utcnow
from civicreport.extensions import db
from civicreport.geo.crs import wgs84_to_gcj02
from civicreport.geo.geojson import to_geojson_text
from civicreport.geo.grid import lattice
from civicreport.open311 import clients as open311_clients
from civicreport.open311 import service as open311_service
from civicreport.reference.areas import Community, GridCellArea, Street
from civicreport.reference.grid import invalidate_grid_index
from tests.factories import (
    FAR_AWAY,
    INSIDE,
    make_geography,
    make_rule,
    make_unit,
    make_user,
    photo_bytes,
)
from tests.helpers import fetch, post_report
from tests.open311_xml import BASE, parse, rows, spec_errors


@pytest.fixture
def city(ctx):
    make_geography()
    cgj = make_unit("cgj", "urban_management", "区城市管理局")
    make_rule(cgj, major="06")
    _, supervisor = make_user("sup", "supervisor")
    return {"key": open311_clients.create("hotline-12345")[1], "supervisor": supervisor, "unit": cgj}


def post(client, fmt="json", query=None, headers=None, **form):
    url = f"{BASE}/requests.{fmt}"
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return client.post(url, data=form, headers=headers or {})


def filed(client, key, fmt="json", **form):
    """POST a request that must succeed; returns its service_request_id."""
    fields = {
        "service_code": "06010",
        "lat": INSIDE[0],
        "long": INSIDE[1],
        "description": "路边暴露垃圾",
        "api_key": key,
        **form,
    }
    fields = {k: v for k, v in fields.items() if v is not None}
    response = post(client, fmt, **fields)
    assert response.status_code == 201, response.data.decode()
    if fmt == "xml":
        return rows(parse(response, "service_requests"))[0]["service_request_id"]
    return response.get_json()[0]["service_request_id"]


def one(client, request_id, fmt="json"):
    response = client.get(f"{BASE}/requests/{request_id}.{fmt}")
    assert response.status_code == 200, response.data.decode()
    if fmt == "xml":
        return rows(parse(response, "service_requests"))[0]
    body = response.get_json()
    assert isinstance(body, list) and len(body) == 1
    return body[0]


def test_discovery_in_both_formats(client):
    body = client.get(f"{BASE}/discovery.json").get_json()
    endpoint = body["endpoints"][0]
    assert endpoint["url"] == "http://localhost/open311/v2"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}
    document = parse(client.get(f"{BASE}/discovery.xml"), "discovery")
    assert document.findtext("endpoints/endpoint/url") == "http://localhost/open311/v2"
    assert [f.text for f in document.find("endpoints/endpoint/formats")] == endpoint["formats"]
    assert document.findtext("contact") == body["contact"]


def test_services_are_the_active_categories(client):
    services = client.get(f"{BASE}/services.json").get_json()
    by_code = {s["service_code"]: s for s in services}
    categories = client.get("/api/v1/categories").get_json()["categories"]
    assert sorted(by_code) == sorted(c["code"] for c in categories)
    assert {c["code"]: c["name"] for c in categories}["06010"] == by_code["06010"]["service_name"]
    manhole = by_code["01002"]
    assert manhole["group"] == "部件" and manhole["type"] == "realtime" and manhole["metadata"] is True
    assert manhole["keywords"] == "污水井,化粪,污水井盖"
    assert {s["group"] for s in services} == {"部件", "事件", "文明行为"}

    xml = rows(parse(client.get(f"{BASE}/services.xml"), "services"))
    assert [s["service_code"] for s in xml] == [s["service_code"] for s in services]
    assert xml[[s["service_code"] for s in xml].index("01002")]["service_name"] == manhole["service_name"]
    assert {s["metadata"] for s in xml} == {"true"}


def test_service_definition_in_both_formats(client):
    body = client.get(f"{BASE}/services/06010.json").get_json()
    assert body["service_code"] == "06010"
    crs = {a["code"]: a for a in body["attributes"]}["crs"]
    assert crs["datatype"] == "singlevaluelist" and crs["required"] is False
    assert [v["key"] for v in crs["values"]] == ["wgs84", "gcj02", "bd09"]
    document = parse(client.get(f"{BASE}/services/L90001.xml"), "service_definition")
    assert document.findtext("service_code") == "L90001"
    assert [a.findtext("code") for a in document.find("attributes")] == ["crs", "accuracy"]
    assert document.findtext("attributes/attribute/values/value/name") == "WGS-84（GPS）"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_and_jurisdiction_are_404(client, fmt):
    assert "service_not_found" in spec_errors(client.get(f"{BASE}/services/99999.{fmt}"), 404, fmt)[0]
    wrong = client.get(f"{BASE}/services.{fmt}?jurisdiction_id=sfgov.org")
    assert "jurisdiction_not_found" in spec_errors(wrong, 404, fmt)[0]
    assert client.get(f"{BASE}/services.{fmt}?jurisdiction_id=500110").status_code == 200


def test_post_json_files_a_routed_open311_report(client, city):
    response = post(
        client,
        service_code="06010",
        lat=INSIDE[0],
        long=INSIDE[1],
        description="路边有暴露垃圾",
        api_key=city["key"],
        email="li@example.cn",
        first_name="雷",
        last_name="李",
        phone="13800000000",
        device_id="dev-1",
        account_id="acct-9",
        media_url="https://example.cn/p.jpg",
    )
    assert response.status_code == 201, response.data.decode()
    [answer] = response.get_json()
    assert answer["service_request_id"].startswith("QJ")
    assert "token" not in answer and "区城市管理局" in answer["service_notice"]  # the spec: id or token

    report = db.session.scalar(select(Report).where(Report.public_id == answer["service_request_id"]))
    assert report.channel == "open311" and report.status == "submitted"
    assert report.unit.code == "cgj" and report.category_code == "06010"
    assert report.contact == "李 雷 / li@example.cn / 13800000000"
    assert report.location_source == "device" and report.media == []
    submit = db.session.scalar(select(ReportEvent).where(ReportEvent.report_id == report.id))
    assert submit.data["client"] == {
        "media_url": "https://example.cn/p.jpg",
        "device_id": "dev-1",
        "account_id": "acct-9",
    }

    shown = one(client, answer["service_request_id"])
    assert shown["status"] == "open" and shown["status_notes"] == "已收到，等待受理"
    assert shown["agency_responsible"] == "区城市管理局"
    assert shown["service_code"] == "06010" and shown["media_url"] == "https://example.cn/p.jpg"  # as posted
    assert shown["address"] == "綦江区古南街道长乐社区"
    assert shown["lat"] == pytest.approx(INSIDE[0]) and shown["long"] == pytest.approx(INSIDE[1])
    assert "+08:00" in shown["requested_datetime"]


def test_post_xml_multipart_with_key_in_query_and_photo(client, city, storage):
    raw = photo_bytes((2000, 1500), gps=INSIDE)
    response = client.post(
        f"{BASE}/requests.xml?api_key={city['key']}",
        data={"service_code": "06010", "description": "垃圾桶满溢", "media": (io.BytesIO(raw), "p.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.data.decode()
    [answer] = rows(parse(response, "service_requests"))
    report = db.session.scalar(select(Report).where(Report.public_id == answer["service_request_id"]))
    assert report.location_source == "exif" and len(report.media) == 1

    shown = one(client, answer["service_request_id"], "xml")
    media = report.media[0]
    assert media.display_key in shown["media_url"] and media.original_key not in shown["media_url"]
    status, data = fetch(client, shown["media_url"])
    assert status == 200 and data != raw and data[:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_api_key_missing_or_invalid_is_403(client, city, fmt):
    fields = {"service_code": "06010", "lat": INSIDE[0], "long": INSIDE[1]}
    assert "api_key_required" in spec_errors(post(client, fmt, **fields), 403, fmt)[0]
    assert "invalid_api_key" in spec_errors(post(client, fmt, api_key="not-a-token", **fields), 403, fmt)[0]
    supervisor_token = city["supervisor"]["Authorization"].split()[1]
    assert "invalid_api_key" in spec_errors(post(client, fmt, api_key=supervisor_token, **fields), 403, fmt)[0]
    auth.logout(f"Bearer {supervisor_token}")
    assert "invalid_api_key" in spec_errors(post(client, fmt, api_key=supervisor_token, **fields), 403, fmt)[0]
    assert db.session.scalar(select(Report)) is None


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_input_is_400_with_one_error_per_field(client, city, fmt):
    key = city["key"]
    missing = spec_errors(post(client, fmt, api_key=key, lat="abc", long=INSIDE[1]), 400, fmt)
    assert any(d.startswith("validation_failed: service_code:") for d in missing)
    assert any(d.startswith("validation_failed: lat:") for d in missing)
    assert (
        "service_not_found"
        in spec_errors(post(client, fmt, api_key=key, service_code="99999", lat=INSIDE[0], long=INSIDE[1]), 404, fmt)[0]
    )
    half = spec_errors(post(client, fmt, api_key=key, service_code="06010", lat=INSIDE[0]), 400, fmt)
    assert half == ["validation_failed: lat: lat 和 long 必须同时提供"]
    outside = spec_errors(
        post(client, fmt, api_key=key, service_code="06010", lat=FAR_AWAY[0], long=FAR_AWAY[1]), 400, fmt
    )
    assert outside[0].startswith("outside_service_area") and "长乐社区" in outside[0]
    nowhere = spec_errors(post(client, fmt, api_key=key, service_code="06010"), 400, fmt)
    assert "location_required" in nowhere[0]
    attrs = spec_errors(
        post(
            client,
            fmt,
            api_key=key,
            service_code="06010",
            lat=INSIDE[0],
            long=INSIDE[1],
            **{"attribute[crs]": "utm", "attribute[colour]": "red"},
        ),
        400,
        fmt,
    )
    assert sorted(attrs) == [
        "invalid_attribute: attribute[colour]: 未定义的属性",
        "invalid_attribute: attribute[crs]: 取值不在列表中",
    ]
    wrong = post(client, fmt, api_key=key, service_code="06010", lat=INSIDE[0], long=INSIDE[1], jurisdiction_id="other")
    assert "jurisdiction_not_allowed" in spec_errors(wrong, 403, fmt)[0]
    assert db.session.scalar(select(Report)) is None


def test_attributes_feed_crs_and_accuracy(client, city):
    gcj_lat, gcj_lon = wgs84_to_gcj02(*INSIDE)
    request_id = filed(
        client, city["key"], lat=gcj_lat, long=gcj_lon, **{"attribute[crs]": "gcj02", "attribute[accuracy]": "12.5"}
    )
    report = db.session.scalar(select(Report).where(Report.public_id == request_id))
    assert report.input_crs == "gcj02" and report.accuracy_m == 12.5
    assert report.lat == pytest.approx(INSIDE[0], abs=1e-5) and report.lon == pytest.approx(INSIDE[1], abs=1e-5)


def test_address_string_is_placed_in_the_named_community(client, city):
    request_id = filed(client, city["key"], lat=None, long=None, address_string="綦江区古南街道长乐社区菜场门口")
    report = db.session.scalar(select(Report).where(Report.public_id == request_id))
    assert report.community_code == "500110001001" and report.location_source == "manual"
    assert report.accuracy_m > 100
    unknown = post(client, api_key=city["key"], service_code="06010", address_string="某某路 1 号")
    assert "address_not_located" in spec_errors(unknown, 400)[0]


def test_address_naming_two_communities_needs_the_street(client, city):
    """A second 长乐社区 in another street: the bare name is ambiguous, the street decides."""
    db.session.add(Street(code="500110002", name="文龙街道", district_code="500110"))
    db.session.add(Community(code="500110002001", name="长乐社区", street_code="500110002"))
    for number, geom in enumerate((g for row in lattice(29.0300, 106.6460, 29.0318, 106.6481) for g in row), 1):
        db.session.add(
            GridCellArea(
                code=f"500110002001{number:03d}",
                community_code="500110002001",
                boundary=to_geojson_text(geom),
                centroid_lat=geom.centroid.y,
                centroid_lon=geom.centroid.x,
            )
        )
    db.session.commit()
    invalidate_grid_index()
    ambiguous = post(client, api_key=city["key"], service_code="06010", address_string="长乐社区门口")
    assert "address_ambiguous" in spec_errors(ambiguous, 400)[0]
    for street, community in (("文龙街道", "500110002001"), ("古南街道", "500110001001")):
        request_id = filed(client, city["key"], lat=None, long=None, address_string=f"{street}长乐社区门口")
        assert db.session.scalar(select(Report.community_code).where(Report.public_id == request_id)) == community


def test_contact_longer_than_the_private_field_is_400(client, city):
    response = post(
        client,
        api_key=city["key"],
        service_code="06010",
        lat=INSIDE[0],
        long=INSIDE[1],
        email="a" * 70 + "@example.cn",
        first_name="张" * 40,
        phone="13800000000",
    )
    assert spec_errors(response, 400)[0].startswith("contact_too_long: email: ")


def test_photo_rules_apply_to_open311_uploads(client, city):
    broken = client.post(
        f"{BASE}/requests.json",
        content_type="multipart/form-data",
        data={
            "api_key": city["key"],
            "service_code": "06010",
            "lat": INSIDE[0],
            "long": INSIDE[1],
            "media": (io.BytesIO(b"not an image at all"), "x.jpg"),
        },
    )
    assert spec_errors(broken, 400)[0].startswith("unsupported_image_type: ")
    big = client.post(
        f"{BASE}/requests.xml",
        content_type="multipart/form-data",
        data={
            "api_key": city["key"],
            "service_code": "06010",
            "lat": INSIDE[0],
            "long": INSIDE[1],
            "media": [(io.BytesIO(photo_bytes()), f"{i}.jpg") for i in range(7)],
        },
    )
    assert spec_errors(big, 400, "xml")[0].startswith("too_many_photos: ")
    assert db.session.scalar(select(Report)) is None


def test_idempotency_key_replays_the_same_request(client, city):
    fields = {"api_key": city["key"], "service_code": "06010", "lat": INSIDE[0], "long": INSIDE[1]}
    first = post(client, headers={"Idempotency-Key": "hotline-call-77"}, **fields)
    again = post(client, "xml", headers={"Idempotency-Key": "hotline-call-77"}, **fields)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert rows(parse(again, "service_requests"))[0]["service_request_id"] == first.get_json()[0]["service_request_id"]
    changed = post(client, headers={"Idempotency-Key": "hotline-call-77"}, **fields, description="别的")
    assert "idempotency_key_reused" in spec_errors(changed, 400)[0]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_request_by_id_and_token(client, city, fmt):
    """POST answers the id alone; a token issued while it answered both still resolves."""
    response = post(client, fmt, api_key=city["key"], service_code="06010", lat=INSIDE[0], long=INSIDE[1])
    answer = rows(parse(response, "service_requests"))[0] if fmt == "xml" else response.get_json()[0]
    assert "token" not in answer
    report = db.session.scalar(select(Report).where(Report.public_id == answer["service_request_id"]))
    answer["token"] = open311_service.token_for(report)
    token_response = client.get(f"{BASE}/tokens/{answer['token']}.{fmt}")
    assert token_response.status_code == 200
    resolved = rows(parse(token_response, "service_requests"))[0] if fmt == "xml" else token_response.get_json()[0]
    assert resolved == {"service_request_id": answer["service_request_id"], "token": answer["token"]}
    assert one(client, answer["service_request_id"], fmt)["service_request_id"] == answer["service_request_id"]

    forged = answer["token"][:-2] + ("AA" if not answer["token"].endswith("AA") else "BB")
    assert "token_not_found" in spec_errors(client.get(f"{BASE}/tokens/{forged}.{fmt}"), 404, fmt)[0]
    assert "report_not_found" in spec_errors(client.get(f"{BASE}/requests/QJ19990101-0001.{fmt}"), 404, fmt)[0]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_paths_answer_in_the_spec_shape(client, fmt):
    assert "not_found" in spec_errors(client.get(f"{BASE}/nothing-here.{fmt}"), 404, fmt)[0]
    assert spec_errors(client.get(f"{BASE}/services.html"), 404)
    assert "method_not_allowed" in spec_errors(client.post(f"{BASE}/services.{fmt}"), 405, fmt)[0]
    assert "method_not_allowed" in spec_errors(client.delete(f"{BASE}/requests.{fmt}"), 405, fmt)[0]
    assert "not_found" in spec_errors(client.put(f"{BASE}/nothing.{fmt}"), 404, fmt)[0]


def _ids(client, query="", fmt="json"):
    response = client.get(f"{BASE}/requests.{fmt}{query}")
    assert response.status_code == 200, response.data.decode()
    found = rows(parse(response, "service_requests")) if fmt == "xml" else response.get_json()
    return [r["service_request_id"] for r in found]


def _age(public_id, days):
    report = db.session.scalar(select(Report).where(Report.public_id == public_id))
    report.created_at = utcnow() - timedelta(days=days)
    db.session.commit()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_request_filters(client, city, fmt):
    key, sup = city["key"], city["supervisor"]
    litter = filed(client, key)
    rejected = filed(client, key, service_code="L90004")
    old = filed(client, key)
    ancient = filed(client, key)
    assert (
        client.post(
            f"/api/v1/reports/{rejected}/transitions", json={"action": "reject", "note": "非本辖区"}, headers=sup
        ).status_code
        == 200
    )
    _age(old, 30)
    _age(ancient, 120)

    assert _ids(client, "", fmt) == [rejected, litter, old]  # newest first, default window 90 days
    assert sorted(_ids(client, f"?service_request_id={ancient},{litter}", fmt)) == sorted([ancient, litter])
    assert _ids(client, "?service_code=L90004", fmt) == [rejected]
    assert sorted(_ids(client, "?service_code=L90004,06010", fmt)) == sorted([rejected, litter, old])
    assert _ids(client, "?status=closed", fmt) == [rejected]
    assert _ids(client, "?status=open", fmt) == [litter, old]
    assert sorted(_ids(client, "?status=open,closed", fmt)) == sorted([rejected, litter, old])
    start = (utcnow() - timedelta(days=150)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (utcnow() - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _ids(client, f"?start_date={start}", fmt) == [ancient]
    assert _ids(client, f"?end_date={end}", fmt) == [old]
    local_day = (utcnow() + timedelta(hours=8) - timedelta(days=30)).strftime("%Y-%m-%d")
    assert old in _ids(client, f"?start_date={local_day}&end_date={local_day}T23:59:59", fmt)

    closed = next(r for r in client.get(f"{BASE}/requests.json?status=closed").get_json())
    assert closed["status_notes"] == "不予受理" and "非本辖区" not in json.dumps(closed, ensure_ascii=False)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_filters_are_400(client, fmt):
    assert "status" in spec_errors(client.get(f"{BASE}/requests.{fmt}?status=pending"), 400, fmt)[0]
    assert "start_date" in spec_errors(client.get(f"{BASE}/requests.{fmt}?start_date=yesterday"), 400, fmt)[0]
    too_long = client.get(f"{BASE}/requests.{fmt}?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z")
    assert "date_range_too_long" in spec_errors(too_long, 400, fmt)[0]
    backwards = client.get(f"{BASE}/requests.{fmt}?start_date=2026-06-01&end_date=2026-05-01")
    assert "invalid_date_range" in spec_errors(backwards, 400, fmt)[0]


def test_empty_list_is_well_formed(client, ctx):
    assert client.get(f"{BASE}/requests.json").get_json() == []
    assert len(parse(client.get(f"{BASE}/requests.xml"), "service_requests")) == 0


def test_at_most_1000_results(client, city):
    template = db.session.scalar(select(Report).where(Report.public_id == filed(client, city["key"])))
    columns = (
        "category_code",
        "description",
        "lat",
        "lon",
        "location_source",
        "grid_code",
        "community_code",
        "street_code",
        "district_code",
        "unit_id",
        "status",
        "channel",
    )
    now = utcnow()
    db.session.execute(
        insert(Report),
        [
            {
                **{c: getattr(template, c) for c in columns},
                "public_id": f"T{uuid.uuid4().hex[:20]}",
                "created_at": now - timedelta(minutes=n),
                "updated_at": now,
                "version": 1,
            }
            for n in range(1, 1006)
        ],
    )
    db.session.commit()
    listed = _ids(client)
    assert len(listed) == 1000 and listed[0] == template.public_id
    assert len(parse(client.get(f"{BASE}/requests.xml"), "service_requests")) == 1000


def test_published_requests_carry_no_private_data(client, city, storage):
    """Contact, reporter, originals and staff notes never leave through Open311."""
    raw = photo_bytes(gps=INSIDE)
    api = post_report(client, [raw], category="06010", description="井盖缺失", contact="13912345678")
    assert api.status_code == 201
    open311 = filed(client, city["key"], email="secret@example.cn", phone="13700001111", first_name="保密")
    report = db.session.scalar(select(Report).where(Report.public_id == api.get_json()["id"]))
    original = report.media[0].original_key
    for fmt in ("json", "xml"):
        body = client.get(f"{BASE}/requests.{fmt}").data.decode()
        for secret in (
            "13912345678",
            "secret@example.cn",
            "13700001111",
            "保密",
            original,
            "original",
            "hotline-12345",
            "receipt",
            "contact",
            "reporter",
        ):
            assert secret not in body, (fmt, secret)
        assert api.get_json()["id"] in body and open311 in body
    shown = one(client, api.get_json()["id"])
    assert shown["media_url"] and report.media[0].display_key in shown["media_url"]


def test_lifecycle_shows_in_status_notes_and_deadline(client, city):
    request_id = filed(client, city["key"])
    sup = city["supervisor"]
    for action in ("accept", "dispatch"):
        assert (
            client.post(f"/api/v1/reports/{request_id}/transitions", json={"action": action}, headers=sup).status_code
            == 200
        )
    shown = one(client, request_id)
    assert shown["status"] == "open" and shown["status_notes"] == "已派遣，等待处置单位接单"
    assert shown["expected_datetime"] and shown["expected_datetime"].endswith("+08:00")
    assert shown["agency_responsible"] == "区城市管理局"


def test_xml_stays_well_formed_with_control_characters_and_chinese(client, city):
    text = "井盖\x0b缺失\x1f，注意安全 ⚠️ <b>&amp;"
    request_id = filed(client, city["key"], "xml", description=text)
    shown = one(client, request_id, "xml")
    assert shown["description"] == "井盖缺失，注意安全 ⚠️ <b>&amp;"
    assert one(client, request_id)["description"].startswith("井盖")
