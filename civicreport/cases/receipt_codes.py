"""Short receipt codes (查询码): 8 characters a person can write down or read aloud to a hotline.

The 43-character receipt token stays the app's secret; the code is for people. It is valid only
together with its case number, derived like the token from the submission's nonce (so a retry
with the same Idempotency-Key gets the same code) and stored only as a salted scrypt hash. Its
alphabet leaves out 0/O and 1/I/L, which are misread and misheard.

About 40 bits cannot be guessed through the API: each attempt is counted (abuse.throttle) on
the case and on the client address before the code is compared. A case locked by a guesser
still answers its owner's long token; only the short code waits out the lock.
"""

import hashlib
import hmac
import re

from sqlalchemy import select

from civicreport import registry
from civicreport.abuse import throttle
from civicreport.cases.models import Report
from civicreport.cases.reporter_models import ReceiptCode
from civicreport.extensions import db

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 8
SCRYPT = {"n": 2**13, "r": 8, "p": 1, "dklen": 32}  # ~20 ms: cheap per lookup, dear per offline guess
_SEPARATORS = re.compile(r"[\s\-_.·]")


def code_for(nonce, public_id):
    """The code of the submission ``nonce`` made ``public_id``: recomputable, never stored in clear."""
    key = registry.settings().SECRET_KEY.encode()
    digest = hmac.new(key, f"receipt-code:{nonce}:{public_id}".encode(), hashlib.sha256).digest()
    number, chars = int.from_bytes(digest, "big"), []
    for _ in range(LENGTH):
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    return "".join(chars)


def issue(report, code):
    """Keep ``code``'s hash for ``report`` (flushed, so it has an id) in the caller's transaction."""
    db.session.add(ReceiptCode(report_id=report.id, code_hash=_hash(code, report.public_id)))


def normalise(text):
    """What a person typed, as issued: upper case, without spaces or dashes ("abcd-efgh" works)."""
    return _SEPARATORS.sub("", text or "").upper()


def report_for_code(public_id, code, address):
    """The report ``public_id`` when ``code`` is its receipt code, else None (an unknown case and a
    wrong code are alike). Counted per address always and per case when the case has a code;
    429 ``too_many_attempts`` while either is locked, before anything is compared."""
    row = db.session.execute(
        select(Report, ReceiptCode.code_hash)
        .join(ReceiptCode, ReceiptCode.report_id == Report.id)
        .where(Report.public_id == public_id)
    ).first()
    held = throttle.reserve(
        throttle.keys(**{throttle.CODE_ADDRESS: throttle.address_key(address), throttle.CODE_CASE: row and public_id})
    )
    if row is None or not hmac.compare_digest(row.code_hash, _hash(normalise(code), public_id)):
        return None
    throttle.succeeded(held)
    return row.Report


def forget(report_id):
    """Retention: the code goes with the rest of the reporter's data."""
    db.session.execute(ReceiptCode.__table__.delete().where(ReceiptCode.report_id == report_id))


def _hash(code, public_id):
    digest = hashlib.scrypt(code.encode(), salt=f"civicreport-receipt-code:{public_id}".encode(), **SCRYPT)
    return "scrypt$" + digest.hex()
