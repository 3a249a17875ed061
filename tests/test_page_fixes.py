"""Issue 23's rough edges, over the Flask client: the site root, the favicon, signed links for the
console pages that open in a new tab, and the queue's totals over the whole filter."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import update

from civicreport.cases.models import Report
from civicreport.db_types import utcnow
from civicreport.extensions import db
from civicreport.web.landing import LINKS, wait_and_print
from tests.browser import serve
from tests.factories import make_user
from tests.helpers import assert_error, override_settings

PHONE_UA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/150.0 Mobile Safari/537.36"
IPHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/150.0 Safari/537.36"


@pytest.mark.parametrize("agent", [PHONE_UA, IPHONE_UA])
def test_the_root_sends_a_phone_to_the_submit_page(client, agent):
    response = client.get("/", headers={"User-Agent": agent})
    assert response.status_code == 302 and urlsplit(response.location).path == "/m/"
    assert "User-Agent" in response.headers["Vary"]
    assert "提交上报" in client.get("/", headers={"User-Agent": agent}, follow_redirects=True).get_data(as_text=True)


@pytest.mark.parametrize("agent", [DESKTOP_UA, ""])
def test_the_root_shows_a_desktop_where_everything_is(client, agent):
    response = client.get("/", headers={"User-Agent": agent})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    for path, title in [("/m/", "随手拍"), ("/exposure", "曝光台"), ("/map", "公开地图"), ("/console", "指挥平台")]:
        assert f'href="{path}"' in html and title in html
    assert 'href="/api/v1/docs"' in html and "favicon.svg" in html


def test_the_favicon_is_one_svg(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.location.endswith("/static/favicon.svg")
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    for page in ("/m/", "/m/mine", "/console", "/console/leader"):
        assert "favicon.svg" in client.get(page).get_data(as_text=True), page


def test_make_run_prints_the_links_once_the_server_answers(capsys):
    assert wait_and_print("http://127.0.0.1:9", seconds=0) == 1  # nothing listens on the discard port
    assert "未在 0 秒内启动" in capsys.readouterr().err


def test_the_printed_links_are_the_landing_pages(client):
    html = client.get("/", headers={"User-Agent": DESKTOP_UA}).get_data(as_text=True)
    assert all(f'href="{path}"' in html for path, _, _ in LINKS)


# ---- signed links -------------------------------------------------------------------------


def sign(client, headers, path):
    return client.post("/api/v1/signed-links", json={"path": path}, headers=headers)


@pytest.fixture
def late(loop):
    """An escalated case: it has a 督办通知书."""
    rid = loop.to_state("in_progress")
    loop.ok(rid, "supervisor", "escalate", note="限两小时内整改")
    return rid


def test_a_signed_link_opens_the_notice_without_a_header(loop, client, late):
    answer = sign(client, loop.people["supervisor"], f"/reports/{late}/notice")
    assert answer.status_code == 200, answer.get_json()
    url = answer.get_json()["url"]
    assert url.startswith(f"/reports/{late}/notice?signature=")
    page = client.get(url)
    assert page.status_code == 200 and "督办通知书" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "private, no-store"
    assert_error(client.get(f"/reports/{late}/notice"), 401, "unauthorized")  # the bare address still asks


def test_a_link_is_bound_to_its_address_its_time_and_its_login(app, loop, client, late, monkeypatch):
    url = sign(client, loop.people["supervisor"], f"/reports/{late}/notice").get_json()["url"]
    other = loop.to_state("in_progress")
    loop.ok(other, "supervisor", "escalate", note="另一件")
    signature = parse_qs(urlsplit(url).query)["signature"][0]
    assert_error(client.get(f"/reports/{other}/notice?signature={signature}"), 401, "invalid_link")
    assert_error(client.get(url + "x"), 401, "invalid_link")
    override_settings(app, monkeypatch, SIGNED_LINK_SECONDS=1)
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: 4102444800)  # far later
    assert_error(client.get(url), 401, "link_expired")
    monkeypatch.undo()
    assert client.post("/api/v1/auth/logout", headers=loop.people["supervisor"]).status_code in (200, 204)
    assert_error(client.get(url), 401, "invalid_token")  # the link died with the login


def test_a_link_gives_only_the_rights_of_who_asked(loop, client, late):
    url = sign(client, loop.people["monitor"], f"/reports/{late}/notice").get_json()["url"]
    assert client.get(url).status_code == 403  # a monitor reads no notices, by link or by header


def test_only_pages_marked_for_it_take_a_link(loop, client, late):
    for path in ("/api/v1/queue", "/console", "https://evil.example/reports/x/notice", "//evil.example/x", "x"):
        assert_error(sign(client, loop.people["supervisor"], path), 422, "not_linkable")
    assert_error(client.post("/api/v1/signed-links", json={"path": f"/reports/{late}/notice"}), 401, "unauthorized")


def test_the_monthly_report_keeps_its_month_in_the_link(ctx, client):
    leader = make_user("leader", "leader")[1]
    url = sign(client, leader, "/console/cobuild/report?month=2026-10").get_json()["url"]
    query = parse_qs(urlsplit(url).query)
    assert query["month"] == ["2026-10"] and "signature" in query
    page = client.get(url)
    assert page.status_code == 200 and "2026年10月" in page.get_data(as_text=True)
    signature = query["signature"][0]
    assert_error(client.get(f"/console/cobuild/report?month=2026-09&signature={signature}"), 401, "invalid_link")


# ---- queue totals -------------------------------------------------------------------------


def test_the_queue_counts_the_whole_filter_not_the_page(loop, client):
    ids = [loop.to_state("dispatched") for _ in range(3)]
    loop.new_report()
    db.session.execute(
        update(Report).where(Report.public_id.in_(ids[:2])).values(deadline_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    page = client.get("/api/v1/queue?limit=1", headers=loop.people["supervisor"]).get_json()
    assert len(page["items"]) == 1
    assert page["totals"]["count"] == 4 and page["totals"]["overdue"] == 2
    west, south, east, north = page["totals"]["bbox"]
    assert west <= east and south <= north
    dispatched = client.get("/api/v1/queue?status=dispatched&format=geojson&limit=1", headers=loop.people["supervisor"])
    assert dispatched.get_json()["totals"]["count"] == 3
    none = client.get("/api/v1/queue?status=closed", headers=loop.people["supervisor"]).get_json()
    assert none["totals"] == {"count": 0, "overdue": 0, "bbox": None}


def test_the_count_is_kept_briefly_per_user_and_filter(app, loop, client, monkeypatch):
    override_settings(app, monkeypatch, QUEUE_TOTALS_SECONDS=60)
    loop.new_report()
    first = client.get("/api/v1/queue?status=submitted", headers=loop.people["supervisor"]).get_json()
    loop.new_report()
    again = client.get("/api/v1/queue?status=submitted&limit=5", headers=loop.people["supervisor"]).get_json()
    assert first["totals"]["count"] == again["totals"]["count"] == 1  # within the minute: the count kept
    assert len(again["items"]) == 2  # the rows themselves are always fresh
    other = client.get("/api/v1/queue?status=submitted&q=垃圾", headers=loop.people["supervisor"]).get_json()
    assert other["totals"]["count"] == 2  # another filter is counted afresh


def test_make_run_prints_every_link_once_the_app_answers(app, capsys):
    with serve(app) as port:
        assert wait_and_print(f"http://127.0.0.1:{port}") == 0
    printed = capsys.readouterr().out
    assert f"http://127.0.0.1:{port}/" in printed
    assert all(f"http://127.0.0.1:{port}{path}" in printed and title in printed for path, title, _ in LINKS)
