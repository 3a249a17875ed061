"""Photo intake: type sniffing, limits, EXIF metadata, upright derivatives and a perceptual hash.

Plain Python (no Flask, no models). Every problem with the uploaded bytes raises a
``media.errors.MediaError`` with a stable ``code``; garbage metadata is ignored, never raised.
Derivatives are public: faces, plates and hand-drawn areas are blurred in them
(see ``privacy``); the original bytes are never changed.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import math
import numbers
import re
import struct
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, TypedDict, TypeVar, TypeVarTuple
from zoneinfo import ZoneInfo

import numpy as np
import pillow_heif
from PIL import Image, ImageFile

from civicreport.media.errors import PhotoTooLarge, TooManyPixels, UnreadablePhoto, UnsupportedFormat
from civicreport.media.privacy import Detector, NullDetector, Region, opencv, redact

pillow_heif.register_heif_opener()

_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "heif": "HEIF"}
_CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "heif": "image/heif"}
_ICC_SPACES = {"RGB": b"RGB ", "L": b"GRAY"}
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_JPEG_SOS, _JPEG_EOI = 0xDA, 0xD9
_JPEG_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7]")
_HEIF_STRIPE_MODES = frozenset({"RGB", "RGBA", "L"})
# Non-JPEG photos of this many pixels or more are decoded whole (a JPEG is decoded at a
# reduced DCT scale): a 16 MP HEIC takes ~87 MB while it is decoded (libde265's frame,
# libheif's YUV planes and 48 MB of RGB). So the detector first drops what it keeps between
# photos (the face nets' layer buffers, 24-41 MB; remade at the next detection for ~3 ms)
# and the freed heap goes back to the system (the decode's big buffers are mmaps of their
# own and would not reuse it). bench/memory.py inline, web worker VmHWM, 16 MP HEIC step:
# 315 MB before (3 runs), 280-281 with the release alone, 278 with the trim as well
# (4 runs each); the whole bench 331-337, 306-317, 293-307. CPU (bench/privacy.py --quick,
# process_photo with yunet+plates): JPEGs unchanged (141/194 ms before, 125-138/188-194
# after); the 12 MP HEIF 367 -> 387-415 ms, the trim's pages faulted in again (the nets'
# remaking cost nothing measurable).
_RELEASE_PIXELS = 8_000_000
_HEIF_STRIPE_ROWS = 256  # a stripe of a 16 MP photo: ~5 MB in Pillow's layout
_TAG_ORIENTATION = 0x0112
_IFD_EXIF = 0x8769
_IFD_GPS = 0x8825
_TAG_DATETIME_ORIGINAL = 0x9003
_TAG_OFFSET_TIME_ORIGINAL = 0x9011
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON, _GPS_TIME, _GPS_DATE = 1, 2, 3, 4, 7, 29
_OFFSET_RE = re.compile(r"([+-])(\d{2}):(\d{2})")
_EARLIEST_PHOTO = datetime(1990, 1, 1, tzinfo=UTC)
_NO_DETECTOR = NullDetector()  # process_photo's default: only the regions staff draw are blurred
# What Pillow and its plugins raise on corrupt or truncated data.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    RuntimeError,
    struct.error,
)


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 15 * 1024 * 1024
    max_pixels: int = 64_000_000
    display_px: int = 1280
    thumb_px: int = 320
    jpeg_quality: int = 82


@dataclass(frozen=True)
class PhotoMeta:
    gps_lat: float | None
    gps_lon: float | None
    taken_at: datetime | None  # aware, UTC
    orientation: int  # EXIF orientation applied to the pixels; 1 for HEIF (the decoder applies irot/imir)


@dataclass(frozen=True)
class ProcessedPhoto:
    sha256: str
    format: str
    content_type: str
    byte_size: int
    width: int  # upright size of the full original
    height: int
    meta: PhotoMeta
    # The derivatives and the hash are None from ``inspect_photo``, which decodes nothing.
    display: bytes | None
    display_size: tuple[int, int] | None
    thumb: bytes | None
    thumb_size: tuple[int, int] | None
    phash: str | None  # of the unblurred picture, so duplicate checks do not depend on the detector
    regions: tuple[Region, ...] = ()  # blurred in both derivatives: detected, then manual


def sniff_format(data: bytes) -> str:
    """Return "jpeg", "png", "webp" or "heif" from the magic bytes.

    Raises UnsupportedFormat(unsupported_image_type) for anything else.
    """
    head = bytes(data[:64])
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if _is_heif(data):
        return "heif"
    raise UnsupportedFormat()


def _is_heif(data: bytes) -> bool:
    """True for an ISO-BMFF ``ftyp`` box naming a HEIF brand (AVIF files are refused)."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return False
    box_size = int.from_bytes(data[:4], "big")
    end = min(box_size, len(data), 4096) if box_size >= 16 else 16
    brands = {bytes(data[8:12])} | {bytes(data[i : i + 4]) for i in range(16, end - 3, 4)}
    return bool(brands & _HEIF_BRANDS) and not brands & _AVIF_BRANDS


