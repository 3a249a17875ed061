"""Every page a citizen reaches without signing in, in real headless Chromium on a 390×844 phone and a
1440×900 desktop: it renders its main content, is never wider than the screen, the Content-Security-
Policy refuses nothing, and on the phone every visible button and link of the main content is at least
44 px tall. The walks through each page live beside their features (tests/test_*_e2e.py); this sweep
catches the page nobody walked at one of the two sizes. Skipped without Debian's chromium.
"""

import json

import pytest

from tests.browser import (
    OVERFLOW,
    csp_violations,
    phone_screen,
    serve,
    skip_without_chromium,
    small_targets,
    wait,
)

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
DESKTOP = "--window-size=1440,900"
# Every button, link and field of the main content a thumb must hit.
TARGETS = "main a, main button, main select, main input:not([type=hidden])"
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
def test_every_public_page_fits_the_screen_and_loads_whole(pages, live, open_browser, screen):
    driver = open_browser(mobile=phone_screen()) if screen == "phone" else open_browser(DESKTOP)
    problems = {}
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
            found["targets under 44 px"] = small_targets(driver, TARGETS)
        problems.update({f"{path}: {what}": value for what, value in found.items() if value})
    assert problems == {}, json.dumps(problems, ensure_ascii=False, indent=1)
