"""The ``lexical`` index: the documents graders are shown, as text Elasticsearch can rank, so a
pre-judgement can ask "how well does the query match this result, word for word?" (BM25).

One document per distinct result text (``title\\nsnippet``, as the model reads it), id =
sha256 of the text, so every evaluation that shows the same result shares its entry and a re-run
overwrites. ``title`` and ``text`` (title + snippet) are analysed by the ``standard`` analyser
(server core: Unicode word breaks, one token per Han/Kana character), which every cluster has.

:func:`scores` asks, for each query, only about the documents pooled for it: one search per
query and field, filtered to those documents' ids, whose BM25 scores are the features. A
document the query shares no word with scores 0.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from elasticsearch import Elasticsearch

from services.store import bulk
from services.store.family import DATE, KEYWORD, IndexFamily

FAMILY = IndexFamily(
    name="lexical",
    version=1,
    doc="Result texts (title, title + snippet) for BM25 scores of query-result pairs.",
    properties={
        "title": {"type": "text", "analyzer": "standard"},
        "text": {"type": "text", "analyzer": "standard"},
        "locale": KEYWORD,
        "update_time": DATE,
    },
)
FIELDS = ("title", "text")


def index(prefix: str) -> str:
    return FAMILY.index(prefix)


def text_id(text: str) -> str:
    """The id of a result text's entry.

    >>> text_id("Madrid hotels\\ncheap rooms")[:12]
    '0d9aa984fe32'
    """
    return hashlib.sha256(text.encode()).hexdigest()


def write(es: Elasticsearch, prefix: str, texts: Iterable[tuple[str, str]], now: str, chunk_size: int = 500) -> int:
    """Index result texts ``(text, locale)`` (title = the first line); returns how many.
    Refreshes, so :func:`scores` sees them at once."""
    idx = index(prefix)
    actions = ({"_op_type": "index", "_index": idx, "_id": text_id(t),
                "_source": {"title": t.split("\n", 1)[0], "text": t, "locale": loc, "update_time": now}}
               for t, loc in texts)
    ok, errors = bulk.write(es, actions, chunk_size)
    if errors:
        raise RuntimeError(f"{len(errors)} result texts were not indexed (first: {errors[0]})")
    es.indices.refresh(index=idx)
    return ok


def scores(es: Elasticsearch, prefix: str, requests: Sequence[tuple[str, Sequence[str]]],
           batch: int = 100) -> list[dict[str, tuple[float, ...]]]:
    """For each ``(query, result texts)``: text → BM25 of the query against each of
    :data:`FIELDS` (0 where no word matches), in ``requests``' order."""
    idx = index(prefix)
    out: list[dict[str, tuple[float, ...]]] = []
    for start in range(0, len(requests), batch):
        chunk = requests[start:start + batch]
        body: list[dict] = []
        for query, texts in chunk:
            ids = sorted({text_id(t) for t in texts})
            for f in FIELDS:
                body.append({"index": idx})
                body.append({"size": len(ids), "_source": False, "track_total_hits": False,
                             "query": {"bool": {"filter": [{"ids": {"values": ids}}],
                                                "must": [{"match": {f: {"query": query}}}]}}})
        responses = es.options(request_timeout=120).msearch(searches=body)["responses"]
        for i, (query, texts) in enumerate(chunk):
            per_field = []
            for j in range(len(FIELDS)):
                r = responses[i * len(FIELDS) + j]
                if "error" in r:
                    raise RuntimeError(f"BM25 search failed: {r['error'].get('reason', r['error'])}")
                per_field.append({h["_id"]: float(h["_score"]) for h in r["hits"]["hits"]})
            out.append({t: tuple(s.get(text_id(t), 0.0) for s in per_field) for t in texts})
    return out