def process_photo(
    data: bytes,
    limits: Limits = Limits(),
    default_tz: tzinfo = ZoneInfo("Asia/Shanghai"),
    detector: Detector = _NO_DETECTOR,
    manual: tuple[Region, ...] = (),
) -> ProcessedPhoto:
    """Check, decode once and derive the upright, metadata-free display and thumb JPEGs,
    with what ``detector`` finds on the display image and the ``manual`` regions blurred.

    Raises PhotoTooLarge(photo_too_large), UnsupportedFormat(unsupported_image_type),
    TooManyPixels(image_too_many_pixels) or UnreadablePhoto(image_unreadable) (media.errors);
    bad EXIF is ignored, never raised.
    """
    _check_bytes(data, limits)
    fmt = sniff_format(data)
    im = _open(data, fmt, limits)
    full_size = im.size
    if fmt != "jpeg" and full_size[0] * full_size[1] >= _RELEASE_PIXELS:
        detector.release()  # its nets' buffers make room for the decode (see _RELEASE_PIXELS)
        _give_back_heap()
    pixels = _decode(data, im, fmt, limits.display_px)
    meta = _read_meta(im, fmt, default_tz)
    upright = _upright_size(full_size, meta.orientation)
    display, thumb = _derivatives(pixels, meta.orientation, _fit(upright, limits.display_px), limits.thumb_px)
    phash = _dhash(thumb)
    facts, icc = _facts(data, fmt, im, upright, meta), _icc_profile(im.info.get("icc_profile"), display.mode)
    del im, pixels  # the decoded photo (12 MB for a 12 MP JPEG) is freed before detection adds its own
    regions = (*detector.detect(display), *manual)
    display, thumb = redact(display, regions), redact(thumb, regions)
    return ProcessedPhoto(
        **facts,
        display=_encode_jpeg(display, limits.jpeg_quality, icc),
        display_size=display.size,
        thumb=_encode_jpeg(thumb, limits.jpeg_quality, icc),
        thumb_size=thumb.size,
        phash=phash,
        regions=regions,
    )


def inspect_photo(
    data: bytes,
    limits: Limits = Limits(),
    default_tz: tzinfo = ZoneInfo("Asia/Shanghai"),
) -> ProcessedPhoto:
    """What ``process_photo`` checks and reads without decoding a pixel: type, byte and
    pixel limits, a complete file (``_check_complete``) and the metadata. No derivatives
    and no hash: the privacy pass makes them from the original later.

    Corrupt compressed data inside a complete file is found only then. Raises what
    ``process_photo`` raises.
    """
    _check_bytes(data, limits)
    fmt = sniff_format(data)
    im = _open(data, fmt, limits)
    _check_complete(data, fmt)
    meta = _read_meta(im, fmt, default_tz)
    return ProcessedPhoto(
        **_facts(data, fmt, im, _upright_size(im.size, meta.orientation), meta),
        display=None,
        display_size=None,
        thumb=None,
        thumb_size=None,
        phash=None,
    )


class _Facts(TypedDict):
    """What ``process_photo`` and ``inspect_photo`` both tell of a photo."""

    sha256: str
    format: str
    content_type: str
    byte_size: int
    width: int
    height: int
    meta: PhotoMeta


