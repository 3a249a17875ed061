"""The oversight pages in real headless Chromium against a live server on loopback: community
staff raise a whistle from the (emulated) location, its unit reports in and closes its part on a
phone and the raiser verifies and rates it; a monitor inspects a market on a phone, one item
failing with a photo, which opens a routed case that the linked leader's 督办总览 lists; a listed
problem from progress to delisting and reopening; an operation recorded from the calendar; the
public 挂牌整改 page on a phone.

The rows a step needs before its page (the point, the listed problem, the operation) are made
over the API with the Flask test client, so each test drives only its pages. Skipped when Debian's
chromium / chromium-driver are not installed (.ci/run installs them).
"""

from datetime import date, datetime, timedelta

import pytest

from tests.browser import skip_without_chromium, status_of, text_of, wait

skip_without_chromium()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

from civicreport import registry  # noqa: E402
from civicreport.accounts import auth  # noqa: E402
from civicreport.cobuilding import partners  # noqa: E402
from civicreport.extensions import db  # noqa: E402
from civicreport.oversight.checklists import load_checklists  # noqa: E402
from tests.factories import COMMUNITY, INSIDE, make_geography, make_rule, make_unit, photo_bytes  # noqa: E402

pytestmark = pytest.mark.e2e  # Chromium drives the oversight pages on a live server
PHONE = {"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True}


@pytest.fixture
def browser(open_browser):
    return open_browser("--window-size=1280,900")


@pytest.fixture
def people(ctx):
    """The office, the community's staff, 区城市管理局 (which every case is routed to) and its
    staff, a monitor and a leader linked to the community: their bearer tokens."""
    make_geography()
    unit = make_unit("cgj", "urban_management", "区城市管理局")
    make_rule(unit)
    load_checklists()
    made = {
        "office": auth.create_user("chuangjian", "supervisor", display_name="创建办刘"),
        "staff": auth.create_user("changle", "community_staff", display_name="长乐社区陈", areas=[COMMUNITY]),
        "unit": auth.create_user("cgj-1", "unit_staff", display_name="城管局王", unit_code="cgj"),
        "monitor": auth.create_user("jiandu", "monitor", display_name="监督员赵"),
        "leader": auth.create_user("lingdao", "leader", display_name="张副区长"),
    }
    partners.link_leader("lingdao", COMMUNITY)
    tokens = {role: auth.issue_token(user) for role, user in made.items()}
    db.session.remove()  # no open read transaction while the live server writes (SQLite)
    return tokens


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def open_as(driver, base, path, token):
    """Open ``path`` signed in with ``token`` (kept in the origin's localStorage)."""
    if not driver.current_url.startswith(base):
        driver.get(base + "/console/oversight")
    driver.execute_script("localStorage.setItem('civicreport.token', arguments[0])", token)
    driver.get(base + path)
    driver.refresh()  # the same address again (only its #fragment moved) would not reload the page
    wait(driver, lambda d: d.find_element(By.ID, "main").is_displayed(), f"{path} did not open")


def take_photo(driver, form, path):
    """Choose a photo taken now inside the community in ``form``'s picker; wait for its upload."""
    taken = datetime.now(registry.current().zone).replace(tzinfo=None)
    path.write_bytes(photo_bytes((1200, 900), gps=INSIDE, taken=taken))
    form.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(path))
    wait(
        driver,
        lambda d: form.find_element(By.CSS_SELECTOR, ".upload").get_attribute("data-state") == "done",
        "the photo did not upload",
    )


