"""Browser defences on every response: CSP, no framing, nosniff, referrer policy (issue 18).

The pages' policy is also proven in real Chromium: test_console_e2e / test_mobile_e2e fail on
any refusal the browser logs, and one of them checks that injected inline code is refused.
"""

import io
import re

import pytest
from sqlalchemy import select

from civicreport import config as config_module
from civicreport import create_app, registry
from civicreport.cases.models import Media
from civicreport.extensions import db
from tests.factories import INSIDE, make_geography, make_user, photo_bytes
from tests.helpers import override_settings, post_report

API_POLICY = {"default-src": ["'none'"], "frame-ancestors": ["'none'"]}
PAGES = [
    "/",
    "/console",
    "/console/unit",
    "/console/leader",
    "/console/cobuild",
    "/console/community",
    "/console/team",
    "/console/oversight",
    "/console/whistles",
    "/console/listed-problems",
    "/console/points",
    "/console/operations",
    "/console/exposure",
    "/m/",
    "/m/mine",
    "/m/orders",
    "/public/listed-problems",
    "/exposure",
    "/map",
    "/api/v1/docs",
]
# Pages fetched with the reader's token (the console opens them with it): without one, a 401 in the error shape.
TOKEN_PAGES = ["/console/cobuild/report"]
NOT_PAGE_PREFIXES = ("/api/", "/static/", "/open311/", "/media/", "/favicon.ico")  # the icon: a redirect
# Atom feeds are no pages; the alert pages open only with an e-mailed link (tests/test_alerts.py checks them).
NOT_PAGE_PREFIXES += ("/feeds/", "/alerts/")
# (method, path, request keywords, status): answers of every kind, errors included
NOT_PAGES = [
    ("get", "/api/v1/categories", {}, 200),
    ("get", "/api/v1/health", {}, 200),
    ("get", "/api/v1/openapi.json", {}, 200),
    ("get", "/open311/v2/discovery.xml", {}, 200),
    ("post", "/api/v1/auth/login", {"json": {"login": "nobody", "password": "wrong"}}, 401),
    ("post", "/api/v1/reports", {"json": {"lat": "north"}}, 422),
    ("get", "/api/v1/queue", {}, 401),
    ("get", "/api/v1/nothing-here", {}, 404),
    ("get", "/media/display/nothing.jpg", {}, 404),
    ("get", "/open311/v2/nothing.json", {}, 404),
    ("delete", "/api/v1/categories", {}, 405),
    ("put", "/open311/v2/requests.json", {}, 405),
    ("get", "/static/console/staff.js", {}, 200),
    ("get", "/static/mobile/mobile.css", {}, 200),
    ("get", "/static/vendor/leaflet/images/layers.png", {}, 200),
    ("get", "/feeds/areas/circle.atom?lat=29.03&lon=106.64&r=500", {}, 200),
    ("get", "/feeds/areas/circle.atom", {}, 422),
    ("get", "/alerts/unsubscribe", {}, 404),
]


def policy(response):
    """The Content-Security-Policy as {directive: [sources]}."""
    directives = (part.split() for part in response.headers["Content-Security-Policy"].split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def assert_defended(response):
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin"
    assert policy(response)["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize("method, path, kwargs, status", NOT_PAGES)
def test_api_answers_errors_and_files_load_nothing_and_cannot_be_framed(client, method, path, kwargs, status):
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status
    assert_defended(response)
    assert policy(response) == API_POLICY


def test_a_request_over_the_size_cap_is_a_defended_413(app, client, monkeypatch):
    override_settings(app, monkeypatch, MAX_CONTENT_LENGTH=1000)
    response = post_report(client, [b"x" * 5000])
    assert response.status_code == 413
    assert_defended(response)
    assert policy(response) == API_POLICY


def test_every_page_is_checked_here(app):
    """A new page joins PAGES (or TOKEN_PAGES), so the two tests below cover it."""
    routes = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith(NOT_PAGE_PREFIXES)
    }
    assert routes == set(PAGES + TOKEN_PAGES) - {"/api/v1/docs"}


@pytest.mark.parametrize("path", TOKEN_PAGES)
def test_token_pages_refuse_the_anonymous_in_the_error_shape(client, path):
    response = client.get(path)
    assert response.status_code == 401 and response.is_json
    assert_defended(response)


@pytest.mark.parametrize("path", PAGES)
def test_pages_run_only_the_apps_own_code(app, client, path):
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert_defended(response)
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert (csp["object-src"], csp["base-uri"], csp["form-action"]) == (["'none'"], ["'none'"], ["'self'"])
    assert set(csp) == {"default-src", "img-src", "object-src", "base-uri", "form-action", "frame-ancestors"}
    store = registry.of(app).storage.url_origin
    assert set(csp["img-src"]) == {"'self'", "data:", "blob:", "https://tile.openstreetmap.org"} | ({store} - {None})


@pytest.mark.parametrize("path", PAGES)
def test_pages_hold_no_inline_script_style_or_handler(client, path):
    """What the policy would refuse: the browser tests see it too, but only on the pages they visit."""
    html = client.get(path).get_data(as_text=True)
    scripts = re.findall(r"<script\b([^>]*)>", html)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)  # JSON is data, not run
    assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=|javascript:", html, re.IGNORECASE)


