"""Checks for Open311 answers: the spec's error lists, and strict XML: lxml without recovery, UTF-8 declared, and a
DTD per document type that pins element names, nesting and the spec's field order."""

import io
import re

from lxml import etree

BASE = "/open311/v2"
_PARSER = etree.XMLParser(recover=False, resolve_entities=False, no_network=True, huge_tree=False)
_DECLARATION = re.compile(rb"""^<\?xml version=['"]1\.0['"] encoding=['"]utf-8['"]\?>""", re.IGNORECASE)


def _text(*names):
    return "".join(f"<!ELEMENT {name} (#PCDATA)>\n" for name in names)


_REQUEST_FIELDS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)

_UPDATE_FIELDS = ("update_id", "service_request_id", "status", "updated_datetime", "description", "media_url")

DTDS = {
    "discovery": (
        "<!ELEMENT discovery (changeset, contact, key_service, endpoints)>\n"
        "<!ELEMENT endpoints (endpoint+)>\n"
        "<!ELEMENT endpoint (specification, url, changeset, type, formats)>\n"
        "<!ELEMENT formats (format+)>\n"
        + _text("changeset", "contact", "key_service", "specification", "url", "type", "format")
    ),
    "services": (
        "<!ELEMENT services (service*)>\n"
        "<!ELEMENT service (service_code, service_name, description, metadata, type, keywords, group)>\n"
        + _text("service_code", "service_name", "description", "metadata", "type", "keywords", "group")
    ),
    "service_definition": (
        "<!ELEMENT service_definition (service_code, attributes)>\n"
        "<!ELEMENT attributes (attribute*)>\n"
        "<!ELEMENT attribute (variable, code, datatype, required, datatype_description, order, description, values)>\n"
        "<!ELEMENT values (value*)>\n"
        "<!ELEMENT value (key, name)>\n"
        + _text(
            "service_code",
            "variable",
            "code",
            "datatype",
            "required",
            "datatype_description",
            "order",
            "description",
            "key",
            "name",
        )
    ),
    "service_requests": (
        "<!ELEMENT service_requests (request*)>\n"
        "<!ELEMENT request (service_request_id, "
        f"(({', '.join(_REQUEST_FIELDS[1:])}) | (token, service_notice?) | service_notice))>\n"
        + _text(*_REQUEST_FIELDS, "token")
    ),
    # The updates extension: a list of updates, or a POST's answer (the update_id alone).
    "service_request_updates": (
        "<!ELEMENT service_request_updates (request_update*)>\n"
        f"<!ELEMENT request_update (update_id, ({', '.join(_UPDATE_FIELDS[1:])})?)>\n" + _text(*_UPDATE_FIELDS)
    ),
    "errors": ("<!ELEMENT errors (error+)>\n<!ELEMENT error (code, description)>\n" + _text("code", "description")),
}


def parse(response, root):
    """Parse an Open311 XML response strictly and validate it against the DTD for ``root``."""
    assert response.mimetype == "text/xml", response.content_type
    assert response.mimetype_params.get("charset", "").lower() == "utf-8"
    body = response.data
    assert _DECLARATION.match(body), body[:80]
    document = etree.fromstring(body, _PARSER)
    assert document.tag == root
    dtd = etree.DTD(io.StringIO(DTDS[root]))
    assert dtd.validate(document), dtd.error_log.filter_from_errors()
    return document


def rows(document):
    """Children of a list document as dicts of their (text) fields."""
    return [{child.tag: child.text for child in item} for item in document]


def spec_errors(response, status, fmt="json"):
    """The spec's error list, in either format; every description names our stable code."""
    assert response.status_code == status, response.data.decode()
    if fmt == "xml":
        items = rows(parse(response, "errors"))
        assert all(item["code"] == str(status) for item in items)
    else:
        items = response.get_json()
        assert isinstance(items, list) and items
        assert all(set(item) == {"code", "description"} and item["code"] == status for item in items)
    return [item["description"] for item in items]
