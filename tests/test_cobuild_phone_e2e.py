"""我要点单 on the phone page in real headless Chromium at 360 px: a resident files a need from the
phone's location, the community and its volunteer team serve it over the API, and the resident
rates it from 我的点单 with the receipt the phone kept; without a location the community is picked.
Skipped without Debian's chromium / chromium-driver (.ci/run installs them)."""

import io
from datetime import date

import pytest
from sqlalchemy import select

from tests.browser import chromium, csp_violations, phone_screen, serve, skip_without_chromium, status_of, text_of, wait

skip_without_chromium()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

from civicreport.accounts import auth  # noqa: E402
from civicreport.accounts.models import User, UserArea  # noqa: E402
from civicreport.cobuilding.models import NeedOrder, VolunteerTeam  # noqa: E402
from civicreport.extensions import db  # noqa: E402
from tests.factories import COMMUNITY, INSIDE, make_geography, photo_bytes  # noqa: E402
from tests.helpers import override_settings  # noqa: E402

pytestmark = pytest.mark.e2e  # Chromium drives the phone page on a live server
PHONE = phone_screen(360, 740)


def _bearer(name, role, **fields):
    user = User(name=name, role=role, display_name=name, **fields)
    user.areas = [UserArea(code=COMMUNITY)] if role == "community_staff" else []
    db.session.add(user)
    db.session.commit()
    return {"Authorization": f"Bearer {auth.issue_token(user)}"}


@pytest.fixture
def community(ctx):
    """长乐社区 of the test grid, its staff and a volunteer of its team (bearer headers)."""
    make_geography()
    team = VolunteerTeam(name="长乐志愿服务队", community_code=COMMUNITY)
    db.session.add(team)
    db.session.commit()
    people = {
        "staff": _bearer("cz-staff", "community_staff"),
        "volunteer": _bearer("vol", "volunteer", team_id=team.id),
    }
    db.session.remove()  # no open read transaction while the live server writes (SQLite)
    return people


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


def place_phone(driver, base, point):
    setting = "granted" if point else "denied"
    driver.execute_cdp_cmd(
        "Browser.setPermission", {"permission": {"name": "geolocation"}, "setting": setting, "origin": base}
    )
    if point:
        driver.execute_cdp_cmd(
            "Emulation.setGeolocationOverride", {"latitude": point[0], "longitude": point[1], "accuracy": 12}
        )


def serve_order(client, people, order_id):
    """The community dispatches to its team; the volunteer accepts and completes with a photo."""

    def act(who, action, **fields):
        response = client.post(
            f"/api/v1/orders/{order_id}/transitions", json={"action": action, **fields}, headers=people[who]
        )
        assert response.status_code == 200, response.get_json()

    act("staff", "dispatch", team="长乐志愿服务队")
    act("volunteer", "accept")
    photo = client.post(
        "/api/v1/media",
        headers=people["volunteer"],
        data={"photo": (io.BytesIO(photo_bytes(color=(60, 140, 90))), "service.jpg")},
        content_type="multipart/form-data",
    ).get_json()["id"]
    act("volunteer", "complete", hours=1.5, media_ids=[photo], note="已陪同老人完成复查")
    db.session.remove()


