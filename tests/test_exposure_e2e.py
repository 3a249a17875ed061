"""曝光台 · 光荣榜 in real headless Chromium: a citizen files a 文明点赞 on a 390×844 phone and reads
the public pages there; a supervisor at 1440×900 previews, publishes and withdraws a case in the
console, and a leader reads the month's counts. Skipped without Debian's chromium / chromium-driver.
"""

import pytest
from sqlalchemy import select

from tests.browser import OVERFLOW, phone_screen, serve, skip_without_chromium, small_targets, text_of, wait

skip_without_chromium()

from selenium.webdriver.common.by import By  # noqa: E402

from civicreport.accounts import auth  # noqa: E402
from civicreport.cases.models import Report  # noqa: E402
from civicreport.exposure.models import Publication  # noqa: E402
from civicreport.extensions import db  # noqa: E402
from tests.factories import INSIDE, make_geography, make_rule, make_unit, photo_bytes  # noqa: E402
from tests.helpers import PATHS, Loop, override_settings, post_report  # noqa: E402

pytestmark = pytest.mark.e2e
PASSWORD = "exposure-pass-1"
TYPED = "早高峰闯红灯，司机电话 138 1234 5678"
PHOTOS_SHOWN = """
const images = [...document.querySelectorAll('#preview-photos img')];
return images.every((i) => i.complete && i.naturalWidth > 0) ? images.length : -1;
"""


@pytest.fixture
def live(app, monkeypatch):
    override_settings(app, monkeypatch, MAP_TILE_URL="", MAP_CENTER=",".join(map(str, INSIDE)))
    with serve(app) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def loop(ctx, client):
    make_geography()
    make_rule(make_unit("cgj", "urban_management", "区城市管理局"), major="06")
    people = {
        "supervisor": _person("zhiban", "supervisor", "值班长王"),
        "own_staff": _person("cgj-li", "unit_staff", "李师傅", "cgj"),
        "monitor": _person("jiandu", "monitor", "监督员赵"),
        "leader": _person("lingdao", "leader", "张主任"),
    }
    return Loop(client, people)


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


def test_a_praise_from_the_phone_on_the_honour_board(live, loop, client, open_browser, tmp_path):
    phone = open_browser(mobile=phone_screen())
    phone.execute_cdp_cmd(
        "Browser.setPermission", {"permission": {"name": "geolocation"}, "setting": "granted", "origin": live}
    )
    phone.execute_cdp_cmd(
        "Emulation.setGeolocationOverride", {"latitude": INSIDE[0], "longitude": INSIDE[1], "accuracy": 12}
    )
    phone.get(live + "/m/")
    assert phone.execute_script("return document.documentElement.clientWidth") == 390
    wait(phone, lambda d: "长乐社区" in text_of(d, "#place"), "the phone's place was not shown")
    snap = tmp_path / "snap.jpg"
    snap.write_bytes(photo_bytes((1200, 900), gps=INSIDE))
    phone.find_element(By.ID, "gallery").send_keys(str(snap))
    script = "return [...document.querySelectorAll('#photos .photo')].every((p) => p.dataset.state === 'done')"
    wait(phone, lambda d: d.execute_script(script), "the photo did not upload")

    # 文明点赞: the category and the cases nearby step aside
    assert phone.find_element(By.ID, "groups").is_displayed()
    phone.find_element(By.CSS_SELECTOR, "#kinds input[value=praise] + span").click()
    assert not phone.find_element(By.ID, "groups").is_displayed()
    assert not phone.find_element(By.ID, "category").is_displayed()
    assert "光荣榜" in text_of(phone, ".praise-only")
    phone.find_element(By.ID, "description").send_keys("公交车在斑马线前停车，礼让过街的老人")
    phone.find_element(By.ID, "submit").click()
    wait(phone, lambda d: d.find_element(By.ID, "receipt").is_displayed(), "the praise was not filed")
    report = db.session.scalar(select(Report))
    assert (report.kind, report.category_code, report.unit_id) == ("praise", None, None)
    rid = report.public_id
    db.session.remove()

    # the office confirms and publishes it (the console's part is the other test)
    sup = loop.people["supervisor"]
    loop.ok(rid, "supervisor", "confirm_praise")
    client.get(f"/api/v1/exposure/preview?report={rid}", headers=sup)
    body = {"report": rid, "kind": "praise", "note": "礼让斑马线典型", "reviewed": True}
    publication = client.post("/api/v1/exposure", json=body, headers=sup).get_json()["id"]

    phone.get(live + "/exposure")
    card = f"#item-{publication}"
    wait(phone, lambda d: d.find_elements(By.CSS_SELECTOR, card), "the public list did not show the praise")
    assert (
        "光荣榜" in text_of(phone, card) and "文明点赞" in text_of(phone, card) and "古南街道" in text_of(phone, card)
    )
    assert phone.find_elements(By.CSS_SELECTOR, f"{card} .photos img")
    assert phone.execute_script(OVERFLOW) == 0, "the list is wider than the phone"
    assert small_targets(phone, ".filters > a, .month button, .item h2 a") == []
    phone.find_element(By.CSS_SELECTOR, ".filters a[href*='kind=praise']").click()
    wait(phone, lambda d: "kind=praise" in d.current_url, "the 光荣榜 filter did not open")
    phone.find_element(By.CSS_SELECTOR, f"{card} h2 a").click()
    wait(phone, lambda d: d.current_url.endswith(f"/exposure/{publication}"), "the item page did not open")
    assert "礼让过街的老人" in text_of(phone, "main")

    client.post(f"/api/v1/exposure/{publication}/withdraw", json={"note": "当事人不愿公开"}, headers=sup)
    phone.refresh()
    wait(phone, lambda d: "该条内容已撤下" in text_of(d, "main"), "the withdrawn page did not say so")
    assert "礼让过街的老人" not in text_of(phone, "body") and phone.execute_script(OVERFLOW) == 0


