"""Real headless Chromium against a live server on loopback, shared by the browser tests.

Browser test modules call ``skip_without_chromium()`` first: they skip when Debian's chromium /
chromium-driver are not installed (.ci/run installs them).
"""

import os
import threading
from contextlib import contextmanager

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_SECONDS = 15
# The flags this machine needs (no sandbox as root, no background connections on a closed network).
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--lang=zh-CN",
)


ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/150.0 Mobile Safari/537.36"
)
OVERFLOW = "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
# Tap targets under 44×44 px among the visible elements matching arguments[0], each measured by what takes
# the tap: a radio button, checkbox or file picker by its label. Exempt: links inside running text (a
# sentence's link) and the map's attribution line.
SMALL_TARGETS = """
const exempt = (n) => n.closest('.leaflet-control-attribution') ||
  (n.tagName === 'A' && n.parentElement.matches('p, li > p, small, footer, .note'));
const target = (n) => (n.matches('[type=radio], [type=checkbox], [type=file]') && n.closest('label')) || n;
return [...document.querySelectorAll(arguments[0])]
  .filter((n) => n.offsetParent !== null && !exempt(n))
  .map((n) => {
    const r = target(n).getBoundingClientRect(), name = (n.id || n.name || n.textContent).trim().slice(0, 16);
    return [n.tagName + ' ' + name, Math.round(r.width), Math.round(r.height)];
  })
  .filter(([, w, h]) => w < 44 || h < 44);
"""


def phone_screen(width=390, height=844, ratio=2.0, agent=ANDROID):
    """chromedriver's mobileEmulation of a touch phone ``width``×``height`` CSS px (390×844: a current
    mid-size phone; 360×740: the small Android most people here still carry)."""
    return {"deviceMetrics": {"width": width, "height": height, "pixelRatio": ratio, "touch": True}, "userAgent": agent}


def small_targets(driver, css):
    """[(element, width, height)] of the visible ``css`` matches a thumb would find too small."""
    return driver.execute_script(SMALL_TARGETS, css)


def skip_without_chromium():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("needs Debian's chromium and chromium-driver", allow_module_level=True)


@contextmanager
def serve(app, port=0):
    """Serve ``app`` on 127.0.0.1 in a thread; yields the port."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)


def chromium(profile_dir, *flags, mobile=None):
    """Start headless Chromium; ``mobile`` is chromedriver's mobileEmulation (e.g. deviceMetrics)."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS + flags + (f"--user-data-dir={profile_dir}",):
        options.add_argument(flag)
    if mobile:
        options.add_experimental_option("mobileEmulation", mobile)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # for csp_violations
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))


def wait(driver, condition, message="", seconds=WAIT_SECONDS):
    """Poll ``condition`` until truthy; elements found by a redrawn page may go stale between polls."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, ignored_exceptions=(StaleElementReferenceException,)).until(
        condition, message
    )


def text_of(driver, css):
    return driver.execute_script("const n = document.querySelector(arguments[0]); return n ? n.innerText : ''", css)


def status_of(driver, css):
    return driver.execute_script("const n = document.querySelector(arguments[0]); return n && n.dataset.status;", css)


@contextmanager
def chromiums(profile_root):
    """Yields ``start(*flags, mobile=None)``, which starts a Chromium with its own profile under
    ``profile_root``; on leaving, every driver is closed and no page may have had anything refused by
    its Content-Security-Policy (a refused script is a page that silently does not work)."""
    drivers = []

    def start(*flags, mobile=None):
        drivers.append(chromium(profile_root / f"profile{len(drivers)}", *flags, mobile=mobile))
        return drivers[-1]

    try:
        yield start
        refused = [message for driver in drivers for message in csp_violations(driver)]
    finally:
        for driver in drivers:
            driver.quit()
    assert refused == [], "the Content-Security-Policy refused part of a page"


def csp_violations(driver):
    """What the pages' Content-Security-Policy refused since the last call, from the console log
    (Chromium logs every refused script, style, image or connection there)."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]
    ]
