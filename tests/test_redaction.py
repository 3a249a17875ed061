"""Staff redact more areas of a case photo by hand: new public derivatives, old ones gone,
the original untouched, every redaction on the timeline."""

import hashlib

import pytest
from sqlalchemy import select

from civicreport.cases.models import Media, ReportEvent
from civicreport.extensions import db
from civicreport.media.images import process_photo
from civicreport.media.storage import object_keys
from tests.faces import (
    BACKGROUND,
    FACE,
    SIZE,
    edge_energy,
    face_photo,
    open_image,
    scaled,
)
from tests.factories import (
    INSIDE,
    make_geography,
    make_rule,
    make_unit,
    make_user,
    photo_bytes,
)
from tests.helpers import assert_error, fetch, post_report

INNER_FACE = (FACE[0] + FACE[2] * 15 // 100, FACE[1] + FACE[3] * 30 // 100, FACE[2] * 70 // 100, FACE[3] * 55 // 100)
SIGN = (1100, 820, 300, 200)  # a second area on the paving, e.g. a shop sign with a phone number


@pytest.fixture
def case(client, ctx):
    make_geography()
    make_rule(make_unit("cgj", "urban_management", "区城市管理局"), major="06")
    raw = face_photo()
    body = post_report(client, [raw], lat=INSIDE[0], lon=INSIDE[1], category="06010").get_json()
    _, headers = make_user("sup", "supervisor")
    return {
        "id": body["id"],
        "raw": raw,
        "media_id": body["photos"][0]["id"],
        "headers": headers,
        "display_url": body["photos"][0]["display_url"],
    }


def redact(client, case, boxes, headers=None, media_id=None, **extra):
    url = f"/api/v1/reports/{case['id']}/media/{media_id or case['media_id']}/redactions"
    return client.post(url, json={"boxes": boxes, **extra}, headers=case["headers"] if headers is None else headers)


def as_box(box):
    x, y, w, h = box
    return {"x": x, "y": y, "width": w, "height": h}


def plain(url):
    """The URL without its query: presigned S3 URLs differ by their signing time."""
    return url.split("?")[0]


def display_of(client, photo):
    status, data = fetch(client, photo["display_url"])
    assert status == 200
    return open_image(data)


def reference_display(raw):
    return open_image(process_photo(raw).display)


def test_supervisor_blurs_a_box_and_the_old_derivatives_disappear(client, case, storage):
    media = db.session.get(Media, case["media_id"])
    old_keys = media.display_key, media.thumb_key
    response = redact(client, case, [as_box(SIGN)], note="店招上有电话号码")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["event"]["action"] == "redact" and body["event"]["note"] == "店招上有电话号码"
    assert body["event"]["data"]["media_id"] == case["media_id"]
    assert body["event"]["data"]["detected"] == 1

    display, reference = display_of(client, body["photo"]), reference_display(case["raw"])
    sign, face, background = (scaled(box, SIZE, display.size) for box in (SIGN, INNER_FACE, BACKGROUND))
    assert edge_energy(display, sign) < 0.2 * edge_energy(reference, sign)
    assert edge_energy(display, face) < 0.2 * edge_energy(reference, face)  # the detected face stays blurred
    assert edge_energy(display, background) == pytest.approx(edge_energy(reference, background), rel=0.05)
    thumb = open_image(fetch(client, body["photo"]["thumb_url"])[1])
    reference_thumb = open_image(process_photo(case["raw"]).thumb)
    small_sign = scaled(SIGN, SIZE, thumb.size)
    assert edge_energy(thumb, small_sign) < 0.3 * edge_energy(reference_thumb, small_sign)

    db.session.expire_all()
    media = db.session.get(Media, case["media_id"])
    assert {media.display_key, media.thumb_key}.isdisjoint(old_keys)
    assert not any(storage.exists(key) for key in old_keys)
    assert fetch(client, case["display_url"])[0] in (403, 404)
    public = client.get(f"/api/v1/reports/{case['id']}").get_json()["photos"][0]
    assert plain(public["display_url"]) != plain(case["display_url"])
    status, original = fetch(client, body["photo"]["original_url"], case["headers"])
    assert status == 200 and original == case["raw"]
    assert storage.get(media.original_key) == case["raw"]
    assert hashlib.sha256(original).hexdigest() == media.sha256


def test_redactions_add_up_and_stay_on_the_timeline(client, case):
    assert redact(client, case, [as_box(SIGN)]).status_code == 201
    fractions = {
        "x": BACKGROUND[0] / SIZE[0],
        "y": BACKGROUND[1] / SIZE[1],
        "width": BACKGROUND[2] / SIZE[0],
        "height": BACKGROUND[3] / SIZE[1],
    }
    second = redact(client, case, [fractions], units="fraction")
    assert second.status_code == 201, second.get_json()
    display, reference = display_of(client, second.get_json()["photo"]), reference_display(case["raw"])
    for box in (SIGN, BACKGROUND, INNER_FACE):
        area = scaled(box, SIZE, display.size)
        assert edge_energy(display, area) < 0.2 * edge_energy(reference, area), box

    events = client.get(f"/api/v1/reports/{case['id']}/events", headers=case["headers"]).get_json()["events"]
    redactions = [e for e in events if e["action"] == "redact"]
    assert len(redactions) == 2
    assert redactions[0]["data"]["boxes"] == [[0.6875, 0.683333, 0.875, 0.85]]
    assert redactions[1]["data"]["boxes"] == [[0.05, 0.683333, 0.3, 0.933333]]
    assert all(e["from_status"] == e["to_status"] == "submitted" for e in redactions)
    public = client.get(f"/api/v1/reports/{case['id']}/events").get_json()["events"]
    assert all("data" not in e and "note" not in e for e in public)


def test_the_same_boxes_again_change_nothing_but_the_timeline(client, case, storage):
    first = redact(client, case, [as_box(SIGN)]).get_json()["photo"]
    keys = sorted(storage.iter_keys())
    again = redact(client, case, [as_box(SIGN)]).get_json()["photo"]
    assert plain(again["display_url"]) == plain(first["display_url"]) and sorted(storage.iter_keys()) == keys
    assert db.session.scalar(
        select(ReportEvent).where(ReportEvent.action == "redact").order_by(ReportEvent.id.desc())
    ).data["boxes"] == [[0.6875, 0.683333, 0.875, 0.85]]


@pytest.mark.parametrize("role", ["monitor", "leader", "unit_staff", "citizen"])
def test_only_supervisors_and_admins_redact(client, case, role):
    unit = "cgj" if role == "unit_staff" else None
    _, headers = make_user(f"u-{role}", role, unit_code=unit)
    assert_error(redact(client, case, [as_box(SIGN)], headers=headers), 403, "forbidden")


def test_anonymous_callers_must_log_in_and_admins_may_redact(client, case):
    assert redact(client, case, [as_box(SIGN)], headers={}).status_code == 401
    _, admin = make_user("root", "admin")
    assert redact(client, case, [as_box(SIGN)], headers=admin).status_code == 201


def test_bad_boxes_and_unknown_photos(client, case):
    assert_error(redact(client, case, [as_box((5000, 10, 20, 20))]), 422, "box_outside_image")
    assert_error(redact(client, case, []), 422, "validation_failed")
    assert_error(
        redact(client, case, [{"x": 0.5, "y": 0.5, "width": 2, "height": 0.1}], units="fraction"),
        422,
        "validation_failed",
    )
    assert_error(redact(client, case, [{"x": 1, "y": 1, "width": 0, "height": 5}]), 422, "validation_failed")
    assert_error(redact(client, case, [as_box(SIGN)], media_id="nope"), 404, "media_not_found")
    assert_error(
        client.post(
            f"/api/v1/reports/{case['id']}/media/{case['media_id']}/redactions", data="x", headers=case["headers"]
        ),
        400,
        "malformed_json",
    )
    assert_error(redact(client, {**case, "id": "QJ00000000-0000"}, [as_box(SIGN)]), 404, "report_not_found")
    assert db.session.scalar(select(ReportEvent).where(ReportEvent.action == "redact")) is None


def test_a_photo_of_another_case_is_not_found(client, case):
    other = post_report(client, [photo_bytes(gps=INSIDE)], category="06010").get_json()
    assert_error(redact(client, case, [as_box(SIGN)], media_id=other["photos"][0]["id"]), 404, "media_not_found")


def test_another_case_with_the_same_photo_keeps_its_derivatives(client, case, storage):
    twin = post_report(client, [case["raw"]], lat=INSIDE[0], lon=INSIDE[1], category="06010").get_json()
    assert plain(twin["photos"][0]["display_url"]) == plain(case["display_url"])  # same bytes, same objects
    assert redact(client, case, [as_box(SIGN)]).status_code == 201
    twin_media = db.session.get(Media, twin["photos"][0]["id"])
    assert storage.exists(twin_media.display_key) and storage.exists(twin_media.thumb_key)
    assert fetch(client, client.get(f"/api/v1/reports/{twin['id']}").get_json()["photos"][0]["display_url"])[0] == 200


def test_a_photo_with_nothing_detected_moves_off_its_plain_keys(client, case, storage):
    raw = photo_bytes((800, 600), gps=INSIDE)
    body = post_report(client, [raw], category="06010").get_json()
    keys = object_keys(hashlib.sha256(raw).hexdigest(), "jpeg")
    assert storage.exists(keys["display"])
    fresh = {**case, "id": body["id"], "media_id": body["photos"][0]["id"]}
    response = redact(client, fresh, [{"x": 0, "y": 0, "width": 400, "height": 600}])
    assert response.status_code == 201
    assert response.get_json()["event"]["data"]["detected"] == 0
    assert not storage.exists(keys["display"]) and not storage.exists(keys["thumb"])
    assert storage.get(db.session.get(Media, body["photos"][0]["id"]).original_key) == raw
