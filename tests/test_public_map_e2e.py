"""The public map (/map) in real headless Chromium: on a 390×844 phone (list under the map,
filters, a behaviour case marked as approximate, a report opened from the list, subscribing to the
map's centre) and on a 1440×900 desktop (the map beside the list). No tile server: the page says so
and still works. Skipped without Debian's chromium / chromium-driver.
"""

import pytest
from sqlalchemy import select

from tests.browser import OVERFLOW, phone_screen, serve, skip_without_chromium, small_targets, text_of, wait

skip_without_chromium()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

from civicreport.alerts.models import AreaSubscription  # noqa: E402
from civicreport.extensions import db  # noqa: E402
from tests.factories import INSIDE, NE_CORNER, SW_CORNER, photo_bytes  # noqa: E402
from tests.helpers import override_settings, post_report  # noqa: E402

pytestmark = pytest.mark.e2e
RECT = (
    "const r = document.querySelector(arguments[0]).getBoundingClientRect(); return [r.left, r.top, r.width, r.height];"
)


@pytest.fixture
def reports(city_unit, client, supervisor):
    """Two accepted cases: 暴露垃圾 at the grid's south-west corner, 乱扔垃圾 (behaviour) at its north-east."""
    ids = []
    for point, category in ((SW_CORNER, "06010"), (NE_CORNER, "L90004")):
        body = post_report(client, [photo_bytes(gps=point)], category=category, lat=point[0], lon=point[1])
        ids.append(body.get_json()["id"])
        client.post(f"/api/v1/reports/{ids[-1]}/transitions", json={"action": "accept"}, headers=supervisor)
    db.session.remove()  # no open read transaction while the live server writes (SQLite)
    return ids


@pytest.fixture
def live(app, monkeypatch, reports):
    override_settings(app, monkeypatch, MAP_TILE_URL="", MAP_CENTER=",".join(map(str, INSIDE)))
    with serve(app) as port:
        yield f"http://127.0.0.1:{port}"


def listed(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#reports li")


def test_the_map_on_a_390_px_phone(live, reports, open_browser):
    phone = open_browser(mobile=phone_screen())
    phone.get(f"{live}/map")
    wait(phone, lambda d: len(listed(d)) == 2, "the two public cases are listed")
    assert "本区域 2 件公开案件" in text_of(phone, "#summary")
    assert len(phone.find_elements(By.CSS_SELECTOR, "#map path.leaflet-interactive")) == 2
    assert phone.find_element(By.ID, "tiles-note").is_displayed()  # no tiles: said so, the list still works
    assert phone.execute_script(OVERFLOW) == 0
    behaviour = phone.find_element(By.ID, f"report-{reports[1]}")
    assert "位置约 50 米" in behaviour.text and "乱扔垃圾" in behaviour.text
    # Leaflet's controls stay under the sticky header, the map right below the filters.
    header = phone.execute_script(RECT, ".bar")
    zoom = phone.execute_script(RECT, ".leaflet-control-zoom")
    assert zoom[1] >= header[1] + header[3]
    assert small_targets(phone, "select, #reports li, .subscribe summary, .bar a") == []

    Select(phone.find_element(By.NAME, "group")).select_by_visible_text("文明行为")
    wait(phone, lambda d: len(listed(d)) == 1, "the group filter leaves the behaviour case")
    assert listed(phone)[0].get_attribute("id") == f"report-{reports[1]}"
    listed(phone)[0].click()
    wait(phone, lambda d: d.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content .card"), "its popup opens")
    assert "已受理" in text_of(phone, ".leaflet-popup-content")

    phone.find_element(By.CSS_SELECTOR, ".subscribe summary").click()
    phone.find_element(By.NAME, "email").send_keys("neighbour@example.cn")
    assert small_targets(phone, "#subscribe-form input, #subscribe-form select, #subscribe-form button") == []
    phone.find_element(By.CSS_SELECTOR, "#subscribe-form button").click()
    wait(phone, lambda d: "确认邮件已发送" in text_of(d, "#subscribe-answer"), "the subscription is pending")
    subscription = db.session.scalar(select(AreaSubscription))
    assert (subscription.email, subscription.area_kind, subscription.confirmed_at) == (
        "neighbour@example.cn",
        "circle",
        None,
    )
    assert abs(subscription.lat - INSIDE[0]) < 0.01 and subscription.radius_m == 1000
    assert "r=1000" in phone.find_element(By.ID, "feed-link").get_attribute("href")


def test_the_map_beside_the_list_on_a_1440_px_desktop(live, reports, open_browser):
    desk = open_browser("--window-size=1440,900")
    desk.set_window_size(1440, 900)
    desk.get(f"{live}/map#report={reports[0]}")
    wait(desk, lambda d: len(listed(d)) == 2, "the two public cases are listed")
    wait(desk, lambda d: d.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content"), "the linked case's popup opens")
    assert reports[0] in text_of(desk, ".leaflet-popup-content")
    map_box, list_box = desk.execute_script(RECT, "#map"), desk.execute_script(RECT, ".list-pane")
    assert map_box[0] < list_box[0] and abs(map_box[1] - list_box[1]) < 2  # side by side
    assert map_box[2] > 800 and map_box[3] > 600
    assert desk.execute_script(OVERFLOW) == 0
    Select(desk.find_element(By.NAME, "status")).select_by_visible_text("已结案")
    wait(desk, lambda d: "暂无公开案件" in text_of(d, "#summary"), "no closed case yet")
    assert listed(desk) == []
