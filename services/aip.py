"""The API conventions every servicer shares (Google AIP style): resource names, page tokens,
and stored times sent as protobuf Timestamps (how times are stored: ``services.core.clock``)."""
from __future__ import annotations

import base64
import json

from google.protobuf import timestamp_pb2

from services.core.clock import parse_time
from services.core.errors import FieldViolation, InvalidArgument


def id_of(name: str, collection: str, field: str = "name") -> str:
    """The id in ``collection/{id}``; INVALID_ARGUMENT naming ``field`` otherwise.

    >>> id_of("evaluations/abc", "evaluations")
    'abc'
    """
    prefix, _, ident = name.partition("/")
    if prefix != collection or not ident or "/" in ident:
        raise InvalidArgument(FieldViolation(field, f"must look like {collection}/{{id}}, got {name!r}"))
    return ident


def page_token(after: list | None) -> str:
    """An opaque token for the next page: the sort key of the last hit (empty: no more pages)."""
    return base64.urlsafe_b64encode(json.dumps(after).encode()).decode() if after else ""


def page_after(token: str, field: str = "page_token") -> list | None:
    """The sort key a :func:`page_token` carries; INVALID_ARGUMENT for a token we did not issue."""
    if not token:
        return None
    try:
        after = json.loads(base64.urlsafe_b64decode(token.encode()))
        if isinstance(after, list):
            return after
    except ValueError:
        pass
    raise InvalidArgument(FieldViolation(field, "is not a page token this server issued"))


def timestamp(value: str | None) -> timestamp_pb2.Timestamp | None:
    """A stored ISO-8601 time as a protobuf Timestamp (None when absent)."""
    if not value:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(parse_time(value))
    return ts
