"""Queries behind the graders' queue: evaluations open for grading, candidate items for a
grader, and each item's count of finished judgements (a routing hint, repaired from slots).

The items and evaluations indices are owned by ``items.py``/``evaluations.py``; this module only
reads them for routing and keeps the ``judgements`` counter of an item, which says how many of
its ``overlap`` slots are done, so finished items drop out of the candidate search.
"""
from __future__ import annotations

from typing import Any, Sequence

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from services.store import evaluations, items

# Fields a task needs; the rest of an item (rankers' ranks, pre-judgements) stays in ES.
TASK_FIELDS = ["item_id", "evaluation_id", "kind", "query", "locale", "doc", "left", "right", "overlap",
               "priority", "deadline", "gold", "gold_label", "judgements", "order_key"]

# Items still short of judgements: `judgements` < `overlap` (a missing counter is 0). Written without
# scripts (clusters may run without painless): one clause per overlap value up to MAX_OVERLAP, and
# items with a larger overlap are always candidates (their slots still decide).
MAX_OVERLAP = 16
_OPEN = {"bool": {"should": [
    {"bool": {"must_not": [{"exists": {"field": "judgements"}}]}},
    *({"bool": {"filter": [{"term": {"overlap": k}}, {"range": {"judgements": {"lt": k}}}]}}
      for k in range(1, MAX_OVERLAP + 1)),
    {"range": {"overlap": {"gt": MAX_OVERLAP}}},
], "minimum_should_match": 1}}


def grading_evaluations(es: Elasticsearch, prefix: str) -> list[dict[str, Any]]:
    """Evaluations in state GRADING: ``{evaluation_id, owner_team}`` (at most 10,000)."""
    r = es.search(index=evaluations.index(prefix), size=10_000, query={"term": {"state": "GRADING"}},
                  _source=["evaluation_id", "owner_team"])
    return [h["_source"] for h in r["hits"]["hits"]]


def candidates(es: Elasticsearch, prefix: str, evaluation_ids: Sequence[str], locales: Sequence[str],
               kinds: Sequence[str], size: int, seed: int, after: list | None = None, exclude: Sequence[str] = ()
               ) -> tuple[list[dict[str, Any]], list | None]:
    """Open items a grader may get, highest ``priority`` first, then earliest ``deadline``
    (none last), then the lowest ``order_key`` — the query's place in a query-complete grading
    order (issue 12: all items of a query share it; none last) — ties in a random order per
    ``seed`` so concurrent graders spread out (within a query, its items); never the
    ``exclude``d ones (what the grader already held), nor an item the pre-judgement job has not
    scored yet (``scored`` false: it streams, issue 12). Returns (items, sort key of the last one for
    the next page)."""
    if not evaluation_ids or not locales or not kinds:
        return [], None
    query = {"function_score": {
        "query": {"bool": {"filter": [
            {"terms": {"evaluation_id": list(evaluation_ids)}},
            {"terms": {"locale": list(locales)}},
            {"terms": {"kind": list(kinds)}},
            {"term": {"needs_humans": True}},
            _OPEN,
        ], "must_not": [{"term": {"identical": True}}, {"term": {"scored": False}}, *([{"terms": {"item_id": list(exclude)}}] if exclude else [])]}},
        "random_score": {"seed": seed, "field": "_seq_no"},
        "boost_mode": "replace",
    }}
    body: dict[str, Any] = {
        "size": size, "query": query, "_source": TASK_FIELDS, "track_total_hits": False,
        "sort": [{"priority": {"order": "desc", "missing": 0}},
                 {"deadline": {"order": "asc", "missing": "_last"}},
                 {"order_key": {"order": "asc", "missing": "_last"}}, "_score", {"item_id": "asc"}],
    }
    if after:
        body["search_after"] = after
    hits = es.search(index=items.index(prefix), **body)["hits"]["hits"]
    return [h["_source"] for h in hits], (hits[-1]["sort"] if len(hits) == size else None)


def get_item(es: Elasticsearch, prefix: str, item_id: str) -> dict[str, Any] | None:
    try:
        return es.get(index=items.index(prefix), id=item_id, _source=TASK_FIELDS + ["ranker_a", "ranker_b"],
                      realtime=True)["_source"]
    except NotFoundError:
        return None


def raise_judged(es: Elasticsearch, prefix: str, item_id: str, done: int, retries: int = 10) -> None:
    """Set the item's ``judgements`` to ``done`` unless it is already higher: monotone and
    idempotent (read, then replace that version), so concurrent submitters and repairs
    converge on the true count."""
    for _ in range(retries):
        try:
            r = es.get(index=items.index(prefix), id=item_id, _source=["judgements"], realtime=True)
        except NotFoundError:
            return
        if (r["_source"].get("judgements") or 0) >= done:
            return
        try:
            es.update(index=items.index(prefix), id=item_id, doc={"judgements": done},
                      if_seq_no=r["_seq_no"], if_primary_term=r["_primary_term"])
            return
        except ConflictError:
            continue


def raise_judged_many(es: Elasticsearch, prefix: str, overlaps: dict[str, int]) -> list[str]:
    """:func:`raise_judged` for many items at once, from their slots: one realtime multi-get of
    the items' counters and all their slots, then one bulk of conditional updates (each only if
    the item is unchanged since read, and only ever raising the count). Returns the item ids whose
    update lost a race (call again for those)."""
    from services.store import assignments

    ids = list(overlaps)
    if not ids:
        return []
    slot_ids = [assignments.slot_id(i, s) for i in ids for s in range(max(1, int(overlaps[i] or 1)))]
    slots, docs = assignments.get_slots_with(es, prefix, slot_ids, [{"_index": items.index(prefix), "_id": i, "_source": ["judgements"]} for i in ids])
    done: dict[str, int] = {}
    for sid, sl in slots.items():
        if sl.doc and sl.doc.get("state") == "SUBMITTED":
            done[sl.doc["item_id"]] = done.get(sl.doc["item_id"], 0) + 1
    ops: list[dict[str, Any]] = []
    for item_id, d in zip(ids, docs):
        if not d.get("found") or done.get(item_id, 0) <= ((d.get("_source") or {}).get("judgements") or 0):
            continue
        ops.append({"update": {"_index": items.index(prefix), "_id": item_id,
                               "if_seq_no": d["_seq_no"], "if_primary_term": d["_primary_term"]}})
        ops.append({"doc": {"judgements": done[item_id]}})
    if not ops:
        return []
    r = es.bulk(operations=ops)
    lost = []
    for entry in r["items"]:
        res = entry.get("update") or {}
        if res.get("status") == 409:
            lost.append(res["_id"])
    return lost
