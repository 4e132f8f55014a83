"""The ``judgements`` index: append-only (``op_type=create``, id from the assignment), never updated."""
from collections.abc import Iterator, Sequence
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from services.store.family import BOOL, DATE, INT, KEYWORD, LONG, TEXT, IndexFamily
from services.store.scan import scan

FAMILY = IndexFamily(
    name="judgements",
    version=2,
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
        "guideline_version": KEYWORD,  # the guideline text the grader was shown (label lineage)
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


def get(es: Elasticsearch, prefix: str, judgement_id: str) -> dict[str, Any] | None:
    try:
        return es.get(index=index(prefix), id=judgement_id, realtime=True)["_source"]
    except NotFoundError:
        return None


def grader_stats(es: Elasticsearch, prefix: str, grader: str, today: str, since: str) -> dict[str, Any]:
    """Counters of one grader in one request: total, today (from ``today``), gold judged and
    correct, and days with at least one judgement since ``since`` (UTC dates, for the streak)."""
    r = es.search(index=index(prefix), size=0, track_total_hits=True, query={"term": {"grader": grader}}, aggs={
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
    }


def of_items(es: Elasticsearch, prefix: str, item_ids: list[str]) -> list[dict[str, Any]]:
    """Judgements of the given items (for audits and tests)."""
    es.indices.refresh(index=index(prefix))
    r = es.search(index=index(prefix), size=10_000, query={"terms": {"item_id": item_ids}})
    return [h["_source"] for h in r["hits"]["hits"]]


# --- one evaluation's judgements, for consensus (services/reporting) -----------------------

#: What a consensus needs of a judgement.
LABEL_FIELDS = ("item_id", "grader", "kind", "grade", "preference", "gold", "submit_time")


def _of_evaluation(evaluation_id: str, *filters: dict) -> dict:
    return {"bool": {"filter": [{"term": {"evaluation_id": evaluation_id}}, *filters]}}


def of_evaluation(es: Elasticsearch, prefix: str, evaluation_id: str,
                  fields: Sequence[str] = LABEL_FIELDS) -> Iterator[dict[str, Any]]:
    """Stream every judgement of an evaluation."""
    return scan(es, index(prefix), _of_evaluation(evaluation_id), fields)


def submitted_since(es: Elasticsearch, prefix: str, evaluation_id: str, since: str | None,
                    fields: Sequence[str] = ("item_id", "submit_time")) -> Iterator[dict[str, Any]]:
    """Stream the evaluation's judgements submitted at or after ``since`` (all when None)."""
    extra = [{"range": {"submit_time": {"gte": since}}}] if since else []
    return scan(es, index(prefix), _of_evaluation(evaluation_id, *extra), fields)


def of_evaluation_items(es: Elasticsearch, prefix: str, evaluation_id: str, item_ids: Sequence[str],
                        fields: Sequence[str] = LABEL_FIELDS, chunk: int = 5000) -> Iterator[dict[str, Any]]:
    """Stream every judgement of the given items of an evaluation (``chunk`` ids per query)."""
    ids = list(item_ids)
    for start in range(0, len(ids), chunk):
        yield from scan(es, index(prefix), _of_evaluation(evaluation_id, {"terms": {"item_id": ids[start:start + chunk]}}),
                        fields)


def count(es: Elasticsearch, prefix: str, evaluation_id: str, since: str | None = None) -> int:
    """Judgements of an evaluation (submitted at or after ``since`` when given)."""
    extra = [{"range": {"submit_time": {"gte": since}}}] if since else []
    return int(es.count(index=index(prefix), query=_of_evaluation(evaluation_id, *extra))["count"])


def first_submit_time(es: Elasticsearch, prefix: str, evaluation_id: str) -> str | None:
    """When the evaluation's first judgement was submitted (None before any)."""
    r = es.search(index=index(prefix), size=0, query=_of_evaluation(evaluation_id),
                  aggs={"first": {"min": {"field": "submit_time", "format": "strict_date_optional_time"}}})
    return r["aggregations"]["first"].get("value_as_string")


# What a scorecard reads of a judgement.
SCORECARD_FIELDS = ["grader", "partner", "evaluation_id", "item_id", "kind", "locale", "grade", "preference", "gold",
                    "gold_correct", "submit_time", "time_on_task_ms"]


def _window(start: str, end: str) -> dict:
    return {"range": {"submit_time": {"gte": start, "lt": end}}}


def in_window(es: Elasticsearch, prefix: str, start: str, end: str, evaluation_ids: list[str] | None = None
              ) -> Iterator[dict[str, Any]]:
    """Stream the judgements submitted in ``[start, end)`` (of these evaluations, if given), with
    the fields a scorecard needs."""
    f: list[dict] = [_window(start, end)]
    if evaluation_ids is not None:
        f.append({"terms": {"evaluation_id": evaluation_ids}})
    return scan(es, index(prefix), {"bool": {"filter": f}}, SCORECARD_FIELDS)


def evaluations_in_window(es: Elasticsearch, prefix: str, start: str, end: str, **terms: str) -> list[str]:
    """Evaluations with judgements in ``[start, end)`` by e.g. ``grader=`` or ``partner=``."""
    f = [_window(start, end)] + [{"term": {k: v}} for k, v in terms.items()]
    r = es.search(index=index(prefix), size=0, query={"bool": {"filter": f}},
                  aggs={"e": {"terms": {"field": "evaluation_id", "size": 10_000}}})
    return [b["key"] for b in r["aggregations"]["e"]["buckets"]]


def guideline_versions(es: Elasticsearch, prefix: str, evaluation_id: str) -> dict[tuple[str, str], int]:
    """``(kind, guideline version) -> judgements`` of an evaluation in one aggregation ("" where the
    judgement predates stored versions)."""
    r = es.search(index=index(prefix), size=0, query={"term": {"evaluation_id": evaluation_id}}, aggs={
        "kinds": {"terms": {"field": "kind", "size": 10, "missing": ""}, "aggs": {
            "versions": {"terms": {"field": "guideline_version", "size": 100, "missing": ""}}}}})
    return {(k["key"], v["key"]): v["doc_count"] for k in r["aggregations"]["kinds"]["buckets"]
            for v in k["versions"]["buckets"]}


def summary(es: Elasticsearch, prefix: str, evaluation_id: str) -> dict[str, Any]:
    """The human work behind an evaluation in one aggregation: judgements, distinct graders,
    time on task (sum, median), first and last submit, gold judged and correct, judgements per
    partner."""
    r = es.search(index=index(prefix), size=0, track_total_hits=True,
                  query={"term": {"evaluation_id": evaluation_id}}, aggs={
                      "graders": {"cardinality": {"field": "grader", "precision_threshold": 40000}},
                      "time": {"sum": {"field": "time_on_task_ms"}},
                      "median": {"percentiles": {"field": "time_on_task_ms", "percents": [50]}},
                      "first": {"min": {"field": "submit_time"}},
                      "last": {"max": {"field": "submit_time"}},
                      "gold": {"filter": {"term": {"gold": True}},
                               "aggs": {"correct": {"filter": {"term": {"gold_correct": True}}}}},
                      "partners": {"terms": {"field": "partner", "size": 1000, "missing": ""}},
                  })
    a = r["aggregations"]
    median = (a["median"]["values"] or {}).get("50.0")
    return {
        "judgements": r["hits"]["total"]["value"],
        "graders": int(a["graders"]["value"]),
        "time_on_task_ms": float(a["time"]["value"] or 0.0),
        "median_time_on_task_ms": float(median) if median is not None else 0.0,
        "first": a["first"].get("value_as_string"),
        "last": a["last"].get("value_as_string"),
        "gold": a["gold"]["doc_count"],
        "gold_correct": a["gold"]["correct"]["doc_count"],
        "by_partner": {b["key"]: b["doc_count"] for b in a["partners"]["buckets"]},
    }
