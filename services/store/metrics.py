"""The ``metrics`` index: dated metric snapshots, for trends and regression alerts.

One document per (evaluation, ranker, segment, measure), written when the evaluation completes;
the id derives from those four, so taking the snapshots again overwrites, never duplicates.
"""
from __future__ import annotations

import hashlib
from typing import Any, Iterable

from elasticsearch import Elasticsearch, helpers

from services.store import resources
from services.store.family import BOOL, DATE, DOUBLE, KEYWORD, LONG, IndexFamily

FAMILY = IndexFamily(
    name="metrics",
    version=2,
    doc="Metric snapshots per evaluation, ranker, segment and measure.",
    properties={
        "snapshot_id": KEYWORD,
        "snapshot_time": DATE,  # the evaluation's completion
        "evaluation_id": KEYWORD,
        "owner_team": KEYWORD,
        "series": KEYWORD,  # id of the series' first evaluation; the evaluation's own id for a one-off
        "run_index": LONG,  # position in the series (0: the first evaluation)
        "window_start": DATE,  # the evaluation's log window: the period the value describes
        "window_end": DATE,
        "ranker": KEYWORD,
        "segment": KEYWORD,  # "locale=es-MX"; "" for all queries
        "segment_fields": KEYWORD,  # ["locale"]; [] for all queries
        "measure": KEYWORD,
        "mean": DOUBLE,
        "low": DOUBLE,
        "high": DOUBLE,
        "level": DOUBLE,
        "std_error": DOUBLE,
        "unweighted_mean": DOUBLE,
        "queries": LONG,
        "judged_share": DOUBLE,
        "traffic_share": DOUBLE,
        "partial": BOOL,  # the evaluation completed short of full coverage (deadline)
        "estimator": {"type": "keyword", "index": False},
        "create_time": DATE,
    },
)

SORT = [{"snapshot_time": "asc"}, {"snapshot_id": "asc"}]


def index(prefix: str) -> str:
    return FAMILY.index(prefix)


def snapshot_id(evaluation_id: str, ranker: str, segment: str, measure: str) -> str:
    """The snapshot's id: the evaluation's, then a digest of ranker, segment and measure.

    >>> snapshot_id("e1", "control", "", "ndcg_cut_10")
    'e1-9134f76baf058afeeae6'
    """
    digest = hashlib.sha256("\x1f".join((ranker, segment, measure)).encode()).hexdigest()[:20]
    return f"{evaluation_id}-{digest}"


def write(es: Elasticsearch, prefix: str, docs: Iterable[dict[str, Any]]) -> int:
    """Index snapshots by ``snapshot_id`` and make them searchable; returns how many were written."""
    actions = ({"_index": index(prefix), "_id": d["snapshot_id"], "_source": d} for d in docs)
    ok, errors = helpers.bulk(es, actions, raise_on_error=False, refresh="wait_for")
    if errors:
        raise RuntimeError(f"{len(errors)} metric snapshots were not written (first: {errors[0]})")
    return ok


def _filters(measure: str, ranker: str = "", segment: str | None = "", start: str | None = None,
             end: str | None = None, owner_team: str = "", series: str = "") -> list[dict]:
    f: list[dict] = [{"term": {"measure": measure}}]
    f += [{"term": {k: v}} for k, v in (("ranker", ranker), ("owner_team", owner_team), ("series", series)) if v]
    if segment is not None:
        f.append({"term": {"segment": segment}})
    if start or end:
        f.append({"range": {"snapshot_time": {k: v for k, v in (("gte", start), ("lt", end)) if v}}})
    return f


def page(es: Elasticsearch, prefix: str, page_size: int, after: list | None = None, **filters: Any
         ) -> tuple[list[dict[str, Any]], list | None]:
    """Snapshots oldest first, filtered (see :func:`_filters`; ``segment=None``: every segment)."""
    return resources.page(es, index(prefix), page_size, SORT, after, _filters(**filters))


def trailing_many(es: Elasticsearch, prefix: str, keys: list[tuple[str, str, str]], series: str, before: str,
                  n: int, exclude_evaluation: str = "") -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """For each (ranker, segment, measure) key of one series: its last ``n`` snapshots taken
    before ``before``, oldest first — the baseline a new snapshot is compared with. One round
    trip (a multi-search)."""
    if not keys:
        return {}
    searches: list[dict] = []
    for ranker, segment, measure in keys:
        f = _filters(measure, ranker, segment, end=before, series=series)
        searches += [{"index": index(prefix)}, {
            "size": n, "query": {"bool": {"filter": f, "must_not": [
                {"term": {"evaluation_id": exclude_evaluation}}] if exclude_evaluation else []}},
            "sort": [{"snapshot_time": "desc"}, {"snapshot_id": "desc"}]}]
    out = {}
    for key, resp in zip(keys, es.msearch(searches=searches)["responses"]):
        if "error" in resp:
            raise RuntimeError(f"baseline search failed: {resp['error']}")
        out[key] = [h["_source"] for h in reversed(resp["hits"]["hits"])]
    return out
