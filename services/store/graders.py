"""The ``graders`` index: graders, their locales, skills, status and credential hash."""
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from services.core.errors import NotFound
from services.store import resources
from services.store.family import DATE, KEYWORD, LONG, OPAQUE, TEXT, TEXT_KW, IndexFamily
from services.store.scan import scan

FAMILY = IndexFamily(
    name="graders",
    version=2,
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
        "credential_sha256": KEYWORD,  # the current credential ("" after a revocation)
        # credentials a rotation replaced: [{sha256, expire_time}], accepted until their grace ends
        "previous_credentials": OPAQUE,
        "status_reason": TEXT,
        # raised on every change of the grader's or its partner's status (seats blocked by a
        # suspension free up only for a profile read after a later change)
        "status_version": LONG,
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


def update_status(es: Elasticsearch, prefix: str, grader_id: str, fields: dict[str, Any], retries: int = 10
                  ) -> dict[str, Any]:
    """Set ``fields`` and raise ``status_version`` by one, atomically (read, then replace exactly that
    version); returns the updated grader, or :class:`NotFound`."""
    for _ in range(retries):
        try:
            r = es.get(index=index(prefix), id=grader_id, realtime=True)
        except NotFoundError:
            raise NotFound(f"graders/{grader_id} does not exist") from None
        doc = {**r["_source"], **fields, "status_version": int(r["_source"].get("status_version") or 0) + 1}
        try:
            es.index(index=index(prefix), id=grader_id, document=doc, if_seq_no=r["_seq_no"],
                     if_primary_term=r["_primary_term"], refresh="wait_for")
        except ConflictError:
            continue
        return doc
    raise ConflictError("the grader kept changing", None, None)  # pragma: no cover - ten concurrent updates


def of_partner(es: Elasticsearch, prefix: str, partner: str) -> list[str]:
    """Ids of every grader of a partner (paged; a partner's graders fit in memory as ids)."""
    out: list[str] = []
    after = None
    while True:
        docs, after = list_page(es, prefix, 500, after, partner=partner)
        out += [d["grader_id"] for d in docs]
        if after is None:
            return out


def list_page(es: Elasticsearch, prefix: str, page_size: int, after: list | None = None, partner: str = "",
              locale: str = "", status: str = "") -> tuple[list[dict[str, Any]], list | None]:
    """Graders by id (never their credential hash)."""
    filters = [{"term": {k: v}} for k, v in (("partner", partner), ("locales", locale), ("status", status)) if v]
    return resources.page(es, index(prefix), page_size, [{"grader_id": "asc"}], after, filters,
                          source={"excludes": ["credential_sha256", "previous_credentials"]})



def every(es: Elasticsearch, prefix: str, partner: str = "") -> list[dict[str, Any]]:
    """Every grader (of ``partner``, if given), without credential hashes."""
    f = [{"term": {"partner": partner}}] if partner else []
    return list(scan(es, index(prefix), {"bool": {"filter": f}},
                     ["grader_id", "display_name", "partner", "programmes", "locales", "status"]))
