"""schemathesis against the app, through its WSGI interface, with every check (the CLI's ``--checks all``).

Every operation that anyone may call (``@allow(PUBLIC)``) gets generated requests, valid and
invalid, and so does every GET that needs a login, with an admin's token (every staff read
admits an admin); the app must never answer 5xx, and its answers must match
/api/v1/openapi.json. The generation is deterministic (same examples on every run) and
bounded, so CI stays fast and a failure reproduces.
"""

import io
import tempfile

import pytest
import schemathesis
from factories import INSIDE, make_geography, make_rule, make_unit, make_user, photo_bytes
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks

from civicreport import create_app
from civicreport.web import PUBLIC
from civicreport.web.openapi import build_spec

pytestmark = pytest.mark.slow  # hypothesis generates requests for every public endpoint and staff read
MAX_EXAMPLES = 100  # per operation
STAFF_EXAMPLES = 60  # per staff read: 44 of them, kept within two minutes
load_all_checks()


def refused_only_as_documented(ctx, response, case):
    """A 422 for schema-valid input must carry an error code that the operation's document
    names in ``x-refusals`` (what a schema cannot say: an unknown category, a point outside
    the service area); anything else means the document left a constraint out."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code != 422:
        return None
    code = response.json()["error"]["code"]
    named = case.operation.definition.raw.get("x-refusals", [])
    assert code in named, (
        f"schema-valid input refused with {code} {response.json()['error']['details']}; named: {named}"
    )
    return None


# The CLI's --checks all, no failure class left out; positive_data_acceptance takes a 422 only
# when the check above finds its code named by the document.
ALL_CHECKS = [*CHECKS.get_all(), refused_only_as_documented]


def _schema(max_examples, wanted):
    """The document of an app built for reading its routes only, narrowed to ``wanted`` operations.

    It is loaded at collection time (schemathesis parametrizes from it); requests go to the
    test app of the ``seeded`` fixture.
    """
    with tempfile.TemporaryDirectory() as media_root:
        spec = build_spec(create_app({"DATABASE_URL": "sqlite://", "STORAGE": "local", "MEDIA_ROOT": media_root}))
    schema = schemathesis.openapi.from_dict(spec)
    schema.config.output.sanitization.update(enabled=False)
    schema.config.generation.update(
        modes=["positive", "negative"], max_examples=max_examples, deterministic=True, database="none"
    )
    acceptance = schema.config.checks.positive_data_acceptance
    acceptance.expected_statuses = [*acceptance.expected_statuses, "422"]
    return schema.include(lambda ctx: wanted(ctx.operation.method, ctx.operation.definition.raw.get("x-roles", [])))


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


@_schema(MAX_EXAMPLES, lambda method, roles: PUBLIC in roles).parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_public_endpoints_never_fail_and_match_the_document(case, seeded):
    case.call_and_validate(app=seeded, checks=ALL_CHECKS)


@pytest.fixture
def admin(seeded):
    """The bearer header of an admin, whom every staff read admits."""
    with seeded.app_context():
        return make_user("admin", "admin")[1]


@_schema(STAFF_EXAMPLES, lambda method, roles: method.upper() == "GET" and PUBLIC not in roles).parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_staff_reads_never_fail_and_match_the_document(case, seeded, admin):
    # ignored_auth probes each operation without the token through the schema's own transport
    case.operation.schema.app = seeded
    case.call_and_validate(app=seeded, checks=ALL_CHECKS, headers=admin)


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
