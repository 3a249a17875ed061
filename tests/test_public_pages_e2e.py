"""Every page a citizen reaches without signing in, in real headless Chromium on a 390×844 phone and a
1440×900 desktop: it renders its main content, is never wider than the screen, the Content-Security-
Policy refuses nothing, and on the phone every visible button and link of the main content is at least
44 px tall. The walks through each page live beside their features (tests/test_*_e2e.py); this sweep
catches the page nobody walked at one of the two sizes. Skipped without Debian's chromium.
"""

import json

import pytest

from tests.browser import chromium, csp_violations, serve, skip_without_chromium, wait

skip_without_chromium()

from selenium.webdriver.common.by import By  # noqa: E402
from sqlalchemy import select  # noqa: E402

from civicreport.accounts import auth  # noqa: E402
from civicreport.alerts.models import AreaSubscription  # noqa: E402
from civicreport.alerts.subscriptions import unsubscribe_link  # noqa: E402
from civicreport.extensions import db  # noqa: E402
from tests.factories import COMMUNITY, INSIDE, make_geography, make_rule, make_unit  # noqa: E402
from tests.helpers import Loop, override_settings  # noqa: E402

pytestmark = pytest.mark.e2e
PHONE = {
    "deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2.0, "touch": True},
    "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/150.0 Mobile Safari/537.36",
}
DESKTOP = "--window-size=1440,900"
OVERFLOW = "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
# Visible buttons, links and fields a thumb must hit, measured by what takes the tap: a radio button
# checkbox or file picker by its label. Exempt: links inside running text and the map's attribution line.
SMALL_TARGETS = """
const exempt = (n) => n.closest('.leaflet-control-attribution') ||
  (n.tagName === 'A' && n.parentElement.matches('p, li > p, small, footer, .note'));
const target = (n) => (n.matches('[type=radio], [type=checkbox], [type=file]') && n.closest('label')) || n;
return [...document.querySelectorAll('main a, main button, main select, main input:not([type=hidden])')]
  .filter((n) => n.offsetParent !== null && !exempt(n))
  .map((n) => [n.tagName + ' ' + (n.id || n.name || n.textContent).trim().slice(0, 16),
               Math.round(target(n).getBoundingClientRect().height)])
  .filter(([, h]) => h < 44);
"""
HAS_CONTENT = "const m = document.querySelector('main, body'); return m && m.innerText.trim().length > 20;"


@pytest.fixture
def pages(ctx, client):
    """Public paths, including a published 曝光台 item and an alert's unsubscribe page."""
    make_geography()
    make_rule(make_unit("cgj", "urban_management", "区城市管理局"), major="06")
    people = {
        role: {"Authorization": f"Bearer {auth.issue_token(auth.create_user(role, role, unit_code=unit))}"}
        for role, unit in (("supervisor", None), ("monitor", None), ("unit_staff", "cgj"))
    }
    people["own_staff"] = people["unit_staff"]
    loop = Loop(client, people)
    report = loop.to_state("verified")
    client.get(f"/api/v1/exposure/preview?report={report}", headers=people["supervisor"])
    body = {"report": report, "kind": "uncivil", "note": "典型", "reviewed": True}
    publication = client.post("/api/v1/exposure", json=body, headers=people["supervisor"]).get_json()["id"]
    client.post(
        "/api/v1/alerts/subscriptions", json={"email": "resident@example.cn", "area": "community", "code": COMMUNITY}
    )
    subscription = db.session.scalar(select(AreaSubscription))
    unsubscribe = unsubscribe_link(subscription).split("//", 1)[1].split("/", 1)[1]
    db.session.remove()  # no open read transaction while the live server writes (SQLite)
    return [
        "/",
        "/m/",
        "/m/mine",
        "/m/orders",
        "/map",
        "/exposure",
        "/exposure?kind=praise",
        f"/exposure/{publication}",
        "/public/listed-problems",
        "/" + unsubscribe,
    ]


@pytest.fixture
def live(app, monkeypatch):
    override_settings(app, monkeypatch, MAP_TILE_URL="", MAP_CENTER=",".join(map(str, INSIDE)))
    with serve(app) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("screen", ["phone", "desktop"])
def test_every_public_page_fits_the_screen_and_loads_whole(pages, live, tmp_path, screen):
    driver = chromium(tmp_path / "profile", mobile=PHONE) if screen == "phone" else chromium(tmp_path / "p", DESKTOP)
    problems = {}
    try:
        for path in pages:
            driver.get(live + path)
            wait(driver, lambda d: d.execute_script(HAS_CONTENT), f"{path} showed nothing")
            wait(driver, lambda d: d.execute_script("return document.readyState") == "complete", path)
            found = {
                "wider than the screen by px": driver.execute_script(OVERFLOW),
                "refused by the CSP": csp_violations(driver),
                "error page": driver.find_elements(By.CSS_SELECTOR, "pre") and '"error"' in driver.page_source,
            }
            if screen == "phone":
                found["targets under 44 px"] = driver.execute_script(SMALL_TARGETS)
            problems.update({f"{path}: {what}": value for what, value in found.items() if value})
    finally:
        driver.quit()
    assert problems == {}, json.dumps(problems, ensure_ascii=False, indent=1)
