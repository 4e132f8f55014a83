"""Reciprocal rank (trec_eval ``recip_rank``): 1 / rank of the first relevant document, 0 if none.

>>> import numpy as np
>>> reciprocal_rank(np.array([[False, True], [False, False]])).tolist()
[0.5, 0.0]
"""
from __future__ import annotations

import numpy as np

from . import validate
from .jit import njit


@njit
def rr_row(codes, n, level):
    """Reciprocal rank of one ranking: ``codes[:n]`` grade codes by rank, relevant if >= ``level``."""
    for j in range(n):
        if codes[j] >= level:
            return 1.0 / (j + 1.0)
    return 0.0


@njit
def _rows(rel):
    out = np.empty(rel.shape[0])
    for i in range(rel.shape[0]):
        out[i] = rr_row(rel[i], rel.shape[1], 1)
    return out


def reciprocal_rank(relevant_by_rank: np.ndarray) -> np.ndarray:
    relevant_by_rank = validate.by_rank(relevant_by_rank, "relevant_by_rank")
    return _rows(validate.as_codes(relevant_by_rank))
