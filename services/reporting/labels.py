"""An evaluation's label set as columns: one pass over its consensus documents.

Everything a report, a comparison or a TREC export needs of the items is on their consensus
documents (query, stratum, ranks or sides, label and provenance, vote counts), so the label
set is read once, with one point-in-time stream, into numpy columns. Queries are numbered in
the byte order of their ids — trec_eval's qid order — so sums over queries in index order are
the sums trec_eval makes on the exported files.

A label set can also be another evaluation's labels laid over this one's pooled items
(:func:`relabel`): re-scoring an earlier evaluation's runs with a newer label set.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from elasticsearch import Elasticsearch

from services.core import clock
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
    needs_humans: np.ndarray = None  # routed to humans (uncertain for the model, or audited)
    human_time: np.ndarray = None  # epoch seconds of the first human label (NaN: none, or not recorded)
    judgements: np.ndarray = None
    model_label: np.ndarray = None  # NaN when the model did not judge it
    # a settled item's recorded probability of a human check (NaN: not recorded; the audit share then)
    inclusion: np.ndarray = None
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
    # lineage: (kind, method) -> human labels; (model version, calibration id) -> model-labelled items
    human_methods: dict = field(default_factory=dict)
    calibrations: dict = field(default_factory=dict)
    source: str = ""  # evaluation id whose labels these are, when not this evaluation's own (relabel)
    relabelled: int = 0  # relabel: pointwise items that took a label from `source`
    unmatched: int = 0  # relabel: pointwise items `source` has no item for
    # the routing that sent items to humans (from the labels' evaluation): each settled item's chance of an audit
    audit_share: float | None = None
    threshold: float | None = None

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
        self.needs_humans: list[bool] = []
        self.human_time: list[float] = []
        self.judgements: list[int] = []
        self.model_label: list[float] = []
        self.inclusion: list[float] = []
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
        it.needs_humans = np.array(self.needs_humans, dtype=bool)
        it.human_time = np.array(self.human_time, dtype=np.float64)
        it.judgements = np.array(self.judgements, dtype=np.int64)
        it.model_label = np.array(self.model_label, dtype=np.float64)
        it.inclusion = np.array(self.inclusion, dtype=np.float64)
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
    human_methods: dict[tuple[str, str], int] = {}
    calibrations: dict[tuple[str, str], int] = {}
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
        c.needs_humans.append(bool(d.get("needs_humans")))
        c.human_time.append(_epoch(d.get("human_time") or (d.get("update_time") if source == "human" else None)))
        c.judgements.append(int(d.get("judgements") or 0))
        m = d.get("model_label")
        c.model_label.append(nan if m is None else float(m))
        p = d.get("audit_probability")
        c.inclusion.append(nan if p is None else float(p))
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
            key = (d.get("kind") or "pointwise", d["method"])
            human_methods[key] = human_methods.get(key, 0) + 1
        if d.get("model_version"):
            models[d["model_version"]] = models.get(d["model_version"], 0) + 1
            key = (d["model_version"], d.get("calibration_id") or "")
            calibrations[key] = calibrations.get(key, 0) + 1
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
                    methods, models, latest, missing, human_methods, calibrations)


def empty(n_rankers: int, side_by_side: bool = True) -> Items:
    """No items of a kind (typed, zero-length columns)."""
    return _Columns(int(side_by_side), n_rankers).items(np.zeros(0, dtype=np.int64), {}, {},
                                                        np.nan if side_by_side else -1)


def _epoch(value: str | None) -> float:
    return clock.parse_time(value).timestamp() if value else float("nan")


def relabel(base: LabelSet, source: LabelSet) -> LabelSet:
    """``base``'s queries, strata and rankers' lists with ``source``'s pointwise labels: each pooled
    item takes the label (and model label, routing and provenance) of the ``source`` item of the
    same normalised query, locale and document; items ``source`` has none for are unlabelled, so
    their queries are incomplete. Side-by-side items judge two particular lists and are not
    carried over."""
    sp, bp = source.pointwise, base.pointwise
    key_of = {(source.query_norm[q], source.locales[loc], doc): row for row, (q, loc, doc) in
              enumerate(zip(sp.query.tolist(), sp.locale.tolist(), sp.doc_id))}
    rows = np.array([key_of.get((base.query_norm[q], base.locales[loc], doc), -1) for q, loc, doc in
                     zip(bp.query.tolist(), bp.locale.tolist(), bp.doc_id)], dtype=np.int64)
    found = rows >= 0
    at = np.where(found, rows, 0)

    def take(col, missing):
        return np.where(found, col[at], missing) if len(sp) else np.full(len(bp), missing, dtype=col.dtype)

    pw = Items(item_id=bp.item_id, doc_id=bp.doc_id, query=bp.query, locale=bp.locale, ranks=bp.ranks)
    pw.source = take(sp.source, SOURCE["none"])
    pw.audit = take(sp.audit, False)
    pw.needs_humans = take(sp.needs_humans, False)
    pw.human_time = take(sp.human_time, np.nan)
    pw.judgements = take(sp.judgements, 0)
    pw.model_label = take(sp.model_label, np.nan)
    pw.inclusion = take(sp.inclusion, np.nan)
    pw.label = take(sp.label, -1)
    kind, vrow, value, count = source.votes
    back = np.full(len(sp), -1, dtype=np.int64)
    back[rows[found]] = np.flatnonzero(found)  # a source item serves one base item per (query, locale, doc)
    keep = (kind == 0) & (back[np.where(kind == 0, vrow, 0)] >= 0) if len(sp) else np.zeros(kind.size, bool)
    votes = (kind[keep], back[vrow[keep]], value[keep], count[keep])
    return LabelSet(base.evaluation_id, base.rankers, base.query_ids, base.query_norm, base.query_stratum,
                    base.query_traffic, base.locales, pw, empty(len(base.rankers)), base.gold_items, votes,
                    source.methods, source.models, source.update_time, source.missing_votes,
                    {k: n for k, n in source.human_methods.items() if k[0] == "pointwise"}, source.calibrations, source=source.evaluation_id, relabelled=int(found.sum()),
                    unmatched=int((~found).sum()), audit_share=source.audit_share, threshold=source.threshold)