def test_a_supervisor_previews_publishes_and_withdraws_and_the_leader_counts(live, loop, client, open_browser):
    body = post_report(client, [photo_bytes(gps=INSIDE)], category="06010", description=TYPED, contact="13912345678")
    rid = body.get_json()["id"]
    for who, action, fields in PATHS["verified"]:
        loop.ok(rid, who, action, **({"media_ids": [loop.upload(who)]} if fields == "photo" else fields))
    db.session.remove()

    desk = open_browser("--window-size=1440,900")
    login(desk, live, "/console/exposure", "zhiban")
    assert desk.execute_script("return window.innerWidth") == 1440
    side_by_side = "return document.getElementById('publications').getBoundingClientRect().left > 600"
    assert desk.execute_script(side_by_side)  # candidates and what is up: two columns at this width
    candidate = f"#candidates li[data-report='{rid}']"
    wait(desk, lambda d: d.find_elements(By.CSS_SELECTOR, candidate), "the verified case was no candidate")
    assert "1234" not in text_of(desk, candidate)
    desk.find_element(By.CSS_SELECTOR, f"{candidate} button").click()
    wait(desk, lambda d: d.find_element(By.ID, "preview").is_displayed(), "no preview")
    assert text_of(desk, "#preview-text") == "早高峰闯红灯，司机电话 【已隐藏】"
    assert "13912345678" not in text_of(desk, "#preview") and "【已隐藏】" in text_of(desk, "#preview-facts")
    wait(desk, lambda d: d.execute_script(PHOTOS_SHOWN) == 2, "the blurred photos did not load")  # before, after

    form = desk.find_element(By.ID, "publish-form")
    form.find_element(By.NAME, "note").send_keys("闯红灯典型案例")
    desk.find_element(By.ID, "publish").click()  # the review box is required: nothing is sent
    assert db.session.scalar(select(Publication)) is None
    db.session.remove()
    form.find_element(By.NAME, "reviewed").click()
    desk.find_element(By.ID, "publish").click()
    up = "#publications li[data-publication]"
    wait(desk, lambda d: d.find_elements(By.CSS_SELECTOR, up), "the publication was not listed")
    assert not desk.find_elements(By.CSS_SELECTOR, candidate) and not desk.find_element(By.ID, "preview").is_displayed()
    publication = desk.find_element(By.CSS_SELECTOR, up).get_attribute("data-publication")

    row = f"#publications li[data-publication='{publication}']"
    desk.find_element(By.CSS_SELECTOR, f"{row} input[name=note]").send_keys("已整改完毕，撤下")
    desk.find_element(By.CSS_SELECTOR, f"{row} button[type=submit]").click()
    wait(desk, lambda d: "已撤下" in text_of(d, row), "the takedown was not shown")
    assert "已整改完毕，撤下" in text_of(desk, row)

    desk.get(f"{live}/exposure/{publication}")
    assert "该条内容已撤下" in text_of(desk, "main") and "闯红灯" not in text_of(desk, "main")
    assert desk.execute_script(OVERFLOW) == 0

    desk.get(f"{live}/console/leader")
    wait(desk, lambda d: d.find_element(By.ID, "main").is_displayed(), "the leader page did not open")
    desk.find_element(By.ID, "logout").click()
    login(desk, live, "/console/leader", "lingdao")
    counts = "#exposure-counts tr[data-kind=uncivil]"
    wait(desk, lambda d: d.find_elements(By.CSS_SELECTOR, counts), "no exposure counts on the leader page")
    assert text_of(desk, counts).split() == ["曝光台", "1", "1"]
