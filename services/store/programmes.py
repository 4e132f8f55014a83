"""The ``programmes`` index: who grades what, at what price and SLA."""
from typing import Any

from elasticsearch import ConflictError, Elasticsearch

from services.store.templates import DATE, DOUBLE, KEYWORD, TEXT_KW, IndexFamily

FAMILY = IndexFamily(
    name="programmes",
    version=1,
    doc="Grading programmes.",
    properties={
        "programme_id": KEYWORD,
        "request_id": KEYWORD,
        "display_name": TEXT_KW,
        "owner_teams": KEYWORD,
        "locales": KEYWORD,
        "price_per_judgement": DOUBLE,
        "currency": KEYWORD,
        "sla_hours": DOUBLE,
        "create_time": DATE,
    },
)


# --- access -------------------------------------------------------------------------------


def index(prefix: str) -> str:
    return FAMILY.index(prefix)


def create(es: Elasticsearch, prefix: str, doc: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Store a new programme under ``programme_id`` unless it exists; returns (document, created)."""
    try:
        es.create(index=index(prefix), id=doc["programme_id"], document=doc, refresh="wait_for")
    except ConflictError:
        return es.get(index=index(prefix), id=doc["programme_id"])["_source"], False
    return doc, True


def get_many(es: Elasticsearch, prefix: str, programme_ids: list[str]) -> list[dict[str, Any]]:
    """The programmes that exist among ``programme_ids`` (realtime)."""
    if not programme_ids:
        return []
    r = es.mget(index=index(prefix), ids=programme_ids, realtime=True)
    return [d["_source"] for d in r["docs"] if d.get("found")]


def list_page(es: Elasticsearch, prefix: str, page_size: int, after: list | None = None
              ) -> tuple[list[dict[str, Any]], list | None]:
    body: dict[str, Any] = {"size": page_size, "sort": [{"programme_id": "asc"}]}
    if after:
        body["search_after"] = after
    hits = es.search(index=index(prefix), **body)["hits"]["hits"]
    return [h["_source"] for h in hits], (hits[-1]["sort"] if len(hits) == page_size else None)
