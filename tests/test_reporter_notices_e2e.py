"""Reporter notices on the phone in real headless Chromium at 390×844: a citizen asks to be told
and keeps the short code from the receipt, then stops the notices from 我的上报; a case kept by
its number and short code moves, the unread badge on every phone page says so, 我的上报 marks the
case and clears it. Skipped without Debian's chromium / chromium-driver (.ci/run installs them)."""

import pytest

from tests.browser import chromium, csp_violations, phone_screen, serve, skip_without_chromium, text_of, wait

skip_without_chromium()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402
from sqlalchemy import select  # noqa: E402

from civicreport.cases.reporter_models import NoticeSubscription  # noqa: E402
from civicreport.extensions import db  # noqa: E402
from tests.factories import INSIDE, make_geography, make_rule, make_unit, make_user, photo_bytes  # noqa: E402
from tests.helpers import override_settings, post_report  # noqa: E402

pytestmark = pytest.mark.e2e  # Chromium drives the phone pages on a live server
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.0 Mobile/15E148 Safari/604.1"
)
PHONE = phone_screen(ratio=3.0, agent=IPHONE)


@pytest.fixture
def case(ctx, client):
    """An anonymous report filed for 区城市管理局, its answer, and the supervisor's bearer header."""
    make_geography()
    make_rule(make_unit("cgj", "urban_management", "区城市管理局"), major="06")
    supervisor = make_user("sup", "supervisor")[1]
    db.session.commit()
    body = post_report(client, [photo_bytes(gps=INSIDE)], category="06010", description="路边暴露垃圾").get_json()
    db.session.remove()  # no open read transaction while the live server writes (SQLite)
    return body, supervisor


@pytest.fixture
def base(app, monkeypatch):
    override_settings(app, monkeypatch, MAP_TILE_URL="")
    with serve(app) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def phone(tmp_path):
    driver = chromium(tmp_path / "profile", mobile=PHONE)
    yield driver
    refused = csp_violations(driver)
    driver.quit()
    assert refused == [], "the Content-Security-Policy refused part of a page"


def badge(driver):
    return driver.execute_script(
        "const b = document.getElementById('unread'); return b && !b.hidden ? b.textContent : '';"
    )


def test_the_badge_tells_of_a_moved_case_until_my_reports_is_read(base, phone, case, client):
    body, supervisor = case
    phone.get(base + "/m/mine")
    phone.find_element(By.CSS_SELECTOR, "#add-receipt summary").click()
    phone.find_element(By.NAME, "case_id").send_keys(body["id"])
    code = body["receipt_code"]
    phone.find_element(By.NAME, "receipt_token").send_keys(f"{code[:4].lower()} {code[4:]}")  # as a person types it
    phone.find_element(By.CSS_SELECTOR, "#receipt-form button[type=submit]").click()
    wait(phone, lambda d: d.find_elements(By.ID, f"case-{body['id']}"), "the case kept by its code is not listed")
    assert badge(phone) == ""

    accepted = client.post(f"/api/v1/reports/{body['id']}/transitions", json={"action": "accept"}, headers=supervisor)
    assert accepted.status_code == 200
    db.session.remove()

    phone.get(base + "/m/")
    wait(phone, lambda d: badge(d) == "1", "the badge does not show the accepted case")
    mark = phone.find_element(By.ID, "unread").rect
    assert mark["x"] + mark["width"] <= 390 and mark["height"] >= 16  # on the screen, readable

    phone.find_element(By.CSS_SELECTOR, ".bar nav a[href$='/m/mine']").click()
    card = f"#case-{body['id']}"
    wait(phone, lambda d: "新进展" in text_of(d, card), "我的上报 does not mark the moved case")
    assert "已受理" in text_of(phone, card)
    wait(phone, lambda d: badge(d) == "", "the badge stays after 我的上报 was read")

    phone.get(base + "/m/")
    phone.execute_script("return new Promise((done) => setTimeout(done, 300));")
    assert badge(phone) == ""  # read once, not unread again


def test_a_citizen_asks_to_be_told_keeps_the_code_and_stops_the_notices(base, phone, case, tmp_path):
    phone.execute_cdp_cmd(
        "Browser.setPermission", {"permission": {"name": "geolocation"}, "setting": "granted", "origin": base}
    )
    phone.execute_cdp_cmd(
        "Emulation.setGeolocationOverride", {"latitude": INSIDE[0], "longitude": INSIDE[1], "accuracy": 12}
    )
    phone.get(base + "/m/")
    path = tmp_path / "snap.jpg"
    path.write_bytes(photo_bytes((1200, 900), gps=INSIDE))
    phone.find_element(By.ID, "gallery").send_keys(str(path))
    wait(
        phone,
        lambda d: d.execute_script("return document.querySelector('#photos .photo').dataset.state") == "done",
        "the photo did not upload",
    )
    phone.find_element(By.CSS_SELECTOR, "#groups input[value='市容环境'] + span").click()
    Select(phone.find_element(By.ID, "category")).select_by_value("06010")
    phone.find_element(By.ID, "anonymous").click()
    phone.find_element(By.ID, "contact").send_keys("wang@example.cn")
    phone.find_element(By.ID, "notify").click()
    phone.find_element(By.ID, "submit").click()
    wait(phone, lambda d: d.find_element(By.ID, "receipt").is_displayed(), "no receipt after submitting")
    code = text_of(phone, "#receipt-code")
    assert len(code) == 9 and code[4] == " "  # 8 characters, read in two halves
    public_id = text_of(phone, "#receipt-id")
    subscription = db.session.scalar(select(NoticeSubscription))
    assert (subscription.channel, subscription.address, subscription.opted_out_at) == ("email", "wang@example.cn", None)
    db.session.remove()

    phone.get(base + f"/m/mine#{public_id}")
    card = f"#case-{public_id}"
    wait(phone, lambda d: code in text_of(d, card), "我的上报 does not show the code")
    phone.find_element(By.CSS_SELECTOR, f"{card} .stop-notices").click()
    wait(phone, lambda d: not d.find_elements(By.CSS_SELECTOR, f"{card} .stop-notices"), "the button stays")
    assert db.session.scalar(select(NoticeSubscription.opted_out_at)) is not None
    db.session.remove()
