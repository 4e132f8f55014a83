"""Average precision (trec_eval ``map`` per query).

Sum over relevant retrieved documents of (relevant so far / rank), divided by
the number of relevant documents R (m_map.c); 0 when nothing relevant is
retrieved.  Summed rank by rank, in the same order as trec_eval, so the
floating-point result is the same.  Cite: Buckley & Voorhees (2005).

>>> import numpy as np
>>> average_precision(np.array([[True, False, True]]), np.array([3])).tolist()  # (1 + 2/3) / 3
[0.5555555555555555]
"""
from __future__ import annotations

import numpy as np

from . import validate
from .jit import njit


@njit
def ap_row(codes, n, level, num_rel):
    """AP of one ranking: ``codes[:n]`` grade codes by rank, relevant if >= ``level``."""
    total = 0.0
    so_far = 0
    for j in range(n):
        if codes[j] >= level:
            so_far += 1
            total += so_far / (j + 1.0)
    if so_far == 0 or num_rel <= 0:
        return 0.0
    return total / num_rel


@njit
def _rows(rel, num_rel):
    out = np.empty(rel.shape[0])
    for i in range(rel.shape[0]):
        out[i] = ap_row(rel[i], rel.shape[1], 1, num_rel[i])
    return out


def average_precision(relevant_by_rank: np.ndarray, num_rel: np.ndarray) -> np.ndarray:
    relevant_by_rank = validate.by_rank(relevant_by_rank, "relevant_by_rank")
    num_rel = validate.per_query(num_rel, relevant_by_rank.shape[0], "num_rel")
    return _rows(validate.as_codes(relevant_by_rank), validate.as_counts(num_rel))
