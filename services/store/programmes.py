"""The ``programmes`` index: who grades what, at what price and SLA."""
from typing import Any

from elasticsearch import Elasticsearch

from services.store import resources
from services.store.scan import scan
from services.store.family import DATE, DOUBLE, KEYWORD, TEXT_KW, IndexFamily

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
    if resources.create_once(es, index(prefix), doc["programme_id"], doc):
        return doc, True
    return resources.get(es, index(prefix), doc["programme_id"], f"programmes/{doc['programme_id']}"), False


def get_many(es: Elasticsearch, prefix: str, programme_ids: list[str]) -> list[dict[str, Any]]:
    """The programmes that exist among ``programme_ids`` (realtime)."""
    if not programme_ids:
        return []
    r = es.mget(index=index(prefix), ids=programme_ids, realtime=True)
    return [d["_source"] for d in r["docs"] if d.get("found")]


def list_page(es: Elasticsearch, prefix: str, page_size: int, after: list | None = None
              ) -> tuple[list[dict[str, Any]], list | None]:
    return resources.page(es, index(prefix), page_size, [{"programme_id": "asc"}], after)


def every(es: Elasticsearch, prefix: str) -> list[dict[str, Any]]:
    """Every programme (a deployment has a handful)."""
    return list(scan(es, index(prefix), {"match_all": {}}))


def of_team(es: Elasticsearch, prefix: str, team: str) -> list[dict[str, Any]]:
    """Programmes that ``team`` owns (oldest id first)."""
    if not team:
        return []
    r = es.search(index=index(prefix), query={"term": {"owner_teams": team}}, size=100,
                  sort=[{"programme_id": "asc"}])
    return [h["_source"] for h in r["hits"]["hits"]]
