"""The photo pipeline on the shared corpus of real phone photos and broken images.

Skipped as a whole when ../shared/data is absent (see its SOURCES.md and manifest.json).
"""

import io
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from civicreport.errors import as_app_error
from civicreport.media.errors import MediaError
from civicreport.media.images import hamming, process_photo

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if not DATA.is_dir():
    pytest.skip(f"shared photo corpus not found at {DATA}", allow_module_level=True)

pytestmark = [pytest.mark.corpus, pytest.mark.slow, pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")]
MANIFEST = {entry["dest"]: entry for entry in json.loads((DATA / "manifest.json").read_text())}
ORIENTATION = sorted(p.name for p in (DATA / "photos" / "orientation").glob("*.jpg"))
PHOTOS = sorted(str(p.relative_to(DATA)) for p in (DATA / "photos").rglob("*") if p.is_file())
BAD = sorted(p.name for p in (DATA / "bad-images").iterdir())
GPS_PHOTOS = [dest for dest in PHOTOS if MANIFEST[dest]["image"].get("gps")]


@cache
def processed(dest):
    return process_photo((DATA / dest).read_bytes())


def grey(blob):
    return Image.open(io.BytesIO(blob)).convert("L")


def mean_abs_diff(a, b):
    return ImageStat.Stat(ImageChops.difference(a, b)).mean[0]


def manifest_upright(dest):
    image = MANIFEST[dest]["image"]
    swap = (image.get("orientation") or 1) >= 5
    return (image["height"], image["width"]) if swap else (image["width"], image["height"])


def test_corpus_is_complete():
    assert len(ORIENTATION) == 17
    assert len(PHOTOS) == 33
    assert len(BAD) == 13


@pytest.mark.parametrize("name", ORIENTATION)
def test_orientation_photos_are_upright(name):
    dest = f"photos/orientation/{name}"
    photo = processed(dest)
    assert (photo.width, photo.height) == manifest_upright(dest)
    landscape = name.startswith("Landscape")
    assert photo.display_size == ((1280, 853) if landscape else (853, 1280))
    assert photo.thumb_size == ((320, 213) if landscape else (213, 320))
    reference = processed(f"photos/orientation/{'Landscape' if landscape else 'Portrait'}_1.jpg")
    # Same picture, only the burnt-in flag number differs: < 3 grey levels apart when upright,
    # > 40 when mirrored or turned.
    assert mean_abs_diff(grey(photo.display), grey(reference.display)) < 8
    assert hamming(photo.phash, reference.phash) <= 4


def test_orientation_threshold_tells_wrong_orientations_apart():
    display = grey(processed("photos/orientation/Landscape_1.jpg").display)
    assert mean_abs_diff(display, display.transpose(Image.Transpose.FLIP_LEFT_RIGHT)) > 30
    assert mean_abs_diff(display, display.transpose(Image.Transpose.ROTATE_180)) > 30


def test_webp_orientation_6_matches_upright_hopper():
    upright = grey(processed("photos/formats/hopper_no_exif_128x128.webp").display)
    rotated = processed("photos/formats/hopper_orientation_6_128x128.webp")
    assert rotated.meta.orientation == 6
    assert mean_abs_diff(grey(rotated.display), upright) < 8


@pytest.mark.parametrize("dest", PHOTOS)
def test_every_photo_gives_clean_derivatives(dest):
    photo = processed(dest)
    entry = MANIFEST[dest]
    assert photo.sha256 == entry["sha256"]
    assert photo.byte_size == entry["bytes"]
    assert (photo.width, photo.height) == manifest_upright(dest)
    assert max(photo.display_size) == min(1280, max(photo.width, photo.height))
    for blob in (photo.display, photo.thumb):
        im = Image.open(io.BytesIO(blob))
        assert im.format == "JPEG"
        assert not im.getexif() and "exif" not in im.info and "xmp" not in im.info


@pytest.mark.parametrize("dest", GPS_PHOTOS)
def test_gps_matches_manifest(dest):
    gps = MANIFEST[dest]["image"]["gps"]
    meta = processed(dest).meta
    assert (meta.gps_lat, meta.gps_lon) == pytest.approx((gps["lat"], gps["lon"]), abs=1e-5)


def test_iphone_heic():
    photo = processed("photos/heic/iphone11promax_gps_alt_2566x3313.heic")
    assert (photo.format, photo.content_type) == ("heif", "image/heic")
    assert (photo.meta.gps_lat, photo.meta.gps_lon) == pytest.approx((39.051344, -94.288772), abs=1e-5)
    assert (photo.width, photo.height) == (2566, 3313)
    assert photo.display_size == (991, 1280)
    assert photo.thumb_size == (248, 320)
    assert photo.meta.orientation == 1
    # DateTimeOriginal 15:47:53 with OffsetTimeOriginal -05:00 (no GPS time in this file).
    assert photo.meta.taken_at == datetime(2021, 4, 11, 20, 47, 53, tzinfo=UTC)


def test_nokia_heif_uses_gps_time():
    meta = processed("photos/heic/nokia83_hdr_gps_alt_4608x3456.heif").meta
    assert meta.taken_at == datetime(2022, 1, 12, 7, 30, 14, tzinfo=UTC)


def test_pixel6_in_zhejiang():
    photo = processed("photos/gps/pixel6_ultrahdr_gps_alt_zhejiang_china_1512x2688.jpg")
    assert (photo.meta.gps_lat, photo.meta.gps_lon) == pytest.approx((30.62765, 119.738767), abs=1e-5)
    assert photo.meta.taken_at == datetime(2024, 5, 7, 1, 32, 9, tzinfo=UTC)
    assert photo.display_size == (720, 1280)


def test_southern_hemisphere_latitude_is_negative():
    meta = processed("photos/gps/gps_southern_hemisphere_australia_494x327.jpg").meta
    assert meta.gps_lat == pytest.approx(-38.405195, abs=1e-5)
    assert meta.gps_lon == pytest.approx(144.188958, abs=1e-5)


def test_gps_date_on_the_next_utc_day():
    meta = processed("photos/gps/samsung_note5_gps_alt_florida_920x570.jpg").meta
    assert meta.taken_at == datetime(2018, 4, 29, 1, 22, 57, tzinfo=UTC)


@pytest.mark.parametrize("name", BAD)
def test_bad_image_is_a_clean_4xx_or_ignored_exif(name):
    data = (DATA / "bad-images" / name).read_bytes()
    try:
        photo = process_photo(data)
    except MediaError as err:
        assert 400 <= as_app_error(err).status < 500
        assert err.code in {"unsupported_image_type", "image_unreadable", "image_too_many_pixels"}
    else:
        assert photo.display and photo.thumb
        assert photo.meta.gps_lat is None and photo.meta.gps_lon is None


@pytest.mark.parametrize(
    "name, code",
    [
        ("truncated_jpeg.jpg", "image_unreadable"),
        ("truncated_phone_jpeg_with_china_gps.jpg", "image_unreadable"),
        ("truncated_png.png", "image_unreadable"),
        ("broken_png_unidentifiable.png", "image_unreadable"),
    ],
)
def test_broken_images_are_unreadable(name, code):
    with pytest.raises(MediaError) as err:
        process_photo((DATA / "bad-images" / name).read_bytes())
    assert (as_app_error(err.value).status, err.value.code) == (422, code)


@pytest.mark.parametrize("name", ["decompression_bomb_4_3_gigapixel.gif", "decompression_bomb_4_3_gigapixel.ico"])
def test_bombs_are_rejected_before_decoding(name):
    data = (DATA / "bad-images" / name).read_bytes()
    with pytest.raises(MediaError) as err:
        process_photo(data)
    assert err.value.code in ("unsupported_image_type", "image_too_many_pixels")


def test_malformed_gps_and_future_date_are_ignored():
    meta = process_photo((DATA / "bad-images" / "malformed_gps_ifd.jpg").read_bytes()).meta
    assert (meta.gps_lat, meta.gps_lon, meta.taken_at) == (None, None, None)


def test_xiaomi_with_empty_gps_ifd():
    photo = process_photo((DATA / "bad-images" / "empty_gps_ifd_xiaomi_orientation6.jpg").read_bytes())
    assert photo.meta.orientation == 6
    assert photo.meta.gps_lat is None
    # DateTimeOriginal 14:46:48 without an offset, read as Asia/Shanghai.
    assert photo.meta.taken_at == datetime(2020, 7, 27, 6, 46, 48, tzinfo=UTC)
