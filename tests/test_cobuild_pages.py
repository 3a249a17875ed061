"""The co-building page shells (no browser): each renders behind the console's login, carries its
settings, runs no inline script, and the data it shows stays behind the API's roles."""

import json
import re

import pytest

from civicreport.cobuilding.status import DECLARATION_STATES, ORDER_STATES
from tests.factories import COMMUNITY, make_geography, make_user

PAGES = ["/console/cobuild", "/console/community", "/console/team"]


def settings_of(page):
    match = re.search(r'<script id="page-settings" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(match.group(1))


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_shells_behind_the_console_login(client, path):
    response = client.get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="login-form"' in page and '<main id="main" hidden>' in page
    settings = settings_of(page)
    assert settings["declarations"] == {"pending": "未申报", **DECLARATION_STATES}
    assert settings["orders"] == ORDER_STATES and settings["roles"]["community_staff"] == "社区工作人员"
    assert settings["max_photos"] >= 1 and settings["max_photo_bytes"] > 0


@pytest.mark.parametrize("path", [*PAGES, "/console/leader"])
def test_pages_run_only_their_own_script_files(client, path):
    page = client.get(path).get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    inline = [attrs for attrs, body in scripts if body.strip() and 'type="application/json"' not in attrs]
    assert inline == []
    sources = [re.search(r'src="([^"]+)"', attrs).group(1) for attrs, _ in scripts if "src=" in attrs]
    assert sources and all(src.startswith("/static/console/") for src in sources)
    for src in sources:
        assert client.get(src).status_code == 200
    assert "script-src" not in client.get(path).headers["Content-Security-Policy"]  # default-src 'self' applies


def test_the_office_board_lists_every_community(ctx, client):
    make_geography()
    communities = settings_of(client.get("/console/cobuild").get_data(as_text=True))["communities"]
    assert communities == [[COMMUNITY, "古南街道 长乐社区"]]
    assert f'value="{COMMUNITY}"' in client.get("/console/cobuild").get_data(as_text=True)  # the task form's choice


def test_the_leader_page_links_the_community_ranking_and_the_printable_report(client):
    page = client.get("/console/leader").get_data(as_text=True)
    assert 'id="community-ranking"' in page and 'id="cobuild-report"' in page and "打印社区月通报" in page


@pytest.mark.parametrize("path", ["/console", "/console/cobuild", "/console/community", "/console/team"])
def test_every_console_page_navigates_to_the_co_building_pages(client, path):
    page = client.get(path).get_data(as_text=True)
    assert all(
        link in page for link in ('href="/console/cobuild"', 'href="/console/community"', 'href="/console/team"')
    )


def test_the_data_behind_the_pages_needs_a_staff_login(ctx, client):
    """The shells are public; what they show is not: the API refuses anonymous and citizen callers."""
    _, citizen = make_user("citizen-1", "citizen")
    for path in ("/api/v1/tasks", "/api/v1/declarations", "/api/v1/cards"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=citizen).status_code == 403
