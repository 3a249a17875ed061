"""The staff console in real headless Chromium against a live server on loopback.

Skipped when Debian's chromium / chromium-driver are not installed (.ci/run installs them).
The tile URL is blank here, so the map draws no tiles and the browser needs no network.
"""

import pytest

from tests.browser import csp_violations, skip_without_chromium, status_of, text_of, wait

skip_without_chromium()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

from civicreport.accounts import auth  # noqa: E402
from civicreport.cases.models import Report  # noqa: E402
from civicreport.extensions import db  # noqa: E402
from civicreport.geo.crs import wgs84_to_gcj02  # noqa: E402
from tests.factories import make_geography, make_rule, make_unit  # noqa: E402
from tests.helpers import Loop, override_settings  # noqa: E402

pytestmark = pytest.mark.e2e  # Chromium drives the console on a live server
PASSWORD = "console-pass-1"


@pytest.fixture
def browser(open_browser):
    return open_browser("--window-size=1400,900")


@pytest.fixture
def cases(ctx, client):
    """Four cases at one spot: submitted, dispatched, in progress + escalated, closed; and who works them."""
    make_geography()
    city = make_unit("cgj", "urban_management", "区城市管理局")
    make_unit("jxj", "traffic_police", "区交巡警支队")
    make_rule(city, major="06")
    people = {
        "supervisor": _person("zhiban", "supervisor", "值班长王"),
        "own_staff": _person("cgj-li", "unit_staff", "李师傅", "cgj"),
        "monitor": _person("jiandu", "monitor", "监督员赵"),
        "leader": _person("lingdao", "leader", "张主任"),
    }
    loop = Loop(client, people)
    seeded = {
        "submitted": loop.new_report(),
        "dispatched": loop.to_state("dispatched"),
        "escalated": loop.to_state("in_progress"),
        "closed": loop.to_state("closed"),
    }
    loop.ok(seeded["escalated"], "supervisor", "escalate", note="请今日内整改到位")
    _flag(
        seeded["submitted"],
        evidence_flags=["photo_far"],
        evidence_flagged=True,
        photo_distance_m=842.4,
        photo_reuse_flagged=True,
    )
    db.session.remove()  # no open read transaction while the live server writes (SQLite)
    return seeded


def _flag(public_id, **flags):
    """What the evidence checks and the privacy pass's reuse check would have set on the report."""
    db.session.execute(db.update(Report).where(Report.public_id == public_id).values(**flags))
    db.session.commit()


def _person(name, role, display_name, unit_code=None):
    user = auth.create_user(name, role, display_name=display_name, password=PASSWORD, unit_code=unit_code)
    return {"Authorization": f"Bearer {auth.issue_token(user)}"}


def login(driver, base, path, name):
    driver.get(base + path)
    wait(driver, lambda d: d.find_element(By.ID, "login-form").is_displayed(), "no login box")
    box = driver.find_element(By.ID, "login-form")
    box.find_element(By.NAME, "login").send_keys(name)
    box.find_element(By.NAME, "password").send_keys(PASSWORD)
    box.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(driver, lambda d: d.find_element(By.ID, "main").is_displayed(), "login did not open the page")


def rows(driver, css="#cases li.case"):
    """[(data-id, data-status, text)] of the rows, read in one script: rows are redrawn, so never held."""
    script = (
        "return [...document.querySelectorAll(arguments[0])].map((r) => [r.dataset.id, r.dataset.status, r.innerText])"
    )
    return [tuple(row) for row in driver.execute_script(script, css)]


def ids(driver, css="#cases li.case"):
    return [row[0] for row in rows(driver, css)]


