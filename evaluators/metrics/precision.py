"""Precision at k (trec_eval ``P``): relevant in the top k divided by k.

Ranks past the end of a short ranking count as non-relevant, as in
trec_eval's m_P.c.  Cite: Buckley & Voorhees, "Retrieval System Evaluation" (2005).

>>> import numpy as np
>>> precision(np.array([[True, False, True]]), 2).tolist()
[0.5]
"""
from __future__ import annotations

import numpy as np

from . import validate
from .jit import njit


@njit
def precision_row(codes, n, level, k):
    """P@k of one ranking: ``codes[:n]`` grade codes by rank, relevant if >= ``level``."""
    hits = 0
    for j in range(min(n, k)):
        hits += codes[j] >= level
    return hits / float(k)


@njit
def _rows(rel, k):
    out = np.empty(rel.shape[0])
    for i in range(rel.shape[0]):
        out[i] = precision_row(rel[i], rel.shape[1], 1, k)
    return out


def precision(relevant_by_rank: np.ndarray, k: int) -> np.ndarray:
    """Per-query P@k from a boolean ``(n_queries, depth)`` relevance matrix."""
    relevant_by_rank = validate.by_rank(relevant_by_rank, "relevant_by_rank")
    k = validate.cutoff(k)
    return _rows(validate.as_codes(relevant_by_rank), k)
