"""FixMyStreet as an Open311 client: its requests replayed byte for byte, its answers read its way.

Each request is built the way mySociety's FixMyStreet builds it (mysociety/fixmystreet at
84d7c80c, ``perllib/Open311.pm`` and ``perllib/Open311/*.pm``; file and line cited where a
field comes from), encoded as Perl's ``URI`` and ``HTTP::Request::Common`` encode it, and sent
over the Flask test client. Answers are read as its ``_get_xml_object`` reads them
(``XML::Simple`` with ForceArray on the list tags, KeyAttr {}, GroupTags and SuppressEmpty
undef: Open311.pm lines 721-745), and statuses go through its ``map_state`` (lines 455-471).
"""

import base64
import io
import json
import random
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree
from sqlalchemy import select

from civicreport.cases.models import Media, Report, ReportEvent
from civicreport.cases.status import CLOSED_STATES, OPEN_STATES, STATUSES, UPDATE_STATUSES
from civicreport.db_types import utcnow
from civicreport.extensions import db
from civicreport.reference.areas import GridCellArea
from tests.factories import INSIDE, photo_bytes
from tests.helpers import fetch, post_report
from tests.open311_xml import BASE, parse

JURISDICTION = "500110"
CONTACT = ("li.lei@example.cn", "Lei", "Li")  # what FixMyStreet knows of its user

# --- how Perl encodes what FixMyStreet sends ---------------------------------------------

