"""Reciprocal rank (trec_eval ``recip_rank``): 1 / rank of the first relevant document, 0 if none.

>>> import numpy as np

from . import validate
>>> reciprocal_rank(np.array([[False, True], [False, False]])).tolist()
[0.5, 0.0]
"""
from __future__ import annotations

import numpy as np

from . import validate


def reciprocal_rank(relevant_by_rank: np.ndarray) -> np.ndarray:
    relevant_by_rank = validate.by_rank(relevant_by_rank, "relevant_by_rank")
    n, depth = relevant_by_rank.shape
    if depth == 0:
        return np.zeros(n)
    first = np.argmax(relevant_by_rank, axis=1)
    found = relevant_by_rank[np.arange(n), first]
    return np.where(found, 1.0 / (first + 1.0), 0.0)
