"""Open311 GeoReport v2: categories as services, reports as service requests.

Submissions go through the same intake as ``POST /api/v1/reports`` (channel ``open311``),
so grid placement, routing, idempotency and the photo pipeline apply unchanged. The
``api_key`` is an Open311 client key (``flask open311-key create …``, see ``open311_clients``),
never a login's token: the report is filed by no account and names the client that sent it.
Reads are public and show public data only.
"""

import re
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from civicreport import registry
from civicreport.cases import intake
from civicreport.cases.lookup import get_report
from civicreport.cases.models import Report
from civicreport.cases.status import OPEN311_STATES
from civicreport.db_types import utcnow
from civicreport.errors import BadRequest, NotFound
from civicreport.extensions import db
from civicreport.geo.distance import distance_m
from civicreport.open311 import clients as open311_clients
from civicreport.open311.attributes import ATTRIBUTES
from civicreport.reference.areas import Community, GridCellArea
from civicreport.reference.categories import Category
from civicreport.reference.lookup import active_categories

MAX_RESULTS = 1000
WINDOW = timedelta(days=90)

_ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\]]*)\](\[\])?$")


def services():
    return active_categories()


def check_jurisdiction(jurisdiction_id):
    """One jurisdiction is served (the district's adcode); 404 ``jurisdiction_not_found`` for others."""
    if jurisdiction_id and jurisdiction_id != registry.settings().DISTRICT_CODE:
        raise NotFound(
            "未找到该 jurisdiction_id", code="jurisdiction_not_found", details={"jurisdiction_id": jurisdiction_id}
        )


def service(code):
    """The active category behind ``service_code``; 404 ``service_not_found`` otherwise."""
    category = db.session.get(Category, code)
    if category is None or not category.active:
        raise NotFound("未找到该服务（问题类别）", code="service_not_found", details={"service_code": code})
    return category


def report_fields(client, data, attributes):
    """A service request as the fields of our own submission (``ReportSubmitSchema`` input).

    ``data`` is the loaded ``POST requests`` form, ``attributes`` the ``attribute[...]`` values.
    Raises AppError: 403 for a jurisdiction the client may not post to, 400 for an unknown
    ``service_code`` (as the spec says), a bad attribute, an address we cannot place or a
    contact too long.
    """
    open311_clients.check_may_post(client, data["jurisdiction_id"])
    check_jurisdiction(data["jurisdiction_id"])
    try:
        service(data["service_code"])
    except NotFound as err:  # the spec answers an invalid service_code on POST with 400
        raise BadRequest(err.message, code="unknown_service_code", details=err.details) from None
    extra = _attribute_values(attributes)
    fields = {"category": data["service_code"], "description": data["description"], "crs": extra.get("crs", "wgs84")}
    if data["lat"] is not None:
        fields.update(lat=data["lat"], lon=data["long"], location_source="device")
    elif data["address_string"]:
        lat, lon, radius = _address_point(data["address_string"])
        fields.update(lat=lat, lon=lon, crs="wgs84", location_source="manual")
        extra.setdefault("accuracy", radius)
    if "accuracy" in extra:
        fields["accuracy"] = extra["accuracy"]
    contact = _contact(data)
    if contact:
        fields["contact"] = contact
    return fields


def submit(client, data, attributes, report, uploads, idempotency_key=None):
    """File ``report`` (``report_fields`` as ``ReportSubmitSchema`` loaded them) through intake,
    for no account and in the client's name; returns intake's ``Submission``. What the
    client sent beyond our fields is kept on the submit event. Raises whatever intake raises
    (422 ``outside_service_area``, photo and storage errors, 503)."""
    return intake.submit_report(
        report,
        uploads,
        None,
        idempotency_key,
        channel="open311",
        client_data=_client_data(data, attributes),
        open311_client=client,
    )


def attributes_from(form):
    """``attribute[code]`` (and ``attribute[code][]``) form fields → {code: value or [values]}."""
    found = {}
    for key in form:
        match = _ATTRIBUTE_KEY.match(key)
        if match:
            found[match.group(1)] = form.getlist(key) if match.group(2) else form.get(key)
    return found


def _attribute_values(attributes):
    """Check ``attribute[...]`` against the service definition; 400 ``invalid_attribute`` naming each problem."""
    known = {a["code"]: a for a in ATTRIBUTES}
    values, problems = {}, {}
    for code, raw in attributes.items():
        spec = known.get(code)
        if spec is None or isinstance(raw, list):
            problems[f"attribute[{code}]"] = "未定义的属性" if spec is None else "该属性只接受一个值"
        elif spec["datatype"] == "singlevaluelist":
            if raw in {key for key, _ in spec["values"]}:
                values[code] = raw
            else:
                problems[f"attribute[{code}]"] = "取值不在列表中"
        else:
            try:
                values[code] = float(raw)
            except ValueError:
                problems[f"attribute[{code}]"] = "应为数字"
    if problems:
        raise BadRequest("属性有误", code="invalid_attribute", details={"fields": problems})
    return values


