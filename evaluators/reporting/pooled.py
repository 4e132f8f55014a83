"""Per-query metric values of every ranker from pooled labels, exactly as ``qrelay trec-eval``
computes them on the exported qrels and runs.

The input is columnar, one row per pooled pointwise item: its query, its label (grade, -1
while unlabelled) and its rank in each ranker's list (0: not in that list). A query is
*complete* when every pooled item of it has a label; only complete queries get values, and
for them the qrels of the export hold exactly their labels. The kernels are
:mod:`evaluators.metrics`' (one per concept), with trec_eval's rules:

* a ranker's documents are taken in rank order and renumbered 1, 2, 3, ... (a rank the
  ranker left empty — a repeated document dropped by pooling — does not leave a gap, because
  trec_eval ranks the run's lines by score and ignores the rank column);
* the ideal DCG comes from *all* labels of the query (every ranker's documents), R (num_rel)
  counts labels >= the relevance level, ERR's largest grade is the largest label of the
  complete queries (what the exported qrels hold);
* a query the ranker returned nothing for is not evaluated for that ranker (it is absent from
  the run);
* means are sums in query order divided by the number of queries, so numbering queries in
  trec_eval's qid order (byte order of the ids) makes :func:`trec_mean` bit-identical.

>>> import numpy as np
>>> query = np.array([0, 0, 0, 1, 1])
>>> label = np.array([3, 0, 1, 2, -1])          # query 1 is not complete yet
>>> ranks = np.array([[1, 2, 0, 1, 2],           # ranker 0: d0, d1 | d3, d4
...                   [0, 1, 2, 2, 1]])          # ranker 1: d1, d2 | d4, d3
>>> pm = per_query_values(query, label, ranks, 2, ["ndcg_cut.10", "P.1"])
>>> pm.complete.tolist()
[True, False]
>>> pm.values["ndcg_cut_10"][:, 0].round(4).tolist(), pm.values["P_1"][:, 0].tolist()
([0.8262, 0.1738], [1.0, 0.0])
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluators.metrics.ap import average_precision
from evaluators.metrics.err import err
from evaluators.metrics.judged import judged
from evaluators.metrics.ndcg import ideal_dcg, ndcg
from evaluators.metrics.precision import precision
from evaluators.metrics.ranking import PAD
from evaluators.metrics.recall import recall
from evaluators.metrics.registry import Measure, parse_measures
from evaluators.metrics.rprec import r_precision
from evaluators.metrics.rr import reciprocal_rank

__all__ = ["PooledMetrics", "per_query_values", "trec_mean", "rankings"]

UNLABELLED = -1


@dataclass(frozen=True)
class PooledMetrics:
    """Values per measure, ranker and query (NaN where a query is not evaluated)."""

    measures: list  # Measure, in the order asked (duplicates merged)
    values: dict  # str(measure) -> (rankers, queries) float64
    complete: np.ndarray  # (queries,) every pooled item labelled (and at least one item)
    retrieved: np.ndarray  # (rankers, queries) the ranker listed at least one document
    listed: np.ndarray  # (rankers, queries) documents the ranker listed
    labelled: np.ndarray  # (rankers, queries) of those, labelled
    max_grade: int  # largest label of the complete queries (ERR's normaliser)

    def evaluated(self, ranker: int) -> np.ndarray:
        """Queries a ranker has values for: complete and retrieved."""
        return self.complete & self.retrieved[ranker]


def _measures(measures) -> list[Measure]:
    if measures and all(isinstance(m, Measure) for m in measures):
        out = []
        for m in measures:
            if m not in out:
                out.append(m)
        return out
    seen: list[Measure] = []
    for text in measures:
        for m in parse_measures([text]):
            if m not in seen:
                seen.append(m)
    return seen


def rankings(query: np.ndarray, ranks: np.ndarray, n_queries: int) -> tuple[np.ndarray, np.ndarray]:
    """``(position, length)``: each item's 0-based position in each ranker's list for its query
    (-1 when not listed), ranks renumbered without gaps, and each list's length.

    >>> p, n = rankings(np.array([0, 0, 1]), np.array([[3, 1, 0]]), 2)
    >>> p.tolist(), n.tolist()
    ([[1, 0, -1]], [[2, 0]])
    """
    query = np.asarray(query, dtype=np.int64)
    ranks = np.atleast_2d(np.asarray(ranks, dtype=np.int64))
    position = np.full(ranks.shape, -1, dtype=np.int64)
    length = np.zeros((ranks.shape[0], n_queries), dtype=np.int64)
    for r in range(ranks.shape[0]):  # a handful of rankers; everything inside is vectorised
        listed = np.flatnonzero(ranks[r] > 0)
        if listed.size == 0:
            continue
        order = listed[np.lexsort((ranks[r, listed], query[listed]))]
        q = query[order]
        counts = np.bincount(q, minlength=n_queries)
        start = np.concatenate(([0], np.cumsum(counts)[:-1]))
        position[r, order] = np.arange(order.size) - start[q]
        length[r] = counts
    return position, length


def per_query_values(query, label, ranks, n_queries: int, measures, relevance_level: int = 1,
                     max_grade: int | None = None) -> PooledMetrics:
    """Values of ``measures`` (trec_eval names, e.g. ``ndcg_cut.10``, ``P_10``, ``map``) for every
    ranker (row of ``ranks``) and query ``0..n_queries-1``. ``max_grade``: ERR's normaliser when
    several label sets of one evaluation must share it (default: the largest label here)."""
    query = np.asarray(query, dtype=np.int64)
    label = np.asarray(label, dtype=np.int64)
    ranks = np.atleast_2d(np.asarray(ranks, dtype=np.int64))
    if query.ndim != 1 or label.shape != query.shape or ranks.shape[1:] != query.shape:
        raise ValueError(f"query {query.shape}, label {label.shape} and ranks {ranks.shape} must describe the "
                         "same items (ranks: one row per ranker)")
    if query.size and (query.min() < 0 or query.max() >= n_queries):
        raise ValueError(f"query indices must lie in 0..{n_queries - 1}")
    if label.size and (label.min() < UNLABELLED or label.max() > 127):
        raise ValueError("labels must be grades 0..127, or -1 while unlabelled")
    ms = _measures(measures)
    n_rankers = ranks.shape[0]

    items = np.bincount(query, minlength=n_queries)
    unlabelled = np.bincount(query[label < 0], minlength=n_queries)
    complete = (items > 0) & (unlabelled == 0)
    in_complete = complete[query]
    if max_grade is None:
        max_grade = int(label[in_complete].max()) if in_complete.any() else 0

    position, length = rankings(query, ranks, n_queries)
    labelled = np.zeros((n_rankers, n_queries), dtype=np.int64)
    for r in range(n_rankers):
        on = position[r] >= 0
        labelled[r] = np.bincount(query[on & (label >= 0)], minlength=n_queries)
    retrieved = length > 0

    # ideal DCGs and R from every label of the query, as trec_eval takes them from the qrels
    judged_rows = np.flatnonzero(in_complete & (label >= 0))
    order = judged_rows[np.lexsort((-label[judged_rows], query[judged_rows]))]
    grades_desc = label[order].astype(np.int8)
    offsets = np.concatenate(([0], np.cumsum(np.bincount(query[order], minlength=n_queries))))
    num_rel = np.bincount(query[order][grades_desc >= relevance_level], minlength=n_queries)
    ideal_cache: dict = {}

    def ideal(k, kind):
        if (k, kind) not in ideal_cache:
            ideal_cache[(k, kind)] = ideal_dcg(query[order], grades_desc, offsets, n_queries, k, kind)
        return ideal_cache[(k, kind)]

    values = {str(m): np.full((n_rankers, n_queries), np.nan) for m in ms}
    depth = max(int(length.max()) if length.size else 0, 1)
    for r in range(n_rankers):
        rows = np.flatnonzero(complete & retrieved[r])
        if rows.size == 0:
            continue
        slot = np.full(n_queries, -1, dtype=np.int64)
        slot[rows] = np.arange(rows.size)
        grades = np.full((rows.size, depth), PAD, dtype=np.int8)
        on = (position[r] >= 0) & complete[query]
        grades[slot[query[on]], position[r, on]] = label[on]
        rel = grades >= relevance_level
        nr = num_rel[rows]
        for m in ms:
            values[str(m)][r, rows] = _kernel(m, grades, rel, nr, lambda k, kind: ideal(k, kind)[rows], max_grade)
    return PooledMetrics(ms, values, complete, retrieved, length, labelled, max_grade)


def _kernel(m: Measure, grades, rel, num_rel, ideal, max_grade) -> np.ndarray:
    name = m.name
    if name == "map":
        return average_precision(rel, num_rel)
    if name == "Rprec":
        return r_precision(rel, num_rel)
    if name == "recip_rank":
        return reciprocal_rank(rel)
    if name == "P":
        return precision(rel, m.cutoff)
    if name == "recall":
        return recall(rel, num_rel, m.cutoff)
    if name == "ndcg":
        return ndcg(grades, ideal(None, "linear"), None, "linear")
    if name == "ndcg_cut":
        return ndcg(grades, ideal(m.cutoff, "linear"), m.cutoff, "linear")
    if name == "ndcg_exp_cut":
        return ndcg(grades, ideal(m.cutoff, "exp"), m.cutoff, "exp")
    if name == "err_cut":
        return err(grades, m.cutoff, max_grade)
    if name == "judged":
        return judged(grades, m.cutoff)
    raise AssertionError(f"no kernel for {name}")  # pragma: no cover - registry and dispatch out of sync


def trec_mean(values: np.ndarray) -> float:
    """The mean as trec_eval accumulates it: a running sum in order, divided by the count.

    >>> trec_mean(np.array([0.1, 0.2, 0.3]))
    0.20000000000000004
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return float("nan")
    return float(np.cumsum(values)[-1] / values.size)
