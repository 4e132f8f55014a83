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
    votes: tuple  # columns (kind, item row, value, count): kind 0 pointwise, 1 SxS
    methods: dict[str, int]
    models: dict[str, int]
    update_time: str | None
    missing_votes: int  # human-labelled items without vote counts (alpha needs the judgements then)

    def complete(self) -> np.ndarray:
        """Per query: every pooled pointwise item has a label (and there is at least one)."""
        pw, n = self.pointwise, len(self.query_ids)
        items = np.bincount(pw.query, minlength=n)
        return (items > 0) & (np.bincount(pw.query[pw.label < 0], minlength=n) == 0)


class _Columns:
    """Growing columns of one kind of item while the stream is read (one pass, no document kept)."""

    def __init__(self, kind: int, n_rankers: int):
        self.kind = kind
        self.item_id: list[str] = []
        self.query: list[str] = []
        self.locale: list[str] = []
        self.source: list[int] = []
        self.audit: list[bool] = []
        self.judgements: list[int] = []
        self.model_label: list[float] = []
        self.label: list[float] = []
        self.doc_id: list[str] = []
        self.ranks: list[list[int]] = [[] for _ in range(n_rankers)]
        self.ranker_a: list[str] = []
        self.ranker_b: list[str] = []

    def items(self, qix: np.ndarray, locale_ix: dict[str, int], rix: dict[str, int], unlabelled) -> Items:
        it = Items(item_id=self.item_id, doc_id=self.doc_id)
        it.query = qix
        it.locale = np.array([locale_ix[x] for x in self.locale], dtype=np.int64)
        it.source = np.array(self.source, dtype=np.int64)
        it.audit = np.array(self.audit, dtype=bool)
        it.judgements = np.array(self.judgements, dtype=np.int64)
        it.model_label = np.array(self.model_label, dtype=np.float64)
        label = np.array(self.label, dtype=np.float64)
        label[it.source == SOURCE["none"]] = np.nan
        it.label = np.where(np.isnan(label), unlabelled, label)
        if self.kind == 0:
            it.label = it.label.astype(np.int64)
            it.ranks = np.array(self.ranks, dtype=np.int64).reshape(len(self.ranks), len(self.item_id))
        else:
            it.ranker_a = np.array([rix.get(r, -1) for r in self.ranker_a], dtype=np.int64)
            it.ranker_b = np.array([rix.get(r, -1) for r in self.ranker_b], dtype=np.int64)
        return it


def load(es: Elasticsearch, prefix: str, evaluation_id: str, rankers: list[str], strata: list[str]) -> LabelSet:
    """Read every consensus document of the evaluation into a :class:`LabelSet` (one pass)."""
    rix = {r: i for i, r in enumerate(rankers)}
    cols = {"pointwise": _Columns(0, len(rankers)), "side_by_side": _Columns(1, len(rankers))}
    query_info: dict[str, tuple[str, str, float]] = {}  # query id -> (query_norm, stratum, traffic)
    methods: dict[str, int] = {}
    models: dict[str, int] = {}
    v_kind: list[int] = []
    v_row: list[int] = []
    v_value: list[float] = []
    v_count: list[int] = []
    gold = missing = 0
    latest = None
    nan = float("nan")
    # the whole source: filtering it costs Elasticsearch more than sending the few extra fields
    for d in consensus.of_evaluation(es, prefix, evaluation_id):
        if d.get("gold"):
            gold += 1  # gold items calibrate graders; they are never part of a metric
            continue
        c = cols["side_by_side" if d.get("kind") == "side_by_side" else "pointwise"]
        row = len(c.item_id)
        qid = d.get("query_id") or ""
        if qid not in query_info:
            query_info[qid] = (d.get("query_norm") or "", d.get("stratum") or "", float(d.get("query_traffic") or 0))
        source = d.get("source") or "none"
        c.item_id.append(d["item_id"])
        c.query.append(qid)
        c.locale.append(d.get("locale") or "")
        c.source.append(SOURCE.get(source, SOURCE["none"]))
        c.audit.append(bool(d.get("audit")))
        c.judgements.append(int(d.get("judgements") or 0))
        m = d.get("model_label")
        c.model_label.append(nan if m is None else float(m))
        value = d.get("label") if c.kind == 0 else d.get("preference")
        c.label.append(nan if value is None else float(value))
        if c.kind == 0:
            c.doc_id.append(str(d.get("doc_id") or ""))
            ranks = d.get("ranks") or {}
            for r, col in zip(rankers, c.ranks):
                col.append(int(ranks.get(r) or 0))
        else:
            c.ranker_a.append(d.get("ranker_a") or "")
            c.ranker_b.append(d.get("ranker_b") or "")
        if source == "human" and d.get("method"):
            methods[d["method"]] = methods.get(d["method"], 0) + 1
        if d.get("model_version"):
            models[d["model_version"]] = models.get(d["model_version"], 0) + 1
        t = d.get("update_time")
        if t and (latest is None or t > latest):
            latest = t
        v = d.get("votes")
        if v:
            for value, n in v.items():
                v_kind.append(c.kind)
                v_row.append(row)
                v_value.append(float(value))
                v_count.append(n)
        elif source == "human":
            missing += 1

    query_ids = sorted(query_info)
    qix = {q: i for i, q in enumerate(query_ids)}
    sx = {s: i for i, s in enumerate(strata)}
    info = [query_info[q] for q in query_ids]
    q_stratum = np.array([sx.get(s, -1) for _, s, _ in info], dtype=np.int64)
    q_traffic = np.array([t for _, _, t in info], dtype=np.float64)
    locales = sorted(set(cols["pointwise"].locale) | set(cols["side_by_side"].locale))
    lix = {loc: i for i, loc in enumerate(locales)}
    pw, sxs = (cols[k].items(np.array([qix[q] for q in cols[k].query], dtype=np.int64), lix, rix, u)
               for k, u in (("pointwise", -1), ("side_by_side", np.nan)))
    return LabelSet(evaluation_id, list(rankers), query_ids, [n for n, _, _ in info], q_stratum, q_traffic, locales,
                    pw, sxs, gold, (np.array(v_kind, dtype=np.int64), np.array(v_row, dtype=np.int64),
                                    np.array(v_value, dtype=np.float64), np.array(v_count, dtype=np.int64)),
                    methods, models, latest, missing)
