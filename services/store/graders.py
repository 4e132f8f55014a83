"""The ``graders`` index: graders, their locales, skills, status and credential hash."""
from typing import Any

from elasticsearch import Elasticsearch

from services.store import resources
from services.store.scan import scan
from services.store.family import DATE, KEYWORD, TEXT, TEXT_KW, IndexFamily

FAMILY = IndexFamily(
    name="graders",
    version=1,
    doc="Graders (never the credential itself, only its hash).",
    properties={
        "grader_id": KEYWORD,
        "request_id": KEYWORD,
        "display_name": TEXT_KW,
        "partner": KEYWORD,
        "locales": KEYWORD,
        "skills": KEYWORD,
        "status": KEYWORD,
        "programmes": KEYWORD,
        "credential_sha256": KEYWORD,
        "status_reason": TEXT,
        "create_time": DATE,
        "update_time": DATE,
    },
)


# --- access -------------------------------------------------------------------------------


def index(prefix: str) -> str:
    return FAMILY.index(prefix)


def create(es: Elasticsearch, prefix: str, doc: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Store a new grader under ``grader_id`` unless it exists; returns (document, created)."""
    if resources.create_once(es, index(prefix), doc["grader_id"], doc):
        return doc, True
    return get(es, prefix, doc["grader_id"]), False


def get(es: Elasticsearch, prefix: str, grader_id: str) -> dict[str, Any]:
    """The grader (realtime read), or :class:`NotFound`."""
    return resources.get(es, index(prefix), grader_id, f"graders/{grader_id}")


def find(es: Elasticsearch, prefix: str, grader_id: str) -> dict[str, Any] | None:
    return resources.find(es, index(prefix), grader_id)


def update(es: Elasticsearch, prefix: str, grader_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Set ``fields``; returns the updated grader, or :class:`NotFound`."""
    return resources.update(es, index(prefix), grader_id, fields, f"graders/{grader_id}")


def list_page(es: Elasticsearch, prefix: str, page_size: int, after: list | None = None, partner: str = "",
              locale: str = "", status: str = "") -> tuple[list[dict[str, Any]], list | None]:
    """Graders by id (never their credential hash)."""
    filters = [{"term": {k: v}} for k, v in (("partner", partner), ("locales", locale), ("status", status)) if v]
    return resources.page(es, index(prefix), page_size, [{"grader_id": "asc"}], after, filters,
                          source={"excludes": ["credential_sha256"]})



def every(es: Elasticsearch, prefix: str, partner: str = "") -> list[dict[str, Any]]:
    """Every grader (of ``partner``, if given), without credential hashes."""
    f = [{"term": {"partner": partner}}] if partner else []
    return list(scan(es, index(prefix), {"bool": {"filter": f}},
                     ["grader_id", "display_name", "partner", "programmes", "locales", "status"]))
