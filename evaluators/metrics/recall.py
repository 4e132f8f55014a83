"""Recall at k (trec_eval ``recall``): relevant in the top k / all relevant (0 if none).

Cite: Buckley & Voorhees, "Retrieval System Evaluation" (2005).

>>> import numpy as np
>>> recall(np.array([[True, False, True]]), np.array([4]), 2).tolist()
[0.25]
"""
from __future__ import annotations

import numpy as np

from . import validate
from .jit import njit


@njit
def recall_row(codes, n, level, num_rel, k):
    """Recall@k of one ranking: ``codes[:n]`` grade codes by rank, relevant if >= ``level``."""
    if num_rel <= 0:
        return 0.0
    hits = 0
    for j in range(min(n, k)):
        hits += codes[j] >= level
    return hits / num_rel


@njit
def _rows(rel, num_rel, k):
    out = np.empty(rel.shape[0])
    for i in range(rel.shape[0]):
        out[i] = recall_row(rel[i], rel.shape[1], 1, num_rel[i], k)
    return out


def recall(relevant_by_rank: np.ndarray, num_rel: np.ndarray, k: int) -> np.ndarray:
    relevant_by_rank = validate.by_rank(relevant_by_rank, "relevant_by_rank")
    num_rel = validate.per_query(num_rel, relevant_by_rank.shape[0], "num_rel")
    k = validate.cutoff(k)
    return _rows(validate.as_codes(relevant_by_rank), validate.as_counts(num_rel), k)
