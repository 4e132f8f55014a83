"""The ``items`` index: pooled (query, doc) pairs and side-by-side pairs, with pre-judgements.

Ids derive from content (evaluation, query, doc / ranker pair), so producing twice never
duplicates. Which rankers an item serves is stored for metrics but never sent to graders.
"""
from services.store.templates import BOOL, DATE, FLOAT, INT, KEYWORD, OPAQUE, TEXT, IndexFamily

_DOC = {"type": "object", "dynamic": "strict", "properties": {
    "doc_id": KEYWORD, "title": {"type": "text", "index": False}, "snippet": {"type": "text", "index": False},
    "url": {"type": "keyword", "index": False}, "position": INT,
}}

FAMILY = IndexFamily(
    name="items",
    version=1,
    doc="Judgement items: pointwise pairs and SxS pairs, gold items, pre-judgements and routing.",
    properties={
        "item_id": KEYWORD,
        "evaluation_id": KEYWORD,
        "kind": KEYWORD,  # pointwise | side_by_side
        "query": TEXT,
        "query_norm": KEYWORD,
        "locale": KEYWORD,
        "stratum": KEYWORD,
        "doc": _DOC,
        "left": OPAQUE,
        "right": OPAQUE,
        "rankers": KEYWORD,  # rankers whose top-k contains the doc (pointwise)
        "ranker_a": KEYWORD,  # SxS: the canonical sides, un-randomised
        "ranker_b": KEYWORD,
        "ranks": OPAQUE,  # ranker -> position of the doc (pointwise)
        "identical": BOOL,
        "gold": BOOL,
        "gold_id": KEYWORD,
        "gold_label": INT,
        "overlap": INT,
        "priority": INT,
        "deadline": DATE,
        "needs_humans": BOOL,
        "audit": BOOL,
        "judgements": INT,
        "prejudgement": {"type": "object", "dynamic": "strict", "properties": {
            "score": FLOAT, "grade": INT, "preference": FLOAT, "confidence": FLOAT,
            "model": KEYWORD, "model_version": KEYWORD, "auto": BOOL, "time": DATE,
        }},
        "create_time": DATE,
    },
)
