"""An evaluation's label set as columns: one pass over its consensus documents.

Everything a report, a comparison or a TREC export needs of the items is on their consensus
documents (query, stratum, ranks or sides, label and provenance, vote counts), so the label
set is read once, with one point-in-time stream, into numpy columns. Queries are numbered in
the byte order of their ids — trec_eval's qid order — so sums over queries in index order are
the sums trec_eval makes on the exported files.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from elasticsearch import Elasticsearch

from services.store import consensus

SOURCES = consensus.SOURCES  # ("human", "model", "tie", "gold", "none")
SOURCE = {s: i for i, s in enumerate(SOURCES)}
FIELDS = ["item_id", "kind", "query_id", "query_norm", "locale", "stratum", "query_traffic", "doc_id", "ranks", "ranker_a",
          "ranker_b", "gold", "audit", "label", "preference", "source", "judgements", "model_label",
          "model_version", "method", "update_time", "votes"]


@dataclass
class Items:
    """One kind of item (pointwise or side by side), one row per item."""

    item_id: list = field(default_factory=list)
    query: np.ndarray = None  # query index
    locale: np.ndarray = None  # index into LabelSet.locales
    source: np.ndarray = None  # index into SOURCES
    audit: np.ndarray = None
    judgements: np.ndarray = None
    model_label: np.ndarray = None  # NaN when the model did not judge it
    label: np.ndarray = None  # pointwise: grade, -1 unlabelled; SxS: preference, NaN unlabelled
    doc_id: list = field(default_factory=list)  # pointwise
    ranks: np.ndarray = None  # pointwise: (rankers, items), 0 = not in the ranker's list
    ranker_a: np.ndarray = None  # SxS: ranker index (-1: not a ranker of the spec)
    ranker_b: np.ndarray = None

    def __len__(self) -> int:
        return 0 if self.query is None else len(self.query)


@dataclass
class LabelSet:
    """The columns, the queries and the provenance of an evaluation's labels."""

    evaluation_id: str
    rankers: list[str]
    query_ids: list[str]  # sorted (trec_eval's qid order)
    query_norm: list[str]
    query_stratum: np.ndarray  # index into the evaluation's strata; -1 for a stratum it does not list
    query_traffic: np.ndarray
    locales: list[str]
    pointwise: Items
    sxs: Items
    gold_items: int
    votes: list  # (kind, item row, value, count) columns: kind 0 pointwise, 1 SxS
    methods: dict[str, int]
    models: dict[str, int]
    update_time: str | None
    missing_votes: int  # human-labelled items without vote counts (alpha needs the judgements then)

    def complete(self) -> np.ndarray:
        """Per query: every pooled pointwise item has a label (and there is at least one)."""
        pw, n = self.pointwise, len(self.query_ids)
        items = np.bincount(pw.query, minlength=n)
        return (items > 0) & (np.bincount(pw.query[pw.label < 0], minlength=n) == 0)


def load(es: Elasticsearch, prefix: str, evaluation_id: str, rankers: list[str], strata: list[str]) -> LabelSet:
    """Read every consensus document of the evaluation into a :class:`LabelSet`."""
    rows: dict[str, list] = {"pointwise": [], "side_by_side": []}
    gold = 0
    for d in consensus.of_evaluation(es, prefix, evaluation_id, FIELDS):
        if d.get("gold"):
            gold += 1  # gold items calibrate graders; they are never part of a metric
            continue
        rows.setdefault(d.get("kind") or "pointwise", []).append(d)
    all_rows = rows["pointwise"] + rows["side_by_side"]
    query_ids = sorted({d.get("query_id") or "" for d in all_rows})
    qix = {q: i for i, q in enumerate(query_ids)}
    sx = {s: i for i, s in enumerate(strata)}
    q_stratum = np.full(len(query_ids), -1, dtype=np.int64)
    q_traffic = np.zeros(len(query_ids))
    q_norm = [""] * len(query_ids)
    for d in all_rows:
        i = qix[d.get("query_id") or ""]
        q_norm[i] = d.get("query_norm") or ""
        q_stratum[i] = sx.get(d.get("stratum") or "", -1)
        q_traffic[i] = max(q_traffic[i], float(d.get("query_traffic") or 0))
    locales = sorted({d.get("locale") or "" for d in all_rows})
    lix = {loc: i for i, loc in enumerate(locales)}
    rix = {r: i for i, r in enumerate(rankers)}
    methods: dict[str, int] = {}
    models: dict[str, int] = {}
    latest = None
    votes: list = []
    missing = 0

    def common(docs, kind: int) -> Items:
        nonlocal latest, missing
        it = Items(item_id=[d["item_id"] for d in docs])
        it.query = np.array([qix[d.get("query_id") or ""] for d in docs], dtype=np.int64)
        it.locale = np.array([lix[d.get("locale") or ""] for d in docs], dtype=np.int64)
        it.source = np.array([SOURCE.get(d.get("source") or "none", SOURCE["none"]) for d in docs], dtype=np.int64)
        it.audit = np.array([bool(d.get("audit")) for d in docs], dtype=bool)
        it.judgements = np.array([int(d.get("judgements") or 0) for d in docs], dtype=np.int64)
        it.model_label = np.array([np.nan if d.get("model_label") is None else float(d["model_label"]) for d in docs])
        for row, d in enumerate(docs):
            if d.get("method") and d.get("source") == "human":
                methods[d["method"]] = methods.get(d["method"], 0) + 1
            if d.get("model_version"):
                models[d["model_version"]] = models.get(d["model_version"], 0) + 1
            t = d.get("update_time")
            if t and (latest is None or t > latest):
                latest = t
            v = d.get("votes")
            if v:
                votes.extend((kind, row, float(k), int(n)) for k, n in v.items())
            elif d.get("source") == "human":
                missing += 1
        return it

    pw = common(rows["pointwise"], 0)
    pw.label = np.array([-1 if d.get("label") is None or d.get("source") == "none" else int(d["label"])
                         for d in rows["pointwise"]], dtype=np.int64)
    pw.doc_id = [str(d.get("doc_id") or "") for d in rows["pointwise"]]
    pw.ranks = np.zeros((len(rankers), len(pw)), dtype=np.int64)
    for row, d in enumerate(rows["pointwise"]):
        for r, rank in (d.get("ranks") or {}).items():
            if r in rix and rank:
                pw.ranks[rix[r], row] = int(rank)
    sxs = common(rows["side_by_side"], 1)
    sxs.label = np.array([np.nan if d.get("preference") is None or d.get("source") == "none" else float(d["preference"])
                          for d in rows["side_by_side"]])
    sxs.ranker_a = np.array([rix.get(d.get("ranker_a"), -1) for d in rows["side_by_side"]], dtype=np.int64)
    sxs.ranker_b = np.array([rix.get(d.get("ranker_b"), -1) for d in rows["side_by_side"]], dtype=np.int64)
    return LabelSet(evaluation_id, list(rankers), query_ids, q_norm, q_stratum, q_traffic, locales, pw, sxs, gold, votes,
                    methods, models, latest, missing)
