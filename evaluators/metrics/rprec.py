"""R-precision (trec_eval ``Rprec``): precision at rank R, R = number of relevant docs.

Only min(R, retrieved) ranks are looked at, the divisor is R (m_Rprec.c); 0 if R = 0.

>>> import numpy as np
>>> r_precision(np.array([[True, False, True]]), np.array([2])).tolist()
[0.5]
"""
from __future__ import annotations

import numpy as np

from . import validate
from .jit import njit


@njit
def rprec_row(codes, n, level, num_rel):
    """R-precision of one ranking: ``codes[:n]`` grade codes by rank, relevant if >= ``level``."""
    if num_rel <= 0:
        return 0.0
    hits = 0
    for j in range(min(n, num_rel)):
        hits += codes[j] >= level
    return hits / num_rel


@njit
def _rows(rel, num_rel):
    out = np.empty(rel.shape[0])
    for i in range(rel.shape[0]):
        out[i] = rprec_row(rel[i], rel.shape[1], 1, num_rel[i])
    return out


def r_precision(relevant_by_rank: np.ndarray, num_rel: np.ndarray) -> np.ndarray:
    relevant_by_rank = validate.by_rank(relevant_by_rank, "relevant_by_rank")
    num_rel = validate.per_query(num_rel, relevant_by_rank.shape[0], "num_rel")
    return _rows(validate.as_codes(relevant_by_rank), validate.as_counts(num_rel))
