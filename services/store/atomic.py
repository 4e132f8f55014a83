"""Several conditional writes that must all happen or none: one bulk request, compensated.

Elasticsearch has no multi-document transactions. A lease takes three documents at once — the
grader's seat, the (item, grader) hold and the item's slot — each with optimistic concurrency:
created if it was absent when read, replaced only at the version read otherwise. They go in one
``_bulk`` (one round trip); if any of them finds another version, the ones that were written are
put back (a created document deleted, a replaced one restored, each only at the version just
written) and the caller learns which writes lost.

A write answered with an error may still have been applied: when a primary fails over,
Elasticsearch sends the bulk again to the promoted replica, which may hold the document already
and answer 409 to its own write. So every write not answered OK is read back, and one found in
place is counted as written — which is why each source must carry something unique to this
write (a lease's assignment id), so that finding it proves it is this write's.
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
        readable([entry])
        if entry.get("found"):
            return cls(entry["_index"], entry["_id"], entry["_source"], entry["_seq_no"], entry["_primary_term"])
        return cls(entry["_index"], entry["_id"])


def readable(entries: Sequence[dict[str, Any]]) -> Sequence[dict[str, Any]]:
    """Multi-get entries, checked: one that carries an error (its shard not active — a node
    restarting, an index recovering) was not read, which is not "not found": retry later."""
    for entry in entries:
        if "error" in entry:
            err = entry["error"]
            raise Unavailable(f"Elasticsearch could not read {entry.get('_index')}/{entry.get('_id')}; retry "
                              f"({err.get('type', err) if isinstance(err, dict) else err})")
    return entries


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
    results = [next(iter(item.values())) for item in es.bulk(operations=ops)["items"]]
    unsure = [i for i, res in enumerate(results) if res.get("status") not in (200, 201)]
    # an error raised here leaves everything as written: undoing on a guess could split the set
    now = dict(zip(unsure, _read(es, [writes[i][0] for i in unsure]))) if unsure else {}
    written: list[Doc] = []
    lost: set[int] = set()
    failed = None
    for i, ((doc, source), res) in enumerate(zip(writes, results)):
        if res.get("status") in (200, 201):
            written.append(replace(doc, source=source, seq_no=res["_seq_no"], primary_term=res["_primary_term"]))
        elif i in now and now[i].source == source:
            written.append(now[i])  # applied, though answered otherwise (see the module notes)
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


def _read(es: Elasticsearch, docs: Sequence[Doc]) -> list[Doc]:
    """The current versions of ``docs`` (realtime)."""
    found = es.mget(docs=[{"_index": d.index, "_id": d.id} for d in docs], realtime=True)["docs"]
    return [Doc.from_mget(f) for f in found]


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
