"""The shared phone-photo corpus through the HTTP API; skipped when ../shared is absent."""

import hashlib
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from tests.factories import INSIDE, make_user
from tests.helpers import assert_error, fetch_image, post_report

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if not DATA.is_dir():
    pytest.skip("shared photo corpus not present", allow_module_level=True)

pytestmark = [pytest.mark.corpus, pytest.mark.slow]
MANIFEST = {entry["dest"]: entry for entry in json.loads((DATA / "manifest.json").read_text())}
BAD_IMAGES = sorted(p.name for p in (DATA / "bad-images").iterdir())


@pytest.mark.parametrize("name", BAD_IMAGES)
def test_bad_images_are_a_clean_4xx_or_an_upload_with_exif_ignored(client, grid, storage, name):
    raw = (DATA / "bad-images" / name).read_bytes()
    response = post_report(client, [raw], lat=INSIDE[0], lon=INSIDE[1])
    body = response.get_json()
    if response.status_code == 201:
        assert body["photos"][0]["sha256"] == hashlib.sha256(raw).hexdigest()
        assert not fetch_image(client, body["photos"][0]["display_url"]).getexif()
    else:
        assert 400 <= response.status_code < 500, body
        assert set(body["error"]) == {"code", "message", "details"}
        assert list(storage.iter_keys()) == []


@pytest.mark.parametrize("name", [n for n in BAD_IMAGES if "bomb" in n])
def test_bombs_are_rejected(client, grid, name):
    response = post_report(client, [(DATA / "bad-images" / name).read_bytes()], lat=INSIDE[0], lon=INSIDE[1])
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] in ("unsupported_image_type", "image_too_many_pixels")


def test_iphone_heic_gps_is_read_and_kept_for_staff(client, grid):
    raw = (DATA / "photos/heic/iphone11promax_gps_alt_2566x3313.heic").read_bytes()
    _, headers = make_user("sup", "supervisor")
    response = post_report(client, [raw], headers, lat=INSIDE[0], lon=INSIDE[1])
    body = response.get_json()
    assert response.status_code == 201, body
    photo = body["photos"][0]
    assert photo["content_type"] == "image/heic"
    assert photo["gps"]["lat"] == pytest.approx(39.051344, abs=1e-5)
    assert photo["gps"]["lon"] == pytest.approx(-94.288772, abs=1e-5)
    display = fetch_image(client, photo["display_url"])
    assert display.format == "JPEG" and display.height == 1280 and display.width < display.height
    assert body["location_flagged"] is True  # the photo was taken in Missouri


def test_china_photo_outside_the_grid_names_the_nearest_area(client, grid):
    raw = (DATA / "photos/gps/pixel6_ultrahdr_gps_alt_zhejiang_china_1512x2688.jpg").read_bytes()
    error = assert_error(post_report(client, [raw]), 422, "outside_service_area")
    assert error["details"]["lat"] == pytest.approx(30.62765, abs=1e-4)
    assert "长乐社区" in error["details"]["nearest_area"]


@pytest.mark.parametrize("name", sorted(p.name for p in (DATA / "photos/orientation").iterdir()))
def test_orientation_photos_come_back_upright(client, grid, name):
    raw = (DATA / "photos/orientation" / name).read_bytes()
    body = post_report(client, [raw], lat=INSIDE[0], lon=INSIDE[1]).get_json()
    display = fetch_image(client, body["photos"][0]["display_url"])
    landscape = name.startswith("Landscape")
    assert display.size == ((1280, 853) if landscape else (853, 1280))
    assert (body["photos"][0]["width"] > body["photos"][0]["height"]) == landscape
    reference = Image.open(io.BytesIO((DATA / f"photos/orientation/{name.split('_')[0]}_1.jpg").read_bytes()))
    reference = reference.convert("L").resize((32, 32))
    sample = display.convert("L").resize((32, 32))
    diff = sum(abs(a - b) for a, b in zip(reference.tobytes(), sample.tobytes(), strict=True)) / 1024
    assert diff < 20, f"{name} does not look like the upright reference (mean diff {diff:.1f})"
