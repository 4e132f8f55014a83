"""Precision at k (trec_eval ``P``): relevant in the top k divided by k.

Ranks past the end of a short ranking count as non-relevant, as in
trec_eval's m_P.c.  Cite: Buckley & Voorhees, "Retrieval System Evaluation" (2005).

>>> import numpy as np

from . import validate
>>> precision(np.array([[True, False, True]]), 2).tolist()
[0.5]
"""
from __future__ import annotations

import numpy as np

from . import validate


def precision(relevant_by_rank: np.ndarray, k: int) -> np.ndarray:
    """Per-query P@k from a boolean ``(n_queries, depth)`` relevance matrix."""
    relevant_by_rank = validate.by_rank(relevant_by_rank, "relevant_by_rank")
    k = validate.cutoff(k)
    return np.count_nonzero(relevant_by_rank[:, :k], axis=1) / float(k)
