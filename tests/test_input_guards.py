"""Work before limits: body size, JSON depth, NUL characters and list lengths are refused
before anything works on them, on every route (the guards run ahead of the views)."""

import io
import json
import re
import time

import pytest
from factories import make_user
from PIL import Image

from civicreport.cases.schemas.citizen import MAX_RECEIPTS
from civicreport.web.guards import MAX_JSON_DEPTH
from tests.helpers import override_settings

CASE = "/api/v1/reports/QJ20260101-0001"
ROUTES = [  # (method, url): the health check included, which reads no body at all
    ("get", "/api/v1/health"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/reports"),
    ("post", f"{CASE}/transitions"),
    ("post", "/api/v1/receipts/lookup"),
    ("post", "/open311/v2/requests.json"),
    ("post", "/api/v1/admin/blocks"),
]


def error_code(response):
    """The error code in the API's one shape, or in Open311's list of ``{code, description}``."""
    body = response.get_json()
    if isinstance(body, list):  # Open311: "<code>: <message>"
        assert body[0]["code"] == response.status_code
        return body[0]["description"].split(":")[0]
    error = body["error"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    return error["code"]


def post_json(client, url, text, method="post", **kwargs):
    return getattr(client, method)(url, data=text, content_type="application/json", **kwargs)


def nested(depth, leaf='"x"'):
    return "[" * depth + leaf + "]" * depth


@pytest.mark.parametrize("method, url", ROUTES)
@pytest.mark.parametrize("body", [nested(20_000), '{"a":' * 9_000 + "1" + "}" * 9_000])
def test_deep_nesting_is_a_400_before_the_parser_recurses(client, method, url, body):
    # Both bodies fit MAX_JSON_BYTES; each used to raise RecursionError: a 500 on every route.
    response = post_json(client, url, body, method)
    assert response.status_code == 400
    assert error_code(response) == "json_too_deep"


@pytest.mark.parametrize("depth, refused", [(MAX_JSON_DEPTH, False), (MAX_JSON_DEPTH + 1, True)])
def test_the_depth_limit_is_exact(client, depth, refused):
    body = json.dumps({"receipts": json.loads(nested(depth - 1))})  # the object is one level
    response = post_json(client, "/api/v1/receipts/lookup", body)
    assert response.status_code == (400 if refused else 422)
    assert (error_code(response) == "json_too_deep") == refused


def test_brackets_inside_strings_do_not_count_as_nesting(client):
    body = json.dumps({"login": "[{" * 30 + '\\"[', "password": "]}" * 100})  # 60 opening brackets
    response = post_json(client, "/api/v1/auth/login", body)
    assert response.status_code == 401  # parsed, then an unknown login


@pytest.mark.parametrize("body", ['{"login": ', '{"login": "a" "b"}', "\xff\xfe{", '"[[[['])
def test_malformed_json_stays_malformed_json(client, body):
    response = post_json(client, "/api/v1/auth/login", body.encode("latin-1"))
    assert response.status_code == 400
    assert error_code(response) == "malformed_json"


@pytest.mark.parametrize("method, url", ROUTES)
@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded", "text/plain"])
def test_a_body_over_max_json_bytes_is_a_413_at_once(app, client, method, url, content_type):
    limit = app.config["MAX_JSON_BYTES"]
    started = time.perf_counter()
    response = getattr(client, method)(url, data=b" " * (limit + 1), content_type=content_type)
    assert time.perf_counter() - started < 1
    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"
    if not url.startswith("/open311"):
        assert response.get_json()["error"]["details"]["max_bytes"] == limit


def test_a_chunked_body_is_cut_off_at_max_json_bytes(app, client):
    # No Content-Length: Werkzeug stops reading at the request's own limit.
    body = json.dumps({"login": "x" * app.config["MAX_JSON_BYTES"], "password": "y"}).encode()
    response = client.post(
        "/api/v1/auth/login",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"
    assert response.get_json()["error"]["details"]["max_bytes"] == app.config["MAX_JSON_BYTES"]


def test_a_body_at_max_json_bytes_is_read(app, client):
    text = json.dumps({"login": "nobody", "password": "x"})
    body = text + " " * (app.config["MAX_JSON_BYTES"] - len(text))
    assert post_json(client, "/api/v1/auth/login", body).status_code == 401


def test_photo_uploads_keep_the_photo_limit(app, client):
    out = io.BytesIO()
    Image.effect_noise((900, 700), 80).convert("RGB").save(out, "JPEG", quality=95)
    assert len(out.getvalue()) > app.config["MAX_JSON_BYTES"]
    response = client.post("/api/v1/media", data={"photo": (io.BytesIO(out.getvalue()), "p.jpg")})
    assert response.status_code == 201, response.get_json()


@pytest.fixture
def supervisor(ctx):
    return make_user("guard-sup", "supervisor")[1]


HUGE = 200_000


@pytest.mark.parametrize(
    "url, field, body",
    [  # every item would be invalid too
        ("/api/v1/reports", "media_ids", {"media_ids": [7] * HUGE}),
        (f"{CASE}/transitions", "media_ids", {"action": "resolve", "media_ids": [7] * HUGE}),
        ("/api/v1/receipts/lookup", "receipts", {"receipts": [{}] * HUGE}),
        (f"{CASE}/media/m1/redactions", "boxes", {"boxes": [{}] * HUGE}),
    ],
    ids=["report", "transition", "receipts", "redaction"],
)
def test_a_huge_list_is_refused_by_its_length_before_its_items(app, client, supervisor, monkeypatch, url, field, body):
    override_settings(app, monkeypatch, MAX_JSON_BYTES=8 * 1024 * 1024)  # let the body through to the schema
    started = time.perf_counter()
    response = post_json(client, url, json.dumps(body), headers=supervisor)
    elapsed = time.perf_counter() - started
    assert response.status_code == 422, response.get_json()
    messages = response.get_json()["error"]["details"]["fields"][field]
    assert isinstance(messages, list) and all(isinstance(m, str) for m in messages)  # no per-item errors
    assert elapsed < 2, elapsed


@pytest.mark.parametrize(
    "url, query",
    [
        ("/api/v1/queue", {"status": ",".join(["submitted"] * 14)}),
        ("/api/v1/queue", {"bbox": "1,2,3,4,5"}),
    ],
)
def test_query_lists_are_bounded(client, supervisor, url, query):
    response = client.get(url, query_string=query, headers=supervisor)
    assert response.status_code == 422
    assert list(response.get_json()["error"]["details"]["fields"]) == list(query)


def test_open311_ids_are_bounded(client):
    """Ids past the first 1,000 are dropped rather than failing the batch (issue 24); the answer stays bounded."""
    ids = ",".join(f"QJ20260101-{i:04d}" for i in range(5000))
    response = client.get("/open311/v2/requests.json", query_string={"service_request_id": ids})
    assert response.status_code == 200 and response.get_json() == []


def test_the_receipts_limit_itself_still_holds(client):
    body = {"receipts": [{"id": f"QJ{i}", "receipt_token": "t"} for i in range(MAX_RECEIPTS + 1)]}
    response = client.post("/api/v1/receipts/lookup", json=body)
    assert response.status_code == 422
    assert list(response.get_json()["error"]["details"]["fields"]) == ["receipts"]


@pytest.mark.parametrize("method, url", ROUTES)
@pytest.mark.parametrize(
    "document",
    [
        {"a": [[{"b": ["ok", "x\x00y"]}]]},
        {"a": {"k\x00": 1}},
        json.loads(nested(MAX_JSON_DEPTH - 1, '"\\u0000"')),
    ],
)
def test_nul_in_nested_json_is_still_a_400(client, method, url, document):
    response = post_json(client, url, json.dumps(document), method)
    assert response.status_code == 400
    assert error_code(response) == "nul_character"


def test_an_escaped_backslash_before_u0000_is_no_nul(client):
    body = json.dumps({"login": "a\\u0000", "password": "x"})  # the text \u0000, not U+0000
    assert post_json(client, "/api/v1/auth/login", body).status_code == 401


@pytest.mark.parametrize("method, url", ROUTES)
@pytest.mark.parametrize(
    "text",
    [
        '{"login": "\\ud800", "password": "x"}',  # a lone high surrogate
        '{"note": ["ok", {"deep": "a\\udfffb"}]}',  # a lone low one, nested
        '{"\\udbff": 1}',  # in a key
    ],
)
def test_lone_surrogates_are_a_400_not_a_500(client, method, url, text):
    # json.loads accepts them; neither UTF-8 nor PostgreSQL's driver can encode them.
    response = post_json(client, url, text, method)
    assert response.status_code == 400
    assert error_code(response) == "invalid_unicode"


def test_a_surrogate_pair_is_one_character_and_fine(client):
    body = '{"login": "\\ud83d\\ude00", "password": "x"}'  # 😀
    assert post_json(client, "/api/v1/auth/login", body).status_code == 401


PHOTO_ROUTES = {"/api/v1/reports", "/open311/v2/requests.json", "/api/v1/media"}


@pytest.mark.parametrize(
    "method, url",
    [route for route in ROUTES if route[1] not in PHOTO_ROUTES]
    + [("post", f"{CASE}/support"), ("get", "/open311/v2/discovery.json")],
)
def test_multipart_bodies_keep_the_small_cap_off_the_photo_routes(app, client, method, url):
    big = io.BytesIO(b"\xff" * (app.config["MAX_JSON_BYTES"] * 4))
    response = getattr(client, method)(url, data={"x": (big, "x.bin")}, content_type="multipart/form-data")
    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"


def _row_id_routes(app):
    """(method, path) of every route whose only parameters are row ids, each id as ``{id}``."""
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<row_id:\w+>", "{id}", rule.rule)
        if "<" not in path and "{id}" in path:
            yield sorted(rule.methods - {"HEAD", "OPTIONS"})[0].lower(), path


@pytest.mark.parametrize("row_id", [2**31 - 1, 2**31, 2**63])
def test_a_row_id_no_column_can_hold_is_no_row(app, client, supervisor, row_id):
    """Every id column is an Integer: on PostgreSQL a larger id in a query is an error (a 500), not
    "no row"; the path converter answers 404 for it on every route and method (CI's PostgreSQL pass)."""
    routes = list(_row_id_routes(app))
    assert len(routes) > 20
    for method, path in routes:
        response = getattr(client, method)(path.format(id=row_id), json={}, headers=supervisor)
        assert response.status_code in (403, 404, 422), (method, path, response.get_json())
