"""Read an evaluation's items (PIT + sliced ``search_after``) into columnar arrays.

Texts are interned as they are read: every query and every document text ("title\\nsnippet") gets
an index into one list of unique texts, so the rest of the job works on integer arrays and each
text is encoded once however many items, rankers and lists repeat it.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from services.store import prejudgements as store


def doc_text(doc: dict[str, Any] | None) -> str:
    """What the model reads of a result: its title and snippet.

    >>> doc_text({"title": "Madrid hotels", "snippet": " cheap rooms "})
    'Madrid hotels\\ncheap rooms'
    """
    if not doc:
        return ""
    parts = [(doc.get("title") or "").strip(), (doc.get("snippet") or "").strip()]
    return "\n".join(p for p in parts if p)


class TextTable:
    """Unique texts, interned: ``add(text) -> index``."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._pos: dict[str, int] = {}

    def add(self, text: str) -> int:
        i = self._pos.get(text)
        if i is None:
            i = self._pos[text] = len(self.texts)
            self.texts.append(text)
        return i

    def __len__(self) -> int:
        return len(self.texts)


@dataclass
class Items:
    """Columnar view of one evaluation's items.

    Pointwise rows: ``pw_*``; side-by-side items: ``sx_*`` per item and ``sr_*`` per (item, side,
    rank) row of their lists. ``*_q``/``*_d`` index :attr:`texts`.
    """

    texts: TextTable = field(default_factory=TextTable)
    pw_id: list[str] = field(default_factory=list)
    pw_item: list[str] = field(default_factory=list)
    pw_locale: list[str] = field(default_factory=list)
    pw_q: list[int] = field(default_factory=list)
    pw_d: list[int] = field(default_factory=list)
    pw_gold: list[bool] = field(default_factory=list)
    pw_gold_label: list[int] = field(default_factory=list)  # -1: none
    pw_query_norm: list[str] = field(default_factory=list)
    pw_doc_id: list[str] = field(default_factory=list)
    pw_stratum: list[str] = field(default_factory=list)
    pw_ranks: list[dict] = field(default_factory=list)  # ranker -> 1-based rank
    # where the item stands in the grading order (priority, then order key; the job streams in it)
    # and whether an earlier run of the job scored it already
    pw_priority: list[int] = field(default_factory=list)
    pw_order: list[float] = field(default_factory=list)  # inf: none (item-random order)
    pw_scored: list[bool] = field(default_factory=list)
    sx_id: list[str] = field(default_factory=list)
    sx_item: list[str] = field(default_factory=list)
    sx_locale: list[str] = field(default_factory=list)
    sx_q: list[int] = field(default_factory=list)
    sx_gold: list[bool] = field(default_factory=list)
    sx_identical: list[bool] = field(default_factory=list)
    sx_query_norm: list[str] = field(default_factory=list)
    sx_stratum: list[str] = field(default_factory=list)
    sx_priority: list[int] = field(default_factory=list)
    sx_order: list[float] = field(default_factory=list)
    sx_scored: list[bool] = field(default_factory=list)
    sr_item: list[int] = field(default_factory=list)
    sr_side: list[int] = field(default_factory=list)
    sr_rank: list[int] = field(default_factory=list)
    sr_doc: list[int] = field(default_factory=list)  # doc key within the item
    sr_d: list[int] = field(default_factory=list)
    sr_doc_id: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)  # item ids with an empty query or document text

    def add(self, src: dict[str, Any]) -> None:
        item_id = src.get("item_id") or src["_id"]
        query = (src.get("query") or "").strip()
        locale = src.get("locale") or "und"
        if src.get("kind") == "side_by_side":
            lists = [src.get("left") or [], src.get("right") or []]
            texts = [[doc_text(d) for d in lst] for lst in lists]
            identical = bool(src.get("identical"))
            if not query or any(not t for side in texts for t in side):
                self.empty.append(item_id)
                return
            n = len(self.sx_id)
            self.sx_id.append(src["_id"]); self.sx_item.append(item_id); self.sx_locale.append(locale)
            self.sx_q.append(self.texts.add(query)); self.sx_gold.append(bool(src.get("gold")))
            self.sx_identical.append(identical)
            self.sx_query_norm.append(src.get("query_norm") or query)
            self.sx_stratum.append(src.get("stratum") or "")
            self._place("sx", src)
            keys: dict[str, int] = {}
            for side, (lst, txt) in enumerate(zip(lists, texts)):
                for rank, (d, t) in enumerate(zip(lst, txt)):
                    key = str(d.get("doc_id") or d.get("url") or t)
                    self.sr_item.append(n); self.sr_side.append(side)
                    self.sr_rank.append(int(d["position"]) - 1 if d.get("position") else rank)
                    self.sr_doc.append(keys.setdefault(key, len(keys)))
                    self.sr_d.append(self.texts.add(t))
                    self.sr_doc_id.append(str(d.get("doc_id") or ""))
            return
        text = doc_text(src.get("doc"))
        if not query or not text:
            self.empty.append(item_id)
            return
        self.pw_id.append(src["_id"]); self.pw_item.append(item_id); self.pw_locale.append(locale)
        self.pw_q.append(self.texts.add(query)); self.pw_d.append(self.texts.add(text))
        self.pw_gold.append(bool(src.get("gold")))
        gl = src.get("gold_label")
        self.pw_gold_label.append(int(gl) if gl is not None else -1)
        self.pw_query_norm.append(src.get("query_norm") or query)
        self.pw_doc_id.append(str((src.get("doc") or {}).get("doc_id") or ""))
        self.pw_stratum.append(src.get("stratum") or "")
        self.pw_ranks.append(dict(src.get("ranks") or {}))
        self._place("pw", src)

    def _place(self, kind: str, src: dict[str, Any]) -> None:
        getattr(self, f"{kind}_priority").append(int(src.get("priority") or 0))
        key = src.get("order_key")
        getattr(self, f"{kind}_order").append(float(key) if key is not None else float("inf"))
        getattr(self, f"{kind}_scored").append(bool(src.get("scored")))

    @property
    def n(self) -> int:
        return len(self.pw_id) + len(self.sx_id)

    def arrays(self, name: str) -> np.ndarray:
        return np.asarray(getattr(self, name))


def read_items(es, prefix: str, evaluation_id: str, slices: int = 2, page_size: int = 1000) -> Items:
    """All items of ``evaluation_id``, read by ``slices`` parallel readers over one point-in-time."""
    out = Items()
    pit = store.open_pit(es, prefix)
    try:
        def one(slice_id: int) -> list[dict]:
            return list(store.iter_items(es, pit, evaluation_id, slice_id, slices, page_size))

        with ThreadPoolExecutor(max_workers=slices) as ex:
            for part in ex.map(one, range(slices)):
                for src in part:
                    out.add(src)
    finally:
        store.close_pit(es, pit)
    return out
