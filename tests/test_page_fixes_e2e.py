"""Issue 23's page fixes in real headless Chromium: the phone at 390×844 (the site root, 我也遇到了,
a draft that outlives the browser, a photo taken far away, the map without tiles under the sticky
bar, tap targets) and the desktop at 1440×900 (the landing page, the queue's totals and map, the
unit picked from a list, signed links opened directly, the leader's month and chart).

Skipped without Debian's chromium / chromium-driver (.ci/run installs them).
"""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.browser import (
    chromium,
    csp_violations,
    phone_screen,
    serve,
    skip_without_chromium,
    small_targets,
    text_of,
    wait,
)

skip_without_chromium()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

from civicreport.accounts import auth  # noqa: E402
from civicreport.cases.models import Report  # noqa: E402
from civicreport.db_types import utcnow  # noqa: E402
from civicreport.extensions import db  # noqa: E402
from tests.factories import INSIDE, make_geography, make_rule, make_unit, make_user, photo_bytes  # noqa: E402
from tests.helpers import Loop, override_settings  # noqa: E402

pytestmark = pytest.mark.e2e
PASSWORD = "fixes-pass-1"
PHONE = phone_screen(390, 844)
FAR_AWAY = (39.9087, 116.3975)  # Beijing: far outside the test grid
# Everything a finger taps on the submit page, measured where it is shown.
TAP_TARGETS = (
    "header a, button:not([hidden]), .button, select, label.chip, label.check, summary, .leaflet-bar a, "
    ".candidate .support"
)


@pytest.fixture
def live(app, monkeypatch):
    override_settings(app, monkeypatch, MAP_TILE_URL="")  # no tiles: no outside network, and the no-tiles note
    with serve(app) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def city(ctx, client):
    make_geography()
    make_rule(make_unit("cgj", "urban_management", "区城市管理局"), major="06")
    make_unit("jxj", "traffic_police", "区交巡警支队")  # no cases: folded away on the leader's chart
    people = {
        "supervisor": _person("zhiban", "supervisor"),
        "own_staff": _person("cgj-li", "unit_staff", "cgj"),
        "monitor": make_user("monitor", "monitor")[1],
        "leader": _person("lingdao", "leader"),
        "anonymous": {},
    }
    return Loop(client, people)


def _person(name, role, unit_code=None):
    user = auth.create_user(name, role, display_name=name, password=PASSWORD, unit_code=unit_code)
    return {"Authorization": f"Bearer {auth.issue_token(user)}"}


def _quit(driver):
    refused = csp_violations(driver)
    driver.quit()
    assert refused == [], "the Content-Security-Policy refused part of a page"


def place_phone(driver, base, point=INSIDE):
    driver.execute_cdp_cmd(
        "Browser.setPermission", {"permission": {"name": "geolocation"}, "setting": "granted", "origin": base}
    )
    driver.execute_cdp_cmd(
        "Emulation.setGeolocationOverride", {"latitude": point[0], "longitude": point[1], "accuracy": 12}
    )


def choose_photo(driver, tmp_path, gps):
    path = tmp_path / "far.jpg"
    path.write_bytes(photo_bytes((800, 600), gps=gps))
    driver.find_element(By.ID, "gallery").send_keys(str(path))
    script = "return [...document.querySelectorAll('#photos .photo')].every((p) => p.dataset.state === 'done')"
    wait(driver, lambda d: d.execute_script(script), "the photo did not upload")


