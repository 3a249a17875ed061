"""Helpers many test modules share: posting reports, fetching photos, checking the error shape,
swapping settings, driving a case through the closed loop (``Loop``, ``PATHS``), a store that fails.

They live here, not in a test module, so no test module imports another one.
"""

import dataclasses
import io
import itertools
import re
import socket
import urllib.error
import urllib.request

from PIL import Image
from sqlalchemy import func, select

from civicreport import config, registry
from civicreport.cases.models import Media
from civicreport.cases.workflow import TRANSITIONS
from civicreport.extensions import db
from civicreport.media.errors import StorageUnavailable
from tests.factories import INSIDE, photo_bytes


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


def submit(client, point, category="06010", raw=None, **fields):
    """A report filed at ``point`` that must be accepted; its JSON."""
    raw = raw or photo_bytes(gps=point, color=(len(fields), 40, 40))
    response = post_report(client, [raw], category=category, lat=point[0], lon=point[1], **fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def referenced_keys():
    """Every object key a media row points at: what gc-media must keep."""
    found = db.session.execute(select(Media.original_key, Media.display_key, Media.thumb_key)).all()
    db.session.rollback()
    return {key for row in found for key in row}


class FailingOnPut:
    """The real storage backend, made to fail from its ``fail_at``-th put on."""

    def __init__(self, backend, fail_at):
        self.backend = backend
        self.fail_at = fail_at
        self.puts = 0

    def put(self, key, data, content_type):
        self.puts += 1
        if self.puts >= self.fail_at:
            raise StorageUnavailable("对象存储不可用")
        self.backend.put(key, data, content_type)

    def __getattr__(self, name):
        return getattr(self.backend, name)


def public_gets(app, report_id, media_id, **more):
    """Every GET route whose parameters this test can fill in, with each filling; ``more`` names
    further parameters (e.g. ``publication_id``) and their one value."""
    values = {
        "public_id": [report_id],
        "service_request_id": [report_id],
        "media_id": [media_id],
        "code": ["cgj"],
        "service_code": ["06010"],
        "token": ["x"],
        "fmt": ["json", "xml"],
        **{name: [value] for name, value in more.items()},
    }
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or set(rule.arguments) - set(values):
            continue
        names = sorted(rule.arguments)
        for filling in itertools.product(*(values[name] for name in names)):
            path = rule.rule
            for name, value in zip(names, filling, strict=True):
                path = re.sub(rf"<(?:[^>]+:)?{name}>", value, path)
            yield path


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Loop:
    """Drives reports through the loop with the right person at each step."""

    def __init__(self, client, people):
        self.client = client
        self.people = people

    def new_report(self, category="06010", kind="problem"):
        fields = {"category": category, "description": "路边暴露垃圾"}
        if kind == "praise":
            fields = {"kind": kind, "description": "公交车礼让斑马线上的行人"}
        body = post_report(self.client, [photo_bytes(gps=INSIDE)], **fields).get_json()
        self.people["receipt"] = {"X-Receipt-Token": body["receipt_token"]}
        return body["id"]

    def upload(self, who="own_staff"):
        response = self.client.post(
            "/api/v1/media",
            headers=self.people[who],
            data={"photo": (io.BytesIO(photo_bytes(color=(90, 160, 90))), "after.jpg")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 201
        return response.get_json()["id"]

    def act(self, report_id, who, action, **fields):
        return self.client.post(
            f"/api/v1/reports/{report_id}/transitions", json={"action": action, **fields}, headers=self.people[who]
        )

    def ok(self, report_id, who, action, **fields):
        response = self.act(report_id, who, action, **fields)
        assert response.status_code == 200, (action, who, response.get_json())
        return response.get_json()

    def to_state(self, state):
        """A fresh report in ``state`` (``extension_pending`` is in_progress with a request)."""
        rid = self.new_report(kind="praise" if state.startswith("praise") else "problem")
        steps = PATHS[state]
        for who, action, fields in steps:
            if fields == "photo":
                fields = {"media_ids": [self.upload(who)]}
            self.ok(rid, who, action, **fields)
        return rid


NOTE = {"note": "情况说明"}
_TO_RESOLVED = [
    ("supervisor", "accept", {}),
    ("supervisor", "dispatch", {}),
    ("own_staff", "claim", {}),
    ("own_staff", "resolve", "photo"),
]
PATHS = {
    "submitted": [],
    "accepted": [("supervisor", "accept", {})],
    "dispatched": [("supervisor", "accept", {}), ("supervisor", "dispatch", {})],
    "in_progress": _TO_RESOLVED[:3],
    "extension_pending": _TO_RESOLVED[:3] + [("own_staff", "request_extension", {"hours": 8, **NOTE})],
    "suspended": [("supervisor", "accept", {}), ("supervisor", "suspend", NOTE)],
    "resolved": _TO_RESOLVED,
    "verified": _TO_RESOLVED + [("monitor", "verify_pass", {})],
    "closed": _TO_RESOLVED + [("monitor", "verify_pass", {}), ("supervisor", "close", {})],
    "praise": [],  # a 文明点赞 report, submitted
    "praise_verified": [("supervisor", "confirm_praise", {})],
}
SOURCE_STATE = {
    "accept": "submitted",
    "reject": "submitted",
    "mark_duplicate": "submitted",
    "dispatch": "accepted",
    "claim": "dispatched",
    "return": "in_progress",
    "request_extension": "in_progress",
    "approve_extension": "extension_pending",
    "deny_extension": "extension_pending",
    "suspend": "accepted",
    "resume": "suspended",
    "resolve": "in_progress",
    "verify_pass": "resolved",
    "verify_fail": "resolved",
    "close": "verified",
    "rate": "closed",
    "escalate": "in_progress",
    "add_evidence": "submitted",
    "confirm_praise": "praise",
}


def full_fields(loop, action, who):
    fields = {"note": "说明", "hours": 8, "rating": 5, "category": "06010"}
    if action == "mark_duplicate":
        fields["duplicate_of"] = loop.new_report()
    if action in ("resolve", "add_evidence"):
        fields["media_ids"] = [loop.upload("own_staff")]
    keep = set(TRANSITIONS[action].needs) | ({"category"} if action == "accept" else set())
    return {k: v for k, v in fields.items() if k in keep}
