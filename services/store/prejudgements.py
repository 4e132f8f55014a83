"""ES queries of the pre-judgement job: read an evaluation's items, write pre-judgements, read
the human labels that calibrate the model.

Reads stream with a point-in-time and ``search_after`` (sliced, so several readers share one
PIT); writes are bulk partial updates by item id, so a re-run overwrites rather than duplicates.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from elasticsearch import Elasticsearch

from services.store import bulk, items, judgements
from services.store.scan import scan

ITEM_FIELDS = [
    "item_id", "evaluation_id", "kind", "query", "locale", "doc", "left", "right",
    "identical", "gold", "gold_label", "prejudgement", "needs_humans", "query_norm", "stratum", "ranks",
    "order_key", "priority", "scored",
]


def items_index(prefix: str) -> str:
    return items.FAMILY.index(prefix)


def judgements_index(prefix: str) -> str:
    return judgements.FAMILY.index(prefix)


# --- reading items -------------------------------------------------------------------------


def open_pit(es: Elasticsearch, prefix: str, keep_alive: str = "5m") -> str:
    return es.open_point_in_time(index=items_index(prefix), keep_alive=keep_alive)["id"]


def close_pit(es: Elasticsearch, pit_id: str) -> None:
    es.options(ignore_status=404).close_point_in_time(id=pit_id)


def count_items(es: Elasticsearch, prefix: str, evaluation_id: str) -> int:
    es.indices.refresh(index=items_index(prefix))
    return int(es.count(index=items_index(prefix), query={"term": {"evaluation_id": evaluation_id}})["count"])


def iter_items(
    es: Elasticsearch,
    pit_id: str,
    evaluation_id: str,
    slice_id: int = 0,
    slices: int = 1,
    page_size: int = 1000,
    keep_alive: str = "5m",
    fields: Sequence[str] = ITEM_FIELDS,
) -> Iterator[dict[str, Any]]:
    """Yield the evaluation's items of one slice (``_id`` added to each source), page by page."""
    body: dict[str, Any] = {
        "query": {"term": {"evaluation_id": evaluation_id}},
        "sort": [{"_shard_doc": "asc"}],
        "_source": list(fields),
        "size": page_size,
        "track_total_hits": False,
    }
    if slices > 1:
        body["slice"] = {"id": slice_id, "max": slices}
    after = None
    while True:
        r = es.search(pit={"id": pit_id, "keep_alive": keep_alive}, search_after=after, **body)
        hits = r["hits"]["hits"]
        for h in hits:
            yield {"_id": h["_id"], **h["_source"]}
        if len(hits) < page_size:
            return
        after = hits[-1]["sort"]


# --- writing pre-judgements ----------------------------------------------------------------


def write(
    es: Elasticsearch, prefix: str, updates: Iterable[tuple[str, dict[str, Any]]], chunk_size: int = 500
) -> tuple[int, list[dict]]:
    """Partial updates ``(doc id, fields)`` of items; returns ``(updated, per-item errors)``."""
    idx = items_index(prefix)
    actions = ({"_op_type": "update", "_index": idx, "_id": i, "doc": d} for i, d in updates)
    return bulk.write(es, actions, chunk_size)


def refresh_items(es: Elasticsearch, prefix: str) -> None:
    es.indices.refresh(index=items_index(prefix))


# --- human labels --------------------------------------------------------------------------


def pointwise_labels(es: Elasticsearch, prefix: str, limit: int = 20_000,
                     evaluation_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Up to ``limit`` human pointwise judgements (``item_id``, ``locale``, ``grade``) of
    ``evaluation_ids`` (any evaluation when None)."""
    filters: list[dict] = [{"term": {"kind": "pointwise"}}, {"exists": {"field": "grade"}}]
    if evaluation_ids is not None:
        if not evaluation_ids:
            return []
        filters.append({"terms": {"evaluation_id": list(evaluation_ids)}})
    return list(scan(es, judgements_index(prefix), {"bool": {"filter": filters}}, ["item_id", "locale", "grade"], limit))


def item_texts(es: Elasticsearch, prefix: str, item_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``item_id -> {query, locale, doc, prejudgement, calibration_sample, audit, gold}`` for
    pointwise items (looked up by ``item_id`` field): what a label needs to be learned from."""
    out: dict[str, dict[str, Any]] = {}
    ids = list(dict.fromkeys(item_ids))
    for i in range(0, len(ids), 1000):
        chunk = ids[i : i + 1000]
        r = es.search(index=items_index(prefix), query={"terms": {"item_id": chunk}}, size=len(chunk),
                      _source=["item_id", "query", "locale", "doc", "prejudgement.features", "calibration_sample",
                               "audit", "gold"])
        for h in r["hits"]["hits"]:
            out[h["_source"]["item_id"]] = h["_source"]
    return out