def act(driver, action, **choices):
    """Press an action button in the drawer, fill its form, confirm."""
    wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, f"#drawer button[data-action={action}]")).click()
    form = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, f"#action-form form[data-action={action}]"))
    for name, value in choices.items():
        Select(form.find_element(By.NAME, name)).select_by_value(value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def drawer_status(driver, status):
    wait(driver, lambda d: status_of(d, "#drawer") == status, f"the drawer never showed {status}")


def test_supervisor_filters_opens_accepts_and_dispatches_a_case(live_server, browser, cases, tmp_path):
    login(browser, live_server, "/console", "zhiban")
    assert "值班长王" in text_of(browser, "#who-name")
    wait(browser, lambda d: len(ids(d)) == 3, "the open queue should list three cases")
    assert cases["closed"] not in ids(browser)
    assert text_of(browser, ".marker-cluster") == "3"  # one spot: the markers cluster

    Select(browser.find_element(By.NAME, "status")).select_by_value("submitted")
    wait(browser, lambda d: ids(d) == [cases["submitted"]], "the status filter did not apply")
    browser.find_element(By.CSS_SELECTOR, "#cases li.case").click()
    drawer_status(browser, "submitted")
    drawer = text_of(browser, "#drawer")
    assert cases["submitted"] in drawer and "区城市管理局" in drawer and "古南街道长乐社区" in drawer
    notes = text_of(browser, "#drawer .details dd.flagged")
    assert "照片拍摄位置与上报地点相距较远（约 842 米）" in notes and "照片与其他地点或较早案件的照片雷同" in notes
    wait(browser, lambda d: "上报" in text_of(d, "#drawer .timeline"), "no timeline")
    wait(
        browser,
        lambda d: d.execute_script("return document.querySelector('#drawer .photos img').naturalWidth") > 0,
        "the before photo did not load",
    )
    marker = f".pin span[data-id='{cases['submitted']}']"
    assert status_of(browser, marker) == "submitted"

    act(browser, "accept", category="06010")
    drawer_status(browser, "accepted")
    wait(browser, lambda d: "已受理" in rows(d)[0][2], "the list row kept its old status")
    assert status_of(browser, marker) == "accepted"

    act(browser, "dispatch", unit="cgj")
    drawer_status(browser, "dispatched")
    _, status, text = rows(browser)[0]
    assert status == "dispatched" and "已派遣" in text and "区城市管理局" in text
    assert status_of(browser, marker) == "dispatched"
    wait(browser, lambda d: "派遣" in text_of(d, "#drawer .timeline"), "the timeline missed the dispatch")
    browser.save_screenshot(str(tmp_path / "console-dispatched.png"))

    report = db.session.scalar(db.select(Report).where(Report.public_id == cases["submitted"]))
    assert (report.status, report.unit.code) == ("dispatched", "cgj") and report.deadline_at
    db.session.remove()

    Select(browser.find_element(By.NAME, "status")).select_by_value("dispatched")
    wait(browser, lambda d: set(ids(d)) == {cases["submitted"], cases["dispatched"]}, "dispatched filter")


def test_unit_staff_sees_their_worklist_and_the_escalation_notice(live_server, browser, cases, tmp_path):
    login(browser, live_server, "/console/unit", "cgj-li")
    wait(browser, lambda d: "区城市管理局" in text_of(d, "#title"), "no worklist title")
    assert not browser.find_element(By.ID, "unit-form").is_displayed()
    worklist = "#worklist tbody tr[data-id]"
    wait(browser, lambda d: set(ids(d, worklist)) == {cases["dispatched"], cases["escalated"]}, "worklist rows")
    escalated = f"#worklist tr[data-id='{cases['escalated']}']"
    assert "1 次" in text_of(browser, escalated)
    browser.save_screenshot(str(tmp_path / "console-unit.png"))

    browser.find_element(By.CSS_SELECTOR, f"{escalated} a.notice-link").click()
    wait(browser, lambda d: len(d.window_handles) == 2, "the notice did not open")
    browser.switch_to.window(browser.window_handles[1])
    wait(browser, lambda d: "督办通知书" in text_of(d, "h1"), "the notice did not render")
    assert "请今日内整改到位" in text_of(browser, "body")
    assert "signature=" in browser.current_url  # a signed link, not a blob: it prints, reloads and can be shared
    # its stylesheet passed the page's policy
    assert browser.execute_script("return getComputedStyle(document.querySelector('h1')).textAlign") == "center"
    browser.close()
    browser.switch_to.window(browser.window_handles[0])

    dispatched = f"#worklist tr[data-id='{cases['dispatched']}']"
    browser.find_element(By.CSS_SELECTOR, f"{dispatched} button.link").click()
    drawer_status(browser, "dispatched")
    act(browser, "claim")
    drawer_status(browser, "in_progress")
    wait(browser, lambda d: status_of(d, dispatched) == "in_progress", "the worklist kept the old status")


def test_leader_sees_the_monthly_ranking_and_unit_staff_do_not(live_server, browser, cases, tmp_path):
    login(browser, live_server, "/console/leader", "lingdao")
    bar = "#bars .bar-row[data-unit='cgj']"
    wait(browser, lambda d: text_of(d, bar), "no on-time bar for the unit")
    assert "区城市管理局" in text_of(browser, bar) and "100.0%" in text_of(browser, bar)  # closed in time
    assert browser.execute_script("return document.querySelector(arguments[0]).style.width", f"{bar} .bar") == "100%"
    assert "区城市管理局" in text_of(browser, "#ranking tr[data-unit='cgj']")
    assert text_of(browser, "#red-list") and not browser.find_element(By.ID, "notice").is_displayed()
    browser.save_screenshot(str(tmp_path / "console-leader.png"))

    browser.find_element(By.ID, "logout").click()
    wait(browser, lambda d: d.find_element(By.ID, "login-form").is_displayed(), "logging out kept the page open")
    login(browser, live_server, "/console/leader", "cgj-li")
    wait(browser, lambda d: d.find_element(By.ID, "notice").is_displayed(), "unit staff were shown the ranking")
    assert "无权" in text_of(browser, "#notice") and not text_of(browser, "#bars")


def test_the_browser_gcj02_shift_matches_the_python_one(live_server, browser):
    browser.get(live_server + "/console")
    points = [(29.0318, 106.6420), (39.9087, 116.3975), (22.5431, 114.0579), (48.8584, 2.2945)]
    shifted = browser.execute_async_script(
        "const [points, done] = arguments;"
        "import('/static/shared/page.js').then((m) => done(points.map(([la, lo]) => m.wgs84ToGcj02(la, lo))));",
        points,
    )
    for (lat, lon), (js_lat, js_lon) in zip(points, shifted, strict=True):
        py_lat, py_lon = wgs84_to_gcj02(lat, lon)
        assert abs(js_lat - py_lat) < 1e-9 and abs(js_lon - py_lon) < 1e-9


def test_the_map_draws_tiles_from_the_tile_host_and_the_page_runs_nothing_injected(
    app, live_server, browser, cases, monkeypatch
):
    """localhost is another origin than the page's 127.0.0.1: the tile host has to be in img-src."""
    tiles = live_server.replace("127.0.0.1", "localhost") + "/static/vendor/leaflet/images/layers.png?{z}/{x}/{y}"
    override_settings(app, monkeypatch, MAP_TILE_URL=tiles)
    login(browser, live_server, "/console", "zhiban")
    wait(
        browser,
        lambda d: d.execute_script(
            "return [...document.querySelectorAll('img.leaflet-tile')].some((t) => t.naturalWidth > 0)"
        ),
        "no tile drawn",
    )
    assert csp_violations(browser) == []

    browser.execute_script(
        "document.body.insertAdjacentHTML('beforeend', '<img src=/x onerror=\"window.injected = 1\">');"
        "const s = document.createElement('script'); s.textContent = 'window.injected = 2'; document.body.append(s);"
    )
    refused = []
    wait(browser, lambda d: refused.extend(csp_violations(d)) or len(refused) >= 2, "the injected code was not refused")
    assert any("inline event handler" in line for line in refused) and any("inline script" in line for line in refused)
    assert browser.execute_script("return window.injected") is None
