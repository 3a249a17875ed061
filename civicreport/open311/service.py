"""Open311 GeoReport v2: categories as services, reports as service requests.

Submissions go through the same intake as ``POST /api/v1/reports`` (channel ``open311``),
so grid placement, routing, idempotency and the photo pipeline apply unchanged. The
``api_key`` is an Open311 client key (``flask open311-key create …``, see ``open311_clients``),
never a login's token: the report is filed by no account and names the client that sent it.
Reads are public and show public data only. The service request updates extension (as
FixMyStreet uses it): ``updates`` lists the public steps of cases, ``post_update`` keeps a
client's comment as a staff-only note on the case.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from civicreport import registry
from civicreport.cases import intake, photos
from civicreport.cases.lookup import get_report
from civicreport.cases.models import MAX_PHOTOS_PER_STEP, Media, Report, ReportEvent
from civicreport.cases.photo_urls import public_photos
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
UPDATES_DEFAULT = timedelta(days=1)  # GET servicerequestupdates without dates

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
    Raises AppError: 403 for a jurisdiction the client may not post to, 404
    ``service_not_found`` for an unknown ``service_code``, 400 for a bad attribute, an address
    we cannot place or a contact too long.
    """
    open311_clients.check_may_post(client, data["jurisdiction_id"])
    check_jurisdiction(data["jurisdiction_id"])
    service(data["service_code"])
    extra = _attribute_values(attributes)
    fields = {"category": data["service_code"], "description": data["description"], "crs": extra.get("crs", "wgs84")}
    if data["lat"] is not None:
        fields.update(lat=data["lat"], lon=data["long"], location_source="device")
    elif data["address_string"] or data["address_id"]:
        if data["address_string"]:
            lat, lon, radius = _address_point(data["address_string"])
        else:
            lat, lon, radius = _address_id_point(data["address_id"])
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
    """``attribute[code]`` (and ``attribute[code][]``) form fields → {code: value or [values]};
    a blank one is no answer (FixMyStreet sends every attribute, blank when left empty)."""
    found = {}
    for key in form:
        match = _ATTRIBUTE_KEY.match(key)
        values = [value for value in form.getlist(key) if value.strip()]
        if match and values:
            found[match.group(1)] = values if match.group(2) else values[0]
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
    """Place an ``address_string`` at the community it names, else at the street (街道) it names:
    our gazetteer is the grid, and no geocoder is asked over the network.

    Returns (lat, lon, radius_m): the cell centre nearest the area's middle and how far its
    farthest cell centre lies. 400 ``address_not_located`` when neither a community nor a
    street with grid cells is named, ``address_ambiguous`` when several equally good ones are.
    """
    rows = (
        db.session.execute(select(Community).where(Community.cells.any()).options(selectinload(Community.street)))
        .scalars()
        .all()
    )
    named = [c for c in rows if c.name in address]
    if not named:
        return _street_point(address, {c.street for c in rows})
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
    return _middle(GridCellArea.community_code == best[0].code)


def _street_point(address, streets):
    """The middle of the one street (of ``streets``, those with grid cells) ``address`` names."""
    named = sorted((s for s in streets if s.name in address), key=lambda s: len(s.name), reverse=True)
    if not named:
        raise BadRequest(
            "无法根据 address_string 定位：请写明社区或街道名称（如 古南街道长乐社区），或提供 lat/long",
            code="address_not_located",
        )
    best = [s for s in named if len(s.name) == len(named[0].name)]
    if len(best) > 1:
        raise BadRequest(
            "address_string 对应多个街道，请写明社区或提供 lat/long",
            code="address_ambiguous",
            details={"streets": sorted(s.name for s in best)},
        )
    return _middle(GridCellArea.community.has(Community.street_code == best[0].code))


