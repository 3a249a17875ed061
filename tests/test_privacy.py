"""Faces and plates blurred in public derivatives; contact details and originals kept out of
every public view. Photos are generated here; the corpus test skips without ../shared."""

import hashlib
import io
import json
import random
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image
from sqlalchemy import select

from civicreport.cases.models import Media, Report
from civicreport.cases.public_point import COARSE_M, COARSE_REACH_M, cells_within
from civicreport.extensions import db
from civicreport.geo.coarse import snap
from civicreport.geo.distance import distance_m
from civicreport.media.images import process_photo
from civicreport.media.privacy import (
    NullDetector,
    OpenCVDetector,
    Region,
    build_detector,
    redact,
    regions_digest,
)
from civicreport.media.storage import object_keys
from tests.faces import (
    BACKGROUND,
    FACE,
    SIZE,
    edge_energy,
    face_photo,
    open_image,
    scaled,
    street_scene,
)
from tests.factories import (
    COMMUNITY,
    INSIDE,
    NE_CORNER,
    STREET,
    make_rule,
    make_unit,
    make_user,
    photo_bytes,
)
from tests.helpers import PATHS, Loop, fetch, post_report, public_gets

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"
CONTACT = "13912345678"
AREA_FEEDS = [f"/feeds/areas/{COMMUNITY}.atom", f"/feeds/areas/{STREET}.atom"]  # the test grid's community and street
# A 店外经营 (09005, a report about what people do) stall: its ~50 m cell's centre differs from it at
# the fourth decimal, and so does every other point these tests place.
BEHAVIOUR_AT = (29.03237, 106.64063)
BEHAVIOUR_PRECISE = [f"{value:.4f}" for value in BEHAVIOUR_AT]
INNER_FACE = (FACE[0] + FACE[2] * 15 // 100, FACE[1] + FACE[3] * 30 // 100, FACE[2] * 70 // 100, FACE[3] * 55 // 100)


@pytest.fixture(scope="module")
def detector():
    return OpenCVDetector()


def inside(region, box, size):
    """Whether the pixel box (x, y, w, h) on ``size`` lies within ``region``."""
    left, top, right, bottom = region.pixels(size)
    x, y, w, h = box
    return left <= x and top <= y and x + w <= right and y + h <= bottom


# --- the detector and the blur, as plain Python ----------------------------------------


def test_detector_finds_the_generated_face_and_nothing_on_bare_paving(detector):
    faces = detector.detect(street_scene())
    assert [r.kind for r in faces] == ["face"]
    assert inside(faces[0], INNER_FACE, SIZE)
    assert detector.detect(street_scene(face=None)) == []


def test_detector_works_on_the_display_size_and_in_grey(detector):
    small = street_scene().resize((640, 480)).convert("L")
    assert [r.kind for r in detector.detect(small)] == ["face"]


def test_public_derivatives_blur_the_face_and_leave_the_rest(detector):
    data = face_photo()
    blurred = process_photo(data, detector=detector)
    plain = process_photo(data)  # same pipeline, nothing detected
    assert [r.kind for r in blurred.regions] == ["face"] and plain.regions == ()
    for name in ("display", "thumb"):
        ours, reference = open_image(getattr(blurred, name)), open_image(getattr(plain, name))
        face = scaled(INNER_FACE, SIZE, ours.size)
        background = scaled(BACKGROUND, SIZE, ours.size)
        assert edge_energy(ours, face) < 0.2 * edge_energy(reference, face), name
        assert edge_energy(ours, background) == pytest.approx(edge_energy(reference, background), rel=0.05), name
    assert blurred.phash == plain.phash  # duplicate checks see the same picture
    assert blurred.sha256 == plain.sha256 == hashlib.sha256(data).hexdigest()


def test_face_is_found_after_exif_rotation(detector):
    """The detector looks at the upright picture, so a phone's sideways JPEG still works."""
    exif = Image.Exif()
    exif[0x0112] = 6
    stored = street_scene().transpose(Image.Transpose.ROTATE_90)
    out = io.BytesIO()
    stored.save(out, "JPEG", quality=92, exif=exif.tobytes())
    photo = process_photo(out.getvalue(), detector=detector)
    assert photo.display_size == (1280, 960)
    assert [r.kind for r in photo.regions] == ["face"]
    assert inside(photo.regions[0], INNER_FACE, SIZE)


def test_manual_regions_are_blurred_with_nothing_detected():
    data = face_photo(face=None)
    manual = (Region.from_pixels(*BACKGROUND, SIZE),)
    photo = process_photo(data, detector=NullDetector(), manual=manual)
    plain = process_photo(data)
    display, reference = open_image(photo.display), open_image(plain.display)
    box = scaled(BACKGROUND, SIZE, display.size)
    assert edge_energy(display, box) < 0.2 * edge_energy(reference, box)
    assert photo.regions == manual


def test_region_from_pixels_clips_to_the_image_and_refuses_boxes_outside():
    region = Region.from_pixels(-10, 50, 60, 1000, (200, 100))
    assert (region.left, region.top, region.right, region.bottom) == (0.0, 0.5, 0.25, 1.0)
    assert region.pixels((200, 100)) == (0, 50, 50, 100)
    with pytest.raises(ValueError):
        Region.from_pixels(300, 0, 10, 10, (200, 100))
    with pytest.raises(ValueError):
        Region.from_fractions(0.5, 0.5, 0, 0.1)
    grown = Region(0.0, 0.4, 0.2, 0.6).expanded(0.5)
    assert grown.as_list() == [0.0, 0.3, 0.3, 0.7]


def test_redact_touches_only_the_region():
    image = street_scene(size=(400, 300), face=None)
    out = redact(image, [Region(0.5, 0.5, 1.0, 1.0)])
    assert out is not image and image.tobytes() == street_scene(size=(400, 300), face=None).tobytes()
    assert out.crop((0, 0, 200, 150)).tobytes() == image.crop((0, 0, 200, 150)).tobytes()
    assert edge_energy(out, (210, 160, 390, 290)) < 0.2 * edge_energy(image, (210, 160, 390, 290))
    assert redact(image, []) is image


def test_regions_digest_names_the_blurred_areas_not_their_order():
    a, b = Region(0.1, 0.1, 0.2, 0.2, "face"), Region(0.5, 0.5, 0.6, 0.7)
    assert regions_digest([]) == ""
    assert regions_digest([a, b]) == regions_digest([b, a]) != regions_digest([a])
    assert re.fullmatch(r"[0-9a-f]{16}", regions_digest([a]))
    sha = "ab" * 32
    keys = object_keys(sha, "jpeg", regions_digest([a]))
    assert keys["display"] == f"display/ab/ab/{sha}-{regions_digest([a])}.jpg"
    assert keys["original"] == object_keys(sha, "jpeg")["original"]
    with pytest.raises(ValueError):
        object_keys(sha, "jpeg", "../x")


def test_build_detector_by_name():
    assert isinstance(build_detector("opencv"), OpenCVDetector)
    assert build_detector("none").detect(street_scene()) == []
    with pytest.raises(ValueError):
        build_detector("yolo")
    with pytest.raises(ValueError):
        OpenCVDetector(directory="/nonexistent")


def test_privacy_module_imports_without_flask_or_models():
    code = (
        "import sys, civicreport.media.privacy\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'flask' "
        "or m.startswith(('civicreport.models', 'civicreport.services'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.corpus
def test_corpus_portraits_are_blurred_and_street_photos_are_not(detector):
    if not CORPUS.is_dir():
        pytest.skip("shared photo corpus not available")
    portraits = [
        "no-exif/hopper_no_exif_128x128.jpg",
        "heic/hopper_no_exif_128x128.heic",
        "formats/hopper_orientation_6_128x128.webp",
    ]
    scenes = [
        "gps/iphone6_gps_alt_madrid_3264x2448.jpg",
        "gps/nokia83_gps_helsinki_4608x1976.jpg",
        "heic/nokia83_hdr_gps_alt_4608x3456.heif",
        "orientation/Landscape_1.jpg",
    ]
    for name in portraits:
        photo = process_photo((CORPUS / name).read_bytes(), detector=detector)
        assert [r.kind for r in photo.regions] == ["face"], name
        display = open_image(photo.display)
        centre = display.width // 2 - 16, display.height // 3, display.width // 2 + 16, display.height // 2
        reference = open_image(process_photo((CORPUS / name).read_bytes()).display)
        assert edge_energy(display, centre) < 0.5 * edge_energy(reference, centre), name
    for name in scenes:
        assert process_photo((CORPUS / name).read_bytes(), detector=detector).regions == (), name


# --- over HTTP: the done-when check and the audit of public outputs ----------------------


def test_public_derivative_blurs_the_face_while_staff_get_the_upload_byte_for_byte(client, city_unit, storage):
    """Done when: a public derivative of a generated photo with a face shows the face
    blurred while the staff original is byte-identical to the upload."""
    raw = face_photo()
    body = post_report(client, [raw], lat=INSIDE[0], lon=INSIDE[1], category="06010").get_json()
    public = client.get(f"/api/v1/reports/{body['id']}").get_json()["photos"][0]
    assert public["sha256"] == hashlib.sha256(raw).hexdigest()
    status, display_bytes = fetch(client, public["display_url"])
    assert status == 200
    display = open_image(display_bytes)
    reference = open_image(process_photo(raw).display)
    face = scaled(INNER_FACE, SIZE, display.size)
    background = scaled(BACKGROUND, SIZE, display.size)
    assert edge_energy(display, face) < 0.2 * edge_energy(reference, face)
    assert edge_energy(display, background) == pytest.approx(edge_energy(reference, background), rel=0.05)
    thumb = open_image(fetch(client, public["thumb_url"])[1])
    assert edge_energy(thumb, scaled(INNER_FACE, SIZE, thumb.size)) < 0.3 * edge_energy(
        open_image(process_photo(raw).thumb), scaled(INNER_FACE, SIZE, thumb.size)
    )

    _, headers = make_user("sup", "supervisor")
    staff = client.get(f"/api/v1/reports/{body['id']}", headers=headers).get_json()["photos"][0]
    status, original = fetch(client, staff["original_url"], headers)
    assert status == 200 and original == raw
    assert hashlib.sha256(original).hexdigest() == staff["sha256"]
    # The unblurred derivative was never stored under the key its hash would give.
    plain_keys = object_keys(staff["sha256"], "jpeg")
    assert not storage.exists(plain_keys["display"]) and not storage.exists(plain_keys["thumb"])


def test_photo_without_faces_keeps_the_plain_keys(client, city_unit, storage):
    raw = photo_bytes(gps=INSIDE)
    body = post_report(client, [raw], category="06010").get_json()
    keys = object_keys(hashlib.sha256(raw).hexdigest(), "jpeg")
    assert storage.exists(keys["display"]) and storage.exists(keys["thumb"])
    assert len(list(storage.iter_keys())) == 3, body


def _assert_clean(label, text, private):
    for secret in private:
        assert secret not in text, f"{label} leaks {secret}"
    assert "originals/" not in text, label


def test_public_outputs_never_carry_contact_or_originals(app, client, city_unit):
    """Anonymous callers, the reporter's receipt and non-private staff (a monitor, another
    unit) get no contact and no original anywhere, whatever GET route they call."""
    raw = face_photo()
    submitted = post_report(
        client,
        [raw],
        lat=INSIDE[0],
        lon=INSIDE[1],
        category="06010",
        contact=CONTACT,
        notify="true",  # told by SMS as the case moves: the number still shows nowhere public
        description="路边垃圾",
    ).get_json()
    report_id = submitted["id"]
    _assert_clean("submit answer", json.dumps(submitted, ensure_ascii=False), [CONTACT])
    media = db.session.scalar(select(Media))
    private = [CONTACT, media.original_key]
    _, monitor = make_user("mon", "monitor")
    make_unit("other", "sanitation")
    _, stranger = make_user("u2", "unit_staff", unit_code="other")
    callers = {
        "anonymous": {},
        "receipt": {"X-Receipt-Token": submitted["receipt_token"]},
        "monitor": monitor,
        "other unit": stranger,
    }
    queries = {
        "/api/v1/queue": "?format=geojson",
        "/api/v1/duplicates": f"?lat={INSIDE[0]}&lon={INSIDE[1]}",
        "/api/v1/public/reports": "?format=geojson",  # the public map: the case shows there once verified
        "/feeds/areas/circle.atom": f"?lat={INSIDE[0]}&lon={INSIDE[1]}&r=500",
        "/api/v1/receipts/updates": f"?ids={report_id}",  # the phone's unread badge
    }
    publication_id = _on_the_exposure_board(client, report_id, monitor)
    private += [m.original_key for m in db.session.scalars(select(Media))]  # the unit's after photo too
    point = Report.lat, Report.lon
    precise = [
        f"{value:.4f}" for value in db.session.execute(select(*point).where(Report.public_id == report_id)).one()
    ]
    behaviour_id = _dispatched_behaviour_case(client, city_unit)["id"]  # someone else's stall: no caller here sees it
    queries["/api/v1/duplicates?behaviour"] = f"?lat={BEHAVIOUR_AT[0]}&lon={BEHAVIOUR_AT[1]}&category=09005"
    checked = exposure = 0
    routes = public_gets(app, report_id, media.id, publication_id=str(publication_id))
    behaviour_routes = public_gets(app, behaviour_id, media.id, publication_id=str(publication_id))
    for path in [*routes, *behaviour_routes, *AREA_FEEDS, "/api/v1/duplicates?behaviour"]:
        for who, headers in callers.items():
            response = client.get(path.removesuffix("?behaviour") + queries.get(path, ""), headers=headers)
            if response.mimetype.startswith("image/"):
                continue
            assert response.status_code < 500, f"{who} GET {path}"  # a crash could hide a leak
            text = response.get_data(as_text=True)
            _assert_clean(f"{who} GET {path}", text, private + BEHAVIOUR_PRECISE)
            if "exposure" in path:  # 曝光台: a behaviour case is placed by street and community alone
                _assert_clean(f"{who} GET {path}", text, precise + ['"lat"', '"lon"'])
                exposure += response.status_code == 200
            checked += 1
    assert checked > 20
    assert exposure >= 4 * len(callers)  # the public list and item, as API and as page


def _dispatched_behaviour_case(client, unit, **fields):
    """A 店外经营 report at BEHAVIOUR_AT, accepted and dispatched to ``unit``; its answer."""
    make_rule(unit, major="09")
    body = post_report(
        client, [photo_bytes(gps=BEHAVIOUR_AT)], lat=BEHAVIOUR_AT[0], lon=BEHAVIOUR_AT[1], category="09005", **fields
    ).get_json()
    supervisor = make_user("sup-09", "supervisor")[1]
    for action in ("accept", "dispatch"):
        response = client.post(f"/api/v1/reports/{body['id']}/transitions", json={"action": action}, headers=supervisor)
        assert response.status_code == 200, response.get_json()
    return body


def _on_the_exposure_board(client, report_id, monitor):
    """Drive the case to verified and publish it on the 曝光台; its publication id."""
    people = {
        "supervisor": make_user("sup", "supervisor")[1],
        "own_staff": make_user("staff", "unit_staff", unit_code="cgj")[1],
        "monitor": monitor,
    }
    loop = Loop(client, people)
    for who, action, fields in PATHS["verified"]:
        loop.ok(report_id, who, action, **({"media_ids": [loop.upload(who)]} if fields == "photo" else fields))
    client.get(f"/api/v1/exposure/preview?report={report_id}", headers=people["supervisor"])
    body = {"report": report_id, "kind": "uncivil", "note": "典型", "reviewed": True}
    response = client.post("/api/v1/exposure", json=body, headers=people["supervisor"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_the_public_map_and_feeds_never_place_a_behaviour_report_precisely(client, city_unit, supervisor):
    """Reports about what people do (闯红灯, 乱扔垃圾, 游商 …) show to about 50 m on every route of
    the public map and its feeds; a report about a thing keeps its point."""
    behaviour = post_report(
        client,
        [photo_bytes(gps=BEHAVIOUR_AT)],
        lat=BEHAVIOUR_AT[0],
        lon=BEHAVIOUR_AT[1],
        category="L90004",
        contact=CONTACT,
    ).get_json()["id"]
    thing = post_report(
        client, [photo_bytes(gps=NE_CORNER)], lat=NE_CORNER[0], lon=NE_CORNER[1], category="06010"
    ).get_json()["id"]
    for report_id in (behaviour, thing):
        client.post(f"/api/v1/reports/{report_id}/transitions", json={"action": "accept"}, headers=supervisor)
    precise = [*BEHAVIOUR_PRECISE, CONTACT]
    routes = [
        "/api/v1/public/reports",
        "/api/v1/public/reports?format=geojson",
        f"/api/v1/public/reports?format=geojson&bbox=106.6,29,106.7,29.1&group={quote('文明行为')}",
        f"/feeds/areas/circle.atom?lat={NE_CORNER[0]}&lon={NE_CORNER[1]}&r=2000",  # the query is echoed
        *AREA_FEEDS,
        "/map",
    ]
    for path in routes:
        response = client.get(path)
        assert response.status_code == 200, path
        _assert_clean(f"GET {path}", response.get_data(as_text=True), precise)
    listed = client.get("/api/v1/public/reports").get_json()["reports"]
    assert {r["id"]: r["approximate"] for r in listed} == {behaviour: True, thing: False}
    assert str(NE_CORNER[0]) in json.dumps(listed)  # a thing's point is shown as it is


# Every GET route that shows a case, its place or the cases near a place; {id} is the 店外经营 case.
POINT_ROUTES = [
    "/api/v1/reports/{id}",
    "/api/v1/reports/{id}/events",
    "/api/v1/reports/{id}/duplicates",  # triage, a monitor's too
    "/api/v1/queue",
    "/api/v1/queue?format=geojson",
    "/api/v1/queue?format=geojson&category=09005",  # one case: the totals' bbox is its extent
    f"/api/v1/duplicates?lat={BEHAVIOUR_AT[0]}&lon={BEHAVIOUR_AT[1]}&category=09005",  # 我也遇到了
    f"/api/v1/duplicates?lat={INSIDE[0]}&lon={INSIDE[1]}",
    "/api/v1/public/reports?format=geojson",
    f"/feeds/areas/circle.atom?lat={INSIDE[0]}&lon={INSIDE[1]}&r=300",
    f"/feeds/areas/{COMMUNITY}.atom",
    "/open311/v2/requests.json",
    "/open311/v2/requests.xml",
    "/open311/v2/requests/{id}.json",
    "/open311/v2/requests/{id}.xml",
    "/api/v1/receipts/updates?ids={id}",
    "/reports/{id}/notice",
    "/map",
    "/m/",
    "/m/mine",
    "/console",
    "/exposure",
]


@pytest.fixture
def stall_and_lid(client, city_unit, supervisor):
    """A 店外经营 case dispatched to cgj and an accepted 06010 case near it, with the callers who may
    not see the stall precisely: anyone, the other case's reporter, a monitor, another unit."""
    stall = _dispatched_behaviour_case(client, city_unit, contact=CONTACT)
    lid = post_report(client, [photo_bytes(gps=INSIDE)], lat=INSIDE[0], lon=INSIDE[1], category="06010").get_json()
    client.post(f"/api/v1/reports/{lid['id']}/transitions", json={"action": "accept"}, headers=supervisor)
    make_unit("other", "sanitation")
    callers = {
        "anonymous": {},
        "another case's receipt": {"X-Receipt-Token": lid["receipt_token"]},
        "monitor": make_user("mon", "monitor")[1],
        "other unit": make_user("u2", "unit_staff", unit_code="other")[1],
    }
    return stall, lid, callers


@pytest.mark.parametrize("route", POINT_ROUTES)
def test_no_route_places_a_behaviour_report_precisely_for_who_may_not_see_it(client, stall_and_lid, route):
    """Anyone, another case's receipt, a monitor not checking it and another unit never get the
    stall's point to 4 decimals, on any route that shows a case, its place or cases near a place."""
    stall, _, callers = stall_and_lid
    for who, headers in callers.items():
        response = client.get(route.format(id=stall["id"]), headers=headers)
        assert response.status_code < 500, f"{who} GET {route}"  # a crash could hide a leak
        _assert_clean(f"{who} GET {route}", response.get_data(as_text=True), BEHAVIOUR_PRECISE)


def test_the_cases_own_people_see_a_behaviour_report_precisely(client, stall_and_lid, supervisor):
    """The centre, the unit it was dispatched to and its reporter see the stall where it is; anyone
    else its cell's centre (approximate); a thing's case keeps its point for everyone."""
    stall, lid, _ = stall_and_lid
    own_staff = make_user("staff", "unit_staff", unit_code="cgj")[1]
    assert (stall["location"]["lat"], stall["location"]["lon"]) == BEHAVIOUR_AT  # the submit answer
    people = {"supervisor": supervisor, "own unit": own_staff, "reporter": {"X-Receipt-Token": stall["receipt_token"]}}
    for who, headers in people.items():
        location = client.get(f"/api/v1/reports/{stall['id']}", headers=headers).get_json()["location"]
        assert (location["lat"], location["lon"], location["approximate"]) == (*BEHAVIOUR_AT, False), who
    public = client.get(f"/api/v1/reports/{stall['id']}").get_json()["location"]
    assert (public["lat"], public["lon"], public["approximate"]) == (*snap(*BEHAVIOUR_AT, COARSE_M), True)
    mine = client.post(
        "/api/v1/receipts/lookup", json={"receipts": [{"id": stall["id"], "receipt_token": stall["receipt_token"]}]}
    )
    assert mine.get_json()["reports"][0]["location"]["lat"] == BEHAVIOUR_AT[0]  # 我的上报
    features = client.get("/api/v1/queue?format=geojson", headers=own_staff).get_json()["features"]
    assert [f["geometry"]["coordinates"] for f in features] == [[BEHAVIOUR_AT[1], BEHAVIOUR_AT[0]]]
    thing = client.get(f"/api/v1/reports/{lid['id']}").get_json()["location"]
    assert (thing["lat"], thing["lon"], thing["approximate"]) == (*INSIDE, False)
    request = client.get(f"/open311/v2/requests/{lid['id']}.json").get_json()[0]
    assert (request["lat"], request["long"]) == INSIDE


def test_a_monitor_sees_the_point_while_the_fix_awaits_their_check(client, stall_and_lid):
    """核查 is done on site: once the unit reports the stall gone, a monitor whose areas reach it sees
    where it stood; before that, its cell."""
    stall, _, callers = stall_and_lid
    assert client.get(f"/api/v1/reports/{stall['id']}", headers=callers["monitor"]).get_json()["location"][
        "approximate"
    ]
    loop = Loop(client, {"own_staff": make_user("staff", "unit_staff", unit_code="cgj")[1]})
    for who, action, fields in PATHS["resolved"][2:]:  # accepted and dispatched already
        loop.ok(stall["id"], who, action, **({"media_ids": [loop.upload(who)]} if fields == "photo" else fields))
    location = client.get(f"/api/v1/reports/{stall['id']}", headers=callers["monitor"]).get_json()["location"]
    assert (location["lat"], location["lon"], location["approximate"]) == (*BEHAVIOUR_AT, False)


def test_nearby_hints_place_a_behaviour_report_by_its_cell_alone(client, stall_and_lid, city_unit):
    """我也遇到了 offers the stall to a phone within 50 m of it at "约 50 米"; a second stall elsewhere in
    the same cell reads exactly the same from every point, so asking from point after point tells
    nothing finer than the cell. A thing's case keeps its distance to the decimetre."""
    stall, lid, _ = stall_and_lid
    twin_at = (29.03215, 106.64085)  # ~30 m from the stall, in its cell
    assert snap(*twin_at, COARSE_M) == snap(*BEHAVIOUR_AT, COARSE_M)
    twin = post_report(
        client, [photo_bytes(gps=twin_at, color=(30, 90, 200))], lat=twin_at[0], lon=twin_at[1], category="09005"
    ).get_json()["id"]
    for lat, lon in [BEHAVIOUR_AT, (29.03270, 106.64063), (29.03237, 106.64010), (29.0321, 106.6409)]:
        found = client.get(f"/api/v1/duplicates?lat={lat}&lon={lon}&category=09005").get_json()["candidates"]
        seen = {c["id"]: (c["distance_m"], c["approximate"]) for c in found}
        assert seen[stall["id"]] == seen[twin], (lat, lon)
        assert seen[stall["id"]] in {(50.0, True), (100.0, True)}, (lat, lon)
    lids = client.get(f"/api/v1/duplicates?lat={INSIDE[0]}&lon={INSIDE[1] + 0.0002}").get_json()["candidates"]
    assert [(c["id"], c["approximate"]) for c in lids] == [(lid["id"], False)]
    assert lids[0]["distance_m"] == pytest.approx(19.5, abs=0.5)  # 0.0002° of longitude at 29° N


def test_a_box_or_circle_finds_a_behaviour_report_by_its_cell(client, stall_and_lid, supervisor):
    """On the public map and in a monitor's queue, a box around the stall's real point that leaves out
    its cell's centre lists nothing, one around the centre lists it: shrinking boxes cannot pin it.
    The same for a circle's feed. The centre's queue finds it by its point."""
    stall, _, callers = stall_and_lid
    centre = snap(*BEHAVIOUR_AT, COARSE_M)

    def listed(lat, lon, path="/api/v1/public/reports", headers=None, d=0.00005):
        body = client.get(f"{path}?bbox={lon - d},{lat - d},{lon + d},{lat + d}", headers=headers).get_json()
        return [r["id"] for r in body.get("reports", body.get("items"))]

    assert listed(*BEHAVIOUR_AT) == [] and listed(*centre) == [stall["id"]]
    monitor = callers["monitor"]
    assert listed(*BEHAVIOUR_AT, "/api/v1/queue", monitor) == []
    assert listed(*centre, "/api/v1/queue", monitor) == [stall["id"]]
    assert listed(*BEHAVIOUR_AT, "/api/v1/queue", supervisor) == [stall["id"]]
    assert listed(*centre, "/api/v1/queue", supervisor) == []
    feed = "/feeds/areas/circle.atom?lat={}&lon={}&r=5"
    assert stall["id"] not in client.get(feed.format(*BEHAVIOUR_AT)).get_data(as_text=True)
    assert stall["id"] in client.get(feed.format(*centre)).get_data(as_text=True)


def test_every_point_of_a_cell_gets_the_same_centre():
    """A point's cell's centre tells nothing of where in the cell it lies: over a 200 m square every
    2 m, at most 5 × 5 cells' centres come out (one with a latitude step taken at each point's own
    latitude gave 94, its centre moving by decimetres across a cell), each its own centre, none
    further from its points than COARSE_REACH_M."""
    points = [(29.03 + i * 0.00002, 106.64 + j * 0.00002) for i in range(90) for j in range(90)]
    centres = {point: snap(*point, COARSE_M) for point in points}
    assert len(set(centres.values())) <= 25
    assert all(snap(*centre, COARSE_M) == centre for centre in set(centres.values()))
    assert max(distance_m(*point, *centre) for point, centre in centres.items()) <= COARSE_REACH_M


def test_the_cells_a_box_spells_out_are_those_whose_centres_it_holds():
    """The queue's box for a monitor (cells_within, conditions in SQL) keeps a point exactly when
    the box holds its cell's centre, as the public map's check on the shown point does."""
    rng = random.Random(3)
    for _ in range(100):
        south, west = 29.03 + rng.uniform(0, 0.003), 106.64 + rng.uniform(0, 0.003)
        box = (west, south, west + rng.uniform(0, 0.002), south + rng.uniform(0, 0.002))
        cells = list(cells_within(box))
        for _ in range(100):
            lat, lon = 29.029 + rng.uniform(0, 0.007), 106.639 + rng.uniform(0, 0.007)
            centre_lat, centre_lon = snap(lat, lon, COARSE_M)
            held = box[0] <= centre_lon <= box[2] and box[1] <= centre_lat <= box[3]
            assert held == any(w <= lon < e and s <= lat < n for w, s, e, n in cells), (box, lat, lon)


def test_anonymous_reports_show_no_reporter(client, city_unit):
    body = post_report(client, [photo_bytes(gps=INSIDE)], contact=CONTACT).get_json()
    public = client.get(f"/api/v1/reports/{body['id']}").get_json()
    assert not {"reporter", "contact", "channel"} & set(public)
    events = client.get(f"/api/v1/reports/{body['id']}/events").get_json()["events"]
    assert all(set(event) <= {"id", "action", "from_status", "to_status", "created_at"} for event in events)


def test_a_signed_in_citizen_is_not_named_publicly(client, city_unit):
    citizen, headers = make_user("zhang3", "citizen")
    body = post_report(client, [photo_bytes(gps=INSIDE)], headers, contact=CONTACT).get_json()
    text = client.get(f"/api/v1/reports/{body['id']}").get_data(as_text=True)
    assert "zhang3" not in text and CONTACT not in text and '"reporter"' not in text
