"""Duplicate hints at submit and in triage, photo reuse, “me too” and merging."""

import io
from datetime import timedelta
from types import SimpleNamespace

import pytest
from PIL import Image
from sqlalchemy import select, update

from civicreport import config as config_module
from civicreport.cases import duplicates
from civicreport.cases.models import Media, PhashBand, Report
from civicreport.extensions import db
from tests.factories import (
    INSIDE,
    NE_CORNER,
    SW_CORNER,
    photo_bytes,
)
from tests.helpers import assert_error, override_settings, submit


def north_of(point, metres):
    return (point[0] + metres / 111_320, point[1])


def test_submit_lists_open_reports_of_the_same_kind_nearby(client, city_unit):
    first = submit(client, INSIDE, description="垃圾堆")
    other_kind = submit(client, north_of(INSIDE, 10), category="09009", description="a")
    assert [c["id"] for c in other_kind["duplicate_candidates"]] == []
    near = submit(client, north_of(INSIDE, 20), category="06011", description="b")
    assert [c["id"] for c in near["duplicate_candidates"]] == [first["id"]]
    assert near["duplicate_candidates"][0]["distance_m"] == pytest.approx(20, abs=1)
    far = submit(client, north_of(INSIDE, 80), description="c")
    assert first["id"] not in [c["id"] for c in far["duplicate_candidates"]]


def test_closed_and_old_reports_are_not_candidates(client, city_unit):
    closed = submit(client, INSIDE, description="x")
    old = submit(client, north_of(INSIDE, 5), description="y")
    db.session.execute(update(Report).where(Report.public_id == closed["id"]).values(status="closed"))
    aged = db.session.scalar(select(Report).where(Report.public_id == old["id"]))
    aged.created_at -= timedelta(days=8)
    db.session.commit()
    assert submit(client, north_of(INSIDE, 10), description="z")["duplicate_candidates"] == []


def test_only_the_nearest_candidates_are_listed(client, app, city_unit, monkeypatch):
    by_distance = {
        m: submit(client, north_of(INSIDE, m), description=f"{m} 米")["id"] for m in (40, 5, 30, 60, 10, 45, 20)
    }
    query = {"lat": INSIDE[0], "lon": INSIDE[1], "category": "06010"}
    candidates = client.get("/api/v1/duplicates", query_string=query).get_json()["candidates"]
    assert [c["id"] for c in candidates] == [by_distance[m] for m in (5, 10, 20, 30, 40)]
    override_settings(app, monkeypatch, DUPLICATE_CANDIDATES_MAX=2)
    candidates = client.get("/api/v1/duplicates", query_string=query).get_json()["candidates"]
    assert [c["id"] for c in candidates] == [by_distance[5], by_distance[10]]


def test_candidates_max_below_one_fails_at_start_up(tmp_path):
    with pytest.raises(ValueError, match="DUPLICATE_CANDIDATES_MAX"):
        config_module.load(str(tmp_path), environ={"CIVICREPORT_DUPLICATE_CANDIDATES_MAX": "0"})


def test_candidates_before_submitting(client, city_unit):
    first = submit(client, INSIDE)
    body = client.get("/api/v1/duplicates", query_string={"lat": INSIDE[0], "lon": INSIDE[1], "category": "06012"})
    assert [c["id"] for c in body.get_json()["candidates"]] == [first["id"]]
    assert "contact" not in body.get_json()["candidates"][0]
    assert_error(client.get("/api/v1/duplicates?lat=29&lon=106&category=nope"), 422, "unknown_category")


def test_the_same_photo_for_another_place_is_flagged(client, city_unit, supervisor):
    raw = photo_bytes((800, 600), color=(120, 30, 200))
    first = submit(client, SW_CORNER, raw=raw)
    second = submit(client, NE_CORNER, raw=raw)
    staff = client.get(f"/api/v1/reports/{second['id']}", headers=supervisor).get_json()
    assert staff["photo_reuse_flagged"] is True
    triage = client.get(f"/api/v1/reports/{second['id']}/duplicates", headers=supervisor).get_json()
    match = triage["photo_matches"][0]
    assert match["id"] == first["id"] and match["match"] == "identical" and match["suspicious"] is True
    assert match["distance_m"] > 400
    assert_error(client.get(f"/api/v1/reports/{second['id']}/duplicates"), 401, "unauthorized")


def test_a_recompressed_copy_is_similar_and_nearby_is_not_suspicious(client, city_unit, supervisor):
    original = photo_bytes((800, 600), color=None)
    copy = io.BytesIO()
    Image.open(io.BytesIO(original)).save(copy, "JPEG", quality=40)
    first = submit(client, INSIDE, raw=original)
    second = submit(client, north_of(INSIDE, 10), raw=copy.getvalue())
    match = client.get(f"/api/v1/reports/{second['id']}/duplicates", headers=supervisor).get_json()["photo_matches"][0]
    assert (match["id"], match["match"], match["suspicious"]) == (first["id"], "similar", False)


def flip(phash, bits):
    return f"{int(phash, 16) ^ sum(1 << b for b in bits):016x}"


def test_similar_photos_are_found_through_the_band_index_up_to_the_limit(client, city_unit, app):
    """Six flipped bits in six different bytes leave two bytes in place: still found."""
    report = submit(client, INSIDE)
    stored = "f0e1d2c3b4a59687"
    media = db.session.scalars(select(Media).join(Report).where(Report.public_id == report["id"])).one()
    media.phash, media.bands = stored, PhashBand.of(stored)
    db.session.commit()

    def found(phash):
        probe = SimpleNamespace(sha256="0" * 64, phash=phash)
        return [m.kind for m in duplicates.photo_matches([probe], *INSIDE)]

    assert found(flip(stored, [0, 9, 18, 27, 36, 45])) == ["similar"]
    assert found(flip(stored, [0, 1, 2, 3, 4, 5])) == ["similar"]
    assert found(flip(stored, [0, 9, 18, 27, 36, 45, 54])) == []  # 7 bits: over PHASH_MAX_DISTANCE
    assert found(flip(stored, [0, 1, 2, 3, 4, 5, 6])) == []  # same bytes differ, but too far apart
    assert found("0f1e2d3c4b5a6978") == []


def test_phash_distance_beyond_the_band_index_fails_at_start_up(tmp_path):
    with pytest.raises(ValueError, match="PHASH_MAX_DISTANCE"):
        config_module.load(str(tmp_path), environ={"CIVICREPORT_PHASH_MAX_DISTANCE": "7"})


def test_me_too_and_merge_count_supporters(client, city_unit, supervisor):
    original = submit(client, INSIDE)
    assert client.post(f"/api/v1/reports/{original['id']}/support").get_json()["support_count"] == 1
    copy = submit(client, north_of(INSIDE, 15))
    client.post(f"/api/v1/reports/{copy['id']}/support")
    merged = client.post(
        f"/api/v1/reports/{copy['id']}/transitions",
        headers=supervisor,
        json={"action": "mark_duplicate", "duplicate_of": original["id"]},
    )
    assert merged.status_code == 200
    assert client.get(f"/api/v1/reports/{original['id']}").get_json()["support_count"] == 3
    assert_error(client.post(f"/api/v1/reports/{copy['id']}/support"), 409, "report_not_open")
    events = client.get(f"/api/v1/reports/{original['id']}/events").get_json()["events"]
    assert [e["action"] for e in events] == ["submit"]  # supports are counted, not logged one by one
