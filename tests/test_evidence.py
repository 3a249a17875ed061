"""Evidence checks: photo GPS far from the sent point, old or later-dated photos flag (not reject) a report."""

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.factories import INSIDE, make_geography, make_user, photo_bytes
from tests.helpers import override_settings, post_report

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEAR = (INSIDE[0] + 0.0003, INSIDE[1])  # ~33 m north
FAR = (INSIDE[0] + 0.003, INSIDE[1])  # ~333 m north


def local_time(**delta):
    """A wall-clock time in 綦江 as a phone writes it into EXIF (no offset)."""
    return datetime.now(SHANGHAI).replace(tzinfo=None) - timedelta(**delta)


@pytest.fixture
def staff(ctx):
    make_geography()
    return make_user("sup", "supervisor")[1]


def submit(client, headers, photo, **fields):
    response = post_report(client, [photo], headers, lat=INSIDE[0], lon=INSIDE[1], **fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_fresh_photo_taken_on_the_spot_raises_no_flag(client, staff):
    body = submit(client, staff, photo_bytes(gps=NEAR, taken=local_time(minutes=20)))
    assert body["photo_distance_m"] == pytest.approx(33, abs=2)
    assert body["photo_age_hours"] == pytest.approx(0.3, abs=0.1)
    assert body["evidence_flags"] == [] and body["evidence_flagged"] is False
    assert body["location_flagged"] is False


def test_distant_photo_is_flagged_not_rejected(client, staff):
    body = submit(client, staff, photo_bytes(gps=FAR, taken=local_time(hours=1)))
    assert body["status"] == "submitted"
    assert body["photo_distance_m"] == pytest.approx(333, abs=5)
    assert body["evidence_flags"] == ["photo_far"] and body["evidence_flagged"] is True
    assert body["location_flagged"] is True


def test_old_photo_is_flagged_with_its_age(client, staff):
    body = submit(client, staff, photo_bytes(gps=NEAR, taken=local_time(days=3)))
    assert body["photo_age_hours"] == pytest.approx(72, abs=0.1)
    assert body["evidence_flags"] == ["photo_old"]


def test_limits_come_from_the_configuration(client, staff, app, monkeypatch):
    override_settings(app, monkeypatch, PHOTO_GPS_MISMATCH_M=20.0)
    override_settings(app, monkeypatch, PHOTO_MAX_AGE_HOURS=6.0)
    body = submit(client, staff, photo_bytes(gps=NEAR, taken=local_time(hours=10)))
    assert body["evidence_flags"] == ["photo_far", "photo_old"]
    body = submit(client, staff, photo_bytes(gps=INSIDE, taken=local_time(hours=-12), color=(9, 9, 9)))
    assert body["photo_age_hours"] == pytest.approx(-12, abs=0.1)
    assert body["evidence_flags"] == ["photo_time_ahead"]  # the phone's clock is off: look twice


def test_the_worst_photo_of_several_counts(client, staff):
    photos = [
        photo_bytes(gps=NEAR, taken=local_time(hours=2)),
        photo_bytes(gps=FAR, taken=local_time(days=2), color=(1, 2, 3)),
    ]
    response = post_report(client, photos, staff, lat=INSIDE[0], lon=INSIDE[1])
    body = response.get_json()
    assert body["photo_distance_m"] == pytest.approx(333, abs=5)
    assert body["photo_age_hours"] == pytest.approx(48, abs=0.1)
    assert body["evidence_flags"] == ["photo_far", "photo_old"]


def test_photo_without_exif_has_nothing_to_check(client, staff):
    body = submit(client, staff, photo_bytes())
    assert body["photo_distance_m"] is None and body["photo_age_hours"] is None
    assert body["evidence_flags"] == [] and body["evidence_flagged"] is False


def test_photo_uploaded_ahead_is_checked_from_its_stored_exif(client, staff):
    raw = photo_bytes(gps=FAR, taken=local_time(days=2))
    uploaded = client.post(
        "/api/v1/media", data={"photo": (io.BytesIO(raw), "a.jpg")}, content_type="multipart/form-data"
    )
    assert uploaded.status_code == 201
    response = client.post(
        "/api/v1/reports",
        headers=staff,
        json={"media_ids": [uploaded.get_json()["id"]], "lat": INSIDE[0], "lon": INSIDE[1]},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["evidence_flags"] == ["photo_far", "photo_old"]


def test_location_from_the_photo_itself_is_not_a_mismatch(client, staff):
    body = post_report(client, [photo_bytes(gps=NEAR, taken=local_time(hours=1))], staff).get_json()
    assert body["location_source"] == "exif"
    assert body["photo_distance_m"] == 0 and body["evidence_flags"] == []


def test_flags_are_for_staff_and_filter_the_queue(client, staff):
    flagged = post_report(client, [photo_bytes(gps=FAR)], lat=INSIDE[0], lon=INSIDE[1]).get_json()
    assert "evidence_flags" not in flagged and "photo_age_hours" not in flagged  # the citizen's view
    clean = submit(client, staff, photo_bytes(gps=NEAR, color=(5, 5, 5)))

    def queue(**params):
        response = client.get("/api/v1/queue", query_string=params, headers=staff)
        assert response.status_code == 200, response.get_json()
        return {item["id"]: item for item in response.get_json()["items"]}

    assert list(queue(evidence_flag=1)) == [flagged["id"]]
    assert list(queue(evidence_flag=0)) == [clean["id"]]
    items = queue()
    assert items[flagged["id"]]["evidence_flags"] == ["photo_far"]
    assert items[clean["id"]]["evidence_flags"] == []
    public = client.get(f"/api/v1/reports/{flagged['id']}").get_json()
    assert "evidence_flags" not in public and "photo_distance_m" not in public
