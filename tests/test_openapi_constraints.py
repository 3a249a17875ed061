"""The OpenAPI document states what the server enforces, from the server's own definitions:
the X-Device-Id and Idempotency-Key formats, U+0000 refused everywhere, the refusals a schema
cannot express (x-refusals), and the same device-id check for staff as for anyone."""

import io
import re
import uuid

import pytest
from helpers import assert_error, post_report

from civicreport.abuse.blocks import DEVICE_ID
from civicreport.cases.status import STATUSES
from civicreport.cobuilding.status import ORDER_STATES
from civicreport.oversight.status import WHISTLE_STATES
from civicreport.schema_fields import IDEMPOTENCY_KEY
from tests.factories import INSIDE, photo_bytes


def _spec(client):
    return client.get("/api/v1/openapi.json").get_json()


def _resolve(spec, obj):
    while "$ref" in obj:
        section, name = obj["$ref"].split("/")[-2:]
        obj = spec["components"][section][name]
    return obj


def _headers(spec, path, method="post"):
    return {p["name"]: p["schema"] for p in spec["paths"][path][method]["parameters"] if p["in"] == "header"}


SAMPLE_DEVICE_IDS = [
    "",
    "short",
    "a" * 8,
    "a" * 64,
    "a" * 65,
    "a" * 128,
    str(uuid.uuid4()),
    "phone id 1",
    "设备标识12345",
]
SAMPLE_KEYS = ["", "3f1c\xe2\x80\xa6-from-the-phone", str(uuid.uuid4()), "k" * 100, "k" * 101, "with space", "a:b/c"]


@pytest.mark.parametrize(
    "path", ["/api/v1/reports", "/api/v1/media", "/api/v1/orders", "/api/v1/reports/{public_id}/support"]
)
def test_device_id_header_is_the_servers_pattern_and_length(client, path):
    schema = _headers(_spec(client), path)["X-Device-Id"]
    assert schema["maxLength"] == 64  # the document said 128
    for sample in SAMPLE_DEVICE_IDS:
        server_takes = sample == "" or DEVICE_ID.fullmatch(sample) is not None  # empty: as if not sent
        assert (re.fullmatch(schema["pattern"], sample) is not None) == server_takes, sample


def test_idempotency_key_header_is_the_servers_pattern(client):
    spec = _spec(client)
    for path in ("/api/v1/reports", "/api/v1/media", "/api/v1/orders"):
        pattern = _headers(spec, path)["Idempotency-Key"]["pattern"]
        for sample in SAMPLE_KEYS:
            server_takes = sample == "" or IDEMPOTENCY_KEY.fullmatch(sample) is not None
            assert (re.fullmatch(pattern, sample) is not None) == server_takes, (path, sample)


def test_a_key_the_server_refuses_gets_a_message_naming_the_format(client, city_unit):
    # "3f1c…-from-the-phone" as curl sends it: UTF-8 bytes, which reach the app as Latin-1
    response = post_report(
        client,
        [photo_bytes(gps=INSIDE)],
        headers={"Idempotency-Key": "3f1c\xe2\x80\xa6-from-the-phone"},
        category="06010",
    )
    error = assert_error(response, 422, "invalid_idempotency_key")
    assert "ASCII" in error["message"] and "UUID" in error["message"]
    assert error["details"]["pattern"] == IDEMPOTENCY_KEY.pattern
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = post_report(client, [photo_bytes(gps=INSIDE)], headers=key, category="06010")
    again = post_report(client, [photo_bytes(gps=INSIDE)], headers=key, category="06010")
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]