# URI::_query::query_form escapes these, then URI escapes what is not a URI character
# (``$URI::uric``: reserved, unreserved and "%"), byte by byte of the UTF-8 (Open311.pm line
# 626 encodes every value to UTF-8 first). A space becomes "+".
_QUERY_RESERVED = re.compile(rb"[;/?:@&=+,$\[\]%]")
_URIC = frozenset(b";/?:@&=+$,[]%" + b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()")


def _escape(text):
    raw = _QUERY_RESERVED.sub(lambda m: b"%%%02X" % m.group(0)[0], text.encode()).replace(b" ", b"+")
    return b"".join(bytes([c]) if c in _URIC else b"%%%02X" % c for c in raw)


def query_form(params):
    """``$uri->query_form($params)`` of a hashref, its keys in Perl's unordered hash order:
    FixMyStreet's GET query strings (Open311.pm lines 629-631)."""
    pairs = list(params.items())
    random.Random(len(pairs)).shuffle(pairs)  # a Perl hash has no order; the server must not care
    return encode_pairs(pairs)


def encode_pairs(pairs):
    return b"&".join(_escape(k) + b"=" + _escape("" if v is None else v) for k, v in _flatten(pairs))


def post_form(params):
    """``POST $uri, $params`` (Open311.pm line 661): the query form as the body, with
    HTTP::Request::Common's line ends made CRLF."""
    return re.sub(rb"(?<!%0D)%0A", b"%0D%0A", query_form(params))


def _flatten(pairs):
    for key, value in pairs:
        for one in value if isinstance(value, list) else [value]:
            yield key, one


def form_data(params, uploads):
    """``POST $uri, Content_Type => 'form-data', Content => [...]`` (Open311.pm lines 633-659):
    HTTP::Request::Common's multipart body, values as UTF-8 bytes, each upload
    ``[undef, $filename, Content_Type => …, Content => …]`` (lines 274-276)."""
    boundary = "xYzZY"
    parts = [
        f'Content-Disposition: form-data; name="{key}"\r\n\r\n'.encode() + str(value).encode()
        for key, value in _flatten(list(params.items()))
    ]
    for name, (filename, content_type, content) in uploads.items():
        head = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\nContent-Type: {content_type}'
        parts.append(head.encode() + b"\r\n\r\n" + content)
    separator = f"\r\n--{boundary}\r\n".encode()
    body = f"--{boundary}\r\n".encode() + separator.join(parts) + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


# Perl itself, where it is installed, checks the two encoders above byte for byte.
_PERL_ENCODE = r"""
use strict; use warnings; use JSON::PP; use Encode; use MIME::Base64; use HTTP::Request::Common qw(POST);
my $in = decode_json(do { local $/; <STDIN> });
my @pairs = map { (encode('UTF-8', $_->[0]), encode('UTF-8', $_->[1])) } @{$in->{pairs}};
my @files = map { ($_->[0] => [undef, $_->[1], Content_Type => $_->[2], Content => decode_base64($_->[3])]) }
    @{$in->{uploads}};
my $req = @files ? POST('http://x/', Content_Type => 'form-data', Content => [@pairs, @files])
    : POST('http://x/', \@pairs);
binmode STDOUT; print $req->header('Content-Type'), "\n", $req->content;
"""


def perl_post(pairs, uploads=()):
    """(Content-Type, body) of HTTP::Request::Common's POST of ``pairs`` and ``uploads``."""
    files = [[name, filename, kind, base64.b64encode(content).decode()] for name, (filename, kind, content) in uploads]
    given = json.dumps({"pairs": pairs, "uploads": files}).encode()
    out = subprocess.run(["perl", "-e", _PERL_ENCODE], input=given, capture_output=True, check=True).stdout
    content_type, _, body = out.partition(b"\n")
    return content_type.decode(), body


def _has_perl_modules():
    probe = ["perl", "-MURI", "-MHTTP::Request::Common", "-MJSON::PP", "-MMIME::Base64", "-e1"]
    return shutil.which("perl") is not None and subprocess.run(probe, capture_output=True).returncode == 0


# --- how FixMyStreet reads the answers -------------------------------------------------------

_GROUP_TAGS = {  # Open311.pm lines 726-734; ForceArray is their values (line 736)
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
    "service_request_updates": "request_update",
    "groups": "group",
}
_FORCE_ARRAY = frozenset(_GROUP_TAGS.values())


def xml_simple(body):
    """``XML::Simple->new(ForceArray => …, KeyAttr => {}, GroupTags => …, SuppressEmpty => undef)
    ->parse_string``: the root's content; an empty element is None; listed tags always lists."""
    return _collapse(etree.fromstring(body))


def _collapse(element):
    if len(element) == 0:
        return element.text or None
    found = {}
    for child in element:
        value = _collapse(child)
        inner = _GROUP_TAGS.get(child.tag)
        if inner and isinstance(value, dict) and set(value) == {inner}:
            value = value[inner]
        if child.tag in _FORCE_ARRAY:
            found.setdefault(child.tag, []).append(value)
        elif child.tag in found:
            found[child.tag] = (
                [*found[child.tag], value] if isinstance(found[child.tag], list) else [found[child.tag], value]
            )
        else:
            found[child.tag] = value
    return found


def map_state(status, extended_statuses):
    """Open311.pm lines 455-471: FixMyStreet's state for an update's status."""
    incoming = status.lower().replace("_", " ")
    table = {
        "fixed": "fixed - council",
        "not councils responsibility": "not responsible",
        "no further action": "unable to fix",
        "open": "confirmed",
        "closed": "closed" if extended_statuses else "fixed - council",
    }
    return table.get(incoming, incoming)


# db/fixture.sql (the states an install has) plus the hard-coded ones (ResultSet/State.pm).
FMS_OPEN = {"confirmed", "investigating", "in progress", "planned", "action scheduled"}
FMS_CLOSED = {"closed", "unable to fix", "not responsible", "duplicate", "internal referral", "cancelled"}
FMS_FIXED = {"fixed", "fixed - council", "fixed - user"}


def w3cdtf(moment):
    """DateTime::Format::W3CDTF->format_datetime of a UTC DateTime, as FixMyStreet sends dates."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- FixMyStreet's requests --------------------------------------------------------------


def truncate_coordinate(value):
    """perllib/Utils.pm truncate_coordinate: six decimals, trailing zeros dropped."""
    return f"{value:0.6f}".rstrip("0").rstrip(".")


def service_request_params(key, **overrides):
    """``_populate_service_request_params`` (Open311.pm lines 142-225) for a problem pinned on
    the map, with ``_request`` adding jurisdiction_id and api_key (lines 613-616)."""
    email, first, last = CONTACT
    params = {
        # extended_description is on by default (line 32): title, detail, URL (lines 309-312)
        "description": "路边垃圾堆放\n\n菜场门口暴露垃圾三天没人清理\n\nhttps://fms.example.cn/report/17\n",
        "service_code": "06010",
        "first_name": first,  # split_name (lines 579-587) of "Lei Li"
        "last_name": last,
        "email": email,  # line 167
        "lat": truncate_coordinate(INSIDE[0]),  # always_send_latlong (lines 30, 179-184)
        "long": truncate_coordinate(INSIDE[1]),
        # every extra field of the service definition, blank when the citizen left it empty (lines 208-217)
        "attribute[crs]": "",
        "attribute[accuracy]": "",
        "jurisdiction_id": JURISDICTION,
        "api_key": key,
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def send_service_request(client, key, uploads=None, **overrides):
    """``send_service_request`` (lines 91-140): POST requests.xml, as a plain form or, with
    ``upload_files``, multipart; the answer read as FixMyStreet reads it."""
    params = service_request_params(key, **overrides)
    if uploads:
        params.pop("media_url", None)  # line 278: photos uploaded, no media_url
    body, content_type = lwp_body(params, uploads)
    return client.post(f"{BASE}/requests.xml", data=body, content_type=content_type)


def lwp_body(params, uploads):
    """(body, content type) as its LWP user agent posts them: multipart with files, a plain form without."""
    if uploads:
        return form_data(params, uploads)
    return post_form(params), "application/x-www-form-urlencoded"


def filed_id(response):
    """Line 108: ``$obj->{request}->[0]->{service_request_id}``, taken when it is a plain value."""
    assert response.status_code == 201, response.data.decode()
    parse(response, "service_requests")
    request = xml_simple(response.data)["request"][0]
    assert isinstance(request["service_request_id"], str)
    assert "token" not in request  # the spec: the id or a token, never both
    return request["service_request_id"]


def poll_updates(client, key, start, end):
    """``get_service_request_updates`` (Open311.pm lines 354-373) with the dates
    GetServiceRequestUpdates.pm parse_dates gives (lines 17-40): GET servicerequestupdates.xml."""
    params = {"api_key": key, "start_date": w3cdtf(start), "end_date": w3cdtf(end), "jurisdiction_id": JURISDICTION}
    response = client.get(f"{BASE}/servicerequestupdates.xml?" + query_form(params).decode())
    assert response.status_code == 200, response.data.decode()
    parse(response, "service_request_updates")
    requests = (xml_simple(response.data) or {}).get("request_update") or []
    return [r for r in requests if r.get("update_id") is not None and _in_window(r, start, end)]


def _in_window(update, start, end):
    """UpdatesBase.pm check_date (lines 108-120): the update's time in UTC, compared as text."""
    updated = w3cdtf(datetime.fromisoformat(update["updated_datetime"]))
    return w3cdtf(start) <= updated <= w3cdtf(end)


def update_params(key, service_request_id, **overrides):
    """``_populate_service_request_update_params`` (Open311.pm lines 473-577) for a comment by
    "Lei Li" on an open problem, without extended statuses (status OPEN, lines 484 and 512-516)."""
    email, first, last = CONTACT
    params = {
        "updated_datetime": w3cdtf(utcnow()),  # line 524
        "service_request_id": service_request_id,  # line 518: the problem's external_id
        "status": "OPEN",
        "description": "还是没有清理，气味越来越大",  # line 527: the comment's text
        "last_name": last,
        "first_name": first,
        "email": email,  # line 533
        "update_id": "4711",  # line 534: FixMyStreet's own comment id
        "jurisdiction_id": JURISDICTION,  # lines 613-616
        "api_key": key,
    }
    params.update(overrides)
    return params


def post_service_request_update(client, key, service_request_id, uploads=None, **overrides):
    """``post_service_request_update`` (lines 375-409): POST servicerequestupdates.xml, multipart
    with ``upload_files_for_updates`` (lines 382-384)."""
    body, content_type = lwp_body(update_params(key, service_request_id, **overrides), uploads)
    return client.post(f"{BASE}/servicerequestupdates.xml", data=body, content_type=content_type)


def posted_update_id(response):
    """Line 393: ``$obj->{request_update}->[0]->{update_id}``, taken when a plain value."""
    assert response.status_code == 201, response.data.decode()
    parse(response, "service_request_updates")
    update_id = xml_simple(response.data)["request_update"][0]["update_id"]
    assert isinstance(update_id, str)
    return update_id


def error_descriptions(response, status):
    """``_process_error`` (lines 703-719): the list under ``error``, each with code and description."""
    assert response.status_code == status, response.data.decode()
    errors = xml_simple(response.data)["error"]
    assert all(e["code"] == str(status) for e in errors)
    return [e["description"] for e in errors]


@pytest.fixture
def key(app, loop):
    """A client key issued as an operator does (``flask open311-key create``); its last word."""
    result = app.test_cli_runner().invoke(args=["open311-key", "create", "fixmystreet"])
    assert result.exit_code == 0, result.output
    return result.output.split()[-1]


def report_of(public_id):
    return db.session.scalar(select(Report).where(Report.public_id == public_id))


@pytest.mark.skipif(not _has_perl_modules(), reason="needs perl with URI and HTTP::Request::Common (libwww-perl)")
def test_the_encoders_match_perls_own_bytes():
    pairs = [
        ("description", "路边垃圾 堆放\n\nhttps://fms.example.cn/report/17?a=1&b=[2]; 100% ~*'()!\n"),
        ("attribute[crs]", ""),
        ("lat", "29.0318"),
        ("media_url", "https://fms.example.cn/p/1.jpeg"),
        ("media_url", "https://fms.example.cn/p/2.jpeg"),
    ]
    content_type, body = perl_post(pairs)
    assert content_type == "application/x-www-form-urlencoded"
    assert body == re.sub(rb"(?<!%0D)%0A", b"%0D%0A", encode_pairs(pairs))
    uploads = {
        "photo1": ("17.0.full.jpeg", "image/jpeg", photo_bytes()),
        "photo2": ("17.1.full.jpeg", "image/png", b"\x89PNG"),
    }
    content_type, body = perl_post(pairs, list(uploads.items()))
    params = {**dict(pairs[:3]), "media_url": [pairs[3][1], pairs[4][1]]}  # a hashref with an arrayref (line 198)
    assert (body, content_type) == form_data(params, uploads)


# --- the service list FixMyStreet builds its categories from -----------------------------------


def test_the_service_list_reads_as_populate_service_list_expects(client):
    """Open311/PopulateServiceList.pm: ``$list->{service}`` (line 77), a plain ``service_code``
    (line 91), ``metadata`` 'true' to fetch the definition (lines 167-168), its ``attributes``
    an array (line 239) whose ``values`` FixMyStreet offers as choices, ``group`` a list (line 369)."""
    services = xml_simple(client.get(f"{BASE}/services.xml?jurisdiction_id={JURISDICTION}").data)["service"]
    litter = next(s for s in services if s["service_code"] == "06010")
    assert litter["metadata"].lower() == "true" and litter["group"] == ["事件"]
    definition = xml_simple(client.get(f"{BASE}/services/06010.xml?jurisdiction_id={JURISDICTION}").data)
    attributes = definition["attributes"]
    assert isinstance(attributes, list) and [a["code"] for a in attributes] == ["crs", "accuracy"]
    assert [v["key"] for v in attributes[0]["values"]] == ["wgs84", "gcj02", "bd09"]
    assert attributes[1]["values"] is None  # SuppressEmpty: an empty <values/> is undef, no choices


# --- reports ---------------------------------------------------------------------------------


def test_a_report_with_every_attribute_blank_is_filed(client, key):
    request_id = filed_id(send_service_request(client, key))
    report = report_of(request_id)
    assert report.channel == "open311" and report.input_crs in (None, "wgs84") and report.accuracy_m is None
    assert report.description.startswith(
        "路边垃圾堆放\r\n\r\n菜场门口"
    )  # line ends as HTTP::Request::Common sends them
    assert report.description.endswith("/report/17")  # trimmed
    assert report.contact == "Li Lei / li.lei@example.cn"  # kept private, as before
    shown = xml_simple(client.get(f"{BASE}/requests/{request_id}.xml").data)["request"][0]
    assert shown["status"] == "open" and shown["service_code"] == "06010"


def test_blank_optional_arguments_are_absent(client, key):
    """``lat=&long=`` with an address, ``media_url=``, ``phone=``, ``account_id=``, a blank
    ``attribute[…][]``: each as if not sent; and blank filters on GET."""
    request_id = filed_id(
        send_service_request(
            client,
            key,
            lat="",
            long="",
            address_string="古南街道长乐社区菜场门口",  # line 193, a problem not pinned on the map
            media_url="",
            phone="",
            account_id="",
            device_id="",
            **{"attribute[crs][]": "", "attribute[unknown]": ""},
        )
    )
    report = report_of(request_id)
    assert report.community_code == "500110001001" and report.location_source == "manual"
    assert xml_simple(client.get(f"{BASE}/requests/{request_id}.xml").data)["request"][0]["media_url"] is None
    blank = "start_date=&end_date=&status=&service_code=&service_request_id=&jurisdiction_id="
    for fmt in ("json", "xml"):
        response = client.get(f"{BASE}/requests.{fmt}?{blank}")
        assert response.status_code == 200, response.data.decode()
        updates = client.get(f"{BASE}/servicerequestupdates.{fmt}?start_date=&end_date=&api_key=&jurisdiction_id=")
        assert updates.status_code == 200, updates.data.decode()
    assert [r["service_request_id"] for r in client.get(f"{BASE}/requests.json?{blank}").get_json()] == [request_id]


def test_a_blank_crs_on_our_own_api_is_wgs84(client, key):
    for fields in ({"crs": ""}, {"crs": " "}):
        response = post_report(
            client, [photo_bytes(gps=INSIDE)], category="06010", lat=INSIDE[0], lon=INSIDE[1], **fields
        )
        assert response.status_code == 201, response.get_json()
        assert report_of(response.get_json()["id"]).input_crs in (None, "wgs84")
    upload = client.post(
        "/api/v1/media",
        data={"photo": (io.BytesIO(photo_bytes(gps=INSIDE)), "p.jpg")},
        content_type="multipart/form-data",
    )
    media_id = upload.get_json()["id"]
    body = {"category": "06010", "lat": INSIDE[0], "lon": INSIDE[1], "crs": "", "media_ids": [media_id]}
    response = client.post("/api/v1/reports", json=body)
    assert response.status_code == 201, response.get_json()


def test_photo1_and_photo2_take_the_upload_pipeline(client, key, storage):
    """``upload_files`` (Open311.pm lines 227-286): photo1, photo2 … as multipart parts."""
    first, second = photo_bytes((1600, 1200), gps=INSIDE), photo_bytes(color=(20, 90, 160))
    uploads = {
        "photo1": ("17.0.full.jpeg", "image/jpeg", first),
        "photo2": ("17.1.full.jpeg", "image/jpeg", second),
    }
    request_id = filed_id(
        send_service_request(client, key, uploads=uploads, media_url="https://fms.example.cn/p/17.jpeg")
    )
    report = report_of(request_id)
    assert [m.kind for m in report.media] == ["evidence", "evidence"]
    assert [m.byte_size for m in report.media] == [len(first), len(second)]  # photo1 first
    shown = xml_simple(client.get(f"{BASE}/requests/{request_id}.xml").data)["request"][0]
    assert report.media[0].display_key in shown["media_url"] and "originals/" not in shown["media_url"]
    status, data = fetch(client, shown["media_url"])
    assert status == 200 and data != first  # a derivative: re-encoded, metadata gone

    broken = dict(uploads, photo2=("17.1.full.jpeg", "image/jpeg", b"not an image"))
    assert error_descriptions(send_service_request(client, key, uploads=broken), 400)[0].startswith(
        "unsupported_image_type"
    )
    many = {f"photo{i}": (f"17.{i}.full.jpeg", "image/jpeg", photo_bytes()) for i in range(1, 8)}
    assert error_descriptions(send_service_request(client, key, uploads=many), 400)[0].startswith("too_many_photos")
    assert len(db.session.scalars(select(Report)).all()) == 1


def test_a_posted_media_url_is_returned(client, key):
    """Without upload_files, FixMyStreet sends its photo's URL (lines 196-201)."""
    request_id = filed_id(send_service_request(client, key, media_url="https://fms.example.cn/photo/17.0.full.jpeg"))
    for fmt in ("xml", "json"):
        body = client.get(f"{BASE}/requests/{request_id}.{fmt}")
        shown = xml_simple(body.data)["request"][0] if fmt == "xml" else body.get_json()[0]
        assert shown["media_url"] == "https://fms.example.cn/photo/17.0.full.jpeg"


# --- updates: what FixMyStreet polls ---------------------------------------------------------


def _fms_states(client, key, request_id, extended_statuses=False):
    start = utcnow() - timedelta(hours=2)
    found = poll_updates(client, key, start, utcnow() + timedelta(seconds=1))
    return [
        (map_state(u["status"], extended_statuses), u["description"], u["media_url"])
        for u in found
        if u["service_request_id"] == request_id
    ]


def test_polling_follows_a_case_through_the_loop(client, key, loop):
    request_id = filed_id(send_service_request(client, key))
    assert _fms_states(client, key, request_id) == []  # filing is no update
    loop.ok(request_id, "supervisor", "accept")
    loop.ok(request_id, "supervisor", "dispatch")
    loop.ok(request_id, "own_staff", "claim")
    loop.ok(request_id, "own_staff", "resolve", media_ids=[loop.upload()], public_note="已清运")
    states = _fms_states(client, key, request_id)
    assert [s for s, _, _ in states] == ["investigating", "action scheduled", "in progress", "in progress"]
    assert states[0][1] == "已受理，等待派遣" and states[3][1] == "已处置，等待核查：已清运"
    posted_update_id(post_service_request_update(client, key, request_id))  # a note on the way moves nothing
    shown = xml_simple(client.get(f"{BASE}/requests/{request_id}.xml").data)["request"][0]
    assert shown["status_notes"] == "已处置，等待核查：已清运"
    after = db.session.scalar(select(Media).where(Media.kind == "after"))
    assert after.display_key in states[3][2] and states[0][2] is None  # the unit's after photo, public derivative
    loop.ok(request_id, "monitor", "verify_pass")
    loop.ok(request_id, "supervisor", "close")
    for extended in (False, True):
        assert [s for s, _, _ in _fms_states(client, key, request_id, extended)][-2:] == ["fixed - council"] * 2
    update_ids = [
        u["update_id"]
        for u in poll_updates(client, key, utcnow() - timedelta(hours=2), utcnow() + timedelta(seconds=1))
    ]
    assert len(update_ids) == len(set(update_ids)) == 6  # stable ids: FixMyStreet skips those it has


def test_a_rejected_case_never_shows_as_fixed(client, key, loop):
    request_id = filed_id(send_service_request(client, key))
    loop.ok(
        request_id, "supervisor", "reject", note="举报人多次恶意投诉", public_note="不属于城市管理范围，请拨打 12345"
    )
    for extended in (False, True):
        [(state, description, _)] = _fms_states(client, key, request_id, extended)
        assert state == "unable to fix" and state not in FMS_FIXED
        assert description == "不予受理：不属于城市管理范围，请拨打 12345"
    shown = xml_simple(client.get(f"{BASE}/requests/{request_id}.xml").data)["request"][0]
    assert shown["status"] == "closed" and shown["status_notes"] == "不予受理：不属于城市管理范围，请拨打 12345"
    for fmt in ("json", "xml"):
        for path in (f"requests/{request_id}", "requests", "servicerequestupdates"):
            assert "恶意投诉" not in client.get(f"{BASE}/{path}.{fmt}").data.decode()  # the staff note stays inside


def test_the_poll_window_and_the_key_narrow_the_updates(client, key, loop):
    ours = filed_id(send_service_request(client, key))
    theirs = loop.new_report()  # filed on the phone, not by FixMyStreet
    for request_id in (ours, theirs):
        loop.ok(request_id, "supervisor", "accept")
    assert {
        u["service_request_id"]
        for u in poll_updates(client, key, utcnow() - timedelta(hours=2), utcnow() + timedelta(seconds=1))
    } == {ours}
    everyone = xml_simple(client.get(f"{BASE}/servicerequestupdates.xml").data)["request_update"]
    assert {u["service_request_id"] for u in everyone} == {ours, theirs}  # no key: every public update of the day
    earlier = poll_updates(client, key, utcnow() - timedelta(hours=4), utcnow() - timedelta(hours=2))
    assert earlier == []
    wrong = client.get(f"{BASE}/servicerequestupdates.xml?api_key=not-a-key")
    assert "invalid_api_key" in error_descriptions(wrong, 403)[0]
    too_long = client.get(
        f"{BASE}/servicerequestupdates.xml?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z"
    )
    assert "date_range_too_long" in error_descriptions(too_long, 400)[0]


def test_empty_answers_are_valid_in_both_formats(client, key):
    for path in ("servicerequestupdates", "requests"):
        assert client.get(f"{BASE}/{path}.json").get_json() == []
        document = parse(
            client.get(f"{BASE}/{path}.xml"), "service_request_updates" if "updates" in path else "service_requests"
        )
        assert len(document) == 0
    assert xml_simple(client.get(f"{BASE}/servicerequestupdates.xml").data) is None  # XML::Simple: undef, no updates


# --- the status mapping ----------------------------------------------------------------------


@pytest.mark.parametrize("state", STATUSES)
def test_each_state_maps_onto_a_fixmystreet_state(state):
    for extended in (False, True):
        fms = map_state(UPDATE_STATUSES[state], extended)
        assert fms in FMS_OPEN | FMS_CLOSED | FMS_FIXED
        if state in ("rejected", "duplicate"):
            assert fms not in FMS_FIXED and fms in FMS_CLOSED
        elif state in OPEN_STATES and state != "verified":
            assert fms in FMS_OPEN  # still being handled: open in FixMyStreet too
        else:
            assert state in CLOSED_STATES | {"verified"} and fms in FMS_FIXED


# --- comments FixMyStreet posts --------------------------------------------------------------


def test_a_posted_comment_becomes_a_staff_note(client, key, loop):
    request_id = filed_id(send_service_request(client, key))
    update_id = posted_update_id(post_service_request_update(client, key, request_id))
    event = db.session.get(ReportEvent, int(update_id))
    assert event.action == "citizen_comment" and event.note == "还是没有清理，气味越来越大"
    assert event.data["update_id"] == "4711" and event.data["status"] == "OPEN"
    assert report_of(request_id).status == "submitted"  # a comment moves nothing
    kept = f"{event.note}{event.data}"
    assert all(part not in kept for part in CONTACT)  # names and e-mail are not kept
    again = post_service_request_update(client, key, request_id)  # FixMyStreet retries a failed send
    assert posted_update_id(again) == update_id
    assert len([e for e in report_of(request_id).events if e.action == "citizen_comment"]) == 1
    staff = client.get(f"/api/v1/reports/{request_id}/events", headers=loop.people["supervisor"]).get_json()
    assert any(e.get("note") == "还是没有清理，气味越来越大" for e in staff["events"])
    for fmt in ("json", "xml"):
        for path in (f"requests/{request_id}", "requests", "servicerequestupdates"):
            public = client.get(f"{BASE}/{path}.{fmt}").data.decode()
            assert "气味越来越大" not in public and all(part not in public for part in CONTACT)


def test_a_comment_with_photos_joins_the_evidence(client, key):
    request_id = filed_id(send_service_request(client, key))
    photo = photo_bytes(color=(200, 60, 60))
    uploads = {"photo1": ("4712.0.full.jpeg", "image/jpeg", photo)}
    response = post_service_request_update(
        client, key, request_id, uploads=uploads, update_id="4712", media_url="https://fms.example.cn/c/4712.jpeg"
    )
    update_id = posted_update_id(response)
    [media] = report_of(request_id).media
    assert media.kind == "evidence" and media.event_id == int(update_id) and media.byte_size == len(photo)
    shown = xml_simple(client.get(f"{BASE}/requests/{request_id}.xml").data)["request"][0]
    assert media.display_key in shown["media_url"] and "originals/" not in shown["media_url"]


def test_bad_comments_are_refused_in_the_spec_shape(client, key):
    request_id = filed_id(send_service_request(client, key))
    unknown = post_service_request_update(client, key, "QJ19990101-0001")
    assert "report_not_found" in error_descriptions(unknown, 404)[0]
    keyless = post_service_request_update(client, "", request_id)
    assert "api_key_required" in error_descriptions(keyless, 403)[0]
    empty = post_service_request_update(client, key, request_id, description="", update_id="4713")
    assert "empty_update" in error_descriptions(empty, 400)[0]
    json_answer = client.post(
        f"{BASE}/servicerequestupdates.json",
        data=post_form(update_params(key, request_id, update_id="4714")),
        content_type="application/x-www-form-urlencoded",
    )
    assert json_answer.status_code == 201 and list(json_answer.get_json()[0]) == ["update_id"]


# --- the spec's smaller points ---------------------------------------------------------------


def test_a_description_of_4000_characters(client, key):
    text = "井" * 4000
    request_id = filed_id(send_service_request(client, key, description=text))
    assert report_of(request_id).description == text
    too_long = send_service_request(client, key, description=text + "井")
    assert error_descriptions(too_long, 400)[0].startswith("validation_failed: description:")


def test_an_unknown_service_code_is_404(client, key):
    refused = send_service_request(client, key, service_code="99999")
    assert error_descriptions(refused, 404)[0].startswith("service_not_found")
    assert db.session.scalar(select(Report)) is None


def test_a_batch_of_more_than_1000_ids_answers_the_first_1000(client, key):
    first, last = filed_id(send_service_request(client, key)), filed_id(send_service_request(client, key))
    ids = [first] + [f"QJ20260101-{n:04d}" for n in range(999)] + [last]
    for fmt in ("json", "xml"):
        response = client.get(f"{BASE}/requests.{fmt}?service_request_id={','.join(ids)}")
        assert response.status_code == 200, response.data.decode()[:200]
        found = response.get_json() if fmt == "json" else xml_simple(response.data)["request"]
        assert [r["service_request_id"] for r in found] == [first]  # the 1001st id is not read


def test_address_id_alone_is_a_grid_cell_or_a_community(client, key):
    cell = db.session.scalars(select(GridCellArea).order_by(GridCellArea.code)).first()
    request_id = filed_id(send_service_request(client, key, lat=None, long=None, address_id=cell.code))
    report = report_of(request_id)
    assert report.grid_code == cell.code and report.location_source == "manual"
    by_community = filed_id(send_service_request(client, key, lat=None, long=None, address_id=cell.community_code))
    assert report_of(by_community).community_code == cell.community_code
    pinpointed = send_service_request(client, key, lat=None, long=None, address_id="#NOTPINPOINTED#")  # line 191
    assert error_descriptions(pinpointed, 400)[0].startswith("address_id_not_found")


def test_address_string_naming_a_street_or_nothing_we_know(client, key):
    request_id = filed_id(send_service_request(client, key, lat=None, long=None, address_string="古南街道沿河路 12 号"))
    report = report_of(request_id)
    assert report.street_code == "500110001" and report.accuracy_m > 100
    unknown = send_service_request(client, key, lat=None, long=None, address_string="SW1A 1AA")
    [message] = error_descriptions(unknown, 400)
    assert message.startswith("address_not_located") and "社区或街道" in message
