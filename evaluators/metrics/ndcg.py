"""Discounted cumulative gain and its normalised form (trec_eval ``ndcg``, ``ndcg_cut``).

DCG@k = sum_{r<=k} gain(g_r) / log2(r + 1), summed rank by rank like
m_ndcg_cut.c so values agree with trec_eval to the last bit.  Gains:

* ``linear`` (trec_eval): gain = grade for grade > 0, else 0;
* ``exp`` (Burges et al., ICML 2005): gain = 2**grade - 1 for grade > 0.

The ideal DCG is computed from *all* judged documents of the query (not just
the retrieved ones) — see :func:`ideal_dcg`.  nDCG is 0 when the ideal is 0.
Cite: Jarvelin & Kekalainen, ACM TOIS 20(4), 2002.

>>> import numpy as np

from . import validate
>>> g = np.array([[0, 2, 1]], dtype=np.int8)
>>> ideal = ideal_dcg(np.array([0, 0]), np.array([2, 1]), np.array([0, 2]), 1, 10)
>>> ndcg(g, ideal, 10).round(4).tolist()
[0.6697]
"""
from __future__ import annotations

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


def _discount(depth: int) -> np.ndarray:
    return np.log2(np.arange(depth, dtype=np.float64) + 2.0)


def dcg(grades_by_rank: np.ndarray, k: int | None = None, kind: str = "linear") -> np.ndarray:
    """Per-query DCG@k (k=None: whole ranking) of a grades matrix (padding < 0)."""
    grades_by_rank = validate.by_rank(grades_by_rank, "grades_by_rank", integer=True)
    k = validate.cutoff(k, allow_none=True)
    g = grades_by_rank if k is None else grades_by_rank[:, :k]
    gains = gain(g, kind)
    disc = _discount(g.shape[1])
    total = np.zeros(g.shape[0])
    for j in range(g.shape[1]):
        total += gains[:, j] / disc[j]
    return total


@njit
def _ideal_kernel(grades_desc, offsets, k, gain_of, disc):
    """Per query: sum over its first k grades (descending) of gain / log2(rank + 1), rank by rank."""
    nq = len(offsets) - 1
    out = np.zeros(nq)
    for q in range(nq):
        lo, hi = offsets[q], offsets[q + 1]
        m = hi - lo if k <= 0 else min(hi - lo, k)
        total = 0.0
        for r in range(m):
            g = grades_desc[lo + r]
            if g <= 0:  # descending: nothing after this gains
                break
            total += gain_of[g] / disc[r]
        out[q] = total
    return out


def ideal_from_sorted(grades_desc: np.ndarray, offsets: np.ndarray, k: int | None,
                      kind: str = "linear") -> np.ndarray:
    """Ideal DCG@k per query: query ``q``'s grades are ``grades_desc[offsets[q]:offsets[q+1]]``, descending.

    One compiled pass, no per-judgement temporaries; gains and discounts come
    from the same numpy expressions as :func:`dcg` (same bits).
    """
    k = validate.cutoff(k, allow_none=True)
    offsets = np.asarray(offsets, dtype=np.int64)
    longest = int(np.max(np.diff(offsets))) if len(offsets) > 1 else 0
    depth = longest if k is None else min(longest, k)
    gain_of = gain(np.arange(128), kind)
    return _ideal_kernel(np.asarray(grades_desc, dtype=np.int8), offsets, 0 if k is None else k, gain_of,
                         _discount(max(depth, 1)))


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
