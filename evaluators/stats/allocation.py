"""How much human grading each stratum should get: the allocation that shrinks the
headline confidence interval fastest per unit of grading cost.

The stratified PPI estimate (:mod:`.ppi`) has variance ``Σ_h W_h² (S_h² / n_h + const_h)``
where ``S_h²`` is the variance of the PPI residual ``y − λ f`` in stratum ``h`` (for the
headline difference: of the residual of the per-query difference) and ``n_h`` the human
labels it gets. Minimising it under a budget ``Σ_h c_h n_h = B`` gives the cost-aware
Neyman allocation ``n_h ∝ W_h S_h / sqrt(c_h)`` (J. Neyman, "On the two different aspects
of the representative method", *J. R. Stat. Soc.* 97 (1934); Cochran, *Sampling
Techniques*, 1977, §5.5), here bounded per stratum between a floor (at least
``min_per_stratum`` labels and the random audit share ``min_rate``) and the units available,
by water-filling on the proportionality constant.

Humans then grade each unit of stratum ``h`` with the known inclusion probability
``π_h = n_h / N_h`` (independently, or as a random sample of that size), and
``ppi_mean(..., inclusion=π)`` stays unbiased whatever the allocation was.

Example:
    >>> a = neyman_allocation([0.5, 0.5], [0.1, 0.3], cost=[1.0, 1.0], budget=400, available=[1000, 1000])
    >>> a.n.tolist(), a.inclusion.tolist()
    ([100.0, 300.0], [0.1, 0.3])
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _checks


@dataclass(frozen=True, eq=False)
class Allocation:
    n: np.ndarray  # human labels per stratum (real-valued; round or sample with inclusion)
    inclusion: np.ndarray  # per stratum: probability that a unit goes to humans (n / available)
    cost: float  # Σ cost_h n_h
    std_error: float  # predicted SE of the weighted residual part: sqrt(Σ W_h² S_h² / n_h)


def neyman_allocation(weights, residual_sd, *, cost, budget: float, available, min_rate: float = 0.0,
                      min_per_stratum: int = 2) -> Allocation:
    """Allocate ``budget`` (in cost units) of human grading across strata (see module doc).

    ``weights``: traffic share per stratum; ``residual_sd``: SD of the PPI residual per stratum
    (from a pilot or the labels so far); ``cost``: cost of grading one unit per stratum (e.g.
    seconds × pooled items of a query); ``available``: units per stratum.
    """
    w = _checks.finite_vector(weights, "weights")
    s = _checks.finite_vector(residual_sd, "residual_sd")
    c = _checks.finite_vector(np.broadcast_to(np.asarray(cost, float), w.shape), "cost")
    cap = _checks.finite_vector(available, "available")
    if not (w.shape == s.shape == cap.shape):
        raise ValueError("weights, residual_sd, cost and available need one entry per stratum")
    if (w < 0).any() or (s < 0).any() or (c <= 0).any() or (cap < 0).any():
        raise ValueError("weights, residual_sd and available must be >= 0 and cost > 0")
    if not 0 <= min_rate <= 1:
        raise ValueError("min_rate must lie in [0, 1]")
    floor = np.minimum(np.maximum(min_rate * cap, np.where(w > 0, float(min_per_stratum), 0.0)), cap)
    if (c * floor).sum() > budget * (1 + 1e-12):
        raise ValueError(f"budget {budget:g} cannot pay for the floor (min_per_stratum, min_rate): "
                         f"{(c * floor).sum():g} needed")
    full = (c * cap).sum()
    share = w * s / np.sqrt(c)
    if budget >= full:
        n = cap.astype(float)
    elif not share.any():  # nothing to learn anywhere: the floor
        n = floor.copy()
    else:

        def spend(k):
            return (c * np.clip(k * share, floor, cap)).sum()

        lo_k, hi_k = 0.0, 1.0
        while spend(hi_k) < budget and hi_k < 1e300:
            hi_k *= 2
        for _ in range(200):  # bisection on the Neyman constant (water-filling)
            mid = (lo_k + hi_k) / 2
            lo_k, hi_k = (mid, hi_k) if spend(mid) < budget else (lo_k, mid)
        n = np.clip(hi_k * share, floor, cap)
    inclusion = np.divide(n, cap, out=np.zeros_like(n), where=cap > 0)
    var = np.divide(w ** 2 * s ** 2, n, out=np.zeros_like(n), where=n > 0)
    return Allocation(n=n, inclusion=inclusion, cost=float((c * n).sum()), std_error=float(np.sqrt(var.sum())))