def test_a_resident_files_a_need_from_the_phone_and_rates_the_service(base, phone, community, client, tmp_path):
    place_phone(phone, base, INSIDE)
    phone.get(base + "/m/")
    phone.find_element(By.LINK_TEXT, "我要点单").click()
    wait(
        phone, lambda d: d.find_element(By.ID, "order-located").get_attribute("data-state") == "located", "not located"
    )
    assert phone.execute_script("return document.documentElement.clientWidth") == 360
    assert "长乐社区" in text_of(phone, "#order-located")
    phone.find_element(By.ID, "order-description").send_keys("家中老人行动不便，下周二需要陪同去医院复查")
    phone.find_element(By.ID, "order-contact").send_keys("13900000000")
    phone.find_element(By.ID, "order-submit").click()
    wait(phone, lambda d: d.find_element(By.ID, "order-receipt").is_displayed(), "the order was not filed")
    order_id = text_of(phone, "#order-receipt-id")
    card = f"#my-orders li[data-id='{order_id}']"
    wait(phone, lambda d: status_of(d, card) == "submitted", "我的点单 did not list the order")
    phone.save_screenshot(str(tmp_path / "orders-filed.png"))
    order = db.session.scalar(select(NeedOrder))
    assert (order.public_id, order.community_code, order.contact) == (order_id, COMMUNITY, "13900000000")
    assert order.lat == pytest.approx(INSIDE[0]) and order.device_id
    db.session.remove()

    serve_order(client, community, order_id)
    phone.refresh()
    wait(phone, lambda d: status_of(d, card) == "completed", "the served order did not show as completed")
    assert "长乐志愿服务队" in text_of(phone, f"{card} .server") and "1.5 小时" in text_of(phone, card)
    assert phone.find_elements(By.CSS_SELECTOR, f"{card} .thumbs img")
    phone.find_elements(By.CSS_SELECTOR, f"{card} form.rate .stars label")[3].click()
    phone.find_element(By.CSS_SELECTOR, f"{card} form.rate textarea").send_keys("志愿者很耐心")
    phone.find_element(By.CSS_SELECTOR, f"{card} form.rate button[type=submit]").click()
    wait(phone, lambda d: status_of(d, card) == "rated", "the rating was not taken")
    assert "满意" in text_of(phone, f"{card} .rating") and not phone.find_elements(By.CSS_SELECTOR, f"{card} form.rate")
    phone.save_screenshot(str(tmp_path / "orders-rated.png"))
    order = db.session.scalar(select(NeedOrder))
    assert (order.status, order.rating, order.rating_comment) == ("rated", 4, "志愿者很耐心")
    db.session.remove()
    stats = client.get(f"/api/v1/stats/orders?month={date.today():%Y-%m}", headers=_office()).get_json()
    row = next(r for r in stats["communities"] if r["code"] == COMMUNITY)
    assert (row["collected"], row["completed"], row["satisfaction_rate"], row["service_hours"]) == (1, 1, 1.0, 1.5)


def _office():
    header = _bearer("office", "supervisor")
    db.session.remove()
    return header


def test_without_a_location_the_resident_picks_the_community_and_may_cancel(base, phone, community):
    place_phone(phone, base, None)
    phone.get(base + "/m/orders")
    wait(phone, lambda d: d.find_element(By.ID, "order-located").get_attribute("data-state") == "failed", "no fallback")
    phone.find_element(By.ID, "order-description").send_keys("楼道灯坏了，老人晚上上下楼看不见")
    phone.find_element(By.ID, "order-submit").click()
    assert "请选择所在社区" in text_of(phone, "#order-error")
    Select(phone.find_element(By.ID, "order-community")).select_by_value(COMMUNITY)
    phone.find_element(By.ID, "order-submit").click()
    wait(phone, lambda d: d.find_element(By.ID, "order-receipt").is_displayed(), "the order was not filed")
    card = f"#my-orders li[data-id='{text_of(phone, '#order-receipt-id')}']"
    wait(phone, lambda d: status_of(d, card) == "submitted", "我的点单 did not list the order")
    phone.find_element(By.CSS_SELECTOR, f"{card} button[data-action=cancel]").click()
    phone.find_element(By.CSS_SELECTOR, f"{card} form.cancel textarea").send_keys("已经修好了")
    phone.find_element(By.CSS_SELECTOR, f"{card} form.cancel button[type=submit]").click()
    wait(phone, lambda d: status_of(d, card) == "cancelled", "the order was not cancelled")
    order = db.session.scalar(select(NeedOrder))
    assert (order.status, order.lat, order.community_code) == ("cancelled", None, COMMUNITY)
    db.session.remove()
