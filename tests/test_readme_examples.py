"""The README's examples, run as written against a live server, the way a newcomer would after
`make run`: `flask db upgrade`, `flask load-demo` and `flask run` on a fresh SQLite file, then each
shell block with the port put in place of 5000 (a first curl that the server refused with 422
went unnoticed in the README for months)."""

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from helpers import free_port

pytestmark = pytest.mark.e2e  # a real server process and curl

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SHELL_BLOCKS = re.findall(r"```sh\n(.*?)```", README, re.DOTALL)


def _block(starting):
    matches = [block for block in SHELL_BLOCKS if block.startswith(starting)]
    assert len(matches) == 1, f"one README block starts with {starting!r}"
    return matches[0]


def _section(title):
    return README.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A live server over a fresh SQLite file with the demo, and a folder where `.venv` is this venv."""
    work = tmp_path_factory.mktemp("readme")
    (work / ".venv").symlink_to(Path(sys.prefix))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIVICREPORT_", "AWS_"))}
    env |= {
        "CIVICREPORT_DATABASE_URL": f"sqlite:///{work / 'site.sqlite3'}",
        "CIVICREPORT_MEDIA_ROOT": str(work / "media"),
        "CIVICREPORT_STORAGE": "local",
    }
    flask = [sys.executable, "-m", "flask", "--app", "civicreport"]
    for step in (["db", "upgrade"], ["load-demo", "--if-empty"]):
        subprocess.run(flask + step, env=env, cwd=ROOT, check=True, capture_output=True, timeout=300)
    port = free_port()
    server = subprocess.Popen(
        [*flask, "run", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/api/v1/health")
        yield work, env, port
    finally:
        server.terminate()
        server.wait(10)


def _wait_for(url, seconds=60):
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _run(site, script):
    work, env, port = site
    script = script.replace("127.0.0.1:5000", f"127.0.0.1:{port}")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_first_report_is_filed_as_written(site):
    answer = json.loads(_run(site, _block('.venv/bin/python -c "from PIL')))
    assert "error" not in answer, answer
    assert answer["id"].startswith("QJ") and answer["status"] == "submitted"
    assert answer["grid"]["community"]["code"].startswith("500110")


def test_the_other_endpoints_named_in_try_it_answer(site):
    _, _, port = site
    urls = re.findall(r"`GET (/api/v1/[^`\s]+)`", _section("Try it"))
    assert any("?" in url for url in urls)
    for url in urls:
        if "<" in url:
            continue  # a placeholder (<id>) the text explains
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{url}", timeout=10) as response:
            assert response.status == 200, url


def test_the_redaction_example_finds_its_case_and_blurs(site):
    work, _, _ = site
    if not (work / "street.jpg").exists():
        _run(site, _block('.venv/bin/python -c "from PIL'))  # the photo the Try it block makes
    answer = json.loads(_run(site, _block("TOKEN=$(.venv/bin/flask")))
    assert answer["event"]["action"] == "redact", answer


def test_the_open311_key_commands_run(site):
    output = _run(site, _block(".venv/bin/flask --app civicreport open311-key create hotline-12345"))
    assert "revoked Open311 client hotline-12345" in output
