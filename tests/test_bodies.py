"""Request bodies of photo size are read in one go and parsed in memory."""

import io

from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder

from civicreport.cases.models import Report
from civicreport.extensions import db
from civicreport.web.request_bodies import WHOLE_BODY_MAX, InMemoryUploads, WholeBody


def multipart(size):
    """(body bytes, content type) of a form with one file part of ``size`` bytes."""
    builder = EnvironBuilder(method="POST", data={"category": "06010", "photo": (io.BytesIO(b"\xff" * size), "a.jpg")})
    environ = builder.get_environ()
    return environ["wsgi.input"].read(), environ["CONTENT_TYPE"]


class CountingInput(io.BytesIO):
    def __init__(self, data):
        super().__init__(data)
        self.reads = 0

    def read(self, size=-1):
        self.reads += 1
        return super().read(size)

    def readinto(self, buffer):
        self.reads += 1
        return super().readinto(buffer)


def parse_through_middleware(size):
    """Send a form through WholeBody to an app that parses it; (reads of the socket, file stream type)."""
    body, content_type = multipart(size)
    source = CountingInput(body)
    seen = []

    def parsing_app(environ, start_response):
        request = InMemoryUploads(environ)
        seen.append((type(request.files["photo"].stream), request.form["category"]))
        start_response("204 No Content", [])
        return []

    environ = EnvironBuilder(
        method="POST", input_stream=source, content_type=content_type, content_length=len(body)
    ).get_environ()
    WholeBody(parsing_app)(environ, lambda *args: None)
    return source.reads, seen


def test_a_photo_sized_body_is_read_with_one_call_and_parsed_in_memory():
    reads, seen = parse_through_middleware(3 * 1024 * 1024)
    assert reads == 1
    assert seen == [(io.BytesIO, "06010")]  # no temporary file


def test_a_body_over_the_limit_streams_to_a_temporary_file():
    reads, seen = parse_through_middleware(WHOLE_BODY_MAX + 1)
    assert reads > 1
    assert seen[0][0] is not io.BytesIO and seen[0][1] == "06010"


def test_a_body_shorter_than_declared_is_a_clean_4xx(client, ctx):
    """The phone lost its link mid-upload: the truncated form stores nothing."""
    body, content_type = multipart(100_000)
    response = client.post(
        "/api/v1/reports",
        input_stream=io.BytesIO(body[: len(body) // 2]),
        content_type=content_type,
        headers={"Content-Length": str(len(body))},
    )
    assert response.status_code in (400, 422)
    assert set(response.get_json()["error"]) == {"code", "message", "details"}
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0
