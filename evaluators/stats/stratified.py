"""Stratified estimate of a mean, weighting strata back to their traffic share.

Queries are sampled per stratum (locale, head/torso/tail, ...) at rates that differ
from production traffic; the population mean is ``sum_h W_h * mean_h`` with
``W_h`` the traffic share of stratum ``h``. Its variance is the stratified-sampling
formula ``sum_h W_h**2 * s_h**2 / n_h`` (Cochran, *Sampling Techniques*, 3rd ed.,
1977, eq. 5.6, finite-population correction omitted: queries are a tiny sample of
traffic). The CI is normal: ``mean ± z * se``.

Strata with weight 0 may be empty. A stratum with positive weight needs at least
two queries (its variance is otherwise unknown) — ValueError names those strata.

Example:
    >>> e = stratified_mean([1.0, 0.0, 0.5, 0.7], [0, 0, 1, 1], [0.25, 0.75])
    >>> round(e.mean, 3)
    0.575
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from . import _checks


@dataclass(frozen=True)
class StratifiedEstimate:
    mean: float
    std_error: float
    low: float
    high: float
    level: float
    n: int
    n_strata: int  # strata with positive weight
    stratum_means: tuple[float, ...]  # NaN where a stratum has no queries
    stratum_counts: tuple[int, ...]


def stratified_mean(values, strata, weights, *, level: float = 0.95,
                    weight_tolerance: float = 1e-6) -> StratifiedEstimate:
    """Weighted (by traffic share) mean of per-query ``values``.

    ``strata[i]`` is the stratum index (0..H-1) of query ``i``; ``weights`` has
    length H and sums to 1 (within ``weight_tolerance``).
    """
    x = _checks.finite_vector(values, "values")
    level = _checks.level(level)
    s = np.asarray(strata)
    if s.shape != x.shape:
        raise ValueError(f"strata must have one entry per value: got shape {s.shape} for {x.size} values")
    if s.dtype.kind == "f":
        if not np.isfinite(s).all() or (s != np.round(s)).any():
            raise ValueError("strata must be integer stratum indices")
        s = s.astype(np.int64)
    elif s.dtype.kind not in "iu":
        raise ValueError(f"strata must be integer stratum indices, got dtype {s.dtype}")
    w = _checks.finite_vector(weights, "weights")
    if (w < 0).any():
        raise ValueError("weights must be non-negative")
    if abs(w.sum() - 1.0) > weight_tolerance:
        raise ValueError(f"weights must sum to 1, got {w.sum():.9g}")
    if s.min() < 0 or s.max() >= w.size:
        raise ValueError(f"strata indices must lie in [0, {w.size - 1}] (one weight per stratum)")
    h = w.size
    n_h = np.bincount(s, minlength=h)
    sums = np.bincount(s, weights=x, minlength=h)
    means = np.divide(sums, n_h, out=np.full(h, np.nan), where=n_h > 0)
    dev = x - means[s]
    ss = np.bincount(s, weights=dev * dev, minlength=h)
    active = w > 0
    thin = np.flatnonzero(active & (n_h < 2))
    if thin.size:
        raise ValueError(f"strata {thin.tolist()} have positive weight but fewer than 2 queries")
    var_h = np.divide(ss, n_h - 1, out=np.zeros(h), where=n_h > 1)
    mean = float((w[active] * means[active]).sum())
    se = float(np.sqrt((w[active] ** 2 * var_h[active] / n_h[active]).sum()))
    z = float(special.ndtri(1 - (1 - level) / 2))
    return StratifiedEstimate(mean=mean, std_error=se, low=mean - z * se, high=mean + z * se,
                              level=level, n=int(x.size), n_strata=int(active.sum()),
                              stratum_means=tuple(float(m) for m in means),
                              stratum_counts=tuple(int(c) for c in n_h))
