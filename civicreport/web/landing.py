"""The site root: a phone goes straight to 随手拍, a desktop sees where everything is.

``python -m civicreport.web.landing URL`` waits until the server at URL answers and prints the
same links (``make run`` calls it, so a newcomer sees where to click once the site is up).
"""

import re
import sys
import time
import urllib.error
import urllib.request

from flask import Blueprint, redirect, render_template, request, url_for

from civicreport.web import PUBLIC, allow

bp = Blueprint("landing", __name__)

# (path, title, what it is for): the landing page's links, and what `make run` prints.
LINKS = (
    ("/m/", "随手拍", "市民用手机拍照上报问题、查看办理进度"),
    ("/exposure", "曝光台", "不文明行为曝光与文明点赞（光荣榜）"),
    ("/map", "公开地图", "附近的上报和办理状态，可订阅区域提醒"),
    ("/console", "指挥平台", "值班长、处置单位、领导和社区工作人员登录"),
    ("/api/v1/docs", "接口文档", "JSON API 与 Open311 接口说明"),
)
# Phones and small tablets by their user agent; "Mobi" covers Chrome, Firefox and Safari on phones.
_PHONE = re.compile(r"Mobi|Android|iPhone|iPod|HarmonyOS|MicroMessenger", re.IGNORECASE)
READY_SECONDS = 60


@bp.get("/")
@allow(PUBLIC)
def home():
    """A phone is sent to the submit page; anything else gets the page of links."""
    if _PHONE.search(request.headers.get("User-Agent", "")):
        return redirect(url_for("mobile.submit")), {"Vary": "User-Agent"}
    return render_template("landing.html", links=LINKS), {"Vary": "User-Agent"}


@bp.get("/favicon.ico")
@allow(PUBLIC)
def favicon():
    """Browsers ask for /favicon.ico before reading any page: the one icon the pages link to."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


def wait_and_print(base, seconds=READY_SECONDS):
    """Poll ``base``'s health check until it answers, then print where each page is."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/v1/health", timeout=2):
                break
        except urllib.error.HTTPError:
            break  # it answers: an unhealthy store is the health page's news, not ours
        except OSError:
            if time.monotonic() > deadline:
                print(f"{base} 未在 {seconds} 秒内启动", file=sys.stderr)
                return 1
            time.sleep(0.5)
    print(f"\n随手拍已启动：{base}/")
    for path, title, purpose in LINKS:
        print(f"  {title:<6} {base}{path}  （{purpose}）")
    print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(wait_and_print(sys.argv[1].rstrip("/")))
