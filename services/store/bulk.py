"""One bulk write with per-item results: the store modules' streaming bulk, retried on 429, that
never raises for an item — it returns the items that failed, for the caller to decide."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from elasticsearch import Elasticsearch, helpers


def write(es: Elasticsearch, actions: Iterable[dict[str, Any]], chunk_size: int = 500, refresh: bool | str = False,
          existing_ok: bool = False) -> tuple[int, list[dict]]:
    """``(written, per-item errors)``; with ``existing_ok`` a create that found its document
    already there (409) is neither written nor an error."""
    ok, errors = 0, []
    for success, info in helpers.streaming_bulk(es, actions, chunk_size=chunk_size, raise_on_error=False,
                                                raise_on_exception=False, max_retries=3, refresh=refresh):
        if success:
            ok += 1
        elif not (existing_ok and next(iter(info.values())).get("status") == 409):
            errors.append(info)
    return ok, errors