def _address_id_point(address_id):
    """Place an ``address_id``: our address repository is the grid, so a grid cell code (its
    centre) or a community code. 400 ``address_id_not_found`` for anything else, e.g.
    FixMyStreet's ``#NOTPINPOINTED#`` (perllib/Open311.pm, line 191)."""
    key = address_id.strip()
    if db.session.get(GridCellArea, key) is not None:
        return _middle(GridCellArea.code == key)
    if db.session.scalar(select(GridCellArea.code).where(GridCellArea.community_code == key).limit(1)):
        return _middle(GridCellArea.community_code == key)
    raise BadRequest(
        "address_id 应为网格编码（15 位）或社区编码（12 位）；其他地址请用 lat/long 或 address_string",
        code="address_id_not_found",
        details={"address_id": key},
    )


def _middle(cells):
    """(lat, lon, radius_m) of the cells matching ``cells``: the centre nearest their middle and
    how far the farthest centre lies, plus half a ~100 m cell's diagonal."""
    centres = db.session.execute(select(GridCellArea.centroid_lat, GridCellArea.centroid_lon).where(cells)).all()
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


def _window(start, end, default=WINDOW):
    if start is None and end is None:
        end = utcnow()
    if start is None:
        start = end - default
    if end is None:
        end = start + default
    if start > end:
        raise BadRequest("start_date 晚于 end_date", code="invalid_date_range")
    if end - start > WINDOW:
        raise BadRequest("查询时间范围不能超过 90 天", code="date_range_too_long", details={"max_days": WINDOW.days})
    return start, end


def _tokens():
    return URLSafeSerializer(registry.settings().SECRET_KEY, salt="open311-token")


def token_for(report):
    """A stable opaque token for a request. POST answers the id alone now (the spec: one or the
    other); tokens issued while it answered both keep resolving through ``report_for_token``."""
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


@dataclass(frozen=True)
class Update:
    """One public step of a case for ``GET servicerequestupdates``: the timeline event, its
    report, the public note staff wrote with it and the step's first public photo."""

    event: ReportEvent
    report: Report
    public_note: str | None
    photo: Media | None


def updates(client=None, start=None, end=None):
    """The public steps of cases (each change of state after filing), oldest first, at most
    ``MAX_RESULTS``: a client that gets that many asks again from the last ``updated_datetime``.

    Without dates the last day; the window is at most 90 days (400 as for ``search``). With
    a ``client`` only the cases it filed, the ones FixMyStreet looks up (it skips others).
    Comments clients post (``post_update``) are staff-only notes and never listed.
    """
    start, end = _window(start, end, default=UPDATES_DEFAULT)
    query = (
        select(ReportEvent, Report)
        .join(Report, Report.id == ReportEvent.report_id)
        .options(selectinload(Report.duplicate_of))
        .where(
            ReportEvent.created_at >= start,
            ReportEvent.created_at <= end,
            ReportEvent.action != "submit",
            ReportEvent.to_status != ReportEvent.from_status,
        )
    )
    if client is not None:
        query = query.where(Report.open311_client_id == client.id)
    rows = db.session.execute(query.order_by(ReportEvent.created_at, ReportEvent.id).limit(MAX_RESULTS)).all()
    photos = _first_public_photos([event.id for event, _ in rows])
    return [Update(event, report, _public_note(event), photos.get(event.id)) for event, report in rows]


def _first_public_photos(event_ids):
    media = db.session.scalars(
        select(Media).where(Media.event_id.in_(event_ids)).order_by(Media.position, Media.created_at)
    ).all()
    first = {}
    for item in public_photos(media):
        first.setdefault(item.event_id, item)
    return first


def _public_note(event):
    return (event.data or {}).get("public_note")


