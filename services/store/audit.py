"""The ``audit`` index: who changed what, when, under which request id — append-only.

One record per call of a changing method (anything but Get/List/Watch/Compare/Export) by an
engineer, ops lead or admin, and per refused attempt at one by anybody signed in: written with
``op_type=create`` under a fresh id and never updated or deleted through qrelay (this module
offers no way to). Graders' own work is not here: their judgements are the record.
"""
from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from services.store.family import DATE, KEYWORD, OPAQUE, TEXT, IndexFamily

FAMILY = IndexFamily(
    name="audit",
    version=1,
    doc="Append-only audit log of changes made through the API (who, what, when, request id, outcome).",
    properties={
        "audit_id": KEYWORD,
        "time": DATE,
        "subject": KEYWORD,
        "role": KEYWORD,
        "method": KEYWORD,  # /qrelay.v1.Service/Method
        "request_id": KEYWORD,
        "target": KEYWORD,  # the resource the call named or created, e.g. graders/g-1
        "code": KEYWORD,  # the status code it answered
        "message": TEXT,
        "peer": KEYWORD,
        "request": OPAQUE,  # the request as JSON (long values cut), never credentials
    },
)


def index(prefix: str) -> str:
    return FAMILY.index(prefix)


def append(es: Elasticsearch, prefix: str, record: dict[str, Any]) -> None:
    """Add one record (``op_type=create``: an id is never written twice)."""
    es.create(index=index(prefix), id=record["audit_id"], document=record)


def search(es: Elasticsearch, prefix: str, size: int = 100, **terms: Any) -> list[dict[str, Any]]:
    """Records matching exact field values, newest first (for ops and tests)."""
    es.indices.refresh(index=index(prefix))
    q = {"bool": {"filter": [{"term": {k: v}} for k, v in terms.items()]}}
    r = es.search(index=index(prefix), size=size, query=q, sort=[{"time": "desc"}])
    return [h["_source"] for h in r["hits"]["hits"]]
