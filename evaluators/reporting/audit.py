"""Adaptive audit (issue 12): how likely each model-settled item is to go to humans, per stratum,
so that the headline difference's interval shrinks fastest per human judgement.

The prediction-powered headline (:mod:`.ppi`) has, from the audit, a variance of about

    V = Σ_h (W_h / Q_h)² Σ_{i ∈ h} (1/π_h − 1) δ_i²

over strata ``h`` (traffic weight ``W_h``, ``Q_h`` queries, ``N_h`` settled items, each with the
effect ``δ_i`` its human label would have on its query's difference). For a budget of audits
``Σ_h π_h N_h`` this is least at ``π_h N_h ∝ (W_h N_h / Q_h) S_h`` with ``S_h² = mean δ_i²`` —
Neyman's allocation (:func:`evaluators.stats.neyman_allocation`) with weights ``W_h N_h / Q_h``.
``S_h`` is estimated from what humans judged so far: over a stratum's usable queries,
``Σ_q (Y_q − M_q)² ≈ Σ_i δ_i² / π_i`` (``Y_q`` the per-query PPI difference, ``M_q`` the model's),
so ``S_h² ≈ π_h Σ_q (Y_q − M_q)² / N_h``; strata with fewer than ``min_audits`` audits take the
pooled value. Every stratum keeps at least the random audit share; the rest of the budget goes
where the model's errors move the headline most.

Whatever the allocation, the estimate stays unbiased as long as each item's probability is
known and recorded: :mod:`.ppi` weights every audited item by its own ``1/π_i``.

>>> pi = audit_inclusion([0.5, 0.5], [0.0, 0.2], settled=[100, 100], queries=[10, 10], audit_share=0.05,
...                      extra_share=0.05)
>>> pi.round(3).tolist()
[0.05, 0.15]
"""
from __future__ import annotations

import numpy as np

from evaluators.stats import neyman_allocation

__all__ = ["audit_inclusion", "residual_sd"]


def audit_inclusion(weights, residual, *, settled, queries, audit_share: float, extra_share: float) -> np.ndarray:
    """Per stratum: the probability that a settled item goes to humans — at least ``audit_share``,
    with ``extra_share`` × (settled items) more audits spread by Neyman's rule (module doc)."""
    w = np.asarray(weights, dtype=np.float64)
    s = np.asarray(residual, dtype=np.float64)
    n = np.asarray(settled, dtype=np.float64)
    q = np.asarray(queries, dtype=np.float64)
    if not (0 <= audit_share <= 1 and extra_share >= 0):
        raise ValueError("audit_share must lie in [0, 1] and extra_share be >= 0")
    base = np.full(w.shape, float(audit_share))
    if extra_share == 0 or n.sum() == 0 or not (w * s).any():
        return base  # nothing learnt yet (or nothing to spend): the random audit share everywhere
    share = np.divide(w * n, q, out=np.zeros_like(w), where=q > 0)
    budget = min(audit_share + extra_share, 1.0) * n.sum()
    a = neyman_allocation(share, s, cost=1.0, budget=budget, available=n, min_rate=audit_share, min_per_stratum=0)
    return np.where(n > 0, np.maximum(a.inclusion, audit_share), base)


def residual_sd(diff_ppi, diff_model, query_stratum, inclusion, settled_items, audits, n_strata: int,
                min_audits: int = 10) -> np.ndarray:
    """``S_h`` per stratum (module doc): ``diff_ppi``/``diff_model`` per query (NaN where not
    usable), the query's ``stratum``, the strata's current audit probability ``inclusion``, their
    settled items in the usable queries and their audits so far; strata with fewer than
    ``min_audits`` audits get the pooled value."""
    e = np.asarray(diff_ppi, dtype=np.float64) - np.asarray(diff_model, dtype=np.float64)
    ok = np.isfinite(e)
    st = np.asarray(query_stratum, dtype=np.int64)
    keep = ok & (st >= 0)
    sq = np.bincount(st[keep], weights=e[keep] ** 2, minlength=n_strata)
    pi = np.asarray(inclusion, dtype=np.float64)
    n = np.asarray(settled_items, dtype=np.float64)
    per = np.sqrt(np.divide(pi * sq, n, out=np.zeros(n_strata), where=n > 0))
    pooled = np.sqrt((pi * sq).sum() / n.sum()) if n.sum() > 0 else 0.0
    return np.where(np.asarray(audits) >= min_audits, per, pooled)