def _upload(client, headers):
    return client.post(
        "/api/v1/media",
        data={"photo": (io.BytesIO(photo_bytes()), "p.jpg")},
        headers=headers,
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("device", ["short", "a" * 65, "phone id 1"])
def test_staff_uploads_pass_the_same_device_id_check(client, supervisor, device):
    assert_error(_upload(client, {**supervisor, "X-Device-Id": device}), 422, "invalid_device_id")
    assert_error(_upload(client, {"X-Device-Id": device}), 422, "invalid_device_id")


def test_staff_and_anonymous_uploads_with_a_good_device_id_are_accepted(client, supervisor):
    good = {"X-Device-Id": str(uuid.uuid4())}
    assert _upload(client, {**supervisor, **good}).status_code == 201
    assert _upload(client, good).status_code == 201


def _string_schemas(spec):
    """Every string schema a client fills in: parameters and request-body properties."""
    for item in spec["paths"].values():
        for operation in item.values():
            for param in operation["parameters"]:
                yield f"{param['in']} {param['name']}", _resolve(spec, param["schema"])
            for media in operation.get("requestBody", {}).get("content", {}).values():
                body = _resolve(spec, media["schema"])
                for name, prop in body.get("properties", {}).items():
                    prop = _resolve(spec, prop)
                    yield f"body {name}", prop.get("items", prop) if prop.get("type") == "array" else prop


def test_no_string_a_client_sends_may_hold_nul_by_the_document(client):
    spec = _spec(client)
    assert "U+0000" in spec["info"]["description"] and "nul_character" in spec["info"]["description"]
    free = [
        where
        for where, schema in _string_schemas(spec)
        if schema.get("type") == "string"
        and not {"enum", "format"} & set(schema)
        and re.fullmatch(schema.get("pattern", ".*"), "a\x00b", re.DOTALL)
    ]
    assert not free, free


def test_refusals_a_schema_cannot_express_are_named(client):
    spec = _spec(client)
    locate = spec["paths"]["/api/v1/grid/locate"]["get"]
    assert locate["x-refusals"] == ["outside_service_area"]
    assert "outside_service_area" in locate["description"] and "422" in locate["responses"]
    submit = spec["paths"]["/api/v1/reports"]["post"]
    assert {"unknown_category", "photo_required", "lat_lon_pair"} <= set(submit["x-refusals"])
    reports = spec["paths"]["/api/v1/public/reports"]["get"]
    bbox = next(p for p in reports["parameters"] if p["name"] == "bbox")["schema"]
    assert re.fullmatch(bbox["pattern"], "106.5,29.0,106.7,29.1") and re.fullmatch(bbox["pattern"], "")
    assert not re.fullmatch(bbox["pattern"], "1,2,3") and "bbox_out_of_range" in reports["x-refusals"]


@pytest.mark.parametrize(
    "path, name, taken, refused",
    [
        ("/api/v1/whistles", "status", ",".join(WHISTLE_STATES), "open,nope"),
        ("/api/v1/orders", "status", ",".join(ORDER_STATES), "nope"),
        ("/api/v1/queue", "status", ",".join(STATUSES), "nope"),
        ("/api/v1/rankings/communities", "month", "2026-01", "0000-00"),
        ("/api/v1/queue", "bbox", "", "1,2,3"),
        ("/api/v1/partnerships", "as_of", "2099-12-31", "2100-01-01"),
        ("/api/v1/matters/overdue", "as_of", "2000-01-01", "1999-12-31"),
        ("/api/v1/meetings", "month", "2099-12", "2100-01"),
        # the year as written (UTC 9000-01-01 07:59 here) is what a pattern can state
        ("/api/v1/operations", "from", "8999-12-31T23:59:00-08:00", "0999-12-31T23:59:00+08:00"),
    ],
)
def test_staff_filters_document_what_the_server_takes(client, supervisor, path, name, taken, refused):
    # schemathesis over the staff reads: any status string, month=0000-00, bbox= and years outside
    # the server's ranges were schema-valid yet refused (each status from its one vocabulary now)
    schema = next(p for p in _spec(client)["paths"][path]["get"]["parameters"] if p["name"] == name)["schema"]
    assert re.search(schema["pattern"], taken) and not re.search(schema["pattern"], refused)  # JSON Schema's way
    assert client.get(path, query_string={name: taken}, headers=supervisor).status_code == 200
    assert_error(client.get(path, query_string={name: refused}, headers=supervisor), 422, "validation_failed")


def test_request_schemas_say_null_only_where_the_server_takes_it(client):
    spec = _spec(client)
    lookup = _resolve(
        spec, spec["paths"]["/api/v1/receipts/lookup"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    )
    assert not lookup["properties"]["receipt_code"].get("nullable")  # null was refused with 422
    assert lookup["oneOf"]  # receipts, or id with receipt_code
