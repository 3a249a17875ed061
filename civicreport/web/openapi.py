"""The OpenAPI 3 document of ``/api/v1``, built from ``@doc`` next to each view and the marshmallow schemas.

Documenting an endpoint is one decorator under ``@allow``::

    @bp.get("/grid/locate")
    @allow(PUBLIC)
    @doc("按坐标查询网格与责任单位", query=LocateQuerySchema, response=LocateSchema)
    def grid_locate(): ...

The rest is derived: security (bearer token; 401/403) from ``@allow``, path parameters
from the URL rule, 404 from a path parameter, 422 from a query or body schema, 413 from file
uploads, 400 everywhere, the tag from the first path segment. A view without
``@doc`` is left out of the document; tests/test_openapi.py names every such route.
"""

import re
from copy import copy
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from marshmallow import RAISE, Schema, fields, missing

from civicreport.abuse.blocks import DEVICE_ID, DEVICE_ID_LENGTH
from civicreport.schema_fields import IDEMPOTENCY_KEY as IDEMPOTENCY_KEY_PATTERN
from civicreport.schema_fields import IDEMPOTENCY_KEY_FORMAT
from civicreport.web import PER_ACTION, PUBLIC, ROW_ID
from civicreport.web.error_schema import ErrorSchema

PREFIX = "/api/v1"
ONE, MANY = "one", "many"  # how many files a multipart field takes

ERRORS = {
    400: ("BadRequest", "请求格式错误（JSON 无法解析、缺少上传字段、内容类型不对、含空字符）"),
    401: ("Unauthorized", "需要登录，或令牌无效、已过期"),
    403: ("Forbidden", "当前角色无权执行此操作"),
    404: ("NotFound", "资源不存在"),
    409: ("Conflict", "案件当前状态不允许此操作；details 给出当前状态和允许的操作"),
    413: ("PayloadTooLarge", "上传内容过大；details 给出上限"),
    422: ("ValidationFailed", "数据校验失败；details.fields 逐字段说明"),
    429: ("TooManyRequests", "请求过于频繁，请按 Retry-After 秒数后重试"),
    503: ("ServiceUnavailable", "依赖服务（数据库、存储）不可用"),
}

TAGS = {
    "health": "运行状态",
    "categories": "参考数据：问题类别",
    "grid": "参考数据：网格定位",
    "media": "上报：照片",
    "reports": "案件：上报、查看与流转",
    "duplicates": "上报：重复提示",
    "queue": "受理队列",
    "auth": "登录与令牌",
    "units": "处置单位",
    "stats": "统计考评",
    "receipts": "我的上报（凭回执）",
    "admin": "系统管理：禁止名单",
    "cobuild": "社区文明共建：共建单位、区级领导联系点、志愿服务队",
    "meetings": "社区文明共建：联席会议与实事清单",
    "declarations": "社区文明共建：月度任务（月初安排）、月底申报与红黄牌",
    "orders": "社区文明共建：群众点单（点单、派单、接单、评单）",
    "rankings": "社区文明共建：社区月度排名（红灰旗）与季度考核",
    "whistles": "督查督办：吹哨报到（召集单位、报到、评议）",
    "leader": "督查督办：领导督办总览",
    "listed-problems": "督查督办：挂牌整改（挂牌、进展、摘牌、公示）",
    "points": "督查督办：点位台账、检查标准与暗访检查",
    "operations": "督查督办：联合整治行动（计划、结果、日历与开展节奏）",
    "exposure": "曝光台与光荣榜（预览、发布、撤下、公开列表与月度数）",
    "public-map": "公开地图与片区提醒（公开案件 GeoJSON、订阅与一键退订）",
    "docs": "接口文档",
}

