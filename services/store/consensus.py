"""The ``consensus`` index: one document per item (id = item id) with its current label and
where it came from — human consensus, the model, a tie of identical lists, or a gold label.

Each document also carries what a report needs of its item (query, stratum, the rankers'
ranks or sides), so a report reads this one index and never the judgements. Documents are
seeded from the items when grading starts and replaced whenever the item's judgements change;
the writer is the reporting worker (``services/reporting``), the readers are reports, exports,
trends and scorecards.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from elasticsearch import Elasticsearch

from services.store import bulk
from services.store.family import BOOL, DATE, FLOAT, INT, KEYWORD, LONG, OPAQUE, IndexFamily
from services.store.scan import scan

SOURCES = ("human", "model", "tie", "gold", "none")

FAMILY = IndexFamily(
    name="consensus",
    version=5,
    doc="Current label of every item with its provenance, and the item's query, stratum and ranks.",
    properties={
        "item_id": KEYWORD,
        "evaluation_id": KEYWORD,
        "kind": KEYWORD,  # pointwise | side_by_side
        "query_id": KEYWORD,  # digest of (query_norm, stratum): one sampled query
        "query_norm": KEYWORD,
        "locale": KEYWORD,
        "stratum": KEYWORD,
        "query_traffic": LONG,  # the query's events in the log window (weights within a stratum)
        "doc_id": KEYWORD,  # pointwise
        "ranks": OPAQUE,  # pointwise: ranker -> 1-based rank of the doc
        "ranker_a": KEYWORD,  # SxS: canonical sides; preference > 0 means ranker_b is better
        "ranker_b": KEYWORD,
        "gold": BOOL,
        "needs_humans": BOOL,
        "audit": BOOL,
        "audit_probability": FLOAT,  # auto-judged items: the audit draw's probability (see items)
        "calibration_sample": BOOL,  # in the first stratified random human sample of the evaluation
        "overlap": INT,
        "human_done": BOOL,  # needs humans and has all its `overlap` judgements
        "label": INT,  # pointwise grade 0..3; absent while unlabelled
        "preference": FLOAT,  # SxS preference in -3..+3; absent while unlabelled
        "source": KEYWORD,  # one of SOURCES
        "judgements": INT,  # human judgements behind the label
        # the human judgements by value ({"2": 2, "3": 1}; SxS {"-1": 1, "2": 2}): inter-rater agreement
        # (Krippendorff's alpha) needs only these, so a report never reads the judgements themselves
        "votes": OPAQUE,
        "confidence": FLOAT,  # posterior probability of the label (human) or calibrated confidence (model)
        "posterior": OPAQUE,  # human: pointwise P(grade 0..3); SxS P(sign -1, 0, +1) of the preference
        "model_label": FLOAT,  # the model's grade / preference, kept beside the human one for audits
        "model_version": KEYWORD,
        "calibration_id": KEYWORD,  # the calibration fit the model's score became a label with (lineage)
        "method": KEYWORD,  # aggregation method, e.g. dawid-skene
        "fit_id": KEYWORD,  # the reliability model fit the human label was last computed with (lineage)
        # the first human judgement's submit time: when the item became complete for a report
        # (queries complete in the order of their items' latest human_time)
        "human_time": DATE,
        "update_time": DATE,
    },
)


def index(prefix: str) -> str:
    return FAMILY.index(prefix)


def write(es: Elasticsearch, prefix: str, docs: Iterable[dict[str, Any]], chunk_size: int = 1000,
          refresh: bool | str = False, create_only: bool = False) -> tuple[int, list[dict]]:
    """Replace the consensus documents (id = ``item_id``), or with ``create_only`` write only
    those that do not exist yet (never touching one that does); returns ``(written, per-item errors)``."""
    idx = index(prefix)
    op = "create" if create_only else "index"
    return bulk.write(es, ({"_op_type": op, "_index": idx, "_id": d["item_id"], "_source": d} for d in docs),
                      chunk_size, refresh, existing_ok=create_only)


def of_evaluation(es: Elasticsearch, prefix: str, evaluation_id: str,
                  fields: Sequence[str] | None = None, **terms: Any) -> Iterator[dict[str, Any]]:
    """Stream the evaluation's consensus documents, optionally restricted by exact field values
    (e.g. ``kind="pointwise"``)."""
    filters = [{"term": {"evaluation_id": evaluation_id}}] + [{"term": {k: v}} for k, v in terms.items()]
    return scan(es, index(prefix), {"bool": {"filter": filters}}, fields)


def get_many(es: Elasticsearch, prefix: str, item_ids: Sequence[str], fields: Sequence[str] | None = None,
             chunk: int = 2000) -> dict[str, dict[str, Any]]:
    """``item_id -> document`` (only ``fields`` when given) for those that exist: realtime
    multi-gets of ``chunk`` ids."""
    out: dict[str, dict[str, Any]] = {}
    ids = list(item_ids)
    for start in range(0, len(ids), chunk):
        r = es.mget(index=index(prefix), ids=ids[start:start + chunk], realtime=True,
                    **({"_source": list(fields)} if fields is not None else {}))
        out.update((d["_id"], d["_source"]) for d in r["docs"] if d.get("found"))
    return out


def update(es: Elasticsearch, prefix: str, changes: Iterable[tuple[str, dict[str, Any]]],
           chunk_size: int = 1000) -> tuple[int, list[dict]]:
    """Partial updates ``(item_id, fields)`` of existing documents; returns ``(updated, per-item errors)``."""
    idx = index(prefix)
    return bulk.write(es, ({"_op_type": "update", "_index": idx, "_id": i, "doc": d} for i, d in changes), chunk_size)


def progress(es: Elasticsearch, prefix: str, evaluation_id: str) -> dict[str, int]:
    """Counters of an evaluation in one request: ``items``, ``labelled`` (source other than
    none), ``for_humans`` (needs humans), ``done`` (needs humans and has all its judgements),
    ``wanted`` (Σ overlap over items for humans) and ``received`` (Σ judgements over them)."""
    es.indices.refresh(index=index(prefix))
    humans = {"term": {"needs_humans": True}}
    r = es.search(index=index(prefix), size=0, track_total_hits=True,
                  query={"term": {"evaluation_id": evaluation_id}}, aggs={
                      "labelled": {"filter": {"bool": {"must_not": [{"term": {"source": "none"}}]}}},
                      "humans": {"filter": humans, "aggs": {
                          "done": {"filter": {"term": {"human_done": True}}},
                          "wanted": {"sum": {"field": "overlap", "missing": 1}},
                          "received": {"sum": {"field": "judgements", "missing": 0}},
                      }},
                  })
    a = r["aggregations"]
    return {"items": int(r["hits"]["total"]["value"]), "labelled": int(a["labelled"]["doc_count"]),
            "for_humans": int(a["humans"]["doc_count"]), "done": int(a["humans"]["done"]["doc_count"]),
            "wanted": int(a["humans"]["wanted"]["value"]), "received": int(a["humans"]["received"]["value"])}


def labelled_counts(es: Elasticsearch, prefix: str, evaluation_id: str) -> dict[str, int]:
    """Pointwise items with a human or gold label, and the calibration sample's items and how
    many of them have one — in one request (the routing's "is a fit due?")."""
    labelled = {"terms": {"source": ["human", "gold"]}}
    r = es.search(index=index(prefix), size=0, track_total_hits=False,
                  query={"bool": {"filter": [{"term": {"evaluation_id": evaluation_id}}, {"term": {"kind": "pointwise"}}]}},
                  aggs={"labelled": {"filter": labelled},
                        "sample": {"filter": {"term": {"calibration_sample": True}}, "aggs": {"labelled": {"filter": labelled}}}})
    a = r["aggregations"]
    return {"labelled": int(a["labelled"]["doc_count"]), "sample": int(a["sample"]["doc_count"]),
            "sample_labelled": int(a["sample"]["labelled"]["doc_count"])}


def state(es: Elasticsearch, prefix: str, evaluation_id: str) -> dict[str, Any]:
    """What changes whenever any label of the evaluation changes, in one cheap request: documents,
    the latest ``update_time``, and the sums of labels, preferences and judgements. Reports key
    their cache on it."""
    r = es.search(index=index(prefix), size=0, track_total_hits=True,
                  query={"term": {"evaluation_id": evaluation_id}}, aggs={
                      "update_time": {"max": {"field": "update_time"}},
                      "labels": {"sum": {"field": "label"}},
                      "preferences": {"sum": {"field": "preference"}},
                      "judgements": {"sum": {"field": "judgements"}},
                      "labelled": {"filter": {"bool": {"must_not": {"term": {"source": "none"}}}}},
                  })
    a = r["aggregations"]
    return {"items": r["hits"]["total"]["value"], "labelled": a["labelled"]["doc_count"],
            "update_time": a["update_time"].get("value_as_string"), "labels": a["labels"]["value"],
            "preferences": a["preferences"]["value"], "judgements": a["judgements"]["value"]}
