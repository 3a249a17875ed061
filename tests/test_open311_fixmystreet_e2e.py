"""A case FixMyStreet sent, worked in the staff console in headless Chromium, and what FixMyStreet
then polls over real HTTP: the comment it posted shows in the drawer's timeline (staff only), and
a rejection with a 对外答复 reaches its update as the public reason while the 说明 stays inside.

Skipped when Debian's chromium / chromium-driver are not installed (.ci/run installs them).
"""

import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from datetime import UTC, timedelta

import pytest

from tests.browser import skip_without_chromium, status_of, text_of, wait

skip_without_chromium()

from selenium.webdriver.common.by import By  # noqa: E402

from civicreport.accounts import auth  # noqa: E402
from civicreport.db_types import utcnow  # noqa: E402
from civicreport.extensions import db  # noqa: E402
from civicreport.open311 import clients as open311_clients  # noqa: E402
from tests.factories import INSIDE, make_geography, make_rule, make_unit  # noqa: E402
from tests.open311_xml import BASE  # noqa: E402

pytestmark = pytest.mark.e2e  # Chromium drives the console on a live server
PASSWORD = "console-pass-1"
COMMENT = "还是没有清理，气味越来越大"


@pytest.fixture
def browser(open_browser):
    return open_browser("--window-size=1400,900")


@pytest.fixture
def sent(ctx, client):
    """A report FixMyStreet filed and a comment it posted on it (both as form posts, as
    perllib/Open311.pm sends them); its key; a 指挥中心 supervisor who can sign in."""
    make_geography()
    make_rule(make_unit("cgj", "urban_management", "区城市管理局"), major="06")
    auth.create_user("zhiban", "supervisor", display_name="值班长王", password=PASSWORD)
    _, key = open311_clients.create("fixmystreet")
    filed = client.post(
        f"{BASE}/requests.xml",
        data={
            "service_code": "06010",
            "lat": INSIDE[0],
            "long": INSIDE[1],
            "description": "路边垃圾堆放",
            "api_key": key,
        },
    )
    request_id = ET.fromstring(filed.data).findtext("request/service_request_id")
    comment = {"service_request_id": request_id, "description": COMMENT, "update_id": "4711", "status": "OPEN"}
    assert client.post(f"{BASE}/servicerequestupdates.xml", data={**comment, "api_key": key}).status_code == 201
    db.session.remove()  # no open read transaction while the live server writes (SQLite)
    return {"key": key, "request_id": request_id}


def login(driver, base):
    driver.get(base + "/console")
    wait(driver, lambda d: d.find_element(By.ID, "login-form").is_displayed(), "no login box")
    box = driver.find_element(By.ID, "login-form")
    box.find_element(By.NAME, "login").send_keys("zhiban")
    box.find_element(By.NAME, "password").send_keys(PASSWORD)
    box.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(driver, lambda d: d.find_element(By.ID, "main").is_displayed(), "login did not open the page")


def poll(base, key):
    """GET servicerequestupdates.xml as FixMyStreet polls it (its last two hours), over HTTP."""
    now = utcnow().astimezone(UTC)
    query = {
        "api_key": key,
        "start_date": (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_date": (now + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    with urllib.request.urlopen(f"{base}{BASE}/servicerequestupdates.xml?{urllib.parse.urlencode(query)}") as answer:
        return answer.read().decode()


def test_a_console_rejection_with_a_public_reason_reaches_fixmystreet(live_server, browser, sent, tmp_path):
    login(browser, live_server)
    row = f"#cases li.case[data-id='{sent['request_id']}']"
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, row), "the case is not in the queue")
    browser.find_element(By.CSS_SELECTOR, row).click()
    wait(browser, lambda d: status_of(d, "#drawer") == "submitted", "the drawer did not open")
    wait(
        browser,
        lambda d: "群众补充（Open311）" in text_of(d, "#drawer .timeline"),
        "the comment is not on the timeline",
    )
    assert COMMENT in text_of(browser, "#drawer .timeline")

    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#drawer button[data-action=reject]")).click()
    form = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#action-form form[data-action=reject]"))
    assert "对外答复（公开显示）（选填）" in form.text
    form.find_element(By.NAME, "note").send_keys("举报人多次恶意投诉")
    form.find_element(By.NAME, "public_note").send_keys("不属于城市管理范围，请拨打 12345")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, lambda d: status_of(d, "#drawer") == "rejected", "the drawer never showed rejected")
    wait(browser, lambda d: "对外答复：不属于城市管理范围" in text_of(d, "#drawer .timeline"), "no public note shown")
    timeline = text_of(browser, "#drawer .timeline")
    assert "举报人多次恶意投诉" in timeline and "Open311 客户端" in timeline
    browser.save_screenshot(str(tmp_path / "console-rejected.png"))

    document = poll(live_server, sent["key"])
    [update] = ET.fromstring(document).findall("request_update")
    assert update.findtext("service_request_id") == sent["request_id"]
    assert update.findtext("status") == "no_further_action"  # FixMyStreet: unable to fix, never fixed
    assert update.findtext("description") == "不予受理：不属于城市管理范围，请拨打 12345"
    assert "恶意投诉" not in document and COMMENT not in document
