"""Real Open311 client libraries from PyPI against the app served over HTTP.

``georeport`` 0.3.1 reads (services, definitions, requests) in JSON and XML but has no
call that files a request; ``civicbot`` 0.4.0 files one, but only when told three times
(``dry_run=False``, ``confirm="SEND"`` and an ``api_key``) on an endpoint marked writable.
"""

import threading

import pytest
from civicbot import Endpoint, HttpError, HttpTransport, Open311Client
from civicbot.http import RateLimiter
from georeport import GeoReport
from sqlalchemy import select
from werkzeug.serving import make_server

from civicreport.cases.models import Report
from civicreport.extensions import db
from civicreport.open311 import clients as open311_clients
from civicreport.open311 import service as open311_service
from tests.factories import INSIDE, make_geography, make_rule, make_unit


@pytest.fixture
def live(app, ctx):
    """The same app on 127.0.0.1 (a free port) in a thread; yields its Open311 root and an api_key."""
    make_geography()
    make_rule(make_unit("cgj", "urban_management", "区城市管理局"), major="06")
    _, key = open311_clients.create("hotline-12345")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/open311/v2", key
    finally:
        server.shutdown()
        thread.join(timeout=10)


def civicbot_client(root):
    endpoint = Endpoint(id="civicreport-qijiang", name="綦江随手拍", base_url=root, write=True)
    # The default transport waits 0.5 s between calls to one host (politeness towards real cities).
    return Open311Client(
        endpoint, transport=HttpTransport(rate_limiter=RateLimiter(min_interval=0)), jurisdiction_id="500110"
    )


def test_civicbot_files_a_request_and_reads_it_back(live):
    root, key = live
    bot = civicbot_client(root)
    services = bot.list_services()
    assert "06010" in {s["service_code"] for s in services}
    definition = bot.get_service_definition("06010")
    assert [a["code"] for a in definition["attributes"]] == ["crs", "accuracy"]

    dry = bot.create_request(
        "06010",
        lat=INSIDE[0],
        lng=INSIDE[1],
        description="路边有暴露垃圾",
        api_key=key,
        validate_remote=True,
        attributes={"crs": "wgs84"},
    )
    assert dry.dry_run and dry.response is None and dry.url == f"{root}/requests.json"
    assert bot.list_requests() == []  # nothing was sent

    sent = bot.create_request(
        "06010",
        dry_run=False,
        confirm="SEND",
        api_key=key,
        validate_remote=True,
        lat=INSIDE[0],
        lng=INSIDE[1],
        description="路边有暴露垃圾",
        attributes={"crs": "wgs84", "accuracy": 8},
        email="citizen@example.cn",
    )
    [answer] = sent.response
    request_id = answer["service_request_id"]

    shown = bot.get_request(request_id)
    assert shown["status"] == "open" and shown["description"] == "路边有暴露垃圾"
    assert shown["agency_responsible"] == "区城市管理局" and "citizen@example.cn" not in str(shown)
    assert [r["service_request_id"] for r in bot.list_requests(service_request_ids=[request_id])] == [request_id]
    assert [r["service_request_id"] for r in bot.list_requests(service_code="06010", status="open")] == [request_id]
    assert "token" not in answer  # the spec: the id or a token, never both
    token = open311_service.token_for(db.session.scalar(select(Report).where(Report.public_id == request_id)))
    assert bot.get_token(token) == [{"service_request_id": request_id, "token": token}]  # issued before still resolve

    with pytest.raises(HttpError) as refused:
        bot.create_request("06010", dry_run=False, confirm="SEND", api_key="wrong", lat=INSIDE[0], lng=INSIDE[1])
    assert refused.value.status == 403 and '"code": 403' in refused.value.body


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_lists_services_and_reads_a_request(live, fmt):
    root, key = live
    request_id = (
        civicbot_client(root)
        .create_request(
            "06010",
            dry_run=False,
            confirm="SEND",
            api_key=key,
            lat=INSIDE[0],
            lng=INSIDE[1],
            description="井盖缺失，夜间危险",
        )
        .response[0]["service_request_id"]
    )

    client = GeoReport(root, jurisdiction="500110", output_format=fmt)
    services = client.get_service_list()
    by_code = {s["service_code"]: s for s in services}
    assert by_code["06010"]["group"] == "事件" and by_code["L90001"]["group"] == "文明行为"
    definition = client.get_service_definition("06010")
    assert definition["service_code"] == "06010"

    found = client.get_service_requests(service_request_id=request_id)
    if fmt == "xml":  # xmltodict gives one <request> as a dict, several as a list
        assert found["service_request_id"] == request_id
    else:
        assert [r["service_request_id"] for r in found] == [request_id]
    one = client.get_service_request(request_id)
    assert one["service_request_id"] == request_id and one["description"] == "井盖缺失，夜间危险"
    assert one["status"] == "open" and one["service_name"] == by_code["06010"]["service_name"]


def test_georeport_reads_an_empty_json_result_as_an_empty_list(live):
    """georeport 0.3.1's XML path fails on a valid empty ``<service_requests />`` (xmltodict gives
    None); its JSON path must get a list it can iterate (issue 24)."""
    root, _ = live
    client = GeoReport(root, jurisdiction="500110", output_format="json")
    assert client.get_service_requests() == []
    assert client.get_service_requests(service_request_id="QJ19990101-0001,QJ19990101-0002") == []