# Descriptions of path parameters by name; ``@doc(path=...)`` overrides them per view.
PATH_PARAMS = {"public_id": "案件编号，如 QJ20261123-0042", "code": "单位编码"}
IDEMPOTENCY_KEY = {
    "Idempotency-Key": f"手机端生成的唯一键（{IDEMPOTENCY_KEY_FORMAT}）；网络中断后用同一个键重试，只会创建一次"
}
DEVICE_ID_HEADER = {
    "X-Device-Id": f"本机安装时生成一次的设备标识（{DEVICE_ID_LENGTH[0]}–{DEVICE_ID_LENGTH[1]} 位字母、数字或 ._:-，"
    "如一个 UUID），用于按设备限流和禁止名单；格式不对为 422 invalid_device_id，登录用户也一样"
}
# A header's schema is the server's own check (schema_fields.idempotency_key, rate_limits.device_id).
# An empty value is taken as no header at all, hence the optional group.
HEADER_SCHEMAS = {
    "Idempotency-Key": {"type": "string", "pattern": f"^({IDEMPOTENCY_KEY_PATTERN.pattern})?$"},
    "X-Device-Id": {"type": "string", "pattern": f"^({DEVICE_ID.pattern})?$", "maxLength": DEVICE_ID_LENGTH[1]},
}
# Every string the server reads is refused with 400 nul_character when it holds U+0000 (web.guards).
NO_NUL = "^[^\\u0000]*$"

# What well-formed input may still be refused for, by the data (``@doc(refusals=refused(...))``).
REFUSALS = {
    "outside_service_area": "坐标须落在本系统服务范围（已导入的网格）内；details 给出最近的社区与距离",
    "unknown_category": "category 须为 GET /api/v1/categories 列出的启用类别",
    "unknown_community": "community 须为已导入的社区编码",
    "unknown_media": "media_ids 须为 POST /api/v1/media 返回且未用过的照片 id",
    "photo_required": "至少一张照片：multipart 的 photo，或 JSON 的 media_ids（文明点赞以外）",
    "unsupported_image_type": "照片须为 JPEG、PNG、WebP 或 HEIC（按内容识别，不看文件名和 Content-Type）",
    "image_unreadable": "照片须能完整解码（损坏或截断的文件不行）",
    "image_too_many_pixels": "照片像素数不超过 MAX_PHOTO_PIXELS 设置（默认 6400 万）",
    "invalid_photo": "照片须是可处理的图片",
    "too_many_photos": "照片数不超过 MAX_PHOTOS_PER_REPORT 设置（默认 6）",
    "idempotency_key_reused": "同一 Idempotency-Key 只能用于同样的请求",
    "duplicate_media_ids": "media_ids 不能重复",
    "praise_has_no_category": "文明点赞（kind=praise）不带 category",
    "lat_lon_pair": "lat 与 lon 须同时提供（JSON 中同为 null 等于不带）",
    "notice_contact_required": "notify 为 true 时 contact 须为手机号或电子邮箱",
    "location_required": "须带 lat/lon，或照片 EXIF 中有位置，或（点单）community",
    "bbox_out_of_range": "bbox 须 −180 ≤ 最小经度 ≤ 最大经度 ≤ 180，−90 ≤ 最小纬度 ≤ 最大纬度 ≤ 90",
    "invalid_cursor": "cursor 须为上一页返回的 next_cursor，且与本次的 sort 相同",
}


def refused(*codes):
    """``{code: text}`` of REFUSALS for ``@doc(refusals=...)``."""
    return {code: REFUSALS[code] for code in codes}


_RULE_ARG = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
_CONVERTER_TYPES = {"int": "integer", "float": "number", ROW_ID: "integer"}


class _Converter(OpenAPIConverter):
    """Closed objects only for schemas that reject unknown input on purpose (``Meta.unknown``);
    answers may grow fields without breaking clients. A schema's ``OPENAPI_RULES`` (JSON
    Schema keywords) join its object: the dependencies its ``validates_schema`` enforces."""

    def schema2jsonschema(self, schema):
        jsonschema = super().schema2jsonschema(schema)
        if not hasattr(getattr(schema, "Meta", None), "unknown"):
            jsonschema.pop("additionalProperties", None)
        # Rules across fields that a schema states for the document (e.g. ``anyOf`` of required sets)
        return jsonschema | getattr(schema, "OPENAPI_RULES", {})


