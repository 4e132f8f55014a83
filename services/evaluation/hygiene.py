"""Query hygiene: what may never reach a grader or a model.

Queries carrying personal data (emails, phone numbers, card-like digit runs, long id runs)
are dropped, not redacted: a redacted query no longer says what the user searched for, so
judging it would measure nothing. Empty and garbage queries are excluded too. Each decision
has a reason, so the evaluation can count what was dropped and why.
"""
from __future__ import annotations

import re

PII_EMAIL = "email"
PII_PHONE = "phone"
PII_CARD = "card"
PII_ID = "id_run"
GARBAGE = "garbage"
EMPTY = "empty"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", re.UNICODE)
# digits with optional separators (space, dash, dot, parentheses), possibly a leading +
_DIGIT_RUN = re.compile(r"\+?\(?\d[\d\s().-]{6,}\d")
_LONG_ID = re.compile(r"\b(?=[a-z0-9_-]*\d)(?=[a-z0-9_-]*[a-z])[a-z0-9_-]{16,}\b|\b[0-9a-f]{24,}\b")
_MAX_LEN = 200


def _luhn(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = ord(ch) - 48
        if i % 2 == parity:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def pii_kind(query: str) -> str | None:
    """The kind of personal data a query carries, or None.

    >>> pii_kind("contact ana.perez@example.com"), pii_kind("call +52 55 1234 5678")
    ('email', 'phone')
    >>> pii_kind("4111 1111 1111 1111"), pii_kind("order 8f3a9c2e7b1d4f6a9c0e"), pii_kind("iphone 15 pro")
    ('card', 'id_run', None)
    """
    if _EMAIL.search(query):
        return PII_EMAIL
    for m in _DIGIT_RUN.finditer(query):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and _luhn(digits):
            return PII_CARD
        if 9 <= len(digits) <= 15:
            return PII_PHONE
        if len(digits) > 15:
            return PII_ID
    if _LONG_ID.search(query.casefold()):
        return PII_ID
    return None


def garbage_kind(query: str) -> str | None:
    """``empty`` or ``garbage`` (no letters or digits, too long, one character repeated), or None.

    >>> garbage_kind("   "), garbage_kind("?!?!"), garbage_kind("aaaaaaaaaa"), garbage_kind("カメラ 防水")
    ('empty', 'garbage', 'garbage', None)
    """
    text = query.strip()
    if not text:
        return EMPTY
    if len(text) > _MAX_LEN or not any(ch.isalnum() for ch in text):
        return GARBAGE
    squeezed = text.replace(" ", "")
    if len(squeezed) >= 6 and len(set(squeezed)) == 1:
        return GARBAGE
    return None


def rejection(query: str) -> str | None:
    """Why a query must not be judged (a PII kind, ``empty`` or ``garbage``), or None."""
    return garbage_kind(query) or pii_kind(query)
