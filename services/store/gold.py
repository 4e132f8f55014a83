"""The ``gold`` index: items with known answers, loaded by admins, mixed into queues."""
from typing import Any, Sequence

from elasticsearch import Elasticsearch, helpers

from services.store.family import DATE, INT, KEYWORD, OPAQUE, TEXT, IndexFamily

FAMILY = IndexFamily(
    name="gold",
    version=1,
    doc="Gold items with their correct grade.",
    properties={
        "gold_id": KEYWORD,
        "query": TEXT,
        "query_norm": KEYWORD,
        "locale": KEYWORD,
        "doc": OPAQUE,
        "grade": INT,
        "create_time": DATE,
    },
)


def index(prefix: str) -> str:
    return FAMILY.index(prefix)


def sample(es: Elasticsearch, prefix: str, n: int, seed: int, locales: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Up to ``n`` gold items, a reproducible random choice (by seed), in ``locales`` if given."""
    if n <= 0:
        return []
    query: dict[str, Any] = {"terms": {"locale": list(locales)}} if locales else {"match_all": {}}
    r = es.search(index=index(prefix), size=min(n, 10_000), query={"function_score": {
        "query": query, "random_score": {"seed": seed, "field": "gold_id"}, "boost_mode": "replace"}})
    return [h["_source"] for h in r["hits"]["hits"]]


def load(es: Elasticsearch, prefix: str, docs: Sequence[dict[str, Any]]) -> tuple[int, int]:
    """Store gold items by ``gold_id`` with ``op_type=create``; returns (created, already present)."""
    created = existing = 0
    for ok, info in helpers.streaming_bulk(
        es, ({"_op_type": "create", "_index": index(prefix), "_id": d["gold_id"], "_source": d} for d in docs),
        raise_on_error=False, refresh="wait_for",
    ):
        if ok:
            created += 1
        elif info["create"].get("status") == 409:
            existing += 1
        else:
            raise RuntimeError(f"gold item {info['create'].get('_id')} was not stored: {info['create'].get('error')}")
    return created, existing
