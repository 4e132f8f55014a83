"""Precision at k (trec_eval ``P``): relevant in the top k divided by k.

Ranks past the end of a short ranking count as non-relevant, as in
trec_eval's m_P.c.  Cite: Buckley & Voorhees, "Retrieval System Evaluation" (2005).

>>> import numpy as np
>>> precision(np.array([[True, False, True]]), 2).tolist()
[0.5]
"""
from __future__ import annotations

import numpy as np


def precision(relevant_by_rank: np.ndarray, k: int) -> np.ndarray:
    """Per-query P@k from a boolean ``(n_queries, depth)`` relevance matrix."""
    return np.count_nonzero(relevant_by_rank[:, :k], axis=1) / float(k)
