"""PRIVACY_MODE=worker: uploads skip face/plate detection, public views show no URL for the
photo until the worker's privacy pass has blurred it, and the pass renders exactly what an
inline upload would have stored. Runs on SQLite + local storage and PostgreSQL + S3."""

import io
import json
import threading
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select, update

from civicreport import create_app, registry
from civicreport.cases.models import Media, Report
from civicreport.cases.privacy_pass import clear_pending
from civicreport.db_types import utcnow
from civicreport.extensions import db
from civicreport.media.errors import StorageUnavailable
from civicreport.media.images import process_photo
from civicreport.media.privacy import OpenCVDetector, Region
from civicreport.media.storage import object_keys
from civicreport.open311.clients import create as create_open311_client
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
from tests.factories import INSIDE, NE_CORNER, SW_CORNER, make_unit, make_user
from tests.helpers import FailingOnPut, fetch, override_settings, post_report, public_gets

INNER_FACE = (FACE[0] + FACE[2] * 15 // 100, FACE[1] + FACE[3] * 30 // 100, FACE[2] * 70 // 100, FACE[3] * 55 // 100)


class CountingDetector:
    """Our ``Detector`` interface around a real detector, counting how often it runs."""

    name = "counting"

    def __init__(self, inner):
        self.inner = inner
        self.calls = 0

    def detect(self, image):
        self.calls += 1
        return self.inner.detect(image)


class FixedDetector:
    """Always "finds" the drawn face's box: inline and worker runs see the same regions."""

    name = "fixed"

    def detect(self, image):
        return [Region.from_pixels(*FACE, SIZE, kind="face")]


@pytest.fixture(scope="module")
def opencv():
    return OpenCVDetector()


@pytest.fixture
def people(city_unit):
    """Bearer headers of the staff who may see originals and pending photos."""
    return {"supervisor": make_user("sup", "supervisor")[1], "monitor": make_user("mon", "monitor")[1]}


@pytest.fixture
def worker_mode(app, monkeypatch, opencv):
    """The app in worker mode with a counting OpenCV detector; both restored afterwards."""
    counting = CountingDetector(opencv)
    override_settings(app, monkeypatch, PRIVACY_MODE="worker")
    monkeypatch.setattr(registry.of(app), "detector", counting)
    return counting


def submit(client, raw):
    response = post_report(client, [raw], lat=INSIDE[0], lon=INSIDE[1], category="06010")
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def public_photo(client, report_id, headers=None):
    return client.get(f"/api/v1/reports/{report_id}", headers=headers or {}).get_json()["photos"][0]


def media_row():
    db.session.rollback()  # see what the requests and the pass committed
    return db.session.scalar(select(Media))


def run_worker_once(app):
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output


def face_detail(client, url, raw, headers=None):
    """Detail left in the face box of the display at ``url``, as a share of the unblurred one."""
    status, data = fetch(client, url, headers)
    assert status == 200, url
    unblurred = process_photo(raw).display
    shown, reference = open_image(data), open_image(unblurred)
    assert shown.size == reference.size
    face, background = scaled(INNER_FACE, SIZE, shown.size), scaled(BACKGROUND, SIZE, shown.size)
    assert edge_energy(shown, background) == pytest.approx(edge_energy(reference, background), rel=0.05)
    return edge_energy(shown, face) / edge_energy(reference, face)


def test_upload_skips_detection_and_the_pass_blurs_the_face(app, client, people, storage, worker_mode):
    raw = face_photo()
    body = submit(client, raw)
    assert worker_mode.calls == 0  # nothing was detected inside the request
    assert body["photos"][0]["pending"] is True
    assert body["photos"][0]["display_url"] is None and body["photos"][0]["thumb_url"] is None

    shown = public_photo(client, body["id"])
    assert shown["pending"] is True and shown["display_url"] is None and shown["thumb_url"] is None
    receipt = client.post(
        "/api/v1/receipts/lookup", json={"receipts": [{"id": body["id"], "receipt_token": body["receipt_token"]}]}
    ).get_json()
    assert receipt["reports"][0]["photos"][0]["display_url"] is None

    media = media_row()  # only inspected: no derivative, no hash, nothing but the original stored
    assert media.privacy_pending and not media.unreadable
    assert (media.display_key, media.thumb_key, media.phash, media.bands) == (None, None, None, [])
    assert (media.width, media.height, media.gps_lat is None) == (*SIZE, True)
    plain = object_keys(media.sha256, "jpeg")
    assert storage.exists(media.original_key)
    assert not storage.exists(plain["display"]) and not storage.exists(plain["thumb"])
    staff = public_photo(client, body["id"], people["supervisor"])  # staff have the original meanwhile
    assert staff["pending"] is True and staff["display_url"] is None and staff["thumb_url"] is None
    assert staff["display_size"] is None and staff["thumb_size"] is None
    assert fetch(client, staff["original_url"], people["supervisor"]) == (200, raw)

    run_worker_once(app)
    assert worker_mode.calls == 1
    shown = public_photo(client, body["id"])
    assert shown["pending"] is False and shown["display_size"] == [1280, 960]
    assert face_detail(client, shown["display_url"], raw) < 0.2
    thumb = open_image(fetch(client, shown["thumb_url"])[1])
    reference_thumb = open_image(process_photo(raw).thumb)
    small_face = scaled(INNER_FACE, SIZE, thumb.size)
    assert edge_energy(thumb, small_face) < 0.3 * edge_energy(reference_thumb, small_face)

    staff = public_photo(client, body["id"], people["supervisor"])
    assert staff["phash"] == process_photo(raw).phash and len(media_row().bands) == 8


def test_the_pass_stores_what_an_inline_upload_stores(app, client, people, storage, monkeypatch):
    """Same regions, same pipeline: the worker's public derivatives are the inline ones, key and bytes."""
    monkeypatch.setattr(registry.of(app), "detector", FixedDetector())
    raw = face_photo()
    submit(client, raw)
    inline = media_row()
    inline_keys = inline.display_key, inline.thumb_key
    inline_bytes = [storage.get(key) for key in inline_keys]

    override_settings(app, monkeypatch, PRIVACY_MODE="worker")
    later = submit(client, raw)
    assert public_photo(client, later["id"])["display_url"] is None
    assert clear_pending() == 1
    db.session.expire_all()
    worker = db.session.get(Media, later["photos"][0]["id"])
    assert (worker.display_key, worker.thumb_key) == inline_keys
    assert [storage.get(key) for key in inline_keys] == inline_bytes
    assert not worker.privacy_pending


def test_regions_found_on_the_display_fit_a_sideways_original(app, client, people, worker_mode):
    """A phone's sideways JPEG (EXIF orientation 6): the display derivative is upright, and
    the face found there is blurred where it is in the upright original."""
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    street_scene().transpose(Image.Transpose.ROTATE_90).save(out, "JPEG", quality=92, exif=exif.tobytes())
    raw = out.getvalue()
    body = submit(client, raw)
    assert clear_pending() == 1 and worker_mode.calls == 1
    shown = public_photo(client, body["id"])
    assert shown["display_size"] == [1280, 960]
    assert face_detail(client, shown["display_url"], raw) < 0.2


def test_queue_open311_and_duplicates_show_the_photo_once_the_pass_has_run(app, client, people, worker_mode):
    body = submit(client, face_photo())
    request_id = body["id"]

    def views():
        geojson = {
            who: client.get("/api/v1/queue?format=geojson", headers=people[who]).get_json()
            for who in ("supervisor", "monitor")
        }
        return {
            "queue (supervisor)": geojson["supervisor"]["features"][0]["properties"]["thumb_url"],
            "queue (monitor)": geojson["monitor"]["features"][0]["properties"]["thumb_url"],
            "open311": client.get(f"/open311/v2/requests/{request_id}.json").get_json()[0]["media_url"],
            "duplicates": client.get(f"/api/v1/duplicates?lat={INSIDE[0]}&lon={INSIDE[1]}").get_json()["candidates"][0][
                "thumb_url"
            ],
        }

    assert set(views().values()) == {None}
    assert clear_pending() == 1
    after = views()
    assert all(url and "/originals/" not in url for url in after.values()), after


def test_open311_and_media_first_uploads_wait_for_the_pass(app, client, people, worker_mode):
    _, key = create_open311_client("hotline")
    response = client.post(
        f"/open311/v2/requests.json?api_key={key}",
        content_type="multipart/form-data",
        data={
            "service_code": "06010",
            "lat": INSIDE[0],
            "long": INSIDE[1],
            "media": (io.BytesIO(face_photo()), "p.jpg"),
        },
    )
    assert response.status_code == 201, response.data.decode()
    uploaded = client.post(
        "/api/v1/media", data={"photo": (io.BytesIO(face_photo(seed=7)), "q.jpg")}, content_type="multipart/form-data"
    )
    assert uploaded.status_code == 201
    photo = uploaded.get_json()
    assert photo["pending"] is True and photo["display_url"] is None and photo["thumb_url"] is None
    assert worker_mode.calls == 0
    db.session.rollback()
    assert db.session.scalar(select(Media).where(Media.privacy_pending.is_(False))) is None
    assert clear_pending() == 2 and worker_mode.calls == 2


def test_the_pass_is_idempotent_and_a_failed_pass_leaves_the_photo_pending(
    app, client, people, storage, worker_mode, monkeypatch
):
    body = submit(client, face_photo())
    monkeypatch.setattr(registry.of(app), "storage", FailingOnPut(storage, 2))  # dies after the new display
    with pytest.raises(StorageUnavailable):
        clear_pending()
    media = media_row()
    assert media.privacy_pending and (media.display_key, media.phash, media.bands) == (None, None, [])
    assert public_photo(client, body["id"])["display_url"] is None

    monkeypatch.setattr(registry.of(app), "storage", storage)
    assert clear_pending() == 1
    media = media_row()
    keys = media.display_key, media.thumb_key
    assert clear_pending() == 0
    run_worker_once(app)
    media = media_row()
    assert (media.display_key, media.thumb_key) == keys and not media.privacy_pending
    assert worker_mode.calls == 2  # the failed pass and the one that finished; none after


def test_a_photo_whose_original_is_missing_waits_longer_before_each_try(
    app, client, people, storage, worker_mode, monkeypatch
):
    override_settings(app, monkeypatch, PRIVACY_PASS_RETRY_SECONDS=60)
    raw = face_photo()
    body = submit(client, raw)
    original_key = media_row().original_key
    storage.delete(original_key)

    assert clear_pending() == 0
    media = media_row()
    first_wait = media.privacy_retry_at - utcnow()
    assert media.privacy_failures == 1 and timedelta(seconds=55) < first_wait <= timedelta(seconds=60)
    assert clear_pending() == 0 and media_row().privacy_failures == 1  # not due: not even downloaded

    _make_due()
    assert clear_pending() == 0
    media = media_row()
    assert media.privacy_failures == 2 and media.privacy_retry_at - utcnow() > timedelta(seconds=115)
    assert media.privacy_pending and public_photo(client, body["id"])["display_url"] is None

    storage.put(original_key, raw, "image/jpeg")  # restored from a backup
    _make_due()
    assert clear_pending() == 1 and worker_mode.calls == 1
    assert face_detail(client, public_photo(client, body["id"])["display_url"], raw) < 0.2


def _make_due():
    db.session.execute(update(Media).values(privacy_retry_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_a_photo_redacted_while_the_pass_works_keeps_the_redaction(app, client, people, monkeypatch, opencv):
    """Without row locks (SQLite) a redaction may clear the photo while the pass works on it:
    the pass's compare-and-set then changes nothing."""
    if db.engine.dialect.name == "postgresql":
        pytest.skip("PostgreSQL: the pass holds the row lock, so the redaction waits for it")
    override_settings(app, monkeypatch, PRIVACY_MODE="worker")
    submit(client, face_photo())
    redacted = object_keys(media_row().sha256, "jpeg", "ab" * 8)

    class RedactedMeanwhile:
        name = "meanwhile"

        def detect(self, image):
            with db.engine.begin() as conn:  # another request's transaction
                conn.execute(
                    update(Media).values(
                        display_key=redacted["display"], thumb_key=redacted["thumb"], privacy_pending=False
                    )
                )
            return opencv.detect(image)

    monkeypatch.setattr(registry.of(app), "detector", RedactedMeanwhile())
    assert clear_pending() == 0
    media = media_row()
    assert (media.display_key, media.thumb_key) == (redacted["display"], redacted["thumb"])


def test_redacting_a_pending_photo_runs_the_detector_too(app, client, people, storage, worker_mode):
    raw = face_photo()
    body = submit(client, raw)
    media_id = body["photos"][0]["id"]
    response = client.post(
        f"/api/v1/reports/{body['id']}/media/{media_id}/redactions",
        json={"boxes": [{"x": 1100, "y": 820, "width": 300, "height": 200}]},
        headers=people["supervisor"],
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["event"]["data"]["detected"] == 1
    shown = public_photo(client, body["id"])
    assert shown["pending"] is False and face_detail(client, shown["display_url"], raw) < 0.2
    assert clear_pending() == 0  # nothing left for the pass
    assert media_row().phash == process_photo(raw).phash and len(media_row().bands) == 8


def test_no_public_output_names_a_pending_photo(app, client, people, worker_mode):
    """The audit of tests/test_privacy.py, for pending photos: every GET route a caller
    without access to originals can reach, and the submit answer, carry none of its keys."""
    body = submit(client, face_photo())
    keys = object_keys(media_row().sha256, "jpeg")
    named = [media_row().original_key, *(key.rsplit(".", 1)[0] for key in (keys["display"], keys["thumb"]))]
    assert not any(key in json.dumps(body) for key in named)
    make_unit("other", "sanitation")
    _, stranger = make_user("u2", "unit_staff", unit_code="other")
    callers = {
        "anonymous": {},
        "receipt": {"X-Receipt-Token": body["receipt_token"]},
        "monitor": people["monitor"],
        "other unit": stranger,
    }
    queries = {"/api/v1/queue": "?format=geojson", "/api/v1/duplicates": f"?lat={INSIDE[0]}&lon={INSIDE[1]}"}
    checked = 0
    for path in public_gets(app, body["id"], body["photos"][0]["id"]):
        for who, headers in callers.items():
            response = client.get(path + queries.get(path, ""), headers=headers)
            if response.mimetype.startswith("image/"):
                continue
            assert response.status_code < 500, f"{who} GET {path}"
            text = response.get_data(as_text=True)
            assert not any(key in text for key in named), f"{who} GET {path}"
            checked += 1
    assert checked > 20


def broken_pixels(raw):
    """``raw`` with a Huffman table no decoder accepts: every marker in place, so the file
    looks complete, yet its pixels cannot be decoded."""
    at = raw.index(b"\xff\xc4") + 5  # the 16 code-length counts of the first DHT
    return raw[:at] + b"\xff" * 16 + raw[at + 16 :]


def test_a_complete_photo_whose_pixels_cannot_be_decoded_is_flagged_by_the_pass(
    app, client, people, storage, worker_mode
):
    raw = broken_pixels(face_photo())
    body = submit(client, raw)  # inspected only: looks complete
    assert clear_pending() == 0 and worker_mode.calls == 0
    media = media_row()
    assert media.unreadable and media.privacy_pending and media.display_key is None
    staff = client.get(f"/api/v1/reports/{body['id']}", headers=people["supervisor"]).get_json()
    assert staff["evidence_flagged"] is True and staff["evidence_flags"] == ["photo_unreadable"]
    assert staff["photos"][0]["unreadable"] is True and staff["photos"][0]["display_url"] is None
    assert fetch(client, staff["photos"][0]["original_url"], people["supervisor"]) == (200, raw)
    assert public_photo(client, body["id"])["display_url"] is None

    _make_due()
    assert clear_pending() == 0 and media_row().privacy_failures == 0  # never tried again
    assert list(storage.iter_keys()) == [media.original_key]  # kept as evidence


def test_inline_mode_refuses_the_same_photo_at_once(app, client, people):
    response = post_report(client, [broken_pixels(face_photo())], lat=INSIDE[0], lon=INSIDE[1], category="06010")
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "image_unreadable"


def test_a_cut_off_photo_is_refused_at_upload_in_worker_mode_too(app, client, people, storage, worker_mode):
    raw = face_photo()
    response = post_report(client, [raw[:-2]], lat=INSIDE[0], lon=INSIDE[1], category="06010")
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "image_unreadable"
    assert response.get_json()["error"]["details"] == {"photo_index": 0}
    db.session.rollback()
    assert db.session.scalar(select(Media)) is None and list(storage.iter_keys()) == []


def test_the_pass_flags_a_reused_photo_the_submit_could_not_compare(app, client, people, worker_mode):
    raw = face_photo()
    copy = io.BytesIO()
    Image.open(io.BytesIO(raw)).save(copy, "JPEG", quality=40)  # not bytes-identical: needs the hash
    first, second = (
        post_report(client, [photo], lat=lat, lon=lon, category="06010").get_json()
        for photo, (lat, lon) in ((raw, SW_CORNER), (copy.getvalue(), NE_CORNER))
    )  # ~490 m apart

    def flagged(report):
        return client.get(f"/api/v1/reports/{report['id']}", headers=people["supervisor"]).get_json()

    def version(report):
        db.session.rollback()
        return db.session.scalar(select(Report.version).where(Report.public_id == report["id"]))

    before = version(second), flagged(second)["updated_at"]
    assert flagged(second)["photo_reuse_flagged"] is False
    assert clear_pending() == 2
    assert flagged(first)["photo_reuse_flagged"] is False  # the earlier report is the one reused
    assert flagged(second)["photo_reuse_flagged"] is True
    assert (version(second), flagged(second)["updated_at"]) == before  # no staff action is made stale
    matches = client.get(f"/api/v1/reports/{second['id']}/duplicates", headers=people["supervisor"]).get_json()
    assert [(m["id"], m["match"], m["suspicious"]) for m in matches["photo_matches"]] == [
        (first["id"], "similar", True)
    ]


def test_redacting_a_pending_photo_flags_its_reuse_as_the_pass_would(app, client, people, worker_mode):
    raw = face_photo()
    copy = io.BytesIO()
    Image.open(io.BytesIO(raw)).save(copy, "JPEG", quality=40)
    post_report(client, [raw], lat=SW_CORNER[0], lon=SW_CORNER[1], category="06010")
    assert clear_pending() == 1
    second = post_report(client, [copy.getvalue()], lat=NE_CORNER[0], lon=NE_CORNER[1], category="06010").get_json()
    response = client.post(
        f"/api/v1/reports/{second['id']}/media/{second['photos'][0]['id']}/redactions",
        json={"boxes": [{"x": 10, "y": 10, "width": 50, "height": 50}]},
        headers=people["supervisor"],
    )
    assert response.status_code == 201, response.get_json()
    assert clear_pending() == 0  # the redaction cleared it
    staff = client.get(f"/api/v1/reports/{second['id']}", headers=people["supervisor"]).get_json()
    assert staff["photo_reuse_flagged"] is True and staff["photos"][0]["phash"] is not None
    assert len(media_row_of(second["photos"][0]["id"]).bands) == 8


def test_a_photo_attached_while_the_pass_hashes_it_still_has_its_reuse_flagged(
    app, client, people, opencv, monkeypatch
):
    """An uploaded-first photo attached to a report while the pass renders it: the submit
    waits for the pass's row lock, then compares the hash the pass has just committed."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: SQLite serialises the pass and the submit as a whole")
    override_settings(app, monkeypatch, PRIVACY_MODE="worker")
    raw = face_photo()
    post_report(client, [raw], lat=SW_CORNER[0], lon=SW_CORNER[1], category="06010")
    assert clear_pending() == 1
    copy = io.BytesIO()
    Image.open(io.BytesIO(raw)).save(copy, "JPEG", quality=40)
    media_id = client.post(
        "/api/v1/media", data={"photo": (io.BytesIO(copy.getvalue()), "q.jpg")}, content_type="multipart/form-data"
    ).get_json()["id"]
    answers = []

    def submit_meanwhile():
        with app.app_context():
            answers.append(
                app.test_client().post(
                    "/api/v1/reports",
                    json={"media_ids": [media_id], "lat": NE_CORNER[0], "lon": NE_CORNER[1], "category": "06010"},
                )
            )

    class SubmittedMeanwhile:
        name = "meanwhile"

        def detect(self, image):
            submitter.start()
            submitter.join(timeout=2)  # it waits on the row lock this pass holds
            return opencv.detect(image)

    submitter = threading.Thread(target=submit_meanwhile)
    monkeypatch.setattr(registry.of(app), "detector", SubmittedMeanwhile())
    assert clear_pending() == 1
    submitter.join(timeout=30)
    assert answers and answers[0].status_code == 201, answers and answers[0].get_json()
    report = client.get(f"/api/v1/reports/{answers[0].get_json()['id']}", headers=people["supervisor"]).get_json()
    assert report["photo_reuse_flagged"] is True


def media_row_of(media_id):
    db.session.rollback()
    return db.session.get(Media, media_id)


def test_unknown_privacy_mode_is_refused_at_start(tmp_path):
    with pytest.raises(ValueError, match="PRIVACY_MODE"):
        create_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                "MEDIA_ROOT": str(tmp_path),
                "STORAGE": "local",
                "PRIVACY_MODE": "later",
            }
        )


class BrokenDetector:
    """A detector that fails the way a model can (an exception that is not a MediaError)."""

    name = "broken"

    def detect(self, image):
        raise RuntimeError("the face network could not run")


@pytest.mark.parametrize("route", ["report", "media"])
def test_a_detector_failure_inline_queues_the_photo_never_publishes_it(app, client, people, monkeypatch, opencv, route):
    monkeypatch.setattr(registry.of(app), "detector", BrokenDetector())
    raw = face_photo()
    if route == "report":
        photo = submit(client, raw)["photos"][0]
    else:
        response = client.post(
            "/api/v1/media", data={"photo": (io.BytesIO(raw), "p.jpg")}, content_type="multipart/form-data"
        )
        assert response.status_code == 201, response.get_json()
        photo = response.get_json()
    assert photo["pending"] is True and photo["display_url"] is None and photo["thumb_url"] is None
    assert media_row().privacy_pending and media_row().display_key is None
    monkeypatch.setattr(registry.of(app), "detector", opencv)  # the model is back: the pass blurs it
    assert clear_pending() == 1
    media = media_row()
    assert not media.privacy_pending and media.display_key is not None
