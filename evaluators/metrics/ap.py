"""Average precision (trec_eval ``map`` per query).

Sum over relevant retrieved documents of (relevant so far / rank), divided by
the number of relevant documents R (m_map.c); 0 when nothing relevant is
retrieved.  Summed rank by rank, in the same order as trec_eval, so the
floating-point result is the same.  Cite: Buckley & Voorhees (2005).

>>> import numpy as np

from . import validate
>>> average_precision(np.array([[True, False, True]]), np.array([3])).tolist()  # (1 + 2/3) / 3
[0.5555555555555555]
"""
from __future__ import annotations

import numpy as np

from . import validate


def average_precision(relevant_by_rank: np.ndarray, num_rel: np.ndarray) -> np.ndarray:
    relevant_by_rank = validate.by_rank(relevant_by_rank, "relevant_by_rank")
    n, depth = relevant_by_rank.shape
    num_rel = validate.per_query(num_rel, n, "num_rel")
    total = np.zeros(n)
    so_far = np.zeros(n)
    for j in range(depth):
        col = relevant_by_rank[:, j]
        if not col.any():
            continue
        so_far += col
        total += np.where(col, so_far / (j + 1.0), 0.0)
    return np.divide(total, num_rel, out=np.zeros(n), where=(so_far > 0) & (num_rel > 0))
