"""The one masking function: phone numbers and e-mail addresses out of what the public reads.

Citizens type numbers as they say them: 138 1234 5678, 138-1234-5678, +86 138…, 0086…,
023-6712 3456, （023）67123456, 400-123-4567, or in fullwidth digits from a Chinese keyboard.
Matching runs on a copy with fullwidth digits and signs made ASCII (one character for one, so
spans line up) and the original text keeps everything that is not a number.
"""

import re

MASK = "【已隐藏】"

_HALFWIDTH = str.maketrans("０１２３４５６７８９＋－（）　．", "0123456789+-() .")
_GAP = r"[ \t\-‐‑–—.]{0,3}"  # what people put between digit groups
_PREFIX = rf"(?:(?:\+|00)86{_GAP})"
_PATTERNS = (
    rf"{_PREFIX}?1[3-9]\d(?:{_GAP}\d){{8}}",  # a mobile, grouped any way
    rf"(?:{_PREFIX}\(?0?|\(?0)\d{{2,3}}\)?{_GAP}\d{{3,4}}{_GAP}\d{{4}}",  # a landline with its area code
    rf"[48]00{_GAP}\d{{3}}{_GAP}\d{{4}}",  # 400 and 800 service numbers
    r"\d{7,}",  # any other long run of digits: a local number, an ID card
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+",  # an e-mail address (ASCII: \w takes in 汉字)
)
_NUMBER = re.compile(rf"(?<!\d)(?:{'|'.join(_PATTERNS)})(?!\d)")


def mask_personal(text, *known):
    """``text`` with every phone number and e-mail address, and each of ``known`` (the reporter's
    contact as given), replaced by ``MASK``."""
    if not text:
        return text or ""
    spans = [match.span() for match in _NUMBER.finditer(text.translate(_HALFWIDTH))]
    for value in filter(None, (k.strip() for k in known if k)):
        spans += [(m.start(), m.end()) for m in re.finditer(re.escape(value), text)]
    return _replace(text, spans)


def _replace(text, spans):
    parts, end = [], 0
    for start, stop in sorted(spans):
        if start >= end:
            parts += [text[end:start], MASK]
        end = max(end, stop)
    return "".join(parts) + text[end:]
