"""Access shared by the index families that hold one document per API resource
(evaluations, partners, graders, programmes): create once, read, update, page."""
from __future__ import annotations

from typing import Any

from elasticsearch import BadRequestError, ConflictError, Elasticsearch, NotFoundError

from services.core.errors import FieldViolation, InvalidArgument, NotFound


def create_once(es: Elasticsearch, index: str, doc_id: str, doc: dict[str, Any]) -> bool:
    """Store ``doc`` under ``doc_id`` unless one exists (``op_type=create``); True if created."""
    try:
        es.create(index=index, id=doc_id, document=doc, refresh="wait_for")
    except ConflictError:
        return False
    return True


def find(es: Elasticsearch, index: str, doc_id: str) -> dict[str, Any] | None:
    """The document (realtime read), or None."""
    try:
        return es.get(index=index, id=doc_id, realtime=True)["_source"]
    except NotFoundError:
        return None


def get(es: Elasticsearch, index: str, doc_id: str, name: str) -> dict[str, Any]:
    """The document, or :class:`NotFound` naming the resource (e.g. ``partners/p1``)."""
    doc = find(es, index, doc_id)
    if doc is None:
        raise NotFound(f"{name} does not exist")
    return doc


def update(es: Elasticsearch, index: str, doc_id: str, fields: dict[str, Any], name: str) -> dict[str, Any]:
    """Set ``fields``; returns the updated document, or :class:`NotFound`."""
    try:
        r = es.update(index=index, id=doc_id, doc=fields, retry_on_conflict=5, refresh="wait_for", source=True)
    except NotFoundError:
        raise NotFound(f"{name} does not exist") from None
    return r["get"]["_source"]


def page(es: Elasticsearch, index: str, page_size: int, sort: list[dict], after: list | None = None,
         filters: list[dict] | None = None, source: dict | None = None) -> tuple[list[dict[str, Any]], list | None]:
    """One page in ``sort`` order; ``after`` is the sort key of the previous page's last hit.
    Returns the documents and the key to pass for the next page (None after the last)."""
    body: dict[str, Any] = {"size": page_size, "query": {"bool": {"filter": filters or []}}, "sort": sort}
    if source is not None:
        body["_source"] = source
    if after:
        body["search_after"] = after
    try:
        hits = es.search(index=index, **body)["hits"]["hits"]
    except BadRequestError:
        if not after:
            raise
        # a token this listing did not issue (another listing's, or made up): its keys do not fit the sort
        raise InvalidArgument(FieldViolation("page_token", "is not a page token of this listing")) from None
    return [h["_source"] for h in hits], (hits[-1]["sort"] if len(hits) == page_size else None)
