"""The ``alerts`` index: regression alerts and the delivery state of their webhook.

An alert's id derives from (evaluation, ranker, segment, measure), and alerts are created with
``op_type=create``: checking a completed evaluation again never duplicates an alert nor resets
its delivery. Webhook delivery is a queue in this index: ``delivery=pending`` with a
``next_attempt_time``; a sender takes an alert by moving ``next_attempt_time`` forward with
optimistic concurrency (so one replica sends it), and records the outcome.
"""
from __future__ import annotations

import hashlib
from typing import Any, Iterable

from elasticsearch import ConflictError, Elasticsearch, NotFoundError, helpers

from services.core.errors import NotFound
from services.store import resources
from services.store.family import DATE, DOUBLE, INT, KEYWORD, LONG, TEXT, IndexFamily

DELIVERY = ("none", "pending", "delivered", "failed")

FAMILY = IndexFamily(
    name="alerts",
    version=1,
    doc="Regression alerts: a metric of a completed evaluation fell below its series' trailing baseline.",
    properties={
        "alert_id": KEYWORD,
        "create_time": DATE,
        "evaluation_id": KEYWORD,
        "series": KEYWORD,
        "owner_team": KEYWORD,
        "ranker": KEYWORD,
        "segment": KEYWORD,
        "measure": KEYWORD,
        "value": DOUBLE,
        "baseline": DOUBLE,
        "drop": DOUBLE,
        "low": DOUBLE,
        "high": DOUBLE,
        "level": DOUBLE,
        "p_value": DOUBLE,
        "p_value_holm": DOUBLE,
        "baseline_snapshots": LONG,
        "baseline_evaluations": KEYWORD,
        "message": TEXT,
        # webhook delivery
        "webhook_url": {"type": "keyword", "index": False},
        "delivery": KEYWORD,  # one of DELIVERY
        "attempts": INT,
        "next_attempt_time": DATE,
        "last_error": TEXT,
        "delivered_time": DATE,
        "update_time": DATE,
    },
)


def index(prefix: str) -> str:
    return FAMILY.index(prefix)


def alert_id(evaluation_id: str, ranker: str, segment: str, measure: str) -> str:
    digest = hashlib.sha256("\x1f".join((evaluation_id, ranker, segment, measure)).encode()).hexdigest()[:24]
    return f"a{digest}"


def create(es: Elasticsearch, prefix: str, docs: Iterable[dict[str, Any]]) -> list[str]:
    """Create each alert unless it exists (``op_type=create``); returns the ids created now."""
    actions = ({"_op_type": "create", "_index": index(prefix), "_id": d["alert_id"], "_source": d} for d in docs)
    created = []
    for ok, info in helpers.streaming_bulk(es, actions, raise_on_error=False, raise_on_exception=True,
                                           refresh="wait_for", max_retries=3):
        result = info["create"]
        if ok:
            created.append(result["_id"])
        elif result.get("status") != 409:  # 409: raised before, left as it is
            raise RuntimeError(f"alert {result['_id']} was not written: {result.get('error')}")
    return created


def get(es: Elasticsearch, prefix: str, alert_id: str) -> dict[str, Any]:
    return resources.get(es, index(prefix), alert_id, f"alerts/{alert_id}")


def page(es: Elasticsearch, prefix: str, page_size: int, after: list | None = None, start: str | None = None,
         end: str | None = None, series: str = "", owner_team: str = "") -> tuple[list[dict[str, Any]], list | None]:
    """Alerts newest first; ``series`` matches the series or the evaluation."""
    f: list[dict] = []
    if start or end:
        f.append({"range": {"create_time": {k: v for k, v in (("gte", start), ("lt", end)) if v}}})
    if series:
        f.append({"bool": {"should": [{"term": {"series": series}}, {"term": {"evaluation_id": series}}],
                           "minimum_should_match": 1}})
    if owner_team:
        f.append({"term": {"owner_team": owner_team}})
    return resources.page(es, index(prefix), page_size, [{"create_time": "desc"}, {"alert_id": "desc"}], after, f)


def due(es: Elasticsearch, prefix: str, now: str, limit: int = 100) -> list[tuple[dict[str, Any], int, int]]:
    """Alerts whose webhook is pending and due at ``now``: (document, seq_no, primary_term), oldest first."""
    es.indices.refresh(index=index(prefix))
    r = es.search(index=index(prefix), size=limit, seq_no_primary_term=True, query={"bool": {"filter": [
        {"term": {"delivery": "pending"}}, {"range": {"next_attempt_time": {"lte": now}}}]}},
        sort=[{"next_attempt_time": "asc"}])
    return [(h["_source"], h["_seq_no"], h["_primary_term"]) for h in r["hits"]["hits"]]


def take(es: Elasticsearch, prefix: str, alert_id: str, seq_no: int, primary_term: int, fields: dict[str, Any]) -> bool:
    """Set ``fields`` on the version that was read; False when someone else changed it first."""
    try:
        es.update(index=index(prefix), id=alert_id, doc=fields, if_seq_no=seq_no, if_primary_term=primary_term)
    except ConflictError:
        return False
    return True


def update(es: Elasticsearch, prefix: str, alert_id: str, fields: dict[str, Any]) -> None:
    try:
        es.update(index=index(prefix), id=alert_id, doc=fields, retry_on_conflict=3, refresh="wait_for")
    except NotFoundError:
        raise NotFound(f"alerts/{alert_id} does not exist") from None