class _Plugin(MarshmallowPlugin):
    Converter = _Converter


class _StrictForm(Schema):
    class Meta:
        unknown = RAISE


class Upload(fields.Field):
    """A file part of a multipart body (documentation only: views read ``request.files``)."""


@dataclass(frozen=True)
class Operation:
    """What ``@doc`` records about a view; see ``doc`` for the fields."""

    summary: str
    description: str | None = None
    tag: str | None = None
    query: object = None
    body: object = None
    form: object = None
    files: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    path: dict = field(default_factory=dict)
    response: object = None
    status: int = 200
    media: tuple = ("application/json",)
    errors: tuple = ()
    refusals: dict = field(default_factory=dict)
    receipt: bool = False


def doc(summary, **details):
    """Describe a view for the OpenAPI document; place it under ``@allow``.

    ``description``: more Chinese text for API users (docstrings stay for developers).
    ``query``: schema of the query string. ``body``: schema of a JSON body. ``form`` and
    ``files`` (``{"photo": ONE | MANY}``): a multipart body. ``headers``/``path``: name →
    description. ``response``/``status``/``media``: the success answer. ``errors``: further
    statuses (e.g. ``(409, 429)``). ``refusals``: error code → Chinese text for each 422 that
    well-formed input still gets from the data (an unknown category, a point outside the
    service area): the document cannot express those as a schema, so it names them
    (``x-refusals`` and the description). ``receipt``: the anonymous reporter's X-Receipt-Token is
    accepted. ``tag``: the group on the docs page (default: the first path segment).
    Raises TypeError on an unknown keyword, at import time.
    """
    operation = Operation(summary, **details)

    def mark(view):
        view.openapi = operation
        return view

    return mark


def build_spec(app):
    """The OpenAPI document (a dict) for every documented ``/api/v1`` rule of ``app``."""
    plugin = _Plugin(schema_name_resolver=_schema_name)
    spec = APISpec(
        title="civicreport API",
        version=_version(),
        openapi_version="3.0.3",
        plugins=[plugin],
        info={
            "description": '随手拍文明城市上报接口。错误统一为 {"error": {"code", "message", "details"}}。'
            "任何参数、请求头或请求体中的字符串含空字符（U+0000）都以 400 nul_character 拒绝。"
        },
        servers=[{"url": "/"}],
    )
    _components(spec, plugin)
    plugin.converter.request_schemas = _request_schema_classes(app)
    used_tags = set()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        view = app.view_functions[rule.endpoint]
        if not _in_scope(rule) or not isinstance(getattr(view, "openapi", None), Operation):
            continue
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        operations = {m.lower(): _operation(rule, view, m, len(methods) > 1) for m in methods}
        used_tags.update(op["tags"][0] for op in operations.values())
        spec.path(path=openapi_path(rule), operations=operations)
    for tag in sorted(used_tags, key=_tag_order):
        spec.tag({"name": tag, "description": TAGS.get(tag, tag)})
    return spec.to_dict()


def _request_schema_classes(app):
    """The schema classes that read input (query, JSON or form), nested ones included."""
    found = set()
    pending = [
        _schema_class(schema)
        for view in app.view_functions.values()
        if isinstance(getattr(view, "openapi", None), Operation)
        for schema in (view.openapi.query, view.openapi.body, view.openapi.form)
        if schema is not None
    ]
    while pending:
        cls = pending.pop()
        if cls in found:
            continue
        found.add(cls)
        for declared in cls._declared_fields.values():
            inner = getattr(declared, "inner", declared)
            if isinstance(inner, fields.Nested):
                pending.append(_schema_class(inner.nested))
    return found


