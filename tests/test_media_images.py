"""The photo pipeline on images generated here with Pillow (no shared corpus, no Flask app)."""

import hashlib
import io
import os
import struct
import zlib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pillow_heif
import pytest
from PIL import (
    Image,
    ImageChops,
    ImageCms,
    ImageFile,
    ImageOps,
    ImageStat,
    TiffImagePlugin,
)

from civicreport.errors import as_app_error
from civicreport.media import images
from civicreport.media.errors import InvalidPhoto, MediaError, PhotoTooLarge
from civicreport.media.images import (
    Limits,
    hamming,
    inspect_photo,
    process_photo,
    sniff_format,
)

T = Image.Transpose
# Stored pixels for each EXIF orientation, given the upright scene.
STORED = {
    1: None,
    2: T.FLIP_LEFT_RIGHT,
    3: T.ROTATE_180,
    4: T.FLIP_TOP_BOTTOM,
    5: T.TRANSPOSE,
    6: T.ROTATE_90,
    7: T.TRANSVERSE,
    8: T.ROTATE_270,
}
RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def scene(size=(400, 300)):
    """Grey picture with red top-left, green top-right and blue bottom-left blocks."""
    w, h = size
    im = Image.new("RGB", size, (128, 128, 128))
    im.paste(RED, (0, 0, w // 4, h // 4))
    im.paste(GREEN, (w - w // 4, 0, w, h // 4))
    im.paste(BLUE, (0, h - h // 4, w // 4, h))
    return im


def corners(im):
    w, h = im.size
    im = im.convert("RGB")
    return [im.getpixel(p) for p in ((w // 10, h // 10), (w - w // 10, h // 10), (w // 10, h - h // 10))]


def close(a, b, tol=40):
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def encode(im, fmt="JPEG", **kw):
    out = io.BytesIO()
    im.save(out, fmt, **kw)
    return out.getvalue()


def exif_bytes(orientation=None, gps=None, sub=None):
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    if gps:
        exif.get_ifd(0x8825).update(gps)
    if sub:
        exif.get_ifd(0x8769).update(sub)
    return exif.tobytes()


def reopen(data):
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def assert_clean_jpeg(data):
    im = reopen(data)
    assert im.format == "JPEG"
    assert not im.info.get("progressive")
    assert not im.getexif()
    for key in ("exif", "xmp", "XML:com.adobe.xmp", "comment"):
        assert key not in im.info


def png_header(width, height):
    """A PNG whose IHDR declares ``width`` x ``height``; the pixel data is deliberately absent."""

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


GPS_CHONGQING = {1: "N", 2: (29.0, 1.0, 41.1), 3: "E", 4: (106.0, 39.0, 5.1)}


# --- sniffing --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt, expected", [("JPEG", "jpeg"), ("PNG", "png"), ("WEBP", "webp"), ("HEIF", "heif")])
def test_sniff_detects_supported_formats(fmt, expected):
    assert sniff_format(encode(scene((32, 24)), fmt)) == expected


@pytest.mark.parametrize(
    "data",
    [
        encode(scene((32, 24)), "GIF"),
        encode(scene((32, 24)), "ICO"),
        encode(scene((32, 24)), "BMP"),
        encode(scene((32, 24)), "AVIF"),
        b"RIFF\x24\0\0\0WAVEfmt ",
        b"just some text, not a picture",
        b"\0\0\0\x18ftypisom\0\0\0\0isommp42",
        os.urandom(4096),
        b"",
    ],
    ids=["gif", "ico", "bmp", "avif", "wav", "text", "mp4", "random", "empty"],
)
def test_sniff_rejects_everything_else(data):
    with pytest.raises(InvalidPhoto) as err:
        sniff_format(data)
    assert err.value.code == "unsupported_image_type"
    assert as_app_error(err.value).status == 422


def test_sniff_finds_heif_brand_among_compatible_brands():
    assert sniff_format(b"\0\0\0\x18ftypabcd\0\0\0\0xxxxmif1" + b"\0" * 16) == "heif"


# --- the happy path --------------------------------------------------------------------


def test_jpeg_with_orientation_6_and_gps():
    stored = scene((2000, 1500)).transpose(STORED[6])
    sub = {0x9003: "2024:05:01 10:00:00", 0x9011: "+08:00"}
    data = encode(stored, exif=exif_bytes(6, GPS_CHONGQING, sub), quality=90)

    photo = process_photo(data)

    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    assert (photo.format, photo.content_type, photo.byte_size) == ("jpeg", "image/jpeg", len(data))
    assert stored.size == (1500, 2000)
    assert (photo.width, photo.height) == (2000, 1500)  # upright
    assert photo.display_size == (1280, 960)
    assert photo.thumb_size == (320, 240)
    assert photo.meta.orientation == 6
    assert photo.meta.gps_lat == pytest.approx(29.028083, abs=1e-5)
    assert photo.meta.gps_lon == pytest.approx(106.651417, abs=1e-5)
    assert photo.meta.taken_at == datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
    assert len(photo.phash) == 16 and int(photo.phash, 16) >= 0
    for blob, size in ((photo.display, photo.display_size), (photo.thumb, photo.thumb_size)):
        assert_clean_jpeg(blob)
        assert reopen(blob).size == size
    assert [close(c, want) for c, want in zip(corners(reopen(photo.display)), (RED, GREEN, BLUE), strict=True)] == [
        True
    ] * 3


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_gives_upright_derivatives(orientation):
    upright = scene()
    stored = upright.transpose(STORED[orientation]) if STORED[orientation] is not None else upright
    data = encode(stored, exif=exif_bytes(orientation), quality=95)
    # Pillow's own exif_transpose agrees that these bytes show ``upright``.
    assert ImageOps.exif_transpose(Image.open(io.BytesIO(data))).size == upright.size

    photo = process_photo(data)

    assert (photo.width, photo.height) == upright.size
    assert photo.meta.orientation == orientation
    for blob in (photo.display, photo.thumb):
        got = corners(reopen(blob))
        assert all(close(c, want) for c, want in zip(got, (RED, GREEN, BLUE), strict=True)), got


@pytest.mark.parametrize("value", [0, 9, 255])
def test_invalid_orientation_counts_as_1(value):
    photo = process_photo(encode(scene(), exif=exif_bytes(value)))
    assert photo.meta.orientation == 1
    assert photo.display_size == (400, 300)


def test_reduced_jpeg_decode_is_used(monkeypatch):
    seen = []
    flatten = images._flatten
    monkeypatch.setattr(images, "_flatten", lambda im: seen.append(im.size) or flatten(im))
    photo = process_photo(encode(scene((4000, 3000)), quality=80))
    assert seen == [(2000, 1500)]  # libjpeg decoded at 1/2 scale, still >= 1280 wide
    assert (photo.width, photo.height) == (4000, 3000)
    assert photo.display_size == (1280, 960)


@pytest.mark.parametrize("orientation", [1, 6])
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_inspect_reads_what_processing_reads_without_decoding_a_pixel(monkeypatch, fmt, orientation):
    upright = scene((1200, 900))
    stored = upright.transpose(STORED[orientation]) if STORED[orientation] is not None else upright
    data = encode(stored, fmt, exif=exif_bytes(orientation), quality=80)
    full = process_photo(data)
    monkeypatch.setattr(Image.Image, "load", lambda im: pytest.fail("inspect decoded pixels"))
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda im: pytest.fail("inspect decoded pixels"))
    seen = inspect_photo(data)
    facts = ("sha256", "format", "content_type", "byte_size", "width", "height", "meta")
    assert [getattr(seen, f) for f in facts] == [getattr(full, f) for f in facts]
    assert (seen.display, seen.display_size, seen.thumb, seen.thumb_size, seen.phash) == (None,) * 5
    assert seen.regions == ()


def test_png_alpha_is_composited_on_white():
    im = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    im.paste((255, 0, 0, 255), (0, 0, 100, 100))
    photo = process_photo(encode(im, "PNG"))
    display = reopen(photo.display)
    assert display.mode == "RGB"
    assert close(display.getpixel((50, 50)), RED)
    assert close(display.getpixel((150, 50)), (255, 255, 255))
    assert photo.content_type == "image/png"


def test_palette_png_with_transparency_is_composited_on_white():
    im = Image.new("P", (64, 64), 0)
    im.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    im.paste(1, (0, 0, 32, 64))
    photo = process_photo(encode(im, "PNG", transparency=0))
    display = reopen(photo.display)
    assert close(display.getpixel((16, 32)), BLUE)
    assert close(display.getpixel((48, 32)), (255, 255, 255))


def test_16_bit_grayscale_png_is_scaled_not_clipped():
    im = Image.new("I;16", (64, 64), 32768)
    display = reopen(process_photo(encode(im, "PNG")).display)
    assert display.mode == "L"
    assert 120 <= display.getpixel((32, 32)) <= 136


def test_cmyk_jpeg_becomes_rgb():
    data = encode(scene().convert("CMYK"), quality=95)
    display = reopen(process_photo(data).display)
    assert display.mode == "RGB"
    assert close(corners(display)[0], RED, tol=60)


def test_grayscale_jpeg_stays_grayscale():
    display = reopen(process_photo(encode(scene().convert("L"))).display)
    assert display.mode == "L"


def test_webp_with_exif_orientation():
    data = encode(scene().transpose(STORED[6]), "WEBP", exif=exif_bytes(6), quality=95)
    photo = process_photo(data)
    assert (photo.format, photo.content_type) == ("webp", "image/webp")
    assert photo.display_size == (400, 300)
    assert all(close(c, w) for c, w in zip(corners(reopen(photo.display)), (RED, GREEN, BLUE), strict=True))


def test_heic_rotation_is_applied_once():
    # pillow-heif turns EXIF orientation 6 into an irot box on save and rotates on decode;
    # honouring the EXIF tag as well would rotate the picture twice.
    data = encode(scene().transpose(STORED[6]), "HEIF", exif=exif_bytes(6, GPS_CHONGQING), quality=95)
    raw_exif = Image.Exif()
    raw_exif.load(pillow_heif.open_heif(io.BytesIO(data)).info["exif"])
    assert raw_exif[0x0112] == 6  # the file keeps the tag next to its irot box
    photo = process_photo(data)
    assert (photo.format, photo.content_type) == ("heif", "image/heic")
    assert (photo.width, photo.height) == (400, 300)
    assert photo.meta.orientation == 1
    assert photo.meta.gps_lat == pytest.approx(29.028083, abs=1e-5)
    assert_clean_jpeg(photo.display)
    assert all(close(c, w) for c, w in zip(corners(reopen(photo.display)), (RED, GREEN, BLUE), strict=True))


@pytest.mark.parametrize("derivative", ["display", "thumb"])
def test_large_heic_is_shrunk_while_read_upright_and_true_to_a_whole_decode(derivative):
    # 2700 x 1800 upright, stored sideways with an irot box: at least halved while read.
    data = encode(scene((2700, 1800)).transpose(STORED[6]), "HEIF", exif=exif_bytes(6), quality=90)
    photo = process_photo(data)
    assert (photo.width, photo.height) == (2700, 1800)
    shown = reopen(getattr(photo, derivative))
    assert shown.size == {"display": (1280, 853), "thumb": (320, 213)}[derivative]
    assert all(close(c, w) for c, w in zip(corners(shown), (RED, GREEN, BLUE), strict=True))
    whole = reopen(data).convert("RGB").resize(shown.size, Image.Resampling.LANCZOS)
    assert max(ImageStat.Stat(ImageChops.difference(shown.convert("RGB"), whole)).mean) < 2


def test_large_heic_with_alpha_is_flattened_onto_white():
    im = scene((2600, 1400)).convert("RGBA")
    im.putalpha(Image.new("L", im.size, 255))
    im.paste((0, 0, 0, 0), (1300, 700, 2600, 1400))  # bottom-right quarter transparent
    photo = process_photo(encode(im, "HEIF", quality=90))
    shown = reopen(photo.display)
    assert shown.size == (1280, 689) and shown.mode == "RGB"
    assert close(shown.getpixel((1200, 650)), (255, 255, 255))
    assert all(close(c, w) for c, w in zip(corners(shown), (RED, GREEN, BLUE), strict=True))


def test_icc_profile_is_kept_but_comment_and_xmp_are_not():
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>29,1.5N</exif:GPSLatitude></x:xmpmeta>'
    data = encode(scene(), icc_profile=icc, comment=b"secret", xmp=xmp, exif=exif_bytes(1, GPS_CHONGQING))
    photo = process_photo(data)
    for blob in (photo.display, photo.thumb):
        assert_clean_jpeg(blob)
        assert reopen(blob).info["icc_profile"] == icc


# --- metadata ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "gps, expected",
    [
        ({1: b"S", 2: (33.0, 52.0, 4.0), 3: b"W", 4: (70.0, 40.0, 0.0)}, (-33.867778, -70.666667)),
        ({1: "n", 2: (10.5,), 3: "e", 4: (20.25,)}, (10.5, 20.25)),
        ({1: "N", 2: (TiffImagePlugin.IFDRational(1, 0), 1.0, 2.0), 3: "E", 4: (1.0, 2.0, 3.0)}, None),
        ({1: "N", 2: (95.0, 0.0, 0.0), 3: "E", 4: (1.0, 2.0, 3.0)}, None),
        ({1: "N", 2: (10.0, 0.0, 0.0), 3: "E", 4: (181.0, 0.0, 0.0)}, None),
        ({1: "N", 2: (0.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)}, None),
        ({2: (10.0, 0.0, 0.0), 4: (20.0, 0.0, 0.0)}, None),
        ({1: "X", 2: (10.0, 0.0, 0.0), 3: "E", 4: (20.0, 0.0, 0.0)}, None),
        ({1: "N", 2: 4294967295, 3: "E", 4: (20.0, 0.0, 0.0)}, None),
        ({1: "N", 2: (1.0, 2.0, 3.0, 4.0), 3: "E", 4: (20.0, 0.0, 0.0)}, None),
    ],
    ids=[
        "south-west-bytes",
        "lowercase-single",
        "zero-denominator",
        "lat-range",
        "lon-range",
        "null-island",
        "no-refs",
        "bad-ref",
        "single-huge",
        "four-parts",
    ],
)
def test_gps_parsing(gps, expected):
    meta = process_photo(encode(scene(), exif=exif_bytes(gps=gps))).meta
    if expected is None:
        assert (meta.gps_lat, meta.gps_lon) == (None, None)
    else:
        assert (meta.gps_lat, meta.gps_lon) == pytest.approx(expected, abs=1e-5)


DTO = {0x9003: "2024:05:01 10:00:00"}


@pytest.mark.parametrize(
    "gps, sub, tz, expected",
    [
        ({29: "2024:05:01", 7: (1.0, 2.0, 3.5)}, DTO, None, datetime(2024, 5, 1, 1, 2, 3, 500000, tzinfo=UTC)),
        ({29: "1999:99:99", 7: (1.0, 2.0, 3.0)}, DTO, None, datetime(2024, 5, 1, 2, 0, tzinfo=UTC)),
        ({29: "2024:05:01", 7: (25.0, 0.0, 0.0)}, DTO, None, datetime(2024, 5, 1, 2, 0, tzinfo=UTC)),
        (None, {**DTO, 0x9011: "+05:30"}, None, datetime(2024, 5, 1, 4, 30, tzinfo=UTC)),
        (None, {**DTO, 0x9011: "junk"}, None, datetime(2024, 5, 1, 2, 0, tzinfo=UTC)),
        (None, DTO, ZoneInfo("Europe/Berlin"), datetime(2024, 5, 1, 8, 0, tzinfo=UTC)),
        (None, {0x9003: "0000:00:00 00:00:00"}, None, None),
        (None, {0x9003: "    :  :     :  :  "}, None, None),
        (None, {0x9003: "2099:09:29 10:10:10"}, None, None),
        (None, {0x9003: "1970:01:01 00:00:00"}, None, None),
        (None, None, None, None),
    ],
    ids=[
        "gps-utc",
        "gps-date-garbage",
        "gps-hour-garbage",
        "offset",
        "offset-garbage",
        "default-tz",
        "zeros",
        "blanks",
        "future",
        "epoch",
        "none",
    ],
)
def test_taken_at(gps, sub, tz, expected):
    data = encode(scene(), exif=exif_bytes(gps=gps, sub=sub))
    kwargs = {"default_tz": tz} if tz else {}
    assert process_photo(data, **kwargs).meta.taken_at == expected


def test_exif_reader_never_raises(monkeypatch):
    def explode(self, *args):
        raise RuntimeError("parser bug")

    data = encode(scene(), exif=exif_bytes(6, GPS_CHONGQING, DTO))
    monkeypatch.setattr(Image.Exif, "get_ifd", explode)
    meta = process_photo(data).meta
    assert (meta.gps_lat, meta.taken_at, meta.orientation) == (None, None, 6)


# --- limits and broken input ---------------------------------------------------------------


def test_byte_cap_comes_before_anything_else():
    with pytest.raises(PhotoTooLarge) as err:
        process_photo(b"not even an image" * 100, Limits(max_bytes=1000))
    assert err.value.code == "photo_too_large"
    assert as_app_error(err.value).status == 413
    assert err.value.details == {"max_bytes": 1000, "size": 1700}


def test_pixel_cap_is_checked_before_decoding():
    data = png_header(32_000_001, 2)  # 64,000,002 pixels, built without any pixel data
    with pytest.raises(InvalidPhoto) as err:  # the header has no pixel data to decode
        process_photo(data)
    assert err.value.code == "image_too_many_pixels"
    assert err.value.details == {"max_pixels": 64_000_000, "width": 32_000_001, "height": 2}


@pytest.mark.parametrize("size", [(2_000_000_000, 2), (10_000, 10_000)], ids=["pillow-error", "pillow-warning"])
def test_pillow_bomb_checks_map_to_too_many_pixels(size):
    with pytest.raises(InvalidPhoto) as err:
        process_photo(png_header(*size), Limits(max_pixels=10**12))
    assert err.value.code == "image_too_many_pixels"


def test_pixel_cap_boundary():
    limits = Limits(max_pixels=1000)
    assert process_photo(encode(scene((50, 20))), limits).display_size == (50, 20)
    with pytest.raises(InvalidPhoto) as err:
        process_photo(encode(scene((51, 20))), limits)
    assert err.value.details == {"max_pixels": 1000, "width": 51, "height": 20}


@pytest.mark.parametrize("check", [process_photo, inspect_photo], ids=["process", "inspect"])
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_truncated_image_is_unreadable(fmt, check):
    data = encode(Image.frombytes("RGB", (1024, 1024), os.urandom(1024 * 1024 * 3)), fmt)
    # Decoders stop at the last pixel; a file missing only its end marker is refused by inspect alone.
    for cut in (len(data) * 2 // 3, *([len(data) - 2] if check is inspect_photo else [])):
        with pytest.raises(InvalidPhoto) as err:
            check(data[:cut])
        assert err.value.code == "image_unreadable"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.parametrize(
    "options",
    [
        {"progressive": True},
        {"restart_marker_rows": 1},
        {"subsampling": 0, "quality": 95},
    ],
    ids=["progressive", "restart markers", "4:4:4"],
)
def test_inspect_accepts_complete_jpegs_of_every_kind_and_data_after_the_end(options):
    data = encode(Image.frombytes("RGB", (640, 480), os.urandom(640 * 480 * 3)), **options)
    assert inspect_photo(data).width == 640
    assert inspect_photo(data + b"\x00\x00\x00\x18ftypmp42" + os.urandom(4000)).width == 640  # motion photo
    with pytest.raises(InvalidPhoto):
        inspect_photo(data[:-2])


def test_inspect_skips_fill_bytes_before_a_marker():
    data = encode(scene((64, 48)))
    filled = data[:2] + b"\xff\xff\xff" + data[2:-2] + b"\xff\xff\xd9"
    assert inspect_photo(filled).width == 64


def test_garbage_after_magic_bytes_is_unreadable():
    with pytest.raises(InvalidPhoto) as err:
        process_photo(b"\x89PNG\r\n\x1a\n" + os.urandom(200))
    assert err.value.code == "image_unreadable"


@pytest.mark.parametrize("data", [encode(scene(), "GIF"), os.urandom(10_000)], ids=["gif", "random"])
def test_unsupported_bytes_are_rejected(data):
    with pytest.raises(MediaError) as err:
        process_photo(data)
    assert (as_app_error(err.value).status, err.value.code) == (422, "unsupported_image_type")


# --- perceptual hash -----------------------------------------------------------------------


def test_phash_is_stable_across_sizes_and_differs_between_pictures():
    base = scene((1600, 1200))
    a = process_photo(encode(base, quality=90)).phash
    b = process_photo(encode(base.resize((800, 600)), quality=60)).phash
    other = process_photo(encode(base.transpose(T.FLIP_LEFT_RIGHT))).phash
    assert hamming(a, b) <= 4
    assert hamming(a, other) >= 16


def test_hamming():
    assert hamming("0000000000000000", "0000000000000000") == 0
    assert hamming("ffffffffffffffff", "0000000000000000") == 64
    assert hamming("8000000000000001", "0000000000000000") == 2
    with pytest.raises(ValueError):
        hamming("xyz", "0")