@pytest.mark.parametrize(
    "tiles, source",
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", "https://*.tile.openstreetmap.org"),
        ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&x={x}&y={y}&z={z}", "https://*.is.autonavi.com"),
        ("http://t{s}.tianditu.gov.cn:8080/img_w/wmts?TILEMATRIX={z}", "http://*.tianditu.gov.cn:8080"),
    ],
)
def test_pages_may_load_images_from_the_tile_host(app, client, monkeypatch, tiles, source):
    override_settings(app, monkeypatch, MAP_TILE_URL=tiles)
    assert source in policy(client.get("/console"))["img-src"]


@pytest.mark.parametrize("tiles", ["", "/tiles/{z}/{x}/{y}.png"])
def test_without_a_tile_host_pages_load_images_from_the_app_alone(app, client, monkeypatch, tiles):
    override_settings(app, monkeypatch, MAP_TILE_URL=tiles)
    store = registry.of(app).storage.url_origin
    assert set(policy(client.get("/m/"))["img-src"]) == {"'self'", "data:", "blob:"} | ({store} - {None})


@pytest.mark.parametrize(
    "store, origin",
    [
        ({"S3_ENDPOINT_URL": "http://minio.internal:9000"}, "http://minio.internal:9000"),
        (
            {"S3_ENDPOINT_URL": "https://oss-cn-hangzhou.aliyuncs.com", "S3_ADDRESSING_STYLE": "virtual"},
            "https://civicreport-photos.oss-cn-hangzhou.aliyuncs.com",
        ),
        ({"S3_REGION": "cn-northwest-1"}, "https://civicreport-photos.s3.cn-northwest-1.amazonaws.com.cn"),
    ],
)
def test_pages_may_load_photos_from_where_s3_presigns_them(app, store, origin):
    settings = {key: app.config[key] for key in config_module.DEFAULTS}
    unset = {"S3_ENDPOINT_URL": "", "S3_REGION": "", "S3_ADDRESSING_STYLE": "", "MAP_TILE_URL": ""}
    s3 = create_app(settings | unset | {"STORAGE": "s3", "S3_BUCKET": "civicreport-photos", **store})
    response = s3.test_client().get("/console")
    assert set(policy(response)["img-src"]) == {"'self'", "data:", "blob:", origin}


@pytest.fixture
def photo(ctx, client):
    """A submitted report's photo: its derivative is public, its original staff-only."""
    make_geography()
    response = post_report(client, [photo_bytes(gps=INSIDE)], category="06010")
    assert response.status_code == 201, response.get_json()
    return db.session.scalar(select(Media))


def test_a_photo_derivative_is_defended(client, photo):
    response = client.get(f"/media/{photo.display_key}")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert_defended(response)
    assert policy(response) == API_POLICY


def test_an_original_keeps_the_sandbox_its_view_sets(client, photo):
    _, staff = make_user("sup", "supervisor")
    response = client.get(f"/media/{photo.original_key}", headers=staff)
    assert response.status_code == 200
    assert policy(response) == {"default-src": ["'none'"], "sandbox": []}  # the view's own: not clobbered
    assert response.headers["X-Frame-Options"] == "DENY" and response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_docs_page_loads_its_stylesheet_from_the_app(client):
    html = client.get("/api/v1/docs").get_data(as_text=True)
    sheet = re.search(r'<link rel="stylesheet" href="([^"]+)">', html).group(1)
    response = client.get(sheet)
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert b".method" in response.data


def test_a_multipart_upload_is_answered_with_the_defences(client, ctx):
    make_geography()
    response = client.post(
        "/api/v1/media", data={"photo": (io.BytesIO(photo_bytes()), "p.jpg")}, content_type="multipart/form-data"
    )
    assert response.status_code == 201, response.get_json()
    assert_defended(response)
    assert policy(response) == API_POLICY
