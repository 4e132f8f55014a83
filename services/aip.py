"""The API conventions every servicer shares (Google AIP style): resource names, page tokens,
and stored times sent as protobuf Timestamps (how times are stored: ``services.core.clock``)."""
from __future__ import annotations

import base64
import json

from google.protobuf import timestamp_pb2

from services.core.clock import parse_time
from services.core.errors import FieldViolation, InvalidArgument


MAX_ID = 512  # longer than any id qrelay issues (and Elasticsearch refuses terms past 32 KB)
MAX_KEYWORD = 256


def id_of(name: str, collection: str, field: str = "name") -> str:
    """The id in ``collection/{id}``; INVALID_ARGUMENT naming ``field`` otherwise.

    >>> id_of("evaluations/abc", "evaluations")
    'abc'
    """
    prefix, _, ident = name.partition("/")
    if prefix != collection or not ident or "/" in ident:
        raise InvalidArgument(FieldViolation(field, f"must look like {collection}/{{id}}, got {name!r}"))
    if len(ident) > MAX_ID:
        raise InvalidArgument(FieldViolation(field, f"is longer than any {collection} id ({len(ident)} characters)"))
    return ident


def check_keyword(value: str, field: str, limit: int = MAX_KEYWORD) -> str:
    """A value stored or searched as an exact term (team, skill, request id): at most ``limit`` characters.

    >>> check_keyword("search-mx", "owner_team")
    'search-mx'
    """
    if len(value) > limit:
        raise InvalidArgument(FieldViolation(field, f"at most {limit} characters, got {len(value)}"))
    return value


def page_token(after: list | None) -> str:
    """An opaque token for the next page: the sort key of the last hit (empty: no more pages)."""
    return base64.urlsafe_b64encode(json.dumps(after).encode()).decode() if after else ""


def page_after(token: str, field: str = "page_token") -> list | None:
    """The sort key a :func:`page_token` carries; INVALID_ARGUMENT for a token we did not issue."""
    if not token:
        return None
    try:
        after = json.loads(base64.urlsafe_b64decode(token.encode()))
        if isinstance(after, list) and 0 < len(after) <= 8 and all(
                isinstance(v, (str, int, float, bool)) and len(str(v)) <= MAX_ID for v in after):
            return after
    except (ValueError, RecursionError):
        pass
    raise InvalidArgument(FieldViolation(field, "is not a page token this server issued"))


def timestamp(value: str | None) -> timestamp_pb2.Timestamp | None:
    """A stored ISO-8601 time as a protobuf Timestamp (None when absent)."""
    if not value:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(parse_time(value))
    return ts


def enum_name(enum, value: int, field: str) -> str:
    """The name of a known value of a protobuf enum; INVALID_ARGUMENT naming ``field`` for a number
    the contract does not define (proto3 enums are open: any int32 arrives).

    >>> from services._proto.qrelay.v1 import operations_pb2
    >>> enum_name(operations_pb2.ActiveStatus, 2, "status")
    'SUSPENDED'
    >>> enum_name(operations_pb2.ActiveStatus, 14, "status")
    Traceback (most recent call last):
    ...
    services.core.errors.InvalidArgument: status: 14 is not a ActiveStatus (one of ACTIVE_STATUS_UNSPECIFIED, ACTIVE, SUSPENDED)
    """
    try:
        return enum.Name(value)
    except ValueError:
        raise InvalidArgument(FieldViolation(
            field, f"{value} is not a {enum.DESCRIPTOR.name} (one of {', '.join(enum.keys())})")) from None


def time_of(ts: timestamp_pb2.Timestamp, field: str):
    """A Timestamp as an aware datetime; INVALID_ARGUMENT for one outside 0001..9999 or with bad nanos."""
    import datetime as dt

    try:
        return ts.ToDatetime(dt.timezone.utc)
    except (ValueError, OverflowError):
        raise InvalidArgument(FieldViolation(field, "not a valid time (years 0001 to 9999)")) from None


def seconds_of(duration, field: str) -> float:
    """A Duration in seconds; INVALID_ARGUMENT for one protobuf considers invalid (±10,000 years, nanos)."""
    try:
        return duration.ToTimedelta().total_seconds()
    except (ValueError, OverflowError):
        raise InvalidArgument(FieldViolation(field, "not a valid duration")) from None
