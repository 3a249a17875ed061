"""What every request must pass before any view (or other hook) works on its body.

A request may make the app work only in proportion to what it is allowed to send: a body
that is not a photo upload is capped at ``MAX_JSON_BYTES`` (photos keep ``MAX_REQUEST_BYTES``),
JSON nested deeper than ``MAX_JSON_DEPTH`` is refused before Python's recursive parser sees it
(it raised RecursionError, a 500, on every route), and no string may hold U+0000 or a lone surrogate.
"""

import json
import re

from flask import current_app, request
from flask.json.provider import DefaultJSONProvider

from civicreport import registry
from civicreport.errors import BadRequest, PayloadTooLarge

MAX_JSON_DEPTH = 32
# A JSON string (possibly unterminated: the parser reports that) or a bracket. Strings are
# consumed whole so brackets inside them do not count; the pattern cannot backtrack.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)


def init_app(app):
    """Install the depth-checking JSON parser and the body guards, ahead of every other hook."""
    app.json = DepthLimitedJSON(app)
    app.before_request(cap_body)
    app.before_request(refuse_unstorable_text)


class DepthLimitedJSON(DefaultJSONProvider):
    """Flask's JSON provider, refusing too-deep documents with 400 ``json_too_deep`` first."""

    def loads(self, s, **kwargs):
        text = s.decode(json.detect_encoding(s), "surrogatepass") if isinstance(s, (bytes, bytearray)) else s
        if _depth_exceeds(text, MAX_JSON_DEPTH):
            raise BadRequest(
                f"JSON 嵌套不能超过 {MAX_JSON_DEPTH} 层", code="json_too_deep", details={"max_depth": MAX_JSON_DEPTH}
            )
        return super().loads(text, **kwargs)


def _depth_exceeds(text, limit):
    """Whether brackets outside strings nest deeper than ``limit``, counted in one flat pass."""
    depth = 0
    for token in _STRING_OR_BRACKET.finditer(text):
        mark = token.group()
        if mark in "[{":
            depth += 1
            if depth > limit:
                return True
        elif mark in "]}":
            depth -= 1
    return False


def takes_photos(view):
    """Mark a view whose multipart body carries photos: it alone keeps ``MAX_REQUEST_BYTES``.
    Put it next to ``def``: the decorators above copy the mark with ``functools.wraps``."""
    view.takes_photos = True
    return view


def cap_body():
    """``before_request``: 413 for a body over ``MAX_JSON_BYTES``, unless it is the multipart
    body of a view that takes photos (any other route parsed a 95 MiB form before refusing it).

    A declared length is refused at once; a chunked body is cut off at the same size by
    Werkzeug when it is read (``request.max_content_length`` applies to this request only).
    """
    view = current_app.view_functions.get(request.endpoint)
    if request.mimetype == "multipart/form-data" and getattr(view, "takes_photos", False):
        return
    limit = registry.settings().MAX_JSON_BYTES
    if (request.content_length or 0) > limit:
        raise PayloadTooLarge("请求体过大", details={"max_bytes": limit})
    request.max_content_length = limit


def refuse_unstorable_text():
    """``before_request``: 400 when the path, query, headers, form or a JSON string holds what
    PostgreSQL can neither store nor compare (it failed as a 500): U+0000 (``nul_character``),
    or a lone surrogate that JSON's ``\\ud800`` escapes make and UTF-8 cannot encode
    (``invalid_unicode``)."""
    parts = [request.path, request.args.to_dict(flat=False), dict(request.headers)]
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        parts.append(request.form.to_dict(flat=False))
    if request.is_json:
        parts.append(request.get_json(silent=True))
    bad = _first_unstorable(parts)
    if bad == "nul":
        raise BadRequest("请求中不能含有空字符（U+0000）", code="nul_character")
    if bad == "surrogate":
        raise BadRequest("请求中含有无效的 Unicode 字符（单独的代理项）", code="invalid_unicode")


def _first_unstorable(value):
    """ "nul" or "surrogate" for the first string in ``value`` (dicts and lists, keys included)
    that holds U+0000 or cannot be encoded as UTF-8; None when all are fine. Walked with a
    stack, not recursion, so no document is too deep for it."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "nul"
            if not item.isascii() and not _encodes(item):
                return "surrogate"
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


def _encodes(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
