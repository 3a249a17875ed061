"""Open311 GeoReport v2 input, views, and their JSON/XML encodings.

Views are plain dicts in the spec's field order; the XML encoder turns the same dicts
into strict, UTF-8 documents. Nothing private (contact, reporter, originals) is ever
put into a view.
"""

import re
import xml.etree.ElementTree as ET
from datetime import datetime

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from civicreport import registry
from civicreport.cases.models import MAX_PHOTOS_PER_STEP
from civicreport.cases.photo_urls import object_url, public_photos
from civicreport.cases.public_point import public_point
from civicreport.cases.schemas.report import ReportSubmitSchema
from civicreport.cases.status import STATUS_NOTES, UPDATE_STATUSES, open311_status
from civicreport.open311.attributes import ATTRIBUTES
from civicreport.reference.categories import CATEGORY_GROUPS
from civicreport.schema_fields import BoundedList, CommaList, utc_instant

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
DISCOVERY_CHANGESET = "2026-12-02T00:00:00+08:00"  # bump when this document's shape changes
MAX_IDS = 1000  # service_request_id (and service_code) values one GET requests may name
MAX_DESCRIPTION = 4000  # the spec's limit for a request's (and an update's) description
FORMATS = {"json": "application/json", "xml": "text/xml"}

# Characters XML 1.0 forbids even when escaped; a description carrying one must not
# make the whole document ill-formed.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_ITEMS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}


def without_blanks(form):
    """A form or query as {name: value} without the blank values: the spec reads an empty
    optional argument as a missing one, and FixMyStreet sends every ``attribute[...]`` it
    knows, blank when the citizen left it empty (perllib/Open311.pm, lines 208-217)."""
    return {key: value for key, value in form.items() if value.strip()}


