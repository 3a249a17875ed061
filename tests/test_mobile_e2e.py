"""The citizen's phone page in real headless Chromium at 360 px, on a network that drops.

The live server sits behind a small TCP relay that can cut one connection after the server has
taken a submission but before the phone has read the answer; Chromium itself is put offline over
the DevTools protocol. Skipped without Debian's chromium / chromium-driver (.ci/run installs them).
"""

import contextlib
import socket
import threading

import pytest
from sqlalchemy import func, select

from tests.browser import chromium, csp_violations, phone_screen, serve, skip_without_chromium, status_of, text_of, wait

skip_without_chromium()

from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

from civicreport.cases.models import IdempotencyRecord, Report  # noqa: E402
from civicreport.extensions import db  # noqa: E402
from tests.factories import (  # noqa: E402
    INSIDE,
    make_geography,
    make_rule,
    make_unit,
    make_user,
    photo_bytes,
)
from tests.helpers import PATHS, Loop, override_settings  # noqa: E402

pytestmark = pytest.mark.e2e  # Chromium drives the phone pages on a live server
PHONE = phone_screen(360, 740)
PHOTO_GPS = (29.0321, 106.6424)  # inside the test grid, ~50 m from where the phone says it is
SUBMIT_LINE = b"POST /api/v1/reports "


class CuttableRelay:
    """A TCP relay to the live server; ``cut_next_submit()`` makes it pass the next report submission
    through, then hand the phone only the answer's headers and reset the connection (a dropped network
    after the server already saved the report). It counts the submissions that reached the server."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.submits = 0
        self._cut = threading.Event()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def cut_next_submit(self):
        self._cut.set()

    def close(self):
        self._closed = True
        self.listener.close()

    def _accept(self):
        while not self._closed:
            try:
                phone, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            state = {"doomed": False}
            threading.Thread(target=self._upstream, args=(phone, server, state), daemon=True).start()
            threading.Thread(target=self._downstream, args=(server, phone, state), daemon=True).start()

    def _upstream(self, phone, server, state):
        try:
            while data := phone.recv(65536):
                if data.startswith(SUBMIT_LINE):
                    with self._lock:
                        self.submits += 1
                    if self._cut.is_set():
                        self._cut.clear()
                        state["doomed"] = True
                server.sendall(data)
        except OSError:
            pass
        finally:
            _close(server)

    def _downstream(self, server, phone, state):
        answer = b""
        try:
            while data := server.recv(65536):
                if not state["doomed"]:
                    phone.sendall(data)
                    continue
                answer += data
                head, sep, body = answer.partition(b"\r\n\r\n")
                if sep and body:
                    phone.sendall(head + sep + body[:1])  # headers arrive, the body never does
                    break
        except OSError:
            pass
        finally:
            _close(phone)
            _close(server)


def _close(sock):
    """Shut down first: a plain close() waits for the other relay thread's recv() on the same socket."""
    for step in (lambda: sock.shutdown(socket.SHUT_RDWR), sock.close):
        with contextlib.suppress(OSError):
            step()


@pytest.fixture
def city(ctx, client):
    """The test grid with a unit for 市容环境 problems, and the staff who close cases."""
    make_geography()
    make_rule(make_unit("cgj", "urban_management", "区城市管理局"), major="06")
    make_unit("jxj", "traffic_police", "区交巡警支队")
    people = {
        role: make_user(name, role, unit)[1]
        for name, role, unit in (
            ("sup", "supervisor", None),
            ("staff-cgj", "unit_staff", "cgj"),
            ("monitor", "monitor", None),
        )
    }
    people["own_staff"] = people.pop("unit_staff")
    people["anonymous"] = {}
    db.session.remove()  # no open read transaction while the live server writes (SQLite)
    return Loop(client, people)


@pytest.fixture
def relay(app, monkeypatch):
    override_settings(app, monkeypatch, MAP_TILE_URL="")  # no tiles: the browser needs no outside network
    override_settings(app, monkeypatch, MAP_CENTER=",".join(map(str, INSIDE)))  # the map opens on the test grid
    with serve(app) as port:
        relay = CuttableRelay(port)
        yield relay
        relay.close()


@pytest.fixture
def phone(tmp_path):
    driver = chromium(tmp_path / "profile", mobile=PHONE)
    yield driver
    refused = csp_violations(driver)
    driver.quit()
    assert refused == [], "the Content-Security-Policy refused part of a page"


def base_of(relay):
    return f"http://127.0.0.1:{relay.port}"


def place_phone(driver, base, point=INSIDE):
    """Let the page locate the phone at ``point`` (or refuse the permission with ``point=None``)."""
    setting = "granted" if point else "denied"
    driver.execute_cdp_cmd(
        "Browser.setPermission", {"permission": {"name": "geolocation"}, "setting": setting, "origin": base}
    )
    if point:
        driver.execute_cdp_cmd(
            "Emulation.setGeolocationOverride", {"latitude": point[0], "longitude": point[1], "accuracy": 12}
        )


