"""The ``judgements`` index: append-only (``op_type=create``, id from the assignment), never updated."""
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from services.store.family import BOOL, DATE, INT, KEYWORD, LONG, TEXT, IndexFamily

FAMILY = IndexFamily(
    name="judgements",
    version=1,
    doc="Human judgements, un-randomised to (ranker_a, ranker_b) for SxS; append-only.",
    properties={
        "judgement_id": KEYWORD,
        "assignment_id": KEYWORD,
        "item_id": KEYWORD,
        "evaluation_id": KEYWORD,
        "grader": KEYWORD,
        "partner": KEYWORD,
        "locale": KEYWORD,
        "kind": KEYWORD,
        "grade": INT,
        "preference": INT,  # positive: ranker_b better
        "shown_preference": INT,  # as the grader saw the sides
        "flipped": BOOL,
        "gold": BOOL,
        "gold_correct": BOOL,
        "flagged": BOOL,
        "comment": TEXT,
        "submit_time": DATE,
        "time_on_task_ms": LONG,
        "lease_start": DATE,
    },
)


# --- access -------------------------------------------------------------------------------


def index(prefix: str) -> str:
    return FAMILY.index(prefix)


def create(es: Elasticsearch, prefix: str, doc: dict[str, Any]) -> bool:
    """Append ``doc`` under its ``judgement_id`` (``op_type=create``). Returns False if it was
    already there (a retry); the existing document is never touched. Returns only once
    Elasticsearch acknowledged the write (translog fsynced per request by default)."""
    try:
        es.create(index=index(prefix), id=doc["judgement_id"], document=doc)
    except ConflictError:
        return False
    return True


def create_missing(es: Elasticsearch, prefix: str, docs: list[dict[str, Any]]) -> int:
    """Append each of ``docs`` that is not there yet (one multi-get, one bulk of ``create``s: a
    document already present is never touched). Returns how many were appended."""
    if not docs:
        return 0
    found = es.mget(index=index(prefix), ids=[d["judgement_id"] for d in docs], _source=False, realtime=True)["docs"]
    missing = [d for d, f in zip(docs, found) if not f.get("found")]
    if not missing:
        return 0
    ops: list[dict[str, Any]] = []
    for d in missing:
        ops += [{"create": {"_index": index(prefix), "_id": d["judgement_id"]}}, d]
    r = es.bulk(operations=ops)
    failed = [i["create"] for i in r["items"] if i["create"].get("status") not in (200, 201, 409)]
    if failed:
        raise RuntimeError(f"{len(failed)} judgements were not appended (first: {failed[0].get('error')})")
    return sum(1 for i in r["items"] if i["create"].get("status") == 201)


def get(es: Elasticsearch, prefix: str, judgement_id: str) -> dict[str, Any] | None:
    try:
        return es.get(index=index(prefix), id=judgement_id, realtime=True)["_source"]
    except NotFoundError:
        return None


def grader_stats(es: Elasticsearch, prefix: str, grader: str, today: str, since: str, recent: int = 0) -> dict[str, Any]:
    """Counters of one grader in one request: total, today (from ``today``), gold judged and
    correct, days with at least one judgement since ``since`` (UTC dates, for the streak), and the
    gold flags of the ``recent`` latest judgements (newest first), all from one searcher."""
    r = es.search(index=index(prefix), size=recent, track_total_hits=True, query={"term": {"grader": grader}},
                  sort=[{"submit_time": "desc"}, {"judgement_id": "desc"}], _source=["gold", "gold_correct"], aggs={
        "today": {"filter": {"range": {"submit_time": {"gte": today}}}},
        "gold": {"filter": {"term": {"gold": True}}, "aggs": {"correct": {"filter": {"term": {"gold_correct": True}}}}},
        "days": {"filter": {"range": {"submit_time": {"gte": since}}}, "aggs": {"by_day": {
            "date_histogram": {"field": "submit_time", "calendar_interval": "day", "min_doc_count": 1,
                               "format": "yyyy-MM-dd", "time_zone": "UTC"}}}},
    })
    a = r["aggregations"]
    return {
        "total": r["hits"]["total"]["value"],
        "today": a["today"]["doc_count"],
        "gold": a["gold"]["doc_count"],
        "gold_correct": a["gold"]["correct"]["doc_count"],
        "days": [b["key_as_string"] for b in a["days"]["by_day"]["buckets"]],
        "recent": [{"gold": bool(h["_source"].get("gold")), "gold_correct": bool(h["_source"].get("gold_correct"))}
                   for h in r["hits"]["hits"]],
    }


def of_items(es: Elasticsearch, prefix: str, item_ids: list[str]) -> list[dict[str, Any]]:
    """Judgements of the given items (for audits and tests)."""
    es.indices.refresh(index=index(prefix))
    r = es.search(index=index(prefix), size=10_000, query={"terms": {"item_id": item_ids}})
    return [h["_source"] for h in r["hits"]["hits"]]
