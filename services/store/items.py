"""The ``items`` index: pooled (query, doc) pairs and side-by-side pairs, with pre-judgements.

Ids derive from content (evaluation, query, doc / ranker pair), so producing twice never
duplicates. Which rankers an item serves is stored for metrics but never sent to graders.
"""
from typing import Any, Iterable, Iterator, Sequence

from elasticsearch import Elasticsearch, helpers

from services.store.family import BOOL, DATE, DOUBLE, FLOAT, INT, KEYWORD, LONG, OPAQUE, TEXT, IndexFamily
from services.store.scan import scan

_DOC = {"type": "object", "dynamic": "strict", "properties": {
    "doc_id": KEYWORD, "title": {"type": "text", "index": False}, "snippet": {"type": "text", "index": False},
    "url": {"type": "keyword", "index": False}, "position": INT,
}}

FAMILY = IndexFamily(
    name="items",
    version=6,
    doc="Judgement items: pointwise pairs and SxS pairs, gold items, pre-judgements and routing.",
    properties={
        "item_id": KEYWORD,
        "evaluation_id": KEYWORD,
        "kind": KEYWORD,  # pointwise | side_by_side
        "query": TEXT,
        "query_norm": KEYWORD,
        "locale": KEYWORD,
        "stratum": KEYWORD,
        "query_traffic": LONG,  # the query's events in the log window (weights within a stratum)
        "doc": _DOC,
        "left": OPAQUE,
        "right": OPAQUE,
        "rankers": KEYWORD,  # rankers whose top-k contains the doc (pointwise)
        "ranker_a": KEYWORD,  # SxS: the canonical sides, un-randomised
        "ranker_b": KEYWORD,
        "ranks": OPAQUE,  # ranker -> position of the doc (pointwise)
        "identical": BOOL,
        "gold": BOOL,
        "gold_id": KEYWORD,
        "gold_label": INT,
        "overlap": INT,
        "priority": INT,
        "deadline": DATE,
        # the grading order within a priority and deadline: one random key per query, so graders get
        # whole queries one after another (evaluators.sampling.query_order); never sent to graders
        "order_key": DOUBLE,
        "needs_humans": BOOL,
        # false from production until the pre-judgement job has scored the item: graders are never
        # served an unscored item, so the job can stream (score query by query while grading runs)
        "scored": BOOL,
        "audit": BOOL,
        # the probability with which the audit draw sends an auto-judged item to humans (every
        # auto-judged item carries it, drawn or not: estimates weight the audited ones by it)
        "audit_probability": FLOAT,
        # in the first, stratified random human sample that calibrates the model within the
        # evaluation, and the probability with which its stratum's items were drawn into it
        "calibration_sample": BOOL,
        "sample_probability": FLOAT,
        "judgements": INT,
        "prejudgement": {"type": "object", "dynamic": "strict", "properties": {
            "score": FLOAT, "grade": INT, "preference": FLOAT, "confidence": FLOAT,
            "model": KEYWORD, "model_version": KEYWORD, "auto": BOOL, "time": DATE,
            # prior | earlier_evaluations | within_evaluation: what the confidence was calibrated on
            "calibration": KEYWORD,
            # the signals the learned model reads (evaluators.features), so the server can re-score
            "features": OPAQUE,
            "calibration_id": KEYWORD,  # the calibration fit the score became a label with (lineage)
        }},
        "create_time": DATE,
    },
)


def index(prefix: str) -> str:
    return FAMILY.index(prefix)


def write(es: Elasticsearch, prefix: str, items: Iterable[dict], chunk_size: int = 500) -> int:
    """Index items by their content-derived ``item_id`` (a re-run overwrites, never duplicates).

    Reports partial failure precisely: raises :class:`BulkWriteError` listing the failed ids.
    """
    ok = 0
    failed = []
    for success, info in helpers.streaming_bulk(
        es, ({"_index": index(prefix), "_id": it["item_id"], "_source": it} for it in items),
        chunk_size=chunk_size, raise_on_error=False, raise_on_exception=True, max_retries=3,
    ):
        if success:
            ok += 1
        else:
            failed.append(info)
    if failed:
        first = next(iter(failed[0].values()))
        raise BulkWriteError(f"{len(failed)} items were not written (first: {first.get('_id')}: {first.get('error')})")
    return ok


class BulkWriteError(Exception):
    """Some documents of a bulk write were rejected."""


def count(es: Elasticsearch, prefix: str, evaluation_id: str, **terms: Any) -> int:
    """Items of an evaluation, optionally restricted by exact field values."""
    filters = [{"term": {"evaluation_id": evaluation_id}}] + [{"term": {k: v}} for k, v in terms.items()]
    return int(es.count(index=index(prefix), query={"bool": {"filter": filters}})["count"])


def counts_by(es: Elasticsearch, prefix: str, evaluation_id: str) -> dict[str, int]:
    """Item counters of an evaluation in one request: items, gold, identical SxS pairs."""
    es.indices.refresh(index=index(prefix))
    r = es.search(index=index(prefix), size=0, query={"term": {"evaluation_id": evaluation_id}}, aggs={
        "gold": {"filter": {"term": {"gold": True}}},
        "identical": {"filter": {"term": {"identical": True}}},
    }, track_total_hits=True)
    return {
        "items": r["hits"]["total"]["value"],
        "gold_items": r["aggregations"]["gold"]["doc_count"],
        "identical_pairs": r["aggregations"]["identical"]["doc_count"],
    }


def of_evaluation(es: Elasticsearch, prefix: str, evaluation_id: str,
                  fields: Sequence[str] | None = None, scored_since: str | None = None) -> Iterator[dict[str, Any]]:
    """Stream the evaluation's items (only ``fields`` when given; only those the pre-judgement
    job scored at or after ``scored_since`` when given)."""
    query: dict[str, Any] = {"term": {"evaluation_id": evaluation_id}}
    if scored_since is not None:
        query = {"bool": {"filter": [query, {"range": {"prejudgement.time": {"gte": scored_since}}}]}}
    return scan(es, index(prefix), query, fields)


def last_scored(es: Elasticsearch, prefix: str, evaluation_id: str) -> str | None:
    """The newest ``prejudgement.time`` of the evaluation's items (None: none scored yet)."""
    r = es.search(index=index(prefix), size=0, query={"term": {"evaluation_id": evaluation_id}},
                  aggs={"last": {"max": {"field": "prejudgement.time"}}})
    return r["aggregations"]["last"].get("value_as_string")
