"""Recall at k (trec_eval ``recall``): relevant in the top k / all relevant (0 if none).

Cite: Buckley & Voorhees, "Retrieval System Evaluation" (2005).

>>> import numpy as np

from . import validate
>>> recall(np.array([[True, False, True]]), np.array([4]), 2).tolist()
[0.25]
"""
from __future__ import annotations

import numpy as np

from . import validate


def recall(relevant_by_rank: np.ndarray, num_rel: np.ndarray, k: int) -> np.ndarray:
    relevant_by_rank = validate.by_rank(relevant_by_rank, "relevant_by_rank")
    num_rel = validate.per_query(num_rel, relevant_by_rank.shape[0], "num_rel")
    k = validate.cutoff(k)
    hits = np.count_nonzero(relevant_by_rank[:, :k], axis=1)
    return np.divide(hits, num_rel, out=np.zeros(len(hits)), where=num_rel > 0)