def _facts(data: bytes, fmt: str, im: ImageFile.ImageFile, upright: tuple[int, int], meta: PhotoMeta) -> _Facts:
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "format": fmt,
        "content_type": _content_type(im, fmt),
        "byte_size": len(data),
        "width": upright[0],
        "height": upright[1],
        "meta": meta,
    }


def hamming(a_hex: str, b_hex: str) -> int:
    """Number of differing bits between two hex hashes; raises ValueError if one is not hex."""
    return (int(a_hex, 16) ^ int(b_hex, 16)).bit_count()


# --- limits and decoding -------------------------------------------------------------


def _check_bytes(data: bytes, limits: Limits) -> None:
    """Raise PhotoTooLarge(photo_too_large) when ``data`` is over the byte cap."""
    if len(data) > limits.max_bytes:
        raise PhotoTooLarge(
            f"照片文件过大，单张不能超过 {limits.max_bytes / 1024 / 1024:g} MB",
            details={"max_bytes": limits.max_bytes, "size": len(data)},
        )


def _open(data: bytes, fmt: str, limits: Limits) -> ImageFile.ImageFile:
    """Read the header only; raises TooManyPixels / UnreadablePhoto.

    Pillow's own bomb check counts too: a warning above ``Image.MAX_IMAGE_PIXELS`` (the
    app sets it to MAX_PHOTO_PIXELS; Pillow's default is ~89 MP), an error above twice that.
    """
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[fmt]])
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(limits, None) from exc
    except _DECODE_ERRORS as exc:
        raise _unreadable() from exc
    width, height = im.size
    if width < 1 or height < 1:
        raise _unreadable()
    bomb = any(issubclass(w.category, Image.DecompressionBombWarning) for w in caught)
    if bomb or width * height > limits.max_pixels:
        raise _too_many_pixels(limits, im.size)
    return im


def _decode(data: bytes, im: Image.Image, fmt: str, long_px: int) -> Image.Image:
    """Decode the pixels once, no larger than needed to cover ``long_px``: a JPEG at the
    smallest DCT scale that does, a HEIF shrunk while it is read (``_heif_shrunk``).

    Returns the image to derive from. Raises UnreadablePhoto(image_unreadable) for
    truncated or corrupt data.
    """
    try:
        if fmt == "heif":
            return _heif_shrunk(data, long_px) or _loaded(im)
        if fmt == "jpeg":
            im.draft("RGB", _draft_request(im.size, long_px))
        return _loaded(im)
    except _DECODE_ERRORS as exc:
        raise _unreadable() from exc


def _loaded(im: Image.Image) -> Image.Image:
    im.load()
    return im