class W3CDateTime(fields.Field):
    """``2026-11-01T00:00:00Z``, with an offset, or a plain date; no offset means local time. As UTC."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            parsed = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationError("应为 W3C 日期时间，如 2026-11-01T00:00:00+08:00") from None
        return utc_instant(parsed if parsed.tzinfo else parsed.replace(tzinfo=registry.current().zone))


class PostRequestSchema(Schema):
    """``POST requests`` form fields; ``attribute[...]`` are read separately."""

    class Meta:
        unknown = EXCLUDE

    service_code = fields.String(required=True, validate=validate.Length(min=1, max=8))
    lat = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(-90, 90))
    long = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(-180, 180))
    address_string = fields.String(load_default=None, validate=validate.Length(max=256))
    address_id = fields.String(load_default=None, validate=validate.Length(max=64))
    description = fields.String(load_default="", validate=validate.Length(max=MAX_DESCRIPTION))
    media_url = fields.Url(
        load_default=None, schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=1024)
    )
    email = fields.String(load_default=None, validate=validate.Length(max=128))
    first_name = fields.String(load_default=None, validate=validate.Length(max=64))
    last_name = fields.String(load_default=None, validate=validate.Length(max=64))
    phone = fields.String(load_default=None, validate=validate.Length(max=32))
    device_id = fields.String(load_default=None, validate=validate.Length(max=128))
    account_id = fields.String(load_default=None, validate=validate.Length(max=128))
    jurisdiction_id = fields.String(load_default=None)

    @validates_schema
    def lat_and_long_together(self, data, **kwargs):
        if (data["lat"] is None) != (data["long"] is None):
            raise ValidationError("lat 和 long 必须同时提供", field_name="lat")


class Open311ReportSchema(ReportSubmitSchema):
    """Our submission with the spec's 4,000 characters of description (FixMyStreet sends the
    title, the text and a link back in one: perllib/Open311.pm, lines 289-316)."""

    description = fields.String(load_default="", validate=validate.Length(max=MAX_DESCRIPTION))


class FirstIds(CommaList):
    """A comma list of which the first ``MAX_IDS`` distinct values count and the rest is dropped:
    one id too many must not fail a client's whole batch; it asks for the rest in another call."""

    def __init__(self, **kwargs):
        super().__init__(max_items=MAX_IDS, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        parts = value if isinstance(value, list) else [value]
        items = [p.strip() for part in parts for p in str(part).split(",") if p.strip()]
        return super()._deserialize(list(dict.fromkeys(items))[:MAX_IDS], attr, data, **kwargs)


class RequestsQuerySchema(Schema):
    """``GET requests`` filters."""

    class Meta:
        unknown = EXCLUDE

    service_request_id = FirstIds(load_default=tuple)
    service_code = CommaList(max_items=MAX_IDS, load_default=tuple)
    status = CommaList(max_items=2, load_default=tuple)
    start_date = W3CDateTime(load_default=None)
    end_date = W3CDateTime(load_default=None)
    jurisdiction_id = fields.String(load_default=None)

    @validates_schema
    def known_statuses(self, data, **kwargs):
        unknown = sorted(set(data["status"]) - {"open", "closed"})
        if unknown:
            raise ValidationError(f"status 只能是 open 或 closed：{','.join(unknown)}", field_name="status")


class UpdatesQuerySchema(Schema):
    """``GET servicerequestupdates``: the window FixMyStreet polls (its last two hours by default:
    perllib/Open311/GetServiceRequestUpdates.pm, lines 17-40)."""

    class Meta:
        unknown = EXCLUDE

    start_date = W3CDateTime(load_default=None)
    end_date = W3CDateTime(load_default=None)
    jurisdiction_id = fields.String(load_default=None)


class PostUpdateSchema(Schema):
    """``POST servicerequestupdates``: a citizen's comment as FixMyStreet posts it
    (perllib/Open311.pm ``_populate_service_request_update_params``, lines 473-577). Names,
    e-mail and phone are read and dropped; ``status`` and ``updated_datetime`` are what the
    client says, kept with the note."""

    class Meta:
        unknown = EXCLUDE

    service_request_id = fields.String(required=True, validate=validate.Length(min=1, max=32))
    description = fields.String(load_default="", validate=validate.Length(max=MAX_DESCRIPTION))
    update_id = fields.String(load_default=None, validate=validate.Length(max=64))
    status = fields.String(load_default=None, validate=validate.Length(max=32))
    updated_datetime = W3CDateTime(load_default=None)
    media_url = BoundedList(  # repeated when the client sends several (FixMyStreet's multi_photos)
        fields.Url(schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=1024)),
        max_items=MAX_PHOTOS_PER_STEP,
        load_default=list,
    )
    jurisdiction_id = fields.String(load_default=None)


def discovery_view(endpoint_url):
    return {
        "changeset": DISCOVERY_CHANGESET,
        "contact": "綦江区数字城管监督指挥中心（随手拍）",
        "key_service": "api_key 为 Open311 客户端专用密钥，由管理员用 flask open311-key create 签发；"
        "登录令牌不能用作 api_key（见 README 的 Open311 一节）",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": endpoint_url,
                "changeset": DISCOVERY_CHANGESET,
                "type": "production",
                "formats": list(FORMATS.values()),
            }
        ],
    }


def service_view(category):
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": f"{category.major_name} · {category.name_en}",
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join(category.keywords.split()),
        "group": CATEGORY_GROUPS.get(category.group, category.group),
    }


def definition_view(category):
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": True,
                "code": spec["code"],
                "datatype": spec["datatype"],
                "required": spec["required"],
                "datatype_description": spec["datatype_description"],
                "order": spec["order"],
                "description": spec["description"],
                "values": [{"key": key, "name": name} for key, name in spec["values"]],
            }
            for spec in ATTRIBUTES
        ],
    }


def status_notes(status, duplicate_of=None, public_note=None):
    """What the public reads about a state: the step in words, the merged case, and the
    public note staff wrote with the step (``public_note``; their ``note`` stays inside)."""
    notes = STATUS_NOTES.get(status, status)
    if status == "duplicate" and duplicate_of is not None:
        notes = f"与 {duplicate_of.public_id} 为同一问题，已合并"
    return f"{notes}：{public_note}" if public_note else notes