def test_the_phone_page_on_a_390_px_phone(live, city, tmp_path):
    nearby = city.new_report()  # an open 暴露垃圾 case where the phone stands
    db.session.remove()
    phone = chromium(tmp_path / "profile", mobile=PHONE)
    try:
        place_phone(phone, live)
        phone.get(live + "/")  # the site root sends a phone to the submit page
        wait(phone, lambda d: d.current_url.endswith("/m/"), "the root did not send the phone to 随手拍")
        assert phone.execute_script("return document.documentElement.clientWidth") == 390
        assert phone.execute_script("return document.querySelector('link[rel=icon]').href").endswith("favicon.svg")
        wait(phone, lambda d: "长乐社区" in text_of(d, "#place"), "the phone's place was not shown")

        # 我也遇到了: the open case nearby is offered, and one tap supports it
        card = f"#candidates li[data-id='{nearby}']"
        wait(phone, lambda d: d.find_elements(By.CSS_SELECTOR, card), "no nearby case was offered")
        assert "暴露垃圾" in text_of(phone, card) and "相距约" in text_of(phone, card)
        phone.find_element(By.CSS_SELECTOR, f"{card} button.support").click()
        wait(phone, lambda d: "已附议" in text_of(d, card), "the support did not go through")
        assert db.session.scalar(select(Report.support_count).where(Report.public_id == nearby)) == 1
        db.session.remove()

        # a photo taken in another city: said so, and the phone's own place stays
        choose_photo(phone, tmp_path, FAR_AWAY)
        wait(phone, lambda d: "照片位置不在服务范围内" in text_of(d, "#photo-place"), "the far photo was not named")
        assert "米" not in text_of(phone, "#photo-place") and "手机定位" in text_of(phone, "#place")
        assert not phone.find_element(By.ID, "use-photo-place").is_displayed()

        # the map without tiles says so, stays under the sticky bar, and still places the pin
        phone.find_element(By.ID, "adjust-place").click()
        wait(phone, lambda d: d.find_elements(By.CSS_SELECTOR, "#map .no-tiles-note"), "no word on the missing tiles")
        assert "底图未能加载" in text_of(phone, "#map-hint")
        phone.execute_script("arguments[0].scrollIntoView({block: 'center'})", phone.find_element(By.ID, "map"))
        phone.find_element(By.ID, "map").click()
        wait(phone, lambda d: "地图选点" in text_of(d, "#place"), "a tap on a map without tiles placed nothing")
        covered = phone.execute_script(
            "const zoom = document.querySelector('#map .leaflet-control-zoom');"
            "const bar = document.querySelector('header.bar').getBoundingClientRect();"
            "window.scrollBy(0, zoom.getBoundingClientRect().top - bar.top - 4);"  # the control slides under the bar
            "const z = zoom.getBoundingClientRect();"
            "return document.elementFromPoint(z.left + z.width / 2, z.top + 2).closest('header.bar') !== null;"
        )
        assert covered, "Leaflet's zoom control was drawn over the sticky bar"

        # every tap target at least 44 px both ways
        phone.execute_script("window.scrollTo(0, 0)")
        phone.find_element(By.ID, "description").send_keys("小区门口垃圾堆了两天")
        phone.find_element(By.CSS_SELECTOR, "#groups input[value='市容环境'] + span").click()
        Select(phone.find_element(By.ID, "category")).select_by_value("06010")
        small = small_targets(phone, TAP_TARGETS)
        assert not small, f"tap targets under 44 px: {small}"
        phone.save_screenshot(str(tmp_path / "phone-fixes.png"))
    finally:
        _quit(phone)

    # the browser is closed and opened again: the draft is all there
    phone = chromium(tmp_path / "profile", mobile=PHONE)
    try:
        place_phone(phone, live)
        phone.get(live + "/m/")
        wait(phone, lambda d: d.find_elements(By.CSS_SELECTOR, "#photos .photo[data-state=done]"), "no photo back")
        assert phone.find_element(By.ID, "description").get_attribute("value") == "小区门口垃圾堆了两天"
        assert phone.find_element(By.CSS_SELECTOR, "#groups input[value='市容环境']").is_selected()
        assert Select(phone.find_element(By.ID, "category")).first_selected_option.get_attribute("value") == "06010"
        assert "已恢复" in text_of(phone, "#banner")
        wait(
            phone,
            lambda d: "照片位置不在服务范围内" in text_of(d, "#photo-place"),
            "the restored photo was not checked",
        )
        phone.find_element(By.ID, "submit").click()  # the restored photo is the uploaded one: it submits
        wait(phone, lambda d: d.find_element(By.ID, "receipt").is_displayed(), "the restored draft did not submit")
        assert phone.execute_script("return localStorage.getItem('civicreport.draft')") is None
    finally:
        _quit(phone)
    report = db.session.scalar(select(Report).where(Report.public_id != nearby))
    assert (report.category_code, report.description, len(report.media)) == ("06010", "小区门口垃圾堆了两天", 1)
    db.session.remove()


def login(driver, base, path, name):
    driver.get(base + path)
    wait(driver, lambda d: d.find_element(By.ID, "login-form").is_displayed(), "no login box")
    box = driver.find_element(By.ID, "login-form")
    box.find_element(By.NAME, "login").send_keys(name)
    box.find_element(By.NAME, "password").send_keys(PASSWORD)
    box.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(driver, lambda d: d.find_element(By.ID, "main").is_displayed(), "login did not open the page")


