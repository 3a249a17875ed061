"""Decode limits: Pillow's bomb guard follows MAX_PHOTO_PIXELS, and a process decodes one photo at a time."""

import threading

import pytest
from PIL import Image

from civicreport import create_app, registry
from civicreport.cases import photos
from civicreport.media.errors import TooManyPixels
from tests.factories import photo_bytes


@pytest.fixture
def pillow_limit():
    """Image.MAX_IMAGE_PIXELS is process-wide: put back what the session's app set."""
    saved = Image.MAX_IMAGE_PIXELS
    yield
    Image.MAX_IMAGE_PIXELS = saved


def test_pillow_bomb_guard_follows_max_photo_pixels(tmp_path, pillow_limit):
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
            "MEDIA_ROOT": str(tmp_path),
            "STORAGE": "local",
            "MAX_PHOTO_PIXELS": 1000,
        }
    )
    assert Image.MAX_IMAGE_PIXELS == 1000
    with app.app_context(), pytest.raises(TooManyPixels) as err:
        photos.process(photo_bytes((51, 20)))
    assert err.value.code == "image_too_many_pixels"
    assert err.value.details == {"max_pixels": 1000, "width": 51, "height": 20}


def test_a_photo_waits_while_another_is_decoded(app):
    data, results = photo_bytes((64, 48)), []

    def decode():
        with app.app_context():
            results.append(photos.process(data))

    gate = registry.of(app).decode_gate
    gate.acquire()  # another request is decoding
    worker = threading.Thread(target=decode)
    try:
        worker.start()
        worker.join(0.5)
        assert worker.is_alive() and not results
    finally:
        gate.release()
    worker.join(30)
    assert results and results[0].display_size == (64, 48)
