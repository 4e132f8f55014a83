"""The ``partners`` index: vendor/BPO firms and the in-house team."""
from typing import Any

from elasticsearch import Elasticsearch

from services.store import resources
from services.store.scan import scan
from services.store.family import DATE, DOUBLE, KEYWORD, TEXT_KW, IndexFamily

FAMILY = IndexFamily(
    name="partners",
    version=2,
    doc="Partners and the price they charge per judgement.",
    properties={
        "partner_id": KEYWORD,
        "request_id": KEYWORD,
        "display_name": TEXT_KW,
        "status": KEYWORD,
        "price_per_judgement": DOUBLE,  # 0 or absent: the programme's price applies
        "currency": KEYWORD,
        "create_time": DATE,
        "update_time": DATE,
    },
)


# --- access -------------------------------------------------------------------------------


def index(prefix: str) -> str:
    return FAMILY.index(prefix)


def create(es: Elasticsearch, prefix: str, doc: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Store a new partner under ``partner_id`` unless it exists; returns (document, created)."""
    if resources.create_once(es, index(prefix), doc["partner_id"], doc):
        return doc, True
    return get(es, prefix, doc["partner_id"]), False


def get(es: Elasticsearch, prefix: str, partner_id: str) -> dict[str, Any]:
    """The partner (realtime read), or :class:`NotFound`."""
    return resources.get(es, index(prefix), partner_id, f"partners/{partner_id}")


def update(es: Elasticsearch, prefix: str, partner_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    return resources.update(es, index(prefix), partner_id, fields, f"partners/{partner_id}")


def list_page(es: Elasticsearch, prefix: str, page_size: int, after: list | None = None
              ) -> tuple[list[dict[str, Any]], list | None]:
    return resources.page(es, index(prefix), page_size, [{"partner_id": "asc"}], after)


def every(es: Elasticsearch, prefix: str) -> list[dict[str, Any]]:
    """Every partner."""
    return list(scan(es, index(prefix), {"match_all": {}}))


def get_many(es: Elasticsearch, prefix: str, partner_ids: list[str]) -> dict[str, dict[str, Any]]:
    """``partner_id -> document`` for those that exist (realtime)."""
    ids = [i for i in partner_ids if i]
    if not ids:
        return {}
    r = es.mget(index=index(prefix), ids=ids, realtime=True)
    return {d["_id"]: d["_source"] for d in r["docs"] if d.get("found")}
