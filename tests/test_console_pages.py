"""The console page shells (no browser): settings they carry, and map settings checked at start-up."""

import json
import re

import pytest

from civicreport import create_app
from civicreport.cases import evidence
from civicreport.cases.status import STATUS_LABELS, STATUSES
from civicreport.cases.workflow import TRANSITIONS
from civicreport.web.console import EVIDENCE_LABELS
from tests.helpers import override_settings


def settings_of(page):
    match = re.search(r'<script id="page-settings" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(match.group(1))


@pytest.mark.parametrize("path", ["/console", "/console/unit", "/console/leader"])
def test_pages_are_public_shells_with_their_settings(client, path):
    response = client.get(path)
    assert response.status_code == 200 and "登录" in response.get_data(as_text=True)
    settings = settings_of(response.get_data(as_text=True))
    assert settings["actions"]["dispatch"] == {"label": "派遣", "needs": []}
    assert settings["map"]["crs"] == "wgs84" and len(settings["map"]["center"]) == 2


def test_every_status_has_a_label():
    assert set(STATUS_LABELS) == set(STATUSES)
    assert all(t.target is None or t.target in STATUS_LABELS for t in TRANSITIONS.values())


def test_every_evidence_flag_has_a_label(client):
    settings = settings_of(client.get("/console").get_data(as_text=True))
    assert set(settings["evidence"]) == set(EVIDENCE_LABELS) == {*evidence.FLAGS, "photo_reuse"}


def test_a_blank_tile_url_means_no_tiles(app, client, monkeypatch):
    override_settings(app, monkeypatch, MAP_TILE_URL="")
    assert settings_of(client.get("/console").get_data(as_text=True))["map"]["tile_url"] == ""


@pytest.mark.parametrize("setting", [{"MAP_TILE_CRS": "bd09"}, {"MAP_CENTER": "29.03"}])
def test_malformed_map_settings_fail_at_start_up(tmp_path, setting):
    with pytest.raises(ValueError, match=next(iter(setting))):
        create_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                "MEDIA_ROOT": str(tmp_path),
                "STORAGE": "local",
                **setting,
            }
        )
