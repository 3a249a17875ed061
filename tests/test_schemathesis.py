"""schemathesis against the app's public endpoints, through its WSGI interface.

Every operation that anyone may call (``@allow(PUBLIC)``) gets generated requests, valid and
invalid; the app must never answer 5xx, and its answers must match /api/v1/openapi.json. The
generation is deterministic (same examples on every run) and bounded, so CI stays fast and
a failure reproduces.
"""

import io
import tempfile

import pytest
import schemathesis
from factories import INSIDE, make_geography, make_rule, make_unit, photo_bytes
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from civicreport import create_app
from civicreport.web import PUBLIC
from civicreport.web.openapi import build_spec

pytestmark = pytest.mark.slow  # hypothesis generates requests for every public endpoint
MAX_EXAMPLES = 40


def _public_schema():
    """The document of an app built for reading its routes only, narrowed to the public operations.

    It is loaded at collection time (schemathesis parametrizes from it); requests go to the
    test app of the ``seeded`` fixture.
    """
    with tempfile.TemporaryDirectory() as media_root:
        spec = build_spec(create_app({"DATABASE_URL": "sqlite://", "STORAGE": "local", "MEDIA_ROOT": media_root}))
    schema = schemathesis.openapi.from_dict(spec)
    schema.config.generation.update(
        modes=["positive", "negative"], max_examples=MAX_EXAMPLES, deterministic=True, database="none"
    )
    return schema.include(lambda ctx: PUBLIC in ctx.operation.definition.raw.get("x-roles", []))


@pytest.fixture
def seeded(app):
    """The test app over a small city: a grid around INSIDE, a routing rule and one report."""
    with app.app_context():
        make_geography()
        make_rule(make_unit("cg-qj", "urban_management"), group="component")
    response = app.test_client().post(
        "/api/v1/reports",
        data={
            "photo": (io.BytesIO(photo_bytes()), "p.jpg"),
            "category": "06010",
            "description": "路边暴露垃圾",
            "lat": str(INSIDE[0]),
            "lon": str(INSIDE[1]),
        },
    )
    assert response.status_code == 201, response.get_json()
    return app


@_public_schema().parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_public_endpoints_never_fail_and_match_the_document(case, seeded):
    case.call_and_validate(app=seeded, checks=[not_a_server_error, response_schema_conformance])


@pytest.mark.parametrize(
    "method, url, kwargs",
    [
        ("get", "/api/v1/reports/QJ%00", {}),
        ("get", "/api/v1/grid/locate?lat=29&lon=106&crs=wgs84%00", {}),
        ("post", "/api/v1/auth/login", {"json": {"login": "a\x00", "password": "x"}}),
        ("post", "/api/v1/reports", {"data": {"description": "\x00", "lat": "29", "lon": "106"}}),
    ],
)
def test_nul_characters_are_a_400_not_a_database_error(client, method, url, kwargs):
    # PostgreSQL cannot store or compare U+0000; schemathesis found the 500 this used to give.
    response = getattr(client, method)(url, **kwargs)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "nul_character"
