"""Request logs without secrets: ``api_key`` and token-like query values become ``[redacted]``.

Open311 carries ``api_key`` in the query string by the spec, and links may carry tokens or
signatures; access logs keep whole request lines, referrers and query strings for months.
gunicorn (``ScrubbingLogger`` in gunicorn.conf.py) and the dev server (the werkzeug filter
``create_app`` installs) both pass what they log through ``scrub``. Plain Python: gunicorn's
master imports it without the app.
"""

import logging
import re
from urllib.parse import unquote_plus

REDACTED = "[redacted]"
_SECRET_NAME = re.compile(r"api[-_]?key|token|secret|password|signature", re.IGNORECASE)
# name=value inside a query string (also a Referer's, or the bare QUERY_STRING): a name stops
# at ? & ; = and whitespace or quotes, a value at & ; and whitespace or quotes.
_PARAMETER = re.compile(r"(?P<name>[^\s?&;=\"']+)=(?P<value>[^\s&;\"']*)")


def scrub(text):
    """``text`` with the value of every secret-named query parameter replaced by ``[redacted]``."""
    return _PARAMETER.sub(_redacted, text)


def _redacted(match):
    if not match.group("value") or not _SECRET_NAME.search(unquote_plus(match.group("name"))):
        return match.group()
    return f"{match.group('name')}={REDACTED}"


class ScrubbedRecords(logging.Filter):
    """Rewrites each record on its logger to its scrubbed text (werkzeug's request log)."""

    def filter(self, record):
        record.msg, record.args = scrub(record.getMessage()), ()
        return True


_WERKZEUG_FILTER = ScrubbedRecords()


def scrub_werkzeug_log():
    """Scrub the dev server's request lines; installing it again changes nothing."""
    logging.getLogger("werkzeug").addFilter(_WERKZEUG_FILTER)