def set_offline(driver, offline):
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    # The command may return before the page's requests fail: a submit right after it reached the
    # server once (CI, 2026-12-07), and the test then found a report it expected to be kept.
    if offline:
        wait(driver, lambda d: d.execute_async_script(PAGE_IS_OFFLINE), "the page was still online")


# Whether a request from the page fails (the network emulation has reached its requests).
PAGE_IS_OFFLINE = "const done = arguments[0]; fetch('/api/v1/health').then(() => done(false), () => done(true));"


def choose_photo(driver, tmp_path, gps=PHOTO_GPS):
    path = tmp_path / "snap.jpg"
    path.write_bytes(photo_bytes((1200, 900), gps=gps))
    driver.find_element(By.ID, "gallery").send_keys(str(path))
    wait(
        driver,
        lambda d: d.execute_script("return document.querySelector('#photos .photo').dataset.state") == "done",
        "the photo did not upload",
    )


def report_rows():
    count = db.session.scalar(select(func.count()).select_from(Report))
    db.session.remove()
    return count


def test_a_citizen_reports_through_a_dropped_connection_exactly_once(relay, phone, city, tmp_path):
    base = base_of(relay)
    place_phone(phone, base)
    phone.get(base + "/m/")
    assert phone.execute_script("return document.documentElement.clientWidth") == 360
    wait(phone, lambda d: "古南街道 长乐社区" in text_of(d, "#place"), "the phone's place was not shown")
    assert "手机定位" in text_of(phone, "#place")

    choose_photo(phone, tmp_path)
    photo_line = text_of(phone, "#photo-place")
    assert "照片带有拍摄位置" in photo_line and "29.03210" in photo_line and "米" in photo_line
    assert phone.find_element(By.ID, "use-photo-place").is_displayed()

    phone.find_element(By.ID, "description").send_keys("小区门口垃圾堆了两天，暴露垃圾没人清运")
    chip = wait(
        phone,
        lambda d: d.find_element(By.CSS_SELECTOR, "#suggestions button[data-code='06010']"),
        "no suggestion while typing",
    )
    chip.click()
    assert Select(phone.find_element(By.ID, "category")).first_selected_option.text == "暴露垃圾"
    assert phone.find_element(By.CSS_SELECTOR, "#groups input[value='市容环境']").is_selected()
    phone.save_screenshot(str(tmp_path / "mobile-form.png"))

    set_offline(phone, True)
    relay.cut_next_submit()
    phone.find_element(By.ID, "submit").click()
    wait(phone, lambda d: "自动重试" in text_of(d, "#submit-status"), "the offline submit was not kept for retry")
    assert relay.submits == 0 and report_rows() == 0
    assert phone.find_element(By.ID, "report-fields").get_attribute("disabled")  # no second submit meanwhile

    set_offline(phone, False)  # back online: the relay takes it to the server and cuts the answer
    wait(phone, lambda d: d.find_element(By.ID, "receipt").is_displayed(), "the retry never finished", seconds=40)
    assert relay.submits == 2  # the cut one, and the retry that got the saved report back
    assert int(phone.find_element(By.ID, "report-form").get_attribute("data-attempts")) >= 3
    case_id = text_of(phone, "#receipt-id")
    assert case_id and text_of(phone, "#receipt-token")
    phone.find_element(By.ID, "copy-token").click()
    wait(phone, lambda d: text_of(d, "#copy-token") in ("已复制", "已选中，请长按复制"), "the copy button did nothing")
    phone.save_screenshot(str(tmp_path / "mobile-receipt.png"))

    assert report_rows() == 1  # the dropped connection made no second report
    assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 2  # photo + report
    report = db.session.scalar(select(Report))
    assert (report.public_id, report.category_code, report.location_source) == (case_id, "06010", "device")
    assert report.contact is None and report.photo_distance_m and report.photo_distance_m < 100
    db.session.remove()

    phone.find_element(By.ID, "receipt-link").click()
    card = f"#reports li[data-id='{case_id}']"
    wait(phone, lambda d: status_of(d, card) == "submitted", "我的上报 did not list the report")
    assert len(phone.find_elements(By.CSS_SELECTOR, "#reports li.report")) == 1
    assert "暴露垃圾" in text_of(phone, card) and "区城市管理局" in text_of(phone, card)
    assert not phone.find_elements(By.CSS_SELECTOR, f"{card} form.rate")

    for who, action, fields in PATHS["closed"]:  # staff work the case through the API
        city.ok(case_id, who, action, **({"media_ids": [city.upload(who)]} if fields == "photo" else fields))
    db.session.remove()
    phone.refresh()
    wait(phone, lambda d: status_of(d, card) == "closed", "the closed status did not show")
    wait(
        phone,
        lambda d: d.execute_script(
            f'return [...document.querySelectorAll("{card} img")].every((i) => i.complete && i.naturalWidth > 0)'
        ),
        "the before/after photos did not load",
    )
    assert phone.find_elements(By.CSS_SELECTOR, f"{card} .photos-after img")
    phone.save_screenshot(str(tmp_path / "mobile-closed.png"))
    sources = [img.get_attribute("src") for img in phone.find_elements(By.CSS_SELECTOR, f"{card} img")]
    assert sources and all("/thumb/" in src for src in sources)  # public derivatives only

    phone.find_element(By.CSS_SELECTOR, f"{card} form.rate label:nth-of-type(4)").click()
    phone.find_element(By.CSS_SELECTOR, f"{card} form.rate textarea").send_keys("处理及时，谢谢")
    phone.find_element(By.CSS_SELECTOR, f"{card} form.rate button[type=submit]").click()
    wait(phone, lambda d: status_of(d, card) == "rated", "the rating did not go through")
    assert "★★★★☆" in text_of(phone, card)
    phone.save_screenshot(str(tmp_path / "mobile-mine.png"))
    report = db.session.scalar(select(Report))
    assert (report.rating, report.rating_comment, report.status) == (4, "处理及时，谢谢", "rated")
    assert report_rows() == 1


