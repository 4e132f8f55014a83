"""The clock and how qrelay stores a time (ISO-8601 with milliseconds and offset, UTC)."""
from __future__ import annotations

import datetime as dt


def now() -> dt.datetime:
    """The current time, timezone-aware (UTC)."""
    return dt.datetime.now(dt.timezone.utc)


def iso(t: dt.datetime) -> str:
    """How qrelay stores a time.

    >>> iso(dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.timezone.utc))
    '2024-06-01T12:00:00.000+00:00'
    """
    return t.isoformat(timespec="milliseconds")


def now_iso() -> str:
    return iso(now())


def parse_time(value: str) -> dt.datetime:
    """A stored ISO-8601 time (``Z`` or offset) as an aware datetime.

    >>> parse_time("2024-06-01T12:00:00Z").isoformat()
    '2024-06-01T12:00:00+00:00'
    """
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
