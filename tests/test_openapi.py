"""The API document: valid OpenAPI 3, every /api/v1 route in it, security and errors as the views declare."""

import re

from flask import Blueprint, Flask
from openapi_spec_validator import validate

from civicreport.reference.schemas import LocateQuerySchema, LocateSchema
from civicreport.web import PUBLIC, allow
from civicreport.web.openapi import api_rules, build_spec, doc, documented_operations


def _spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _resolve(spec, obj):
    while "$ref" in obj:
        section, name = obj["$ref"].split("/")[-2:]
        obj = spec["components"][section][name]
    return obj


def test_document_is_valid_openapi_3(client):
    spec = _spec(client)
    assert spec["openapi"].startswith("3.")
    validate(spec)


def test_every_api_route_and_method_is_documented(app):
    documented = documented_operations(build_spec(app))
    missing = [
        f"  {method} {path}  (view {endpoint})"
        for method, path, endpoint in api_rules(app)
        if (method, path) not in documented
    ]
    assert not missing, (
        "These /api/v1 endpoints are not in /api/v1/openapi.json. Put @doc(...) under @allow on each "
        "view (see README, “API documentation”):\n" + "\n".join(missing)
    )


def test_an_undocumented_view_is_named_and_a_documented_one_described():
    bp = Blueprint("extra", __name__, url_prefix="/api/v1")

    @bp.get("/things/<int:thing_id>")
    @allow(PUBLIC)
    @doc("一个东西", query=LocateQuerySchema, response=LocateSchema)
    def thing(thing_id):
        return {}

    @bp.delete("/things/<int:thing_id>")
    @allow("admin")
    def forget(thing_id):
        return {}

    app = Flask(__name__)
    app.register_blueprint(bp)
    spec = build_spec(app)
    documented = documented_operations(spec)
    missing = [(m, p, e) for m, p, e in api_rules(app) if (m, p) not in documented]
    assert missing == [("DELETE", "/api/v1/things/{thing_id}", "extra.forget")]
    operation = spec["paths"]["/api/v1/things/{thing_id}"]["get"]
    assert operation["parameters"][0] == {
        "in": "path",
        "name": "thing_id",
        "required": True,
        "description": "thing_id",
        "schema": {"type": "integer"},
    }
    assert {p["name"] for p in operation["parameters"] if p["in"] == "query"} == {"lat", "lon", "crs"}
    assert {"200", "404", "422"} <= set(operation["responses"])
    validate(spec)


def test_security_follows_allow(client):
    spec = _spec(client)
    queue = spec["paths"]["/api/v1/queue"]["get"]
    assert queue["security"] == [{"bearer": []}]
    assert {"401", "403"} <= set(queue["responses"])
    assert "supervisor" in queue["x-roles"]
    categories = spec["paths"]["/api/v1/categories"]["get"]
    assert {} in categories["security"]
    assert "403" not in categories["responses"]
    transition = spec["paths"]["/api/v1/reports/{public_id}/transitions"]["post"]
    assert {"receipt": []} in transition["security"] and {} not in transition["security"]
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearer"]["description"],
    }


def test_every_error_response_is_the_one_error_shape(client):
    spec = _spec(client)
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert set(_resolve(spec, error["properties"]["error"])["properties"]) == {"code", "message", "details"}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = _resolve(spec, response)["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)
    assert "Retry-After" in spec["components"]["responses"]["TooManyRequests"]["headers"]


def test_uploads_are_multipart_and_other_bodies_json(client):
    spec = _spec(client)
    media = spec["paths"]["/api/v1/media"]["post"]
    form = media["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["photo"] == {"type": "string", "format": "binary"}
    assert form["required"] == ["photo"]
    assert {"400", "413", "422"} <= set(media["responses"])
    assert media["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/UploadedPhoto")
    reports = spec["paths"]["/api/v1/reports"]["post"]["requestBody"]["content"]
    assert set(reports) == {"application/json", "multipart/form-data"}
    assert reports["multipart/form-data"]["schema"]["properties"]["photo"]["type"] == "array"
    assert {"category", "lat", "lon", "crs", "description", "contact"} <= set(
        reports["multipart/form-data"]["schema"]["properties"]
    )
    login = spec["paths"]["/api/v1/auth/login"]["post"]["requestBody"]["content"]
    assert set(login) == {"application/json"}
    assert _resolve(spec, login["application/json"]["schema"])["required"] == ["login", "password"]
    headers = [p["name"] for p in spec["paths"]["/api/v1/reports"]["post"]["parameters"] if p["in"] == "header"]
    assert headers == ["Idempotency-Key", "X-Device-Id"]


def test_query_parameters_come_from_the_schemas(client):
    spec = _spec(client)
    locate = {p["name"]: p for p in spec["paths"]["/api/v1/grid/locate"]["get"]["parameters"]}
    assert locate["lat"]["required"] and locate["lon"]["required"] and not locate["crs"]["required"]
    assert locate["crs"]["schema"]["enum"] == ["wgs84", "gcj02", "bd09"]
    stats = {p["name"] for p in spec["paths"]["/api/v1/stats/areas"]["get"]["parameters"]}
    assert stats == {"month", "from", "to", "format", "level"}
    csv = spec["paths"]["/api/v1/stats/units"]["get"]["responses"]["200"]["content"]
    assert set(csv) == {"application/json", "text/csv"}


def test_docs_page_renders_the_document_without_outside_assets(client):
    spec = _spec(client)
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for heading in ("接口文档", "认证", "错误格式", "数据结构"):
        assert heading in page
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            assert f'id="{operation["operationId"]}"' in page, (method, path)
            assert path in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
