"""Streaming reads: a point-in-time and ``search_after`` over any of qrelay's indices, page by
page, so memory follows the page and never the index (elasticsearch-py's ``scan`` without the
scroll context)."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from elasticsearch import Elasticsearch


def scan(es: Elasticsearch, index: str, query: dict, fields: Sequence[str] | None = None,
         limit: int | None = None, page: int = 2000, keep_alive: str = "2m") -> Iterator[dict[str, Any]]:
    """Yield the ``_source`` (only ``fields`` when given) of every document matching ``query``,
    at most ``limit``, in index order."""
    pit = es.open_point_in_time(index=index, keep_alive=keep_alive)["id"]
    try:
        after, n = None, 0
        while limit is None or n < limit:
            size = page if limit is None else min(page, limit - n)
            body: dict[str, Any] = {"query": query, "size": size, "sort": [{"_shard_doc": "asc"}],
                                    "track_total_hits": False}
            if fields is not None:
                body["_source"] = list(fields)
            r = es.search(pit={"id": pit, "keep_alive": keep_alive}, search_after=after, **body)
            hits = r["hits"]["hits"]
            for h in hits:
                yield h["_source"]
            n += len(hits)
            if len(hits) < size:
                return
            after = hits[-1]["sort"]
    finally:
        es.options(ignore_status=404).close_point_in_time(id=pit)
