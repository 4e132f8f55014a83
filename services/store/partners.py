"""The ``partners`` index: vendor/BPO firms and the in-house team."""
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from services.errors import NotFound
from services.store.templates import DATE, KEYWORD, TEXT_KW, IndexFamily

FAMILY = IndexFamily(
    name="partners",
    version=1,
    doc="Partners.",
    properties={
        "partner_id": KEYWORD,
        "request_id": KEYWORD,
        "display_name": TEXT_KW,
        "status": KEYWORD,
        "create_time": DATE,
        "update_time": DATE,
    },
)


# --- access -------------------------------------------------------------------------------


def index(prefix: str) -> str:
    return FAMILY.index(prefix)


def create(es: Elasticsearch, prefix: str, doc: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Store a new partner under ``partner_id`` unless it exists; returns (document, created)."""
    try:
        es.create(index=index(prefix), id=doc["partner_id"], document=doc, refresh="wait_for")
    except ConflictError:
        return get(es, prefix, doc["partner_id"]), False
    return doc, True


def get(es: Elasticsearch, prefix: str, partner_id: str) -> dict[str, Any]:
    """The partner (realtime read), or :class:`NotFound`."""
    try:
        return es.get(index=index(prefix), id=partner_id, realtime=True)["_source"]
    except NotFoundError:
        raise NotFound(f"partners/{partner_id} does not exist") from None


def update(es: Elasticsearch, prefix: str, partner_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    try:
        r = es.update(index=index(prefix), id=partner_id, doc=fields, retry_on_conflict=5,
                      refresh="wait_for", source=True)
    except NotFoundError:
        raise NotFound(f"partners/{partner_id} does not exist") from None
    return r["get"]["_source"]


def list_page(es: Elasticsearch, prefix: str, page_size: int, after: list | None = None
              ) -> tuple[list[dict[str, Any]], list | None]:
    body: dict[str, Any] = {"size": page_size, "sort": [{"partner_id": "asc"}]}
    if after:
        body["search_after"] = after
    hits = es.search(index=index(prefix), **body)["hits"]["hits"]
    return [h["_source"] for h in hits], (hits[-1]["sort"] if len(hits) == page_size else None)
