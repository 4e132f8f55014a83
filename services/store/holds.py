"""The ``holds`` index: one document per (item, grader) that ever held one of the item's slots.

Created with ``op_type=create`` in the same bulk as the slot claim (``services.store.atomic``),
so "never the same item twice" is atomic across a grader's concurrent calls and server replicas,
and is kept for good (the slot's own history of holders is only a hint). It also lets the queue
search leave out what a grader already held.
"""
from __future__ import annotations

from typing import Any, Sequence

from elasticsearch import Elasticsearch

from services.store.atomic import Doc
from services.store.family import DATE, KEYWORD, IndexFamily

FAMILY = IndexFamily(
    name="holds",
    version=1,
    doc="Which grader held which item (once each, for good).",
    properties={
        "item_id": KEYWORD,
        "grader": KEYWORD,
        "evaluation_id": KEYWORD,
        "slot_id": KEYWORD,
        "assignment_id": KEYWORD,
        "time": DATE,
    },
)

MAX_EXCLUDED = 10_000


def index(prefix: str) -> str:
    return FAMILY.index(prefix)


def hold_id(item_id: str, grader: str) -> str:
    return f"{item_id}:{grader}"


def absent(prefix: str, item_id: str, grader: str) -> Doc:
    """The hold as a conditional write expects it: absent (a second one for the pair loses)."""
    return Doc(index(prefix), hold_id(item_id, grader))


def new(lease: dict[str, Any]) -> dict[str, Any]:
    return {"item_id": lease["item_id"], "grader": lease["grader"], "evaluation_id": lease["evaluation_id"],
            "slot_id": lease["slot_id"], "assignment_id": lease["assignment_id"], "time": lease["lease_start"]}


def held_items(es: Elasticsearch, prefix: str, grader: str, evaluation_ids: Sequence[str]) -> list[str]:
    """Items of these evaluations the grader has held (the most recent :data:`MAX_EXCLUDED`;
    searchable ones: a hold of the last second may be missing — the claim still refuses it)."""
    if not evaluation_ids:
        return []
    r = es.search(index=index(prefix), size=MAX_EXCLUDED, _source=["item_id"], sort=[{"time": "desc"}],
                  query={"bool": {"filter": [{"term": {"grader": grader}},
                                             {"terms": {"evaluation_id": list(evaluation_ids)}}]}})
    return [h["_source"]["item_id"] for h in r["hits"]["hits"]]