def request_extras(reports):
    """{report id: {"public_note", "posted_media_url"}} for ``request_view``: the public note
    staff wrote with the step that led to the current state, and the ``media_url`` a client
    posted with the request (the spec returns it)."""
    ids = [r.id for r in reports]
    extras = {report_id: {"public_note": None, "posted_media_url": None} for report_id in ids}
    if not ids:
        return extras
    steps = db.session.execute(
        select(ReportEvent.report_id, ReportEvent.data)
        .join(Report, Report.id == ReportEvent.report_id)
        .where(
            ReportEvent.report_id.in_(ids),
            ReportEvent.to_status == Report.status,
            ReportEvent.to_status != ReportEvent.from_status,  # steps that moved it, not notes on the way
        )
        .order_by(ReportEvent.id)
    ).all()
    for report_id, data in steps:  # the latest step into the current state wins
        extras[report_id]["public_note"] = (data or {}).get("public_note")
    posted = db.session.execute(
        select(ReportEvent.report_id, ReportEvent.data).where(
            ReportEvent.report_id.in_(ids), ReportEvent.action == "submit"
        )
    ).all()
    for report_id, data in posted:
        extras[report_id]["posted_media_url"] = ((data or {}).get("client") or {}).get("media_url")
    return extras


def post_update(client, data, uploads):
    """Keep a comment a client posts for a citizen (FixMyStreet's update on a case it sent) as
    an evidence note on the case's timeline (action ``citizen_comment``, the state unchanged);
    returns the event (its id is the ``update_id``).

    Why a note for staff and not a public comment: a case is a work order between the centre
    and the units, with no public comment thread; what a citizen adds ("still there", "worse
    now", a photo) is evidence for whoever handles or checks it, as a reporter's 补充照片 is.
    The text is never published — staff read it in the timeline, so nothing unmoderated reaches
    the public — and photos take the upload pipeline (type, size, count, the privacy pass
    before any derivative is public) and join the case's evidence photos like a 补充照片.
    Names, e-mail and phone are not kept: the timeline is append-only, where retention could
    never erase them. ``update_id`` (the client's own id) makes a retry return the same event.
    Raises 403 (jurisdiction), 404 ``report_not_found``, 400 ``empty_update`` or too many photos.
    """
    open311_clients.check_may_post(client, data["jurisdiction_id"])
    check_jurisdiction(data["jurisdiction_id"])
    report = get_report(data["service_request_id"])
    known = _posted_before(report, client, data["update_id"])
    if known is not None:
        return known
    if not (data["description"].strip() or data["media_url"] or uploads):
        raise BadRequest("更新内容为空：description、media_url 或照片至少提供一项", code="empty_update")
    if len(uploads) > MAX_PHOTOS_PER_STEP:
        raise BadRequest(
            f"每次最多 {MAX_PHOTOS_PER_STEP} 张照片",
            code="too_many_photos",
            details={"max": MAX_PHOTOS_PER_STEP, "count": len(uploads)},
        )
    pending = photos.privacy_deferred()
    processed = [photos.process_upload(raw, index, pending=pending) for index, raw in enumerate(uploads)]
    batch = photos.new_batch()
    try:
        event = _comment_event(report, client, data)
        db.session.add(event)
        db.session.flush()
        for offset, (raw, photo) in enumerate(zip(uploads, processed, strict=True)):
            item = photos.store(batch, raw, photo, position=len(report.media) + offset)
            item.report_id, item.event_id = report.id, event.id
            db.session.add(item)
        db.session.commit()
    except BaseException:
        batch.discard()
        raise
    return event


def _posted_before(report, client, update_id):
    """The comment this client already posted under ``update_id`` (a retry), else None."""
    wanted = {"client_id": client.id, "update_id": update_id}
    comments = (e for e in report.events if e.action == "citizen_comment" and update_id)
    return next((e for e in comments if {k: (e.data or {}).get(k) for k in wanted} == wanted), None)


def _comment_event(report, client, data):
    kept = {"client_id": client.id, "client": client.name}
    for key in ("update_id", "status"):
        if data[key]:
            kept[key] = data[key]
    if data["updated_datetime"]:
        kept["updated_datetime"] = data["updated_datetime"].isoformat()
    if data["media_url"]:
        kept["media_urls"] = data["media_url"]
    return ReportEvent(
        report_id=report.id,
        actor_role="open311",
        action="citizen_comment",
        from_status=report.status,
        to_status=report.status,
        note=data["description"].strip() or None,
        data=kept,
    )
