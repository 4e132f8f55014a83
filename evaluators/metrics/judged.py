"""Judged@k: share of the top k ranks holding a judged document (grade >= 0).

Not a trec_eval measure; defined as ir_measures' ``Judged@k``: ranks past the
end of the ranking count as unjudged, so the divisor is always k.  Documents
absent from the qrels (code -1) and documents in the qrels with a negative
grade (trec_eval's "in pool but unjudged", code -2) are unjudged.  Useful next
to any measure computed on incomplete judgements (Sakai, SIGIR 2007).

>>> import numpy as np
>>> judged(np.array([[2, -1, 0]], dtype=np.int8), 4).tolist()
[0.5]
"""
from __future__ import annotations

import numpy as np

from . import validate
from .jit import njit


@njit
def judged_row(codes, n, k):
    """Judged@k of one ranking of grade codes ``codes[:n]``."""
    count = 0
    for j in range(min(n, k)):
        count += codes[j] >= 0
    return count / float(k)


@njit
def _rows(codes, k):
    out = np.empty(codes.shape[0])
    for i in range(codes.shape[0]):
        out[i] = judged_row(codes[i], codes.shape[1], k)
    return out


def judged(grades_by_rank: np.ndarray, k: int) -> np.ndarray:
    grades_by_rank = validate.by_rank(grades_by_rank, "grades_by_rank", integer=True)
    k = validate.cutoff(k)
    return _rows(validate.as_codes(grades_by_rank), k)
