"""Reading request bodies of photo size in one go.

gunicorn hands the body to the multipart parser 64 KiB at a time, and each of those reads
copies everything it has buffered (up to 1 MiB): a quarter of a worker's CPU went there
for 8 MP uploads. Werkzeug then spooled every file part over 500 KiB to a temporary file,
which the app read straight back into memory. Bodies up to ``WHOLE_BODY_MAX`` are read
with one call and parsed in memory; larger ones stream as before, so a worker's memory
stays bounded (MAX_REQUEST_BYTES may allow many photos at once).
"""

import io

from flask import Request

WHOLE_BODY_MAX = 16 * 1024 * 1024
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class WholeBody:
    """WSGI middleware: replace ``wsgi.input`` by the whole body when its declared length is
    at most ``WHOLE_BODY_MAX``. A client that sends less leaves a short body, which the
    parser reports as it would a disconnect."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        length = _declared_length(environ)
        if environ.get("REQUEST_METHOD") in _BODY_METHODS and 0 < length <= WHOLE_BODY_MAX:
            environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length))
        return self.wsgi_app(environ, start_response)


def _declared_length(environ):
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # werkzeug answers a malformed length itself


class InMemoryUploads(Request):
    """File parts of a body up to ``WHOLE_BODY_MAX`` stay in memory instead of temp files."""

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        if total_content_length is not None and total_content_length <= WHOLE_BODY_MAX:
            return io.BytesIO()
        return super()._get_file_stream(total_content_length, content_type, filename, content_length)