def _contact(data):
    """Name, e-mail and phone folded into the report's private contact field; 400 when too long."""
    name = " ".join(p for p in (data["last_name"], data["first_name"]) if p)
    contact = " / ".join(p for p in (name, data["email"], data["phone"]) if p)
    if len(contact) > 128:
        raise BadRequest(
            "联系方式过长",
            code="contact_too_long",
            details={"fields": {"email": "姓名、邮箱和电话合计不超过 128 个字符"}},
        )
    return contact


def _client_data(data, attributes):
    """What the client sent beyond our report fields, kept on the (staff-only) submit event."""
    kept = {
        key: data[key] for key in ("address_string", "address_id", "media_url", "device_id", "account_id") if data[key]
    }
    if attributes:
        kept["attributes"] = attributes
    return kept


def _address_point(address):
    """Place an ``address_string`` at the community it names (our gazetteer is the grid).

    Returns (lat, lon, radius_m): the cell centre nearest the community's middle and how
    far its farthest cell centre lies. 400 ``address_not_located`` when no community with
    grid cells is named, ``address_ambiguous`` when several equally good ones are.
    """
    rows = (
        db.session.execute(select(Community).where(Community.cells.any()).options(selectinload(Community.street)))
        .scalars()
        .all()
    )
    named = [c for c in rows if c.name in address]
    if not named:
        raise BadRequest("无法根据 address_string 定位，请提供 lat/long 或写明社区名称", code="address_not_located")
    named.sort(key=lambda c: (c.street.name in address, len(c.name)), reverse=True)
    best = [
        c
        for c in named
        if (c.street.name in address, len(c.name)) == (named[0].street.name in address, len(named[0].name))
    ]
    if len(best) > 1:
        raise BadRequest(
            "address_string 对应多个社区，请写明街道或提供 lat/long",
            code="address_ambiguous",
            details={"communities": [f"{c.street.name}{c.name}" for c in best]},
        )
    centres = db.session.execute(
        select(GridCellArea.centroid_lat, GridCellArea.centroid_lon).where(GridCellArea.community_code == best[0].code)
    ).all()
    mid_lat = sum(lat for lat, _ in centres) / len(centres)
    mid_lon = sum(lon for _, lon in centres) / len(centres)
    lat, lon = min(centres, key=lambda c: (c[0] - mid_lat) ** 2 + (c[1] - mid_lon) ** 2)
    radius = max(distance_m(lat, lon, *c) for c in centres)
    return lat, lon, round(radius + 75.0, 1)  # + half a ~100 m cell's diagonal


def request(public_id):
    """One report by its public id; 404 ``report_not_found``."""
    return get_report(public_id)


def search(ids=None, codes=None, statuses=None, start=None, end=None):
    """Reports for ``GET requests``, newest first, at most ``MAX_RESULTS``.

    Ids override every other filter (as the spec says). Without dates the window is the
    last 90 days; a window longer than 90 days or ending before it starts is 400.
    """
    query = select(Report).options(
        selectinload(Report.category),
        selectinload(Report.unit),
        selectinload(Report.media),
        selectinload(Report.community),
        selectinload(Report.street),
        selectinload(Report.district),
        selectinload(Report.duplicate_of),
    )
    if ids:
        query = query.where(Report.public_id.in_(ids))
    else:
        start, end = _window(start, end)
        query = query.where(Report.created_at >= start, Report.created_at <= end)
        if codes:
            query = query.where(Report.category_code.in_(codes))
        if statuses:
            states = set().union(*(OPEN311_STATES[status] for status in statuses))
            query = query.where(Report.status.in_(sorted(states)))
    query = query.order_by(Report.created_at.desc(), Report.public_id.desc()).limit(MAX_RESULTS)
    return db.session.scalars(query).all()


def _window(start, end):
    if start is None and end is None:
        end = utcnow()
    if start is None:
        start = end - WINDOW
    if end is None:
        end = start + WINDOW
    if start > end:
        raise BadRequest("start_date 晚于 end_date", code="invalid_date_range")
    if end - start > WINDOW:
        raise BadRequest("查询时间范围不能超过 90 天", code="date_range_too_long", details={"max_days": WINDOW.days})
    return start, end


def _tokens():
    return URLSafeSerializer(registry.settings().SECRET_KEY, salt="open311-token")


def token_for(report):
    """A stable opaque token for a request (we file synchronously, so it resolves at once)."""
    return _tokens().dumps(report.public_id)


def report_for_token(token):
    """The report a token was issued for; 404 ``token_not_found`` for a forged or unknown token."""
    try:
        public_id = _tokens().loads(token)
    except BadSignature:
        raise NotFound("未找到该 token", code="token_not_found") from None
    report = db.session.scalar(select(Report).where(Report.public_id == public_id))
    if report is None:
        raise NotFound("未找到该 token", code="token_not_found")
    return report
