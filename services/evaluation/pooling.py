"""From per-ranker result lists to judgement items (pure; no I/O).

Pointwise: the top-k of every ranker for a query are pooled, so each (query, doc) pair is
one item, judged once and shared by all rankers. Side by side: one item per query and
ranker pair holding both lists; identical lists are ties that need no human. Ids derive
from content, so producing twice never duplicates.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Iterable, Mapping, Sequence

Doc = Mapping[str, Any]  # doc_id, title, snippet, url, position


def item_id(evaluation_id: str, *parts: str) -> str:
    """A stable id: evaluation id plus a digest of the item's identifying parts."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"{evaluation_id}-{digest}"


@dataclass
class QueryResults:
    """One sampled query with each ranker's list (already cut to depth k)."""

    query_norm: str
    query: str  # as shown to graders
    locale: str
    stratum: str
    lists: dict[str, list[Doc]] = field(default_factory=dict)  # ranker id -> docs in rank order
    # the values of the stratify-by fields: the same text in two locales is two queries
    group: tuple[str, ...] = ()
    # the query's events in the log window: reports weight a query by it within its stratum
    # when queries were drawn uniformly (unique-query sampling)
    traffic: int = 0


def _public(doc: Doc, position: int) -> dict[str, Any]:
    """What a grader may see of a result: nothing that reveals the ranker or its score."""
    return {"doc_id": str(doc["doc_id"]), "title": doc.get("title") or "", "snippet": doc.get("snippet") or "",
            "url": doc.get("url") or "", "position": position}


def pointwise_items(evaluation_id: str, q: QueryResults, rankers: Sequence[str], common: Mapping[str, Any]) -> list[dict]:
    """One item per distinct doc in the union of the rankers' lists for ``q``."""
    pooled: dict[str, dict[str, Any]] = {}
    for ranker in rankers:
        for rank, doc in enumerate(q.lists.get(ranker, ()), start=1):
            key = str(doc["doc_id"])
            entry = pooled.get(key)
            if entry is None:
                entry = pooled[key] = {
                    "item_id": item_id(evaluation_id, "pointwise", q.query_norm, *q.group, key),
                    "kind": "pointwise",
                    "doc": _public(doc, 0),
                    "rankers": [],
                    "ranks": {},
                }
            if ranker not in entry["ranks"]:
                entry["rankers"].append(ranker)
                entry["ranks"][ranker] = rank
    items = []
    for entry in pooled.values():
        # shown position: the best rank any ranker gave it (never which ranker)
        entry["doc"]["position"] = min(entry["ranks"].values())
        items.append({**common, **_query_fields(q), **entry})
    return items


def side_by_side_items(evaluation_id: str, q: QueryResults, rankers: Sequence[str], common: Mapping[str, Any]) -> list[dict]:
    """One item per ranker pair (in spec order: a before b); ``identical`` when both lists match."""
    items = []
    for a, b in combinations(rankers, 2):
        left = [_public(d, i) for i, d in enumerate(q.lists.get(a, ()), start=1)]
        right = [_public(d, i) for i, d in enumerate(q.lists.get(b, ()), start=1)]
        identical = [d["doc_id"] for d in left] == [d["doc_id"] for d in right]
        items.append({
            **common, **_query_fields(q),
            "item_id": item_id(evaluation_id, "side_by_side", q.query_norm, *q.group, a, b),
            "kind": "side_by_side",
            "left": left, "right": right,
            "ranker_a": a, "ranker_b": b,
            "identical": identical,
            # a tie needs no human: it is settled at production time
            "needs_humans": not identical,
        })
    return items


def _query_fields(q: QueryResults) -> dict[str, Any]:
    return {"query": q.query, "query_norm": q.query_norm, "locale": q.locale, "stratum": q.stratum,
            "query_traffic": q.traffic}


def gold_items(evaluation_id: str, gold: Iterable[Mapping[str, Any]], common: Mapping[str, Any]) -> list[dict]:
    """Gold items as pointwise items that look exactly like live ones to a grader."""
    items = []
    for g in gold:
        items.append({
            **common,
            "item_id": item_id(evaluation_id, "gold", str(g["gold_id"])),
            "kind": "pointwise",
            "query": g["query"], "query_norm": g.get("query_norm") or g["query"], "locale": g["locale"],
            "stratum": "gold",
            "doc": _public(g["doc"], int(g["doc"].get("position") or 1)),
            "gold": True, "gold_id": str(g["gold_id"]), "gold_label": int(g["grade"]),
            "rankers": [], "ranks": {},
        })
    return items


def gold_count(live_items: int, gold_share: float) -> int:
    """Gold items so that they make ``gold_share`` of the graders' queue.

    >>> gold_count(90, 0.1)
    10
    """
    if not 0 <= gold_share < 1:
        raise ValueError("gold_share must be in [0, 1)")
    return round(live_items * gold_share / (1 - gold_share))
