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


MENU = {
    "supervisor": {"值班台", "红黑榜", "共建督导", "督查督办"},
    "admin": {"值班台", "问题清单", "红黑榜", "共建督导", "督查督办"},
    "monitor": {"值班台", "督查督办"},
    "leader": {"红黑榜", "共建督导", "督查督办"},
    "unit_staff": {"问题清单", "志愿服务", "督查督办"},
    "community_staff": {"社区工作台", "督查督办"},
    "volunteer": {"志愿服务"},
}


def menu_of(page):
    """``{label: roles}`` of the console menu's links that name their roles (staff.js shows a link
    to the logged-in role it names and hides it from the others)."""
    nav = re.search(r'<nav id="menu">(.*?)</nav>', page, re.S).group(1)
    links = re.findall(r'<a data-roles="([^"]+)" href="[^"]+"[^>]*>([^<]+)</a>', nav)
    return {label: set(roles.split()) for roles, label in links}


@pytest.mark.parametrize("path", ["/console", *PAGES, "/console/leader"])
def test_the_menu_shows_each_role_its_own_links(client, path):
    menu = menu_of(client.get(path).get_data(as_text=True))
    ours = set().union(*MENU.values())  # the case console's and co-building's links (督查督办 is issue 22's)
    assert {role: {label for label, roles in menu.items() if role in roles and label in ours} for role in MENU} == MENU
    staff_js = client.get("/static/console/staff.js").get_data(as_text=True)
    assert "#menu a[data-roles]" in staff_js and "showMenu(user.role)" in staff_js


def test_the_community_page_files_an_item_and_records_a_meeting(client):
    """The forms the page posts: a 实事清单 item (title, description, a partner of the community,
    due date, optionally its meeting) and a 联席会议 (date, title, minutes, partners present)."""
    page = client.get("/console/community").get_data(as_text=True)
    matter_form = re.search(r'<form id="matter-form">(.*?)</form>', page, re.S).group(1)
    for name in ("title", "description", "partner", "due_on", "meeting_id"):
        assert f'name="{name}"' in matter_form
    assert 'type="date"' in matter_form and 'id="matter-partner"' in matter_form
    meeting_form = re.search(r'<form id="meeting-form">(.*?)</form>', page, re.S).group(1)
    for name in ("held_on", "title", "minutes"):
        assert f'name="{name}"' in meeting_form
    assert 'id="meeting-partners"' in meeting_form and 'id="meetings"' in page
    script = client.get("/static/console/community.js").get_data(as_text=True)
    for call in ("/api/v1/partnerships?", '"/api/v1/matters"', '"/api/v1/meetings"', "/api/v1/meetings?"):
        assert call in script


def test_the_order_pages_read_one_list(client):
    """The list carries each order's actions and contact: no order is fetched one by one."""
    script = client.get("/static/console/orders.js").get_data(as_text=True)
    assert 'api("/api/v1/orders")' in script and "/api/v1/orders/${encodeURIComponent(order.id)}`)" not in script
