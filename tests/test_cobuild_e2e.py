"""The co-building pages in real headless Chromium against a live server on loopback: one month's
task from the office's form to an accepted declaration made on a phone, and the leader's ranking;
a resident's needs order dispatched from the community's phone page and served from the team's.

One browser plays every part: the office at a desk, the community staff on a 360 px phone
(device metrics switched over CDP), the leader; each signs in through the console's login box
the first time, and the next person's token replaces the last in localStorage. Skipped when
Debian's chromium / chromium-driver are not installed (.ci/run installs them).
"""

from datetime import date, datetime, timedelta

import pytest

from tests.browser import skip_without_chromium, text_of, wait

skip_without_chromium()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

from civicreport import registry  # noqa: E402
from civicreport.accounts import auth  # noqa: E402
from civicreport.cobuilding import partners  # noqa: E402
from civicreport.extensions import db  # noqa: E402
from tests.factories import COMMUNITY, INSIDE, make_geography, make_unit, photo_bytes  # noqa: E402

pytestmark = pytest.mark.e2e  # Chromium drives the co-building pages on a live server
PASSWORD = "cobuild-pass-1"
PHONE = {"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True}
TASK = "背街小巷环境整治"
TEAM = "长乐社区志愿服务队"


@pytest.fixture
def browser(open_browser):
    return open_browser("--window-size=1280,900")


@pytest.fixture
def people(ctx):
    """The office (a supervisor), the community's staff, a leader linked to the community, a
    volunteer of the community's team and the community's lead partner unit."""
    make_geography()
    make_unit("rdb", "government_office", "区人大办公室")
    partners.add_partnership(COMMUNITY, "rdb", "lead", date(2020, 1, 1))
    team = partners.create_team(TEAM, COMMUNITY)
    made = {
        "volunteer": auth.create_user("zhiyuan", "volunteer", display_name="志愿者周", team_id=team.id),
        "office": auth.create_user("chuangjian", "supervisor", display_name="创建办刘", password=PASSWORD),
        "staff": auth.create_user(
            "changle", "community_staff", display_name="长乐社区陈", password=PASSWORD, areas=[COMMUNITY]
        ),
        "leader": auth.create_user("lingdao", "leader", display_name="张主任", password=PASSWORD),
    }
    partners.link_leader("lingdao", COMMUNITY)  # his 联系点: listed first on his page
    tokens = {role: auth.issue_token(user) for role, user in made.items()}
    db.session.remove()  # no open read transaction while the live server writes (SQLite)
    return tokens


def login(driver, base, path, name):
    driver.get(base + path)
    wait(driver, lambda d: d.find_element(By.ID, "login-form").is_displayed(), "no login box")
    box = driver.find_element(By.ID, "login-form")
    box.find_element(By.NAME, "login").send_keys(name)
    box.find_element(By.NAME, "password").send_keys(PASSWORD)
    box.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(driver, lambda d: d.find_element(By.ID, "main").is_displayed(), "login did not open the page")


def open_as(driver, base, path, token):
    """Open ``path`` signed in with ``token`` in place of the last one (the console keeps it in the
    origin's localStorage: a page of the server must be open)."""
    driver.execute_script("localStorage.setItem('civicreport.token', arguments[0])", token)
    driver.get(base + path)
    wait(driver, lambda d: d.find_element(By.ID, "main").is_displayed(), f"{path} did not open")


def menu(driver):
    """The labels of the console menu's case and co-building links shown to the signed-in role
    (督查督办, issue 22's, left out)."""
    links = driver.find_elements(By.CSS_SELECTOR, "#menu a")
    return [link.text for link in links if link.is_displayed() and link.text != "督查督办"]


def cell_status(driver):
    return driver.execute_script(
        "const c = document.querySelector(`#board tr[data-community='${arguments[0]}'] td[data-task] .badge`);"
        "return c && c.dataset.status;",
        COMMUNITY,
    )


def task_status(driver):
    return driver.execute_script(
        "const t = document.querySelector('#tasks li.task-item'); return t && t.dataset.status;"
    )


def order_status(driver):
    return driver.execute_script(
        "const o = document.querySelector('#orders li.order-item'); return o && o.dataset.status;"
    )


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


def declare(driver, tmp_path, text):
    """On the phone: write what was done, take a photo, wait for its upload, submit."""
    form = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#tasks form.declare-form"), "no declare form")
    field = form.find_element(By.NAME, "text")
    field.clear()
    field.send_keys(text)
    take_photo(driver, form, tmp_path / f"photo-{len(text)}.jpg")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(driver, lambda d: task_status(d) == "submitted", "the declaration was not submitted")


def review(driver, decision, **fields):
    item = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#queue li.item"), "the queue is empty")
    wait(driver, lambda d: d.execute_script("return document.querySelector('#queue .detail img') !== null"), "no photo")
    for name, value in fields.items():
        box = item.find_element(By.NAME, name)
        box.clear()
        box.send_keys(value)
    item.find_element(By.CSS_SELECTOR, f"button[value={decision}]").click()


def test_a_task_is_issued_declared_on_a_phone_returned_redeclared_and_accepted(live_server, browser, people, tmp_path):
    base = live_server
    login(browser, base, "/console/cobuild", "chuangjian")
    form = browser.find_element(By.ID, "task-form")
    form.find_element(By.NAME, "title").send_keys(TASK)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, lambda d: cell_status(d) == "pending", "the board did not show the new task")
    assert TASK in text_of(browser, "#board thead") and "长乐社区" in text_of(browser, "#board tbody")

    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    open_as(browser, base, "/console/community", people["staff"])
    wait(browser, lambda d: task_status(d) == "pending", "the phone did not list the task")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= PHONE["width"]
    declare(browser, tmp_path, "清理了三条背街小巷的暴露垃圾")

    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    open_as(browser, base, "/console/cobuild", people["office"])
    review(browser, "return", note="照片看不出整治前后对比，请补充")
    wait(browser, lambda d: cell_status(d) == "returned", "the board did not show the return")

    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    open_as(browser, base, "/console/community", people["staff"])
    wait(browser, lambda d: task_status(d) == "returned", "the phone did not show the return")
    assert "照片看不出整治前后对比" in text_of(browser, "#tasks .returned-note")
    declare(browser, tmp_path, "补充了整治前后的对比照片，三条小巷已保持一周")

    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    open_as(browser, base, "/console/cobuild", people["office"])
    wait(browser, lambda d: "第 2 次申报" in text_of(d, "#queue"), "the re-declaration is not in the queue")
    review(browser, "accept", score="8")
    wait(browser, lambda d: cell_status(d) == "accepted", "the board did not show the acceptance")
    assert "8 分" in text_of(browser, "#board tbody") and text_of(browser, "#queue-count") == "0"
    assert "长乐社区" in text_of(browser, "#order-figures") and not browser.find_element(By.ID, "notice").is_displayed()

    open_as(browser, base, "/console/leader", people["leader"])
    row = f"#community-ranking tr[data-unit='{COMMUNITY}']"
    wait(browser, lambda d: "长乐社区" in text_of(d, row), "the leader page did not rank the community")
    assert "长乐社区" in text_of(browser, "#linked-ranking")
    browser.find_element(By.ID, "cobuild-report").click()  # the 月通报 opens with the leader's token
    wait(browser, lambda d: len(d.window_handles) == 2, "the 月通报 did not open")
    browser.switch_to.window(browser.window_handles[1])
    wait(browser, lambda d: "社区文明共建月度通报" in d.title, "the 月通报 did not load")
    assert "长乐社区" in text_of(browser, "table")


