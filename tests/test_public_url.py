"""PUBLIC_URL: absolute URLs start with the configured origin, never a client's Host (issue 18)."""

import re

import pytest

from civicreport import config as config_module
from civicreport import create_app, registry
from tests.factories import INSIDE, photo_bytes
from tests.helpers import override_settings, post_report

PUBLIC = "https://report.qijiang.gov.cn"
FORGED = {"Host": "evil.example"}


@pytest.fixture
def public(app, monkeypatch):
    override_settings(app, monkeypatch, PUBLIC_URL=PUBLIC)
    return PUBLIC


def absolute_urls(value):
    """Every absolute URL in a decoded JSON document or a page's text."""
    if isinstance(value, dict):
        return [url for item in value.values() for url in absolute_urls(item)]
    if isinstance(value, list):
        return [url for item in value for url in absolute_urls(item)]
    return re.findall(r"https?://[^\s\"'<>]+", value) if isinstance(value, str) else []


def assert_from_public_origin(urls, app):
    """App-served URLs start with PUBLIC_URL; presigned S3 ones with the store's own origin."""
    store = registry.of(app).storage.url_origin
    assert urls and all(url.startswith((PUBLIC + "/", store or PUBLIC + "/")) for url in urls), urls
    assert not any("evil.example" in url for url in urls)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("https://report.qijiang.gov.cn", "https://report.qijiang.gov.cn"),
        ("https://Report.QiJiang.gov.cn/", "https://report.qijiang.gov.cn"),
        ("http://10.20.0.5:8080", "http://10.20.0.5:8080"),
        ("https://[2001:db8::1]:8443", "https://[2001:db8::1]:8443"),
    ],
)
def test_a_public_url_is_kept_as_its_origin(tmp_path, value, expected):
    settings = config_module.load(str(tmp_path), environ={"CIVICREPORT_PUBLIC_URL": value})
    assert expected == settings.PUBLIC_URL


@pytest.mark.parametrize(
    "value",
    [
        "report.qijiang.gov.cn",
        "//report.qijiang.gov.cn",
        "ftp://report.qijiang.gov.cn",
        "https://report.qijiang.gov.cn/civicreport",
        "https://report.qijiang.gov.cn?x=1",
        "https://report.qijiang.gov.cn#top",
        "https://admin@report.qijiang.gov.cn",
        "https://report.qijiang.gov.cn:99999",
        "https://report.qijiang.gov.cn:https",
        "https://",
        "https://bad host",
        "https://随手拍.cn",
    ],
)
def test_a_public_url_that_is_not_an_origin_fails_at_start_up(tmp_path, value):
    with pytest.raises(ValueError, match="PUBLIC_URL"):
        create_app({"DATABASE_URL": "sqlite://", "MEDIA_ROOT": str(tmp_path), "STORAGE": "local", "PUBLIC_URL": value})


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_discovery_names_the_public_endpoint_whatever_the_host(client, public, fmt):
    body = client.get(f"/open311/v2/discovery.{fmt}", headers=FORGED).get_data(as_text=True)
    assert f"{PUBLIC}/open311/v2" in body and "evil.example" not in body


def test_photo_urls_of_a_report_come_from_the_public_origin(app, client, loop, public):  # noqa: F811
    submitted = post_report(client, [photo_bytes(gps=INSIDE)], headers=FORGED, category="06010")
    assert submitted.status_code == 201, submitted.get_json()
    assert_from_public_origin(absolute_urls(submitted.get_json()), app)
    report_id, receipt = submitted.get_json()["id"], {"X-Receipt-Token": submitted.get_json()["receipt_token"]}
    for headers in (receipt, loop.people["supervisor"]):  # the public and the private view
        view = client.get(f"/api/v1/reports/{report_id}", headers=headers | FORGED)
        assert view.status_code == 200, view.get_json()
        assert_from_public_origin(absolute_urls(view.get_json()), app)
    queue = client.get("/api/v1/queue", headers=loop.people["supervisor"] | FORGED).get_json()
    assert_from_public_origin(absolute_urls(queue), app)


def test_the_escalation_notice_links_its_stylesheet_and_photos_from_the_public_origin(app, client, loop, public):  # noqa: F811
    late = loop.to_state("in_progress")
    loop.ok(late, "supervisor", "escalate", note="限两小时内整改")
    page = client.get(f"/reports/{late}/notice", headers=loop.people["supervisor"] | FORGED)
    assert page.status_code == 200
    urls = absolute_urls(page.get_data(as_text=True))
    assert f"{PUBLIC}/static/console/notice.css" in urls
    assert_from_public_origin(urls, app)


def test_the_public_url_wins_over_a_host_forwarded_by_a_trusted_proxy(app):
    settings = {key: app.config[key] for key in config_module.DEFAULTS}
    client = create_app(settings | {"TRUSTED_PROXIES": 1, "PUBLIC_URL": PUBLIC}).test_client()
    forwarded = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"}
    body = client.get("/open311/v2/discovery.json", headers=forwarded | FORGED).get_json()
    assert body["endpoints"][0]["url"] == f"{PUBLIC}/open311/v2"


def test_without_a_public_url_the_request_host_is_used_as_before(client):
    body = client.get("/open311/v2/discovery.json", headers={"Host": "report.example:8080"}).get_json()
    assert body["endpoints"][0]["url"] == "http://report.example:8080/open311/v2"
