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


def csp_violations(driver):
    """What the pages' Content-Security-Policy refused since the last call, from the console log
    (Chromium logs every refused script, style, image or connection there)."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]
    ]
