"""Odd but well-formed query parameters never give a 5xx, and every 4xx is in the error shape.

hypothesis generates values for the GET endpoints' parameters: free text, huge and special
numbers, date-times with and without offsets at the ends of the calendar, months and days
of any year, and cursors of any JSON. Each known 500 is pinned as an explicit example.
The generation is derandomised, so a run is repeatable and CI stays bounded.
"""

import base64
import json
from datetime import timedelta, timezone

import pytest
from factories import make_user
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
_OFFSETS = st.builds(
    timezone, st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59))
)
_NUMBERS = st.one_of(
    st.integers().map(str),
    st.integers(min_value=10**18).map(str),
    st.floats().map(repr),
    st.sampled_from(["1e309", "-1e309", "nan", "inf", "-inf", "NaN", "1e-400", "0x10"]),
)
_TIMES = st.one_of(
    st.datetimes(timezones=_OFFSETS).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),  # naive
    st.dates().map(lambda d: d.isoformat()),
    st.builds("{:04d}-{:02d}".format, st.integers(0, 99_999), st.integers(0, 13)),  # months
)


def _cursor(value):
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


_JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _TEXT, _TIMES)
_CURSORS = st.one_of(
    st.lists(_JSON_SCALARS, max_size=5).map(_cursor),
    st.tuples(
        st.sampled_from(["created", "deadline", "priority"]), st.integers(-1, 3), st.lists(_JSON_SCALARS, max_size=3)
    ).map(lambda t: _cursor([t[0], t[1], *t[2]])),
    _TEXT,
)
VALUES = st.one_of(_TEXT, _NUMBERS, _TIMES)


def params(names, **special):
    """A query: some of ``names`` with any value, or the value strategies in ``special``."""
    return st.fixed_dictionaries({}, optional={name: special.get(name, VALUES) for name in names})


def assert_client_error_shape(response):
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code < 400:
        return
    body = response.get_json()
    if isinstance(body, list):  # Open311's own error list
        assert body and all(item["code"] == response.status_code and item["description"] for item in body)
        return
    error = body["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)


@pytest.fixture
def staff(ctx):
    return {"supervisor": make_user("fuzz-sup", "supervisor")[1], "admin": make_user("fuzz-admin", "admin")[1]}


QUEUE = (
    "status",
    "category",
    "group",
    "grid",
    "community",
    "street",
    "unit",
    "overdue",
    "warning",
    "evidence_flag",
    "bbox",
    "since",
    "until",
    "q",
    "sort",
    "limit",
    "cursor",
    "format",
)


@FUZZ
@given(query=params(QUEUE, cursor=_CURSORS))
@example(query={"cursor": _cursor(["created", 0, "2026-11-01T08:00:00", 1])})  # naive time
@example(query={"cursor": _cursor(["created", 0, "2026-11-01T08:00:00+08:00", 10**30])})
@example(query={"cursor": _cursor(["priority", 0, 10**30, "2026-11-01T08:00:00+08:00", 1])})
@example(query={"cursor": _cursor(["created", 0, 5, "2026-11-01T08:00:00+08:00"])})  # swapped
@example(query={"cursor": _cursor(["deadline", True, 1])})
@example(query={"cursor": "!!notbase64~~"})
@example(query={"since": "9999-12-31T23:59:59+14:00"})
@example(query={"since": "9999-12-31T23:59:59-14:00"})
@example(query={"until": "0001-01-01T00:00:00+14:00"})
@example(query={"until": "0001-01-01"})
@example(query={"bbox": "nan,nan,inf,inf"})
@example(query={"limit": str(10**30)})
def test_queue_parameters(client, staff, query):
    assert_client_error_shape(client.get("/api/v1/queue", query_string=query, headers=staff["supervisor"]))


STATS = ("month", "from", "to", "format", "level")


@FUZZ
@given(path=st.sampled_from(["units", "areas", "monitors"]), query=params(STATS))
@example(path="units", query={"month": "10000-01"})
@example(path="units", query={"month": "0000-12"})
@example(path="units", query={"month": "9999-12"})
@example(path="areas", query={"month": "0001-01"})
@example(path="monitors", query={"from": "0001-01-01", "to": "0001-02-01"})
@example(path="units", query={"from": "9999-12-01", "to": "9999-12-31"})
@example(path="units", query={"from": "2026-01-01", "to": "9999-12-31"})
def test_stats_parameters(client, staff, path, query):
    assert_client_error_shape(client.get(f"/api/v1/stats/{path}", query_string=query, headers=staff["supervisor"]))


OPEN311 = ("service_request_id", "service_code", "status", "start_date", "end_date", "jurisdiction_id")


@FUZZ
@given(query=params(OPEN311))
@example(query={"start_date": "0001-01-01"})
@example(query={"end_date": "0001-01-01T00:00:00+00:00"})
@example(query={"start_date": "9999-12-31T23:59:59+14:00"})
@example(query={"end_date": "9999-12-31T23:59:59-14:00"})
@example(query={"start_date": "9999-12-31"})
@example(query={"service_request_id": "1e309,nan"})
def test_open311_request_parameters(client, query):
    assert_client_error_shape(client.get("/open311/v2/requests.json", query_string=query))


@FUZZ
@given(
    path=st.sampled_from(["/api/v1/grid/locate", "/api/v1/duplicates"]),
    query=params(("lat", "lon", "crs", "category"), lat=_NUMBERS, lon=_NUMBERS),
)
@example(path="/api/v1/grid/locate", query={"lat": "1e309", "lon": "106.6"})
@example(path="/api/v1/duplicates", query={"lat": "nan", "lon": "inf"})
@example(path="/api/v1/grid/locate", query={"lat": "1e308", "lon": "-1e308", "crs": "bd09"})
@example(path="/api/v1/duplicates", query={"lat": "29.03", "lon": "106.64", "crs": "gcj02", "category": "0" * 8})
def test_point_parameters(client, path, query):
    assert_client_error_shape(client.get(path, query_string=query))


@FUZZ
@given(
    path=st.sampled_from(["/api/v1/categories/suggest", "/api/v1/admin/blocks", "/open311/v2/services.json"]),
    query=params(("text", "kind", "jurisdiction_id")),
)
def test_other_query_parameters(client, staff, path, query):
    assert_client_error_shape(client.get(path, query_string=query, headers=staff["admin"]))