def test_without_gps_the_pin_places_the_report_and_an_offline_one_is_sent_on_the_next_visit(
    relay, phone, city, tmp_path
):
    base = base_of(relay)
    place_phone(phone, base, None)
    phone.get(base + "/m/")
    wait(phone, lambda d: d.find_element(By.ID, "map").is_displayed(), "refusing the location did not open the map")
    wait(phone, lambda d: d.find_elements(By.CSS_SELECTOR, "#map .pin"), "no pin on the map")
    choose_photo(phone, tmp_path, gps=None)
    phone.find_element(By.ID, "submit").click()
    assert "位置" in text_of(phone, "#form-error")

    phone.execute_script("arguments[0].scrollIntoView({block: 'center'})", phone.find_element(By.ID, "map"))
    phone.find_element(By.ID, "map").click()  # a tap on the map moves the pin there
    wait(phone, lambda d: "地图选点" in text_of(d, "#place"), "the tap did not choose a place")
    ActionChains(phone).drag_and_drop_by_offset(phone.find_element(By.CSS_SELECTOR, "#map .pin"), 60, 0).perform()
    wait(phone, lambda d: "长乐社区" in text_of(d, "#place"), "no area for the pin")
    phone.save_screenshot(str(tmp_path / "mobile-map.png"))
    phone.find_element(By.CSS_SELECTOR, "#groups input[value='市容环境'] + span").click()
    Select(phone.find_element(By.ID, "category")).select_by_value("06010")
    phone.find_element(By.ID, "anonymous").click()
    phone.find_element(By.ID, "contact").send_keys("13800000000")

    set_offline(phone, True)
    phone.find_element(By.ID, "submit").click()
    wait(phone, lambda d: "自动重试" in text_of(d, "#submit-status"), "the offline submit was not kept")
    left = phone.current_window_handle
    phone.switch_to.new_window("tab")  # the citizen closes the page before the network comes back
    phone.switch_to.window(left)
    phone.close()
    phone.switch_to.window(phone.window_handles[0])
    assert report_rows() == 0

    phone.get(base + "/m/mine")
    wait(phone, lambda d: d.find_elements(By.CSS_SELECTOR, "#reports li.report"), "the next visit did not send it")
    assert not phone.find_elements(By.CSS_SELECTOR, "#pending li")
    assert report_rows() == 1
    report = db.session.scalar(select(Report))
    assert (report.location_source, report.contact, report.category_code) == ("manual", "13800000000", "06010")
    assert report.lat == pytest.approx(INSIDE[0], abs=1e-4) and report.lon > INSIDE[1] + 2e-4  # dragged east
    assert report.community.name == "长乐社区"
    assert "13800000000" not in phone.page_source  # contact stays private

    other = city.client.post(
        "/api/v1/reports", json={"media_ids": [city.upload("anonymous")], "lat": INSIDE[0], "lon": INSIDE[1]}
    ).get_json()  # filed on another phone
    db.session.remove()
    phone.find_element(By.CSS_SELECTOR, "#add-receipt summary").click()
    form = phone.find_element(By.ID, "receipt-form")
    form.find_element(By.NAME, "case_id").send_keys(other["id"])
    form.find_element(By.NAME, "receipt_token").send_keys("wrong-token")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(phone, lambda d: "不正确" in text_of(d, "#receipt-error"), "a wrong receipt was not refused")
    form.find_element(By.NAME, "receipt_token").clear()
    form.find_element(By.NAME, "receipt_token").send_keys(other["receipt_token"])
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(phone, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#reports li.report")) == 2, "the receipt was not added")
