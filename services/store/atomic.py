"""Several conditional writes that must all happen or none: one bulk request, compensated.

Elasticsearch has no multi-document transactions. A lease takes three documents at once — the
grader's seat, the (item, grader) hold and the item's slot — each with optimistic concurrency:
created if it was absent when read, replaced only at the version read otherwise. They go in one
``_bulk`` (one round trip); if any of them finds another version, the ones that were written are
put back (a created document deleted, a replaced one restored, each only at the version just
written) and the caller learns which writes lost.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Sequence

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from services.core.errors import Unavailable


@dataclass(frozen=True)
class Doc:
    """A document as read (``source`` None: absent), with the version a conditional write must find."""

    index: str
    id: str
    source: dict[str, Any] | None = None
    seq_no: int | None = None
    primary_term: int | None = None

    @classmethod
    def from_mget(cls, entry: dict[str, Any]) -> "Doc":
        if entry.get("found"):
            return cls(entry["_index"], entry["_id"], entry["_source"], entry["_seq_no"], entry["_primary_term"])
        return cls(entry["_index"], entry["_id"])


def _op(doc: Doc, source: dict[str, Any]) -> list[dict[str, Any]]:
    if doc.source is None:
        return [{"create": {"_index": doc.index, "_id": doc.id}}, source]
    return [{"index": {"_index": doc.index, "_id": doc.id, "if_seq_no": doc.seq_no,
                       "if_primary_term": doc.primary_term}}, source]


def write_all(es: Elasticsearch, writes: Sequence[tuple[Doc, dict[str, Any]]]) -> tuple[list[Doc], set[int]]:
    """Write each new source over the version read. Returns (the documents as written, in order;
    the positions that lost to another writer). When any lost, nothing stays written."""
    ops: list[dict[str, Any]] = []
    for doc, source in writes:
        ops += _op(doc, source)
    items = es.bulk(operations=ops)["items"]
    written: list[Doc] = []
    lost: set[int] = set()
    failed = None
    for i, ((doc, source), item) in enumerate(zip(writes, items)):
        res = next(iter(item.values()))
        if res.get("status") in (200, 201):
            written.append(replace(doc, source=source, seq_no=res["_seq_no"], primary_term=res["_primary_term"]))
        elif res.get("status") == 409:
            written.append(doc)
            lost.add(i)
        else:
            written.append(doc)
            lost.add(i)
            failed = res.get("error")
    if lost:
        for i, ((before, _), after) in enumerate(zip(writes, written)):
            if i not in lost:
                undo(es, before, after)
    if failed is not None:
        raise Unavailable(f"Elasticsearch rejected a write; retry ({failed})")
    return written, lost


def undo(es: Elasticsearch, before: Doc, after: Doc) -> bool:
    """Put ``before`` back over ``after`` (only if ``after`` is still the current version)."""
    try:
        if before.source is None:
            es.delete(index=after.index, id=after.id, if_seq_no=after.seq_no, if_primary_term=after.primary_term)
        else:
            es.index(index=after.index, id=after.id, document=before.source, if_seq_no=after.seq_no,
                     if_primary_term=after.primary_term)
    except (ConflictError, NotFoundError):
        return False
    return True


def write_each(es: Elasticsearch, writes: Sequence[tuple[Doc, dict[str, Any]]]) -> set[int]:
    """Independent conditional writes in one bulk, best effort (the ones that find another
    version are left as they are). Returns the positions that were not written."""
    if not writes:
        return set()
    ops: list[dict[str, Any]] = []
    for doc, source in writes:
        ops += _op(doc, source)
    items = es.bulk(operations=ops)["items"]
    return {i for i, item in enumerate(items) if next(iter(item.values())).get("status") not in (200, 201)}
