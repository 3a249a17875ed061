"""The API's own description: the OpenAPI document and a readable page rendered from it."""

from flask import Blueprint, current_app, render_template

from civicreport.web import PUBLIC, allow
from civicreport.web.openapi import build_spec, doc, page_sections

bp = Blueprint("docs", __name__, url_prefix="/api/v1")

_CACHE = "civicreport.web.openapi"


def _spec():
    """Built once per app, on first use: every blueprint is registered by then."""
    if _CACHE not in current_app.extensions:
        current_app.extensions[_CACHE] = build_spec(current_app)
    return current_app.extensions[_CACHE]


@bp.get("/openapi.json")
@allow(PUBLIC)
@doc("本接口的 OpenAPI 3 文档", tag="docs")
def openapi_json():
    return _spec()


@bp.get("/docs")
@allow(PUBLIC)
@doc("接口文档页面（由 OpenAPI 文档生成）", media=("text/html",))
def docs_page():
    spec = _spec()
    return render_template("api_docs.html", spec=spec, sections=page_sections(spec))
