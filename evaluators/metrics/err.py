"""Expected reciprocal rank at k (Chapelle, Metzler, Zhang, Grinspan, CIKM 2009).

ERR@k = sum_{r<=k} 1/r * R_r * prod_{i<r} (1 - R_i),  R = (2**g - 1) / 2**g_max
for grade g > 0 and 0 otherwise (unjudged and negative grades stop nobody).
``max_grade`` is g_max; :mod:`evaluators.metrics.evaluate` passes the largest
grade in the qrels.  Not in trec_eval.

>>> import numpy as np
>>> err(np.array([[3, 0, 1]], dtype=np.int8), 10, 3).round(6).tolist()  # 7/8 + (1/8)(1/8)/3
[0.880208]
"""
from __future__ import annotations

import numpy as np

from . import validate
from .jit import njit


def stop_table(max_grade: int) -> np.ndarray:
    """Stop probability R of every grade code -128..127, indexed by code + 128 (exact: powers of two)."""
    if max_grade < 0:
        raise ValueError(f"max_grade must be >= 0, got {max_grade}")
    g = np.arange(-128, 128, dtype=np.float64)
    return np.where(g > 0, (np.exp2(g) - 1.0) / 2.0 ** max(int(max_grade), 1), 0.0)


@njit
def err_row(codes, n, k, stop_of):
    """ERR@k of one ranking of grade codes ``codes[:n]``; ``stop_of`` from :func:`stop_table`."""
    total = 0.0
    go_on = 1.0
    for j in range(min(n, k)):
        stop = stop_of[np.int64(codes[j]) + 128]
        total += go_on * stop / (j + 1.0)
        go_on *= 1.0 - stop
    return total


@njit
def _rows(codes, k, stop_of):
    out = np.empty(codes.shape[0])
    for i in range(codes.shape[0]):
        out[i] = err_row(codes[i], codes.shape[1], k, stop_of)
    return out


def err(grades_by_rank: np.ndarray, k: int, max_grade: int) -> np.ndarray:
    grades_by_rank = validate.by_rank(grades_by_rank, "grades_by_rank", integer=True)
    k = validate.cutoff(k)
    return _rows(validate.as_codes(grades_by_rank), k, stop_table(max_grade))