def request_view(report, public_note=None, posted_media_url=None):
    """The public view of a report as a service request: derivative photo only, no contact.
    ``public_note`` is the one staff wrote with the current state; ``posted_media_url`` the
    ``media_url`` the client sent, shown when we hold no photo of our own (the spec returns it)."""
    evidence = [m for m in public_photos(report.media) if m.kind == "evidence"]
    notes = status_notes(report.status, report.duplicate_of, public_note)
    point = public_point(report)  # a report about what people do: its ~50 m cell (README, Privacy)
    return {
        "service_request_id": report.public_id,
        "status": open311_status(report.status),
        "status_notes": notes,
        "service_name": report.category.name if report.category else None,
        "service_code": report.category_code,
        "description": report.description,
        "agency_responsible": report.unit.name if report.unit else None,
        "service_notice": None,
        "requested_datetime": local_time(report.created_at),
        "updated_datetime": local_time(report.updated_at),
        "expected_datetime": local_time(report.deadline_at),
        "address": f"{report.district.name}{report.street.name}{report.community.name}",
        "address_id": None,
        "zipcode": None,
        "lat": point.lat,
        "long": point.lon,
        "media_url": object_url(evidence[0].display_key) if evidence else posted_media_url,
    }


def update_view(update):
    """One public step of a case as FixMyStreet reads an update (Open311::UpdatesBase): its
    ``update_id`` (the timeline event), the status in the names of ``UPDATE_STATUSES``, the
    step in words with the public note, and the step's public photo (the unit's after photo)."""
    event = update.event
    return {
        "update_id": str(event.id),
        "service_request_id": update.report.public_id,
        "status": UPDATE_STATUSES[event.to_status],
        "updated_datetime": local_time(event.created_at),
        "description": status_notes(event.to_status, update.report.duplicate_of, update.public_note),
        "media_url": object_url(update.photo.display_key) if update.photo else None,
    }


def posted_update_view(event):
    return {"update_id": str(event.id)}


def local_time(value):
    """Aware UTC datetime → local W3C datetime (``2026-11-23T09:30:00+08:00``)."""
    return None if value is None else value.astimezone(registry.current().zone).isoformat(timespec="seconds")


def submitted_view(report):
    """The spec's answer to a POST: the id, or a token when the id comes later; never both.
    We file at once, so the id (FixMyStreet takes it as is: perllib/Open311.pm, line 108)."""
    unit = report.unit.name if report.unit else "属地街道"
    return {
        "service_request_id": report.public_id,
        "service_notice": f"已登记为案件 {report.public_id}，将由{unit}处理",
    }


def token_view(report, token):
    return {"service_request_id": report.public_id, "token": token}


def error_items(status, code, message, details):
    """The spec's error list: one entry per invalid field, else one for the whole request."""
    problems = (details or {}).get("fields")
    if isinstance(problems, dict) and problems:
        return [{"code": status, "description": f"{code}: {field}: {_flat(msg)}"} for field, msg in problems.items()]
    text = f"{code}: {message}"
    if details and details.get("nearest_area"):
        text += f"（最近的服务区域：{details['nearest_area']}）"
    return [{"code": status, "description": text}]


def _flat(messages):
    if isinstance(messages, dict):
        return "; ".join(f"{key}: {_flat(value)}" for key, value in messages.items())
    if isinstance(messages, (list, tuple)):
        return "; ".join(_flat(m) for m in messages)
    return str(messages)


def to_xml(root_tag, item_tag, payload):
    """UTF-8 XML bytes: a list becomes ``<root><item>…</item>…</root>``, a dict ``<root>…</root>``."""
    root = ET.Element(root_tag)
    if isinstance(payload, list):
        for row in payload:
            _fill(ET.SubElement(root, item_tag), row)
    else:
        _fill(root, payload)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _fill(element, value):
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        for child in value:
            _fill(ET.SubElement(element, _XML_ITEMS[element.tag]), child)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = _XML_ILLEGAL.sub("", str(value))