def fits_the_phone(driver):
    return driver.execute_script("return document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_whistle_raised_from_the_location_is_reported_in_and_closed_on_a_phone_verified_and_rated(
    live_server, browser, people, tmp_path
):
    browser.execute_cdp_cmd("Browser.grantPermissions", {"origin": live_server, "permissions": ["geolocation"]})
    browser.execute_cdp_cmd(
        "Emulation.setGeolocationOverride", {"latitude": INSIDE[0], "longitude": INSIDE[1], "accuracy": 10}
    )
    open_as(browser, live_server, "/console/whistles", people["staff"])
    browser.find_element(By.CSS_SELECTOR, "#raise summary").click()
    form = browser.find_element(By.ID, "raise-form")
    form.find_element(By.NAME, "title").send_keys("小区门口污水外溢")
    browser.find_element(By.ID, "locate").click()
    wait(browser, lambda d: "已定位" in text_of(d, "#where"), "the phone's location was not taken")
    Select(form.find_element(By.NAME, "lead_unit")).select_by_value("cgj")
    form.find_element(By.NAME, "lead_task").send_keys("疏通管网")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, lambda d: d.execute_script("return location.hash.length > 1"), "the whistle was not raised")
    whistle = browser.execute_script("return decodeURIComponent(location.hash.slice(1))")
    wait(browser, lambda d: status_of(d, f"#w-{whistle}") == "open", "the new whistle is not listed")
    part = "#whistles .part[data-unit=cgj]"

    open_as(browser, live_server, "/console/unit", people["unit"])  # the unit's worklist names what it owes
    wait(browser, lambda d: "待报到 1 件" in text_of(d, "#whistle-line"), "the worklist does not mention the whistle")
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    open_as(browser, live_server, f"/console/whistles#{whistle}", people["unit"])
    form = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, f"{part} form.checkin-form"), "no 报到 form")
    assert fits_the_phone(browser) and "疏通管网" in text_of(browser, part)
    form.find_element(By.NAME, "person").send_keys("科长 王强")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, lambda d: status_of(d, part) == "checked_in", "the unit did not report in")
    assert "责任人 科长 王强" in text_of(browser, part)
    form = browser.find_element(By.CSS_SELECTOR, f"{part} form.resolve-form")
    form.find_element(By.NAME, "note").send_keys("管网已疏通")
    take_photo(browser, form, tmp_path / "after.jpg")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, lambda d: status_of(d, part) == "resolved", "the part was not resolved")

    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    open_as(browser, live_server, f"/console/whistles#{whistle}", people["staff"])
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "button[data-action=verify]"), "no 核验办结").click()
    wait(browser, lambda d: status_of(d, f"#w-{whistle}") == "closed", "the whistle did not close")
    form = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, f"{part} form.rate-form"), "no rating form")
    form.find_element(By.CSS_SELECTOR, "input[name=rating][value='4']").click()
    form.find_element(By.NAME, "note").send_keys("响应及时")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, lambda d: "评议 ★★★★☆" in text_of(d, part), "the rating is not shown")
    timeline = text_of(browser, f"#w-{whistle} .timeline")
    assert all(step in timeline for step in ("吹哨", "报到", "完成任务", "核验办结", "一体评议"))

    open_as(browser, live_server, "/console/leader", people["leader"])  # the 红黑榜 shows the unit's figures
    row = "#ranking tr[data-unit=cgj]"
    wait(browser, lambda d: "区城市管理局" in text_of(d, row), "the unit is not on the 红黑榜 page")
    assert "100.0%" in text_of(browser, row) and "4.0" in text_of(browser, row)


def test_a_phone_inspection_fails_one_item_with_a_photo_and_the_leader_sees_the_point(
    app, live_server, browser, people, tmp_path
):
    registered = app.test_client().post(
        "/api/v1/points",
        json={"name": "长乐农贸市场", "kind": "market", "lat": INSIDE[0], "lon": INSIDE[1], "unit": "cgj"},
        headers=bearer(people["office"]),
    )
    assert registered.status_code == 201, registered.get_json()
    point = registered.get_json()["id"]

    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    open_as(browser, live_server, "/console/oversight", people["monitor"])  # 督查督办 lands a monitor on 点位暗访
    wait(browser, lambda d: d.current_url.endswith("/console/points"), "the monitor did not land on the points")
    shown = browser.execute_script(
        "return [...document.querySelectorAll('.subnav a')].filter((a) => !a.hidden).map((a) => a.textContent)"
    )
    assert shown == ["点位暗访"]
    open_as(browser, live_server, f"/console/points#{point}", people["monitor"])
    form = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "form.inspection-form"), "no inspection form")
    assert fits_the_phone(browser)
    items = form.find_elements(By.CSS_SELECTOR, ".check-item")
    assert len(items) >= 4 and "地面清洁" in items[0].text
    for item in items[1:]:
        item.find_element(By.CSS_SELECTOR, "input[value=pass]").click()
    failed = items[0]
    failed.find_element(By.CSS_SELECTOR, "input[value=fail]").click()
    failed.find_element(By.CSS_SELECTOR, "textarea").send_keys("地面污水横流")
    take_photo(browser, failed, tmp_path / "floor.jpg")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, lambda d: "已生成案件 1 件" in text_of(d, "#notice"), "the failed item opened no case")
    wait(browser, lambda d: "地面污水横流" in text_of(d, f"#p-{point} .history"), "the history lacks the failure")

    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    open_as(browser, live_server, "/console/oversight", people["leader"])
    wait(browser, lambda d: "长乐农贸市场" in text_of(d, "#failing-points"), "the leader does not see the point")
    assert "地面清洁" in text_of(browser, "#failing-points") and "长乐社区" in text_of(browser, "#summary")