def _heif_shrunk(data: bytes, long_px: int) -> Image.Image | None:
    """The primary HEIF image scaled to a long side of ``long_px``: box-reduced by the largest
    whole factor that keeps it >= ``long_px`` from libheif's buffer, a stripe of rows at a
    time, then resampled. None when that needs no reduction or the pixel layout is not
    plain 8-bit (the caller then loads the image whole).

    Pillow would copy the whole decoded buffer into an image of its own first: for 16 MP
    that is 48 MB plus 64 MB at once, the largest peak of a worker's memory. What is left is
    the HEVC decode's own: this function peaks 59 MB above where it starts on bench/memory.py's
    16 MP HEIC, and asking libheif for its YCbCr planes instead of RGB (through ctypes, no RGB
    buffer at all) peaked 64 MB above, so the RGB buffer is not what to cut.
    """
    heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
    factor = max(heif.size) // long_px
    if factor < 2 or heif.mode not in _HEIF_STRIPE_MODES:
        return None
    width, height = heif.size
    buffer, stride = memoryview(heif.data), heif.stride
    rows = factor * max(1, _HEIF_STRIPE_ROWS // factor)  # whole boxes: no seam between stripes
    shrunk = Image.new(heif.mode, (-(-width // factor), -(-height // factor)))
    for top in range(0, height, rows):
        count = min(rows, height - top)
        rows_data = buffer[top * stride : (top + count) * stride]  # a view: no copy of the stripe
        # Pillow's stub leaves memoryview out, but frombuffer reads one as it reads bytes.
        stripe = Image.frombuffer(heif.mode, (width, count), rows_data, "raw", heif.mode, stride, 1)  # type: ignore[arg-type]
        shrunk.paste(stripe.reduce(factor), (0, top // factor))
    # Box averages leave a step of less than 2× to make: Lanczos does it without the blur
    # BOX gives at such ratios (corpus HEIFs: 39-39.4 dB from a full-decode Lanczos reference).
    shrunk = shrunk.resize(_fit(heif.size, long_px), Image.Resampling.LANCZOS)
    shrunk.info = heif.info
    return shrunk


def _give_back_heap() -> None:
    """glibc's malloc_trim(0): free heap pages go back to the system (nothing elsewhere)."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


_MALLOC_TRIM = _malloc_trim()


def _draft_request(size: tuple[int, int], long_px: int) -> tuple[int, int]:
    """Box for ``draft`` whose long side is ``long_px``, so the decoded long side stays >= it."""
    scale = min(1.0, long_px / max(size))
    return max(1, math.floor(size[0] * scale)), max(1, math.floor(size[1] * scale))


def _check_complete(data: bytes, fmt: str) -> None:
    """Raise UnreadablePhoto(image_unreadable) unless the file's structure runs to its end
    marker: what an upload cut off by a bad network lacks. Reads no compressed data."""
    complete = {"jpeg": _jpeg_complete, "png": _png_complete, "webp": _webp_complete, "heif": _heif_complete}[fmt]
    if not complete(memoryview(data)):
        raise _unreadable()


def _jpeg_complete(data: memoryview) -> bool:
    """Segments from SOI up to EOI; each scan's entropy-coded data ends at the first 0xFF
    that is neither stuffing (FF 00) nor a restart marker (FF D0-D7)."""
    pos = 2
    while pos + 1 < len(data):
        if data[pos] != 0xFF:
            return False
        while pos + 1 < len(data) and data[pos + 1] == 0xFF:  # fill bytes before a marker
            pos += 1
        marker = data[pos + 1] if pos + 1 < len(data) else None
        if marker == _JPEG_EOI:
            return True
        if marker is None or pos + 4 > len(data):
            return False
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker != _JPEG_SOS:
            pos = end
            continue
        found = _JPEG_SCAN_END.search(data, end)
        if found is None:
            return False
        pos = found.start()
    return False


def _png_complete(data: memoryview) -> bool:
    """Chunks (length, type, data, CRC) from the signature up to IEND."""
    pos = 8
    while pos + 8 <= len(data):
        length, kind = int.from_bytes(data[pos : pos + 4], "big"), bytes(data[pos + 4 : pos + 8])
        pos += 12 + length
        if kind == b"IEND":
            return pos <= len(data)
    return False


def _webp_complete(data: memoryview) -> bool:
    """The RIFF header's size covers the file."""
    return len(data) >= 12 and 8 + int.from_bytes(data[4:8], "little") <= len(data)


def _heif_complete(data: memoryview) -> bool:
    """Top-level ISO-BMFF boxes fit the file one after another, an ``mdat`` among them (a
    cut-off upload loses the end of the image data, which comes last)."""
    pos, has_media = 0, False
    while pos + 8 <= len(data):
        size, kind = int.from_bytes(data[pos : pos + 4], "big"), bytes(data[pos + 4 : pos + 8])
        if size == 1:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big") if pos + 16 <= len(data) else 0
        elif size == 0:  # the box runs to the end of the file
            size = len(data) - pos
        if size < 8 or pos + size > len(data):
            return False
        has_media = has_media or kind == b"mdat"
        pos += size
    return pos == len(data) and has_media


def _too_many_pixels(limits: Limits, size: tuple[int, int] | None) -> TooManyPixels:
    width, height = size or (None, None)
    return TooManyPixels(
        f"图片像素过多，单张不能超过 {limits.max_pixels / 10_000:g} 万像素",
        details={"max_pixels": limits.max_pixels, "width": width, "height": height},
    )


def _unreadable() -> UnreadablePhoto:
    return UnreadablePhoto()


def _content_type(im: ImageFile.ImageFile, fmt: str) -> str:
    """pillow-heif tells image/heic from image/heif; the other formats have one type."""
    if fmt == "heif":
        return im.get_format_mimetype() or _CONTENT_TYPES[fmt]
    return _CONTENT_TYPES[fmt]


# --- derivatives ---------------------------------------------------------------------


def _derivatives(
    im: Image.Image, orientation: int, display_size: tuple[int, int], thumb_px: int
) -> tuple[Image.Image, Image.Image]:
    """Upright display (resized before turning: fewer pixels to move) and the thumb made from it."""
    raw_size = _upright_size(display_size, orientation)  # the same swap undoes itself
    display = _orient(_resize(_flatten(im), raw_size), orientation)
    return display, _resize(display, _fit(display.size, thumb_px))


def _upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """Swap width and height for the orientations that turn the image by 90 degrees."""
    return (size[1], size[0]) if orientation >= 5 else size


def _fit(size: tuple[int, int], long_px: int) -> tuple[int, int]:
    """``size`` scaled down (never up) so that its long side is at most ``long_px``."""
    scale = long_px / max(size)
    if scale >= 1:
        return size
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _flatten(im: Image.Image) -> Image.Image:
    """``im`` as RGB or L; transparency is composited onto white, 16-bit scaled to 8-bit."""
    if im.mode in ("RGB", "L"):
        return im
    if im.mode.startswith("I") or im.mode == "F":
        return im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if im.has_transparency_data:
        rgba = im.convert("RGBA")
        canvas = Image.new("RGB", im.size, "white")
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return im.convert("RGB")


def _resize(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A step of less than 2× (a JPEG's draft to the display size: 1632 → 1280 px for 8 MP)
    is bilinear from the nearest 2×2 pixels (OpenCV's INTER_LINEAR), larger ones an
    area-averaging (BOX) resample. From a full-decode Lanczos reference on the corpus phone
    photos, the small step is 37.4-48.7 dB bilinear against BOX's 35.3-45.1 (BOX blurs at such
    ratios), in 2 ms instead of 9 for an 8 MP photo's display image (3.8 ms with the copies
    in and out of numpy); BOX keeps the larger steps free of aliasing."""
    if im.size == size:
        return im
    if im.width < 2 * size[0] and im.height < 2 * size[1]:
        cv2 = opencv()  # imported by every process that decodes photos: the detectors need it
        return Image.fromarray(cv2.resize(np.asarray(im), size, interpolation=cv2.INTER_LINEAR))
    return im.resize(size, Image.Resampling.BOX, reducing_gap=2.0)


def _orient(im: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE.get(orientation)
    return im.transpose(method) if method is not None else im


def _icc_profile(profile: object, mode: str) -> bytes | None:
    """The source ICC profile if it describes ``mode``'s colour space (a CMYK one does not)."""
    if isinstance(profile, bytes) and profile[16:20] == _ICC_SPACES.get(mode):
        return profile
    return None


def _encode_jpeg(im: Image.Image, quality: int, icc: bytes | None) -> bytes:
    """Baseline JPEG carrying at most an ICC profile: no EXIF, XMP, GPS or comment."""
    im.info = {}  # Pillow copies a source COM comment from ``info`` unless told otherwise
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality, icc_profile=icc)
    return out.getvalue()


def _dhash(im: Image.Image) -> str:
    """64-bit difference hash as 16 hex chars: is each pixel darker than its right neighbour."""
    px = im.convert("L").resize((9, 8), Image.Resampling.LANCZOS).tobytes()
    bits = 0
    for row in range(8):
        for col in range(8):
            i = row * 9 + col
            bits = (bits << 1) | (px[i + 1] > px[i])
    return f"{bits:016x}"


# --- metadata ------------------------------------------------------------------------


def _read_meta(im: Image.Image, fmt: str, default_tz: tzinfo) -> PhotoMeta:
    """GPS, capture time and orientation; never raises (garbage gives None / orientation 1)."""
    exif = _safely(im.getexif)
    gps = _safely(exif.get_ifd, _IFD_GPS) if exif else None
    sub = _safely(exif.get_ifd, _IFD_EXIF) if exif else None
    lat, lon = _safely(_gps_position, gps or {}) or (None, None)
    taken_at = _first_plausible(_safely(_gps_time, gps or {}), _safely(_local_time, sub or {}, default_tz))
    # HEIF rotation lives in irot/imir boxes that pillow-heif applies while decoding.
    orientation = 1 if fmt == "heif" or not exif else _safely(_orientation, exif) or 1
    return PhotoMeta(gps_lat=lat, gps_lon=lon, taken_at=taken_at, orientation=orientation)


_T = TypeVar("_T")
_Args = TypeVarTuple("_Args")


def _safely(fn: Callable[[*_Args], _T], *args: *_Args) -> _T | None:
    """``fn(*args)``, or None if it raises anything: metadata must never fail an upload."""
    try:
        return fn(*args)
    except Exception:  # noqa: BLE001 - any parser bug on hostile EXIF is ignored by design
        return None


def _orientation(exif: Image.Exif) -> int:
    value = exif.get(_TAG_ORIENTATION)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _gps_position(gps: Mapping[int, Any]) -> tuple[float, float] | None:
    """Signed decimal degrees; None when missing, out of range or exactly (0, 0)."""
    lat = _signed(_dms(gps.get(_GPS_LAT)), gps.get(_GPS_LAT_REF), "N", "S")
    lon = _signed(_dms(gps.get(_GPS_LON)), gps.get(_GPS_LON_REF), "E", "W")
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180 or (lat == 0 and lon == 0):
        return None
    return lat, lon


def _dms(value: object) -> float | None:
    """Degrees from 1-3 rationals (degrees, minutes, seconds); None for garbage."""
    parts = value if isinstance(value, (tuple, list)) else (value,)
    if not 1 <= len(parts) <= 3:
        return None
    nums = [n for n in (_number(part) for part in parts) if n is not None and n >= 0]
    if len(nums) != len(parts):
        return None
    return sum(n / 60.0**i for i, n in enumerate(nums))


def _signed(degrees: float | None, ref: object, positive: str, negative: str) -> float | None:
    """Apply an N/S or E/W reference (bytes or str); None when it is missing or unknown."""
    text = _text(ref)
    if degrees is None or not text:
        return None
    letter = text[0].upper()
    if letter == positive:
        return degrees
    return -degrees if letter == negative else None


def _number(value: object) -> float | None:
    """A finite float from an EXIF rational, a (num, den) pair or a number; None otherwise."""
    if isinstance(value, tuple) and len(value) == 2:
        num, den = value
        value = num / den if den else math.nan
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    value = float(value)  # an IFDRational with a zero denominator is nan
    return value if math.isfinite(value) else None


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value.strip("\x00 ") if isinstance(value, str) else None


def _gps_time(gps: Mapping[int, Any]) -> datetime | None:
    """GPSDateStamp + GPSTimeStamp, which are UTC by definition."""
    date, hms = _text(gps.get(_GPS_DATE)), gps.get(_GPS_TIME)
    if not date or not isinstance(hms, tuple) or len(hms) != 3:
        return None
    day = datetime.strptime(date[:10].replace("-", ":"), "%Y:%m:%d")
    hours, minutes, seconds = (_number(v) for v in hms)
    if hours is None or minutes is None or seconds is None:
        return None
    if not (0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 61):
        return None
    return day.replace(tzinfo=UTC) + timedelta(hours=hours, minutes=minutes, seconds=seconds)


def _local_time(sub: Mapping[int, Any], default_tz: tzinfo) -> datetime | None:
    """DateTimeOriginal in its OffsetTimeOriginal, else in ``default_tz``; returned in UTC."""
    text = _text(sub.get(_TAG_DATETIME_ORIGINAL))
    if not text:
        return None
    stamp = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    zone = _utc_offset(_text(sub.get(_TAG_OFFSET_TIME_ORIGINAL))) or default_tz
    return stamp.replace(tzinfo=zone).astimezone(UTC)


def _utc_offset(text: str | None) -> timezone | None:
    match = _OFFSET_RE.fullmatch(text or "")
    if not match:
        return None
    sign = -1 if match[1] == "-" else 1
    offset = timedelta(hours=int(match[2]), minutes=int(match[3]))
    return timezone(sign * offset) if offset <= timedelta(hours=14) else None


def _first_plausible(*stamps: datetime | None) -> datetime | None:
    """The first stamp between 1990 and tomorrow (camera clocks reset to 1970 or drift ahead)."""
    latest = datetime.now(UTC) + timedelta(days=1)
    return next((s for s in stamps if s is not None and _EARLIEST_PHOTO <= s <= latest), None)