def documented_operations(spec):
    """``{(METHOD, path)}`` present in a built document."""
    return {(method.upper(), path) for path, item in spec["paths"].items() for method in item}


def api_rules(app):
    """``[(METHOD, openapi path, endpoint)]`` for every rule under ``/api/v1``."""
    return [
        (method, openapi_path(rule), rule.endpoint)
        for rule in app.url_map.iter_rules()
        if _in_scope(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]


def openapi_path(rule):
    """``/reports/<public_id>`` → ``/reports/{public_id}``."""
    return _RULE_ARG.sub(lambda m: "{" + m.group(2) + "}", rule.rule)


def _in_scope(rule):
    return rule.rule == PREFIX or rule.rule.startswith(PREFIX + "/")


def _version():
    try:
        return version("civicreport")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0"


def _schema_class(schema):
    cls = resolve_schema_cls(schema)
    return cls[0] if isinstance(cls, list) else cls


def _schema_name(schema):
    """Component name: the class name without ``Schema``; None (inline) for generated schemas."""
    cls = _schema_class(schema)
    if cls.__name__ == "GeneratedSchema":
        return None
    return cls.__name__.removesuffix("Schema") or cls.__name__


def _components(spec, plugin):
    plugin.map_to_openapi_type(Upload, "string", "binary")
    plugin.converter.add_attribute_function(_dumped_may_be_null)
    plugin.converter.add_attribute_function(_comma_list)
    plugin.converter.add_attribute_function(_no_nul)
    spec.components.security_scheme(
        "bearer",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "POST /api/v1/auth/login 或 flask create-token 得到的令牌",
        },
    )
    spec.components.security_scheme(
        "receipt",
        {
            "type": "apiKey",
            "in": "header",
            "name": "X-Receipt-Token",
            "description": "匿名上报时返回的回执令牌，只能查看和评价自己的那件上报",
        },
    )
    spec.components.schema("Error", schema=ErrorSchema)
    for status, (name, text) in ERRORS.items():
        response = {"description": text, "content": {"application/json": {"schema": "Error"}}}
        if status == 429:
            response["headers"] = {"Retry-After": {"description": "多少秒后可重试", "schema": {"type": "integer"}}}
        spec.components.response(name, response)


def _dumped_may_be_null(converter, field, ret, **kwargs):
    """marshmallow dumps a None attribute as null whatever the field says, so an optional
    field without a non-null load default may be null (``allow_none`` fields apispec marks itself).
    Not in what a client sends: loading refuses null there."""
    if (
        _reads_input(converter, field)
        or field.allow_none
        or field.required
        or field.load_default not in (missing, None)
    ):
        return {}
    if not isinstance(field.parent, Schema):  # items of a list, values of a dict
        return {}
    if "$ref" in ret:
        return {"anyOf": [{"type": "object", "nullable": True}, {"$ref": ret.pop("$ref")}]}
    return {"nullable": True}


def _reads_input(converter, field):
    parent = field.parent
    while isinstance(parent, fields.Field):  # the items of a list
        parent = parent.parent
    cls = type(parent)
    return cls.__name__ == "GeneratedSchema" or cls in getattr(converter, "request_schemas", ())


def _no_nul(converter, field, ret, **kwargs):
    """A free-text string read from a client says it takes no U+0000 (web.guards answers 400)."""
    if ret.get("type") != "string" or {"enum", "pattern", "format"} & set(ret) or not _reads_input(converter, field):
        return {}
    return {"pattern": NO_NUL}


def _comma_list(converter, field, ret, **kwargs):
    """``a,b`` or a repeated parameter: documented as a string (its empty-tuple default is no string)."""
    from civicreport.schema_fields import CommaList

    if not isinstance(field, CommaList):
        return {}
    for key in ("default", "items", "minItems", "maxItems"):
        ret.pop(key, None)
    pattern = ret.pop("pattern", NO_NUL)  # a field's own (metadata) pattern stays
    return {
        "type": "string",
        "pattern": pattern,
        "description": f"逗号分隔，也可重复此参数；最多 {field.bounds.max} 项",
    }