def test_the_public_listed_problems_page_reads_on_a_phone(app, live_server, browser, people):
    listed = app.test_client().post(
        "/api/v1/listed-problems",
        json={
            "title": "长乐农贸市场脏乱差",
            "area": COMMUNITY,
            "categories": ["06010"],
            "leader": "lingdao",
            "leader_office": "区政府分管副区长",
            "lead_unit": "cgj",
            "target_on": (date.today() + timedelta(days=30)).isoformat(),
        },
        headers=bearer(people["office"]),
    )
    assert listed.status_code == 201, listed.get_json()
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    browser.get(live_server + "/public/listed-problems")
    wait(browser, lambda d: "长乐农贸市场脏乱差" in text_of(d, "body"), "the public page does not list it")
    page = text_of(browser, "body")
    assert "区政府分管副区长" in page and "张副区长" not in page and fits_the_phone(browser)


def test_the_office_records_an_operation_from_the_calendar(app, live_server, browser, people):
    starts = datetime.now(registry.current().zone).replace(microsecond=0) - timedelta(hours=1)
    planned = app.test_client().post(
        "/api/v1/operations",
        json={
            "title": "长乐社区占道经营整治",
            "area": COMMUNITY,
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=3)).isoformat(),
            "units": ["cgj"],
            "categories": ["09006"],
        },
        headers=bearer(people["office"]),
    )
    assert planned.status_code == 201, planned.get_json()
    operation = planned.get_json()["id"]
    open_as(browser, live_server, f"/console/operations?month={starts:%Y-%m}", people["office"])
    wait(
        browser,
        lambda d: d.find_element(By.CSS_SELECTOR, f".calendar .op[data-id='{operation}']"),
        "not on the calendar",
    ).click()
    form = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#operation form.result-form"), "no result form")
    count = form.find_element(By.NAME, "count-09006")
    count.clear()
    count.send_keys("12")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, lambda d: status_of(d, "#operation .operation-card") == "done", "the result was not recorded")
    assert "占道经营 12" in text_of(browser, "#operation")
    assert status_of(browser, f".calendar .op[data-id='{operation}']") == "done"
    assert "长乐社区" in text_of(browser, "#rhythm-communities")


def test_a_listed_problem_moves_from_progress_to_delisting_and_back(app, live_server, browser, people, tmp_path):
    listed = app.test_client().post(
        "/api/v1/listed-problems",
        json={
            "title": "长乐农贸市场脏乱差",
            "area": COMMUNITY,
            "categories": ["06010"],
            "leader": "lingdao",
            "leader_office": "区政府分管副区长",
            "lead_unit": "cgj",
            "target_on": (date.today() + timedelta(days=30)).isoformat(),
        },
        headers=bearer(people["office"]),
    )
    assert listed.status_code == 201, listed.get_json()
    problem = listed.get_json()["id"]
    item = f"#l-{problem}"

    def act(action, note, photo=None):
        box = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, f"{item} form[data-action={action}]"), action)
        box.find_element(By.XPATH, "..").find_element(By.TAG_NAME, "summary").click()
        box.find_element(By.NAME, "note").send_keys(note)
        if photo:
            take_photo(browser, box, tmp_path / photo)
        box.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    open_as(browser, live_server, f"/console/listed-problems#{problem}", people["unit"])
    act("update", "已清理周边占道摊点", "progress.jpg")
    wait(browser, lambda d: "已清理周边占道摊点" in text_of(d, f"{item} .timeline"), "no progress on the timeline")
    assert fits_the_phone(browser)
    act("request_delisting", "整改完成，申请摘牌")
    wait(browser, lambda d: status_of(d, item) == "delisting_requested", "the delisting was not requested")

    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    open_as(browser, live_server, f"/console/listed-problems#{problem}", people["office"])
    act("delist", "现场核验合格", "after.jpg")
    wait(browser, lambda d: status_of(d, item) == "delisted", "the problem was not delisted")
    act("reopen", "问题反弹，重新挂牌")
    wait(browser, lambda d: status_of(d, item) == "listed", "the problem was not reopened")
    timeline = text_of(browser, f"{item} .timeline")
    assert all(step in timeline for step in ("挂牌", "整改进展", "申请摘牌", "摘牌", "重新挂牌"))