def test_a_needs_order_filed_and_dispatched_on_the_community_phone_is_served_by_the_team(
    live_server, browser, people, tmp_path
):
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    login(browser, live_server, "/console/community", "changle")
    assert menu(browser) == ["社区工作台"]
    browser.find_element(By.CSS_SELECTOR, "#file-matter summary").click()  # 列入实事清单, owed by a partner
    form = browser.find_element(By.ID, "matter-form")
    form.find_element(By.NAME, "title").send_keys("修缮小区路灯")
    wait(browser, lambda d: len(Select(form.find_element(By.NAME, "partner")).options) == 2, "no partner to choose")
    Select(form.find_element(By.NAME, "partner")).select_by_value("rdb")
    due = form.find_element(By.NAME, "due_on")
    browser.execute_script("arguments[0].value = arguments[1]", due, f"{date.today() + timedelta(days=10):%Y-%m-%d}")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, lambda d: "承办：区人大办公室" in text_of(d, "#matters"), "the 实事清单 did not list the item")
    browser.find_element(By.CSS_SELECTOR, "#file-order summary").click()  # 代群众点单
    form = browser.find_element(By.ID, "order-form")
    form.find_element(By.NAME, "description").send_keys("独居老人家中水管漏水，需要帮忙维修")
    form.find_element(By.NAME, "contact").send_keys("13800000001")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, lambda d: "回执码" in text_of(d, "#order-receipt"), "no receipt for the resident")
    wait(browser, lambda d: order_status(d) == "submitted", "the phone did not list the order")
    assert "13800000001" in text_of(browser, "#orders")  # the community reads the resident's contact
    form = browser.find_element(By.CSS_SELECTOR, "#orders form.dispatch-form")
    Select(form.find_element(By.NAME, "team")).select_by_value(TEAM)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, lambda d: order_status(d) == "dispatched", "the order was not dispatched")

    open_as(browser, live_server, "/console/team", people["volunteer"])
    wait(browser, lambda d: order_status(d) == "dispatched", "the team did not list the order")
    assert menu(browser) == ["志愿服务"]
    browser.find_element(By.CSS_SELECTOR, "#orders button[data-action=accept]").click()
    form = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#orders form.complete-form"), "no complete form")
    form.find_element(By.NAME, "hours").send_keys("1.5")
    take_photo(browser, form, tmp_path / "service.jpg")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, lambda d: order_status(d) == "completed", "the order was not completed")
    assert "服务时长 1.5 小时" in text_of(browser, "#orders") and "承接：" + TEAM in text_of(browser, "#orders")