def _operation(rule, view, method, shared_view):
    doc_ = view.openapi
    roles = tuple(getattr(view, "allowed_roles", ()))
    errors = set(doc_.errors) | _derived_errors(rule, doc_, roles)
    operation = {
        "operationId": f"{rule.endpoint}.{method.lower()}" if shared_view else rule.endpoint,
        "summary": doc_.summary,
        "tags": [doc_.tag or _tag(rule)],
        "parameters": _parameters(rule, doc_),
        "responses": {str(doc_.status): _success(doc_)} | {str(s): ERRORS[s][0] for s in sorted(errors)},
        "security": _security(roles, doc_.receipt),
        "x-roles": list(roles),
    }
    description = _description(doc_)
    if description:
        operation["description"] = description
    if doc_.refusals:
        operation["x-refusals"] = sorted(doc_.refusals)
    body = _request_body(doc_)
    if body:
        operation["requestBody"] = body
    return operation


def _description(doc_):
    refusals = "；".join(f"{code}：{text}" for code, text in doc_.refusals.items())
    parts = [doc_.description or "", f"格式正确但数据不符时为 422：{refusals}。" if refusals else ""]
    return "\n\n".join(p for p in parts if p)


def _derived_errors(rule, doc_, roles):
    errors = {400}  # malformed input anywhere: a broken body, a NUL character, a bad header
    if rule.arguments:
        errors.add(404)
    if doc_.body is not None or doc_.form is not None or doc_.files:
        errors.add(422)
    if doc_.query is not None or doc_.headers or doc_.refusals:
        errors.add(422)
    if doc_.files:
        errors.add(413)
    errors.add(401)  # a token that is sent must be valid, even where none is required
    if PUBLIC not in roles:
        errors.add(403)
    return errors


def _tag_order(tag):
    known = list(TAGS)
    return (known.index(tag) if tag in known else len(known), tag)


def _tag(rule):
    rest = rule.rule[len(PREFIX) :].strip("/")
    return rest.split("/")[0] or "api"


def _parameters(rule, doc_):
    params = []
    for converter, name in _RULE_ARG.findall(rule.rule):
        params.append(
            {
                "in": "path",
                "name": name,
                "required": True,
                "description": doc_.path.get(name, PATH_PARAMS.get(name, name)),
                "schema": _path_schema(converter),
            }
        )
    if doc_.query is not None:
        params.append({"in": "query", "schema": doc_.query})
    for name, text in doc_.headers.items():
        params.append(
            {
                "in": "header",
                "name": name,
                "required": False,
                "description": text,
                "schema": HEADER_SCHEMAS.get(name, {"type": "string", "pattern": NO_NUL}),
            }
        )
    return params


def _path_schema(converter):
    kind = _CONVERTER_TYPES.get(converter, "string")
    return {"type": kind, "pattern": NO_NUL} if kind == "string" else {"type": kind}


def _request_body(doc_):
    content = {}
    if doc_.body is not None:
        content["application/json"] = {"schema": doc_.body}
    if doc_.form is not None or doc_.files:
        content["multipart/form-data"] = {"schema": _multipart(doc_)}
    return {"required": True, "content": content} if content else None


def _multipart(doc_):
    """The multipart schema: the form schema's fields plus one binary part (or a list) per file field.

    A form part is never null (a field left out is the form's None); other parts are refused."""
    parts = {}
    for name, declared in ({} if doc_.form is None else _schema_class(doc_.form)._declared_fields).items():
        parts[name] = copy(declared)
        parts[name].allow_none = False
    for name, count in doc_.files.items():
        parts[name] = Upload(required=True) if count == ONE else fields.List(Upload(), load_default=list)
    return _StrictForm.from_dict(parts)


