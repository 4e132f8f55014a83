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

**For the verdict** (:func:`verdict_inclusion`) the total is not fixed: it is chosen so that the
anytime-valid sequence decides after the fewest human judgements. The sequence needs about
``t ∝ Var`` queries, each costing its human items plus its audits, so what is least is
``Cost(π) · Var(π)`` per query with

    Var(π) = A + Σ_h u_h S_h² (1/π_h − 1),    Cost(π) = k + Σ_h u_h π_h

(``A`` the variance of a query's value were every item judged by humans, ``u_h`` settled items of
stratum ``h`` per query, ``k`` items per query humans judge anyway, ``S_h`` as above but in the
sequence's units). Setting the derivative to 0 gives ``π_h = S_h sqrt(Cost/Var)``: Neyman's rule
again, at the level where one more audit costs as much in judgements as it saves in queries.
With a low audit share each disagreeing audit enters a query's value ``1/π`` times over (a
single grader's noise included), so the level this picks can be far above the random share.

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

__all__ = ["audit_inclusion", "residual_sd", "verdict_inclusion"]


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


def verdict_inclusion(residual, *, settled_per_query, human_per_query: float, variance_all_human: float,
                      floor) -> np.ndarray:
    """Per stratum: the probability that a settled item goes to humans that reaches the
    anytime-valid verdict after the fewest human judgements (module doc): ``residual`` ``S_h``
    (:func:`residual_sd` over the sequence's per-query values), ``settled_per_query`` ``u_h``,
    ``human_per_query`` ``k``, ``variance_all_human`` ``A``; never below ``floor`` (per stratum:
    the random share, or what an item already has — a probability never falls).

    >>> verdict_inclusion([0.0, 0.3], settled_per_query=[4.0, 4.0], human_per_query=8.0,
    ...                   variance_all_human=0.01, floor=[0.05, 0.05]).round(3).tolist()
    [0.05, 1.0]
    >>> verdict_inclusion([0.0, 0.01], settled_per_query=[4.0, 4.0], human_per_query=8.0,
    ...                   variance_all_human=0.01, floor=[0.05, 0.05]).round(3).tolist()
    [0.05, 0.295]
    """
    s = np.asarray(residual, dtype=np.float64)
    u = np.asarray(settled_per_query, dtype=np.float64)
    lo = np.clip(np.asarray(floor, dtype=np.float64), 0.0, 1.0)
    if s.shape != u.shape or lo.shape != s.shape or (s < 0).any() or (u < 0).any():
        raise ValueError("residual, settled_per_query and floor need one non-negative entry per stratum")
    if not (human_per_query >= 0 and variance_all_human >= 0):
        raise ValueError("human_per_query and variance_all_human must be >= 0")
    if not (s * u).any():
        return lo  # the audit has not caught the model out: nothing to steer by

    def at(r: float) -> np.ndarray:
        return np.clip(s * np.sqrt(r), np.maximum(lo, 1e-9), 1.0)

    def objective(pi: np.ndarray) -> float:
        var = variance_all_human + float((u * s * s * (1.0 / pi - 1.0)).sum())
        return (human_per_query + float((u * pi).sum())) * var

    # π_h = S_h sqrt(r) at the optimum, with r = Cost/Var there: search r (one dimension, and J is
    # smooth in it) over every level from "all at the floor" to "every item checked"
    top = 1.0 / max(float(s[s > 0].min()), 1e-12) ** 2
    grid = np.geomspace(top * 1e-8, top * 1.01, 400)
    best = min(grid, key=lambda r: objective(at(r)))
    return np.where(u > 0, at(best), lo)
