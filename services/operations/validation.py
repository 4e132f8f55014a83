"""Shared input rules of OperationsService: ids, names, locales."""
from __future__ import annotations

import hashlib
import re
import uuid

from services.aip import MAX_KEYWORD, check_keyword
from services.core.errors import FieldViolation, InvalidArgument, Violations

LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
MAX_LOCALE = 35
MAX_NAME = 200
MAX_PAGE = 500


def new_id(kind: str, request_id: str) -> str:
    """A deterministic id from the request id (retries find the same resource), else random.

    >>> new_id("g", "r1") == new_id("g", "r1")
    True
    """
    check_keyword(request_id, "request_id")
    if request_id:
        return f"{kind}-{hashlib.sha256(request_id.encode()).hexdigest()[:16]}"
    return f"{kind}-{uuid.uuid4().hex[:16]}"


def check_locales(v: Violations, locales: list[str], field: str, required: bool = True) -> None:
    if required:
        v.check(bool(locales), field, "at least one BCP-47 locale, e.g. es-MX")
    for i, loc in enumerate(locales):
        v.check(len(loc) <= MAX_LOCALE and bool(LOCALE.match(loc)), f"{field}[{i}]",
                f"{loc[:MAX_LOCALE]!r} is not a BCP-47 locale like es-MX")


def check_terms(v: Violations, values: list[str], field: str) -> None:
    """Values kept as exact terms (skills, owner teams): each non-empty and at most 256 characters."""
    for i, value in enumerate(values):
        v.check(bool(value.strip()) and len(value) <= MAX_KEYWORD, f"{field}[{i}]",
                f"1 to {MAX_KEYWORD} characters, not blank")


def check_name(v: Violations, name: str, field: str) -> None:
    v.check(bool(name.strip()), field, "required")
    v.check(len(name) <= MAX_NAME, field, f"at most {MAX_NAME} characters")


def page_size(v: int) -> int:
    if v < 0:
        raise InvalidArgument(FieldViolation("page_size", "must not be negative"))
    return min(v or 50, MAX_PAGE)