def test_the_landing_page_and_the_console_on_a_1440_px_desktop(app, live, city, tmp_path, monkeypatch):
    late = [city.to_state("in_progress") for _ in range(2)]
    city.ok(late[0], "supervisor", "escalate", note="请今日内整改到位")
    city.new_report()
    db.session.execute(
        update(Report).where(Report.public_id == late[1]).values(deadline_at=utcnow() - timedelta(hours=2))
    )
    db.session.commit()
    db.session.remove()
    override_settings(app, monkeypatch, MAP_CENTER="29.5,106.0")  # far from the cases: the map must fit to them
    desk = chromium(tmp_path / "profile", "--window-size=1440,900")
    try:
        desk.get(live + "/")
        links = {a.get_attribute("pathname") for a in desk.find_elements(By.CSS_SELECTOR, ".links a")}
        assert {"/m/", "/exposure", "/map", "/console", "/api/v1/docs"} <= links
        assert desk.execute_script("return document.documentElement.clientWidth") >= 1400

        # 值班台: the totals of the whole filter, and a map fitted to its cases
        login(desk, live, "/console?", "zhiban")
        wait(desk, lambda d: "共 3 件，其中超期 1 件" in text_of(d, "#summary"), "no totals for the filter")
        inside = desk.execute_script(
            "const m = document.getElementById('map').getBoundingClientRect();"
            "const c = document.querySelector('.marker-cluster, .pin');"
            "if (!c) return false; const r = c.getBoundingClientRect();"
            "return r.left >= m.left && r.right <= m.right && r.top >= m.top && r.bottom <= m.bottom;"
        )
        assert inside, "the map did not fit the filtered cases"
        assert text_of(desk, "#map .no-tiles-note") == "未配置地图底图"

        # 问题清单: the unit from a list, the 督办通知书 by a signed link
        desk.get(live + "/console/unit")
        wait(desk, lambda d: d.find_element(By.ID, "unit-form").is_displayed(), "no unit picker for the office")
        picker = Select(desk.find_element(By.NAME, "unit"))
        assert "区城市管理局" in [o.text for o in picker.options] and "区交巡警支队" in [o.text for o in picker.options]
        picker.select_by_visible_text("区城市管理局")
        notice = f"#worklist tr[data-id='{late[0]}'] a.notice-link"
        wait(desk, lambda d: d.find_elements(By.CSS_SELECTOR, notice), "the worklist did not load")
        assert desk.current_url.endswith("?unit=cgj")
        desk.find_element(By.CSS_SELECTOR, notice).click()
        wait(desk, lambda d: len(d.window_handles) == 2, "the notice did not open")
        desk.switch_to.window(desk.window_handles[1])
        wait(desk, lambda d: "督办通知书" in text_of(d, "h1"), "the notice did not render")
        signed = desk.current_url
        assert "signature=" in signed and "请今日内整改到位" in text_of(desk, "body")
        desk.close()
        desk.switch_to.window(desk.window_handles[0])
        desk.switch_to.new_window("tab")  # the link opened directly, as a pasted address
        desk.get(signed)
        assert "督办通知书" in text_of(desk, "h1")
        desk.close()
        desk.switch_to.window(desk.window_handles[0])

        # 红黑榜: ?month= honoured, the month in Chinese, idle units folded, bars by card
        desk.execute_script("localStorage.clear()")  # the supervisor leaves; the leader signs in
        login(desk, live, "/console/leader?month=2026-10", "lingdao")
        month = Select(desk.find_element(By.NAME, "month"))
        wait(desk, lambda d: "2026 年 10 月" in text_of(d, "#title"), "?month= was not honoured")
        assert month.first_selected_option.text == "2026 年 10 月"
        assert all("年" in o.text and "月" in o.text for o in month.options)
        month.select_by_index(0)  # this month: the cases above
        wait(desk, lambda d: d.find_elements(By.CSS_SELECTOR, "#bars .bar-row[data-unit='cgj']"), "no bar for cgj")
        assert "month=" in desk.current_url and "2026-10" not in desk.current_url
        assert not desk.find_elements(By.CSS_SELECTOR, "#bars .bar-row[data-unit='jxj']")
        assert "区交巡警支队" in desk.execute_script("return document.getElementById('idle-names').textContent")
        assert "本月无案件" in text_of(desk, "#idle-summary")
        cards = desk.execute_script(
            "return [...document.querySelectorAll('#bars .bar-row')].map((r) => r.querySelector('.bar').className)"
        )
        assert cards and all(c == "bar" or c.startswith("bar card-") for c in cards)
        desk.find_element(By.ID, "cobuild-report").click()
        wait(desk, lambda d: len(d.window_handles) == 2, "the 月通报 did not open")
        desk.switch_to.window(desk.window_handles[1])
        wait(desk, lambda d: "signature=" in d.current_url and "月度通报" in text_of(d, "body"), "no 月通报")
        desk.save_screenshot(str(tmp_path / "desktop-report.png"))
    finally:
        _quit(desk)
