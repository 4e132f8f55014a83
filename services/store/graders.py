"""The ``graders`` index: graders, their locales, skills, status and credential hash."""
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from services.errors import NotFound
from services.store.templates import DATE, KEYWORD, TEXT, TEXT_KW, IndexFamily

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
    try:
        es.create(index=index(prefix), id=doc["grader_id"], document=doc, refresh="wait_for")
    except ConflictError:
        return get(es, prefix, doc["grader_id"]), False
    return doc, True


def get(es: Elasticsearch, prefix: str, grader_id: str) -> dict[str, Any]:
    """The grader (realtime read), or :class:`NotFound`."""
    found = find(es, prefix, grader_id)
    if found is None:
        raise NotFound(f"graders/{grader_id} does not exist")
    return found


def find(es: Elasticsearch, prefix: str, grader_id: str) -> dict[str, Any] | None:
    try:
        return es.get(index=index(prefix), id=grader_id, realtime=True)["_source"]
    except NotFoundError:
        return None


def update(es: Elasticsearch, prefix: str, grader_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Set ``fields``; returns the updated grader, or :class:`NotFound`."""
    try:
        r = es.update(index=index(prefix), id=grader_id, doc=fields, retry_on_conflict=5,
                      refresh="wait_for", source=True)
    except NotFoundError:
        raise NotFound(f"graders/{grader_id} does not exist") from None
    return r["get"]["_source"]


def list_page(es: Elasticsearch, prefix: str, page_size: int, after: list | None = None, partner: str = "",
              locale: str = "", status: str = "") -> tuple[list[dict[str, Any]], list | None]:
    """Graders by id; ``after`` is the sort key of the previous page's last hit."""
    filters = [{"term": {k: v}} for k, v in (("partner", partner), ("locales", locale), ("status", status)) if v]
    body: dict[str, Any] = {"size": page_size, "query": {"bool": {"filter": filters}}, "sort": [{"grader_id": "asc"}],
                            "_source": {"excludes": ["credential_sha256"]}}
    if after:
        body["search_after"] = after
    hits = es.search(index=index(prefix), **body)["hits"]["hits"]
    return [h["_source"] for h in hits], (hits[-1]["sort"] if len(hits) == page_size else None)
