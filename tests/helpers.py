"""Helpers many test modules share: posting reports, fetching photos, checking the error shape.

They live here, not in a test module, so no test module imports another one.
"""

import dataclasses
import io
import urllib.error
import urllib.request

from PIL import Image
from sqlalchemy import func, select

from civicreport import config, registry
from civicreport.extensions import db


def override_settings(app, monkeypatch, **values):
    """The rest of the test runs with ``values``: settings swapped in the app's registry (a new
    frozen ``Settings``, checked as at start-up), every key mirrored in ``app.config`` for Flask
    and its extensions; keys that are no setting (``MAX_CONTENT_LENGTH`` …) go to ``app.config``
    alone. ``monkeypatch`` puts everything back."""
    adapters = registry.of(app)
    known = {key: value for key, value in values.items() if key in config.DEFAULTS}
    monkeypatch.setattr(adapters, "settings", dataclasses.replace(adapters.settings, **known))
    for key, value in values.items():
        monkeypatch.setitem(app.config, key, value)


def post_report(client, photos=(), headers=None, **fields):
    data = {k: str(v) for k, v in fields.items()}
    data["photo"] = [(io.BytesIO(p), f"p{i}.jpg") for i, p in enumerate(photos)]
    return client.post("/api/v1/reports", data=data, headers=headers or {}, content_type="multipart/form-data")


def fetch(client, url, headers=None):
    """GET a photo URL: app-served through the test client, presigned S3 over real HTTP."""
    if url.startswith("http://localhost/"):
        response = client.get(url.removeprefix("http://localhost"), headers=headers or {})
        return response.status_code, response.data
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, b""


def fetch_image(client, url):
    status, data = fetch(client, url)
    assert status == 200, url
    return Image.open(io.BytesIO(data))


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def assert_error(response, status, code):
    """The one JSON error shape every client-visible failure keeps."""
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return body["error"]
