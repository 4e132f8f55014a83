"""Discounted cumulative gain and its normalised form (trec_eval ``ndcg``, ``ndcg_cut``).

DCG@k = sum_{r<=k} gain(g_r) / log2(r + 1), summed rank by rank like
m_ndcg_cut.c, the discount from C's ``log2`` as trec_eval takes it (numpy's
vectorised ``log2`` differs in the last bit for some ranks), so values agree
with trec_eval to the last bit.  Gains:

* ``linear`` (trec_eval): gain = grade for grade > 0, else 0;
* ``exp`` (Burges et al., ICML 2005): gain = 2**grade - 1 for grade > 0.

The ideal DCG is computed from *all* judged documents of the query (not just
the retrieved ones) — see :func:`ideal_dcg`.  nDCG is 0 when the ideal is 0.
Cite: Jarvelin & Kekalainen, ACM TOIS 20(4), 2002.

>>> import numpy as np
>>> g = np.array([[0, 2, 1]], dtype=np.int8)
>>> ideal = ideal_dcg(np.array([0, 0]), np.array([2, 1]), np.array([0, 2]), 1, 10)
>>> ndcg(g, ideal, 10).round(4).tolist()
[0.6697]
"""
from __future__ import annotations

import math

import numpy as np

from . import validate
from .jit import njit

GAINS = ("linear", "exp")


def gain(grades: np.ndarray, kind: str = "linear") -> np.ndarray:
    g = grades.astype(np.float64)
    if kind == "linear":
        return np.where(g > 0, g, 0.0)
    if kind == "exp":
        return np.where(g > 0, np.exp2(g) - 1.0, 0.0)
    raise ValueError(f"unknown gain {kind!r} (known: {', '.join(GAINS)})")


def gain_table(kind: str = "linear") -> np.ndarray:
    """Gain of every grade code -128..127, indexed by code + 128."""
    return gain(np.arange(-128, 128), kind)


@njit
def discounts(n):
    """log2(rank + 1) for ranks 1..n (rank r at [r - 1])."""
    out = np.empty(n)
    for j in range(n):
        out[j] = math.log2(j + 2.0)
    return out


@njit
def dcg_row(codes, n, k, gain_of, disc):
    """DCG@k (k <= 0: all ranks) of one ranking of grade codes ``codes[:n]``; ``disc`` covers the ranks."""
    m = n if k <= 0 else min(n, k)
    total = 0.0
    for j in range(m):
        total += gain_of[np.int64(codes[j]) + 128] / disc[j]
    return total


@njit
def ideal_row(grades_desc, lo, hi, k, gain_of, disc):
    """Ideal DCG@k from one query's judged grades ``grades_desc[lo:hi]``, sorted descending."""
    m = hi - lo if k <= 0 else min(hi - lo, k)
    total = 0.0
    for r in range(m):
        g = grades_desc[lo + r]
        if g <= 0:  # descending: nothing after this gains
            break
        total += gain_of[np.int64(g) + 128] / disc[r]
    return total


@njit
def _dcg_rows(codes, k, gain_of):
    disc = discounts(codes.shape[1])
    out = np.empty(codes.shape[0])
    for i in range(codes.shape[0]):
        out[i] = dcg_row(codes[i], codes.shape[1], k, gain_of, disc)
    return out


@njit
def _ideal_rows(grades_desc, offsets, k, gain_of):
    nq = len(offsets) - 1
    longest = 0
    for q in range(nq):
        longest = max(longest, offsets[q + 1] - offsets[q])
    disc = discounts(longest)
    out = np.empty(nq)
    for q in range(nq):
        out[q] = ideal_row(grades_desc, offsets[q], offsets[q + 1], k, gain_of, disc)
    return out


def dcg(grades_by_rank: np.ndarray, k: int | None = None, kind: str = "linear") -> np.ndarray:
    """Per-query DCG@k (k=None: whole ranking) of a grades matrix (padding < 0)."""
    grades_by_rank = validate.by_rank(grades_by_rank, "grades_by_rank", integer=True)
    k = validate.cutoff(k, allow_none=True)
    return _dcg_rows(validate.as_codes(grades_by_rank), k or 0, gain_table(kind))


def ideal_from_sorted(grades_desc: np.ndarray, offsets: np.ndarray, k: int | None,
                      kind: str = "linear") -> np.ndarray:
    """Ideal DCG@k per query: query ``q``'s grades are ``grades_desc[offsets[q]:offsets[q+1]]``, descending."""
    k = validate.cutoff(k, allow_none=True)
    return _ideal_rows(np.asarray(grades_desc, dtype=np.int8), np.asarray(offsets, dtype=np.int64), k or 0,
                       gain_table(kind))


def ideal_dcg(query: np.ndarray, grades_desc: np.ndarray, offsets: np.ndarray, n_queries: int,
              k: int | None, kind: str = "linear") -> np.ndarray:
    """Ideal DCG@k per query from qrels rows sorted by (query, grade descending)."""
    query, grades_desc = np.asarray(query), np.asarray(grades_desc)
    if query.shape != grades_desc.shape or query.ndim != 1:
        raise ValueError(f"query {query.shape} and grades_desc {grades_desc.shape} must be 1-D of one length")
    if not np.issubdtype(grades_desc.dtype, np.integer):
        raise ValueError(f"grades must be integers, got dtype {grades_desc.dtype}")
    if len(offsets) != n_queries + 1:
        raise ValueError(f"offsets has {len(offsets)} entries; expected n_queries + 1 = {n_queries + 1}")
    if len(grades_desc) and (grades_desc.min() < -128 or grades_desc.max() > 127):
        raise ValueError("grades must lie in -128..127")
    return ideal_from_sorted(grades_desc, offsets, k, kind)


def ndcg(grades_by_rank: np.ndarray, ideal: np.ndarray, k: int | None = None,
         kind: str = "linear") -> np.ndarray:
    """Per-query nDCG@k: DCG@k / ideal DCG@k (0 where the ideal is 0)."""
    d = dcg(grades_by_rank, k, kind)
    ideal = validate.per_query(ideal, len(d), "ideal")
    return np.divide(d, ideal, out=np.zeros(len(d)), where=ideal > 0)