def _success(doc_):
    if doc_.status == 204:
        return {"description": "成功，无内容"}
    content = {}
    for media in doc_.media:
        if media.endswith("json"):
            content[media] = {"schema": doc_.response if doc_.response is not None else {"type": "object"}}
        else:
            content[media] = {"schema": {"type": "string"}}
    return {"description": "成功", "content": content}


def _security(roles, receipt):
    if PUBLIC in roles:
        schemes = [{}, {"bearer": []}]
    elif PER_ACTION in roles:
        schemes = [{"bearer": []}]
    else:
        return [{"bearer": []}]
    return schemes + ([{"receipt": []}] if receipt else [])


AUTH_LABELS = {PUBLIC: "无需登录（携带令牌时按登录用户处理）", PER_ACTION: "按流转动作校验角色（令牌或回执令牌）"}


def page_sections(spec):
    """The document rearranged for the docs page: operations by tag, then the named schemas."""
    tags = {t["name"]: t["description"] for t in spec.get("tags", [])}
    sections = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            sections.setdefault(op["tags"][0], []).append(_operation_view(spec, path, method, op))
    return {
        "tags": [(tag, tags.get(tag, tag), sections[tag]) for tag in tags if tag in sections],
        "schemas": [(name, _field_rows(spec, schema)) for name, schema in spec["components"]["schemas"].items()],
        "errors": [
            (status, spec["components"]["responses"][name]["description"]) for status, (name, _) in ERRORS.items()
        ],
    }


def _operation_view(spec, path, method, op):
    roles = op.get("x-roles", [])
    auth = AUTH_LABELS.get(roles[0]) if len(roles) == 1 and roles[0] in AUTH_LABELS else "登录角色：" + "、".join(roles)
    body = op.get("requestBody", {}).get("content", {})
    return {
        "method": method.upper(),
        "path": path,
        "id": op["operationId"],
        "summary": op.get("summary", ""),
        "description": op.get("description", ""),
        "auth": auth,
        "parameters": [_parameter_row(spec, p) for p in op.get("parameters", [])],
        "bodies": [(media, _field_rows(spec, c["schema"])) for media, c in body.items()],
        "responses": [_response_row(spec, status, r) for status, r in op["responses"].items()],
    }


def _resolve(spec, obj):
    while "$ref" in obj:
        section, name = obj["$ref"].split("/")[-2:]
        obj = spec["components"][section][name]
    return obj


def _parameter_row(spec, param):
    param = _resolve(spec, param)
    return {
        "name": param["name"],
        "in": param["in"],
        "required": param.get("required", False),
        "type": _type_label(spec, param.get("schema", {})),
        "description": param.get("description") or param.get("schema", {}).get("description", ""),
    }


def _field_rows(spec, schema):
    schema = _resolve(spec, schema)
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "",
            "required": name in required,
            "type": _type_label(spec, prop),
            "description": _resolve(spec, prop).get("description", ""),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _response_row(spec, status, response):
    response = _resolve(spec, response)
    content = response.get("content", {})
    schema = next((c["schema"] for media, c in content.items() if media.endswith("json")), None)
    return {
        "status": status,
        "description": response.get("description", ""),
        "media": ", ".join(content),
        "type": _type_label(spec, schema) if schema else "",
    }


def _type_label(spec, schema):
    """A short human label: ``string``, ``integer[]``, ``Report``, ``wgs84 | gcj02 | bd09``."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_type_label(spec, s) for s in schema["anyOf"] if not s.get("nullable") or "$ref" in s)
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"] if v is not None)
    if schema.get("type") == "array":
        return _type_label(spec, schema.get("items", {})) + "[]"
    label = schema.get("format") or schema.get("type") or "any"
    return label + "，可为 null" if schema.get("nullable") else label
