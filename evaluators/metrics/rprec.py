"""R-precision (trec_eval ``Rprec``): precision at rank R, R = number of relevant docs.

Only min(R, retrieved) ranks are looked at, the divisor is R (m_Rprec.c); 0 if R = 0.

>>> import numpy as np

from . import validate
>>> r_precision(np.array([[True, False, True]]), np.array([2])).tolist()
[0.5]
"""
from __future__ import annotations

import numpy as np

from . import validate


def r_precision(relevant_by_rank: np.ndarray, num_rel: np.ndarray) -> np.ndarray:
    relevant_by_rank = validate.by_rank(relevant_by_rank, "relevant_by_rank")
    n, depth = relevant_by_rank.shape
    num_rel = validate.per_query(num_rel, n, "num_rel")
    out = np.zeros(n)
    if depth == 0:
        return out
    cum = np.cumsum(relevant_by_rank, axis=1, dtype=np.int32)
    upto = np.minimum(num_rel, depth)
    has = upto > 0
    hits = cum[np.flatnonzero(has), upto[has] - 1]
    out[has] = hits / num_rel[has]
    return out
