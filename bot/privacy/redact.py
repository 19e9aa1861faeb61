"""Taking contact details out of free text before it leaves the database.

People write phone numbers, e-mail addresses and @handles into answers ("call me on
06-12345678"). Exports and reports never contain them: each is replaced by `[…]`. Names
cannot be found reliably and are not touched; dates such as 12-05-2026 are kept.
"""

from __future__ import annotations

import re

MARK = "[…]"
MIN_DIGITS = 7

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}\b")
# A run of digits with the separators people type in phone numbers.
_NUMBER = re.compile(r"(?<![\w])\+?\(?\d[\d\s().\-/]*\d(?![\w])")
_DATE = re.compile(r"^(\d{1,2}[-./]\d{1,2}[-./]\d{2,4}|\d{4}[-./]\d{1,2}[-./]\d{1,2})$")


def _number(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = sum(ch.isdigit() for ch in text)
    if digits < MIN_DIGITS or _DATE.match(text.strip()):
        return text
    return MARK


def redact(text: str) -> str:
    """`text` without phone-like numbers (7 or more digits), e-mail addresses or @handles."""
    if not text:
        return text
    text = _EMAIL.sub(MARK, text)
    text = _HANDLE.sub(MARK, text)
    return _NUMBER.sub(_number, text)
