"""Expected reciprocal rank at k (Chapelle, Metzler, Zhang, Grinspan, CIKM 2009).

ERR@k = sum_{r<=k} 1/r * R_r * prod_{i<r} (1 - R_i),  R = (2**g - 1) / 2**g_max
for grade g > 0 and 0 otherwise (unjudged and negative grades stop nobody).
``max_grade`` is g_max; :mod:`evaluators.metrics.evaluate` passes the largest
grade in the qrels.  Not in trec_eval.

>>> import numpy as np

from . import validate
>>> err(np.array([[3, 0, 1]], dtype=np.int8), 10, 3).round(6).tolist()  # 7/8 + (1/8)(1/8)/3
[0.880208]
"""
from __future__ import annotations

import numpy as np

from . import validate


def err(grades_by_rank: np.ndarray, k: int, max_grade: int) -> np.ndarray:
    grades_by_rank = validate.by_rank(grades_by_rank, "grades_by_rank", integer=True)
    k = validate.cutoff(k)
    if max_grade < 0:
        raise ValueError(f"max_grade must be >= 0, got {max_grade}")
    n = grades_by_rank.shape[0]
    g = grades_by_rank[:, :k].astype(np.float64)
    stop = np.where(g > 0, (np.exp2(g) - 1.0) / 2.0 ** max(int(max_grade), 1), 0.0)
    total = np.zeros(n)
    go_on = np.ones(n)
    for j in range(g.shape[1]):
        total += go_on * stop[:, j] / (j + 1.0)
        go_on *= 1.0 - stop[:, j]
    return total
