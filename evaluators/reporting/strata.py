"""Means re-weighted to search traffic: the stratified estimator and its standard error.

The sampler split the query population into strata (frequency band × stratify-by values) and
stored each stratum's share of traffic ``W_h``. A mean over search traffic is then

    Ȳ = Σ_h W'_h ȳ_h,     W'_h = W_h / Σ_{h covered} W_h,

over the strata *covered* (with at least one query here): strata without a query drop out
and :attr:`Estimate.traffic_covered` says how much traffic the rest stands for. Within a
stratum:

* **traffic-weighted sampling** (queries drawn ∝ traffic): ȳ_h is the plain mean;
* **unique-query sampling** (queries drawn uniformly): each query is weighted by its own
  traffic ``t_i``, ȳ_h = Σ t_i y_i / Σ t_i (a ratio estimator).

Variance (Cochran, *Sampling Techniques*, 3rd ed. 1977, eq. 5.6 and §6.11 for the ratio
estimator, finite-population correction omitted: queries are a tiny share of traffic):
``var(Ȳ) = Σ_h W'_h² s_h² / n_h`` with ``s_h²`` the variance of the linearised residuals
``e_i = (t_i / t̄_h)(y_i − ȳ_h)`` (the plain sample variance when every ``t_i`` is equal).
A stratum with a single query has no variance of its own: it borrows the variance of all the
estimate's values pooled together, strata collapsed (Cochran §5A.12: collapsing strata
overstates the variance, so the borrowed value errs on the safe side — a within-stratum
variance pooled from a few other thin strata can be 0 by chance and would make a single
query look certain). Intervals are Student-t with ``Σ (n_h − 1)`` degrees of freedom over the
strata with two or more queries (``n − 1`` when there are none).

The estimate is linear in the values — ``Ȳ = Σ_i c_i y_i`` with :func:`coefficients` — which
is what the weighted randomisation test flips signs of.

>>> e = stratified([1.0, 0.0, 0.5, 0.7], [0, 0, 1, 1], [0.25, 0.75])
>>> round(e.mean, 3), e.n, e.df
(0.575, 4, 2)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

__all__ = ["Estimate", "stratified", "coefficients", "t_interval"]


@dataclass(frozen=True)
class Estimate:
    """A traffic-weighted mean with its standard error and t interval."""

    mean: float
    std_error: float  # NaN with fewer than two queries
    low: float
    high: float
    level: float
    n: int  # queries
    df: int  # degrees of freedom of the t interval
    strata: int  # strata covered (at least one query, positive weight)
    thin: int  # covered strata with one query (variance borrowed)
    traffic_covered: float  # Σ W_h of the covered strata (W as given, not renormalised)
    unweighted: float  # plain mean of the values


def _inputs(values, stratum, weights, traffic):
    y = np.asarray(values, dtype=np.float64)
    s = np.asarray(stratum, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    if y.ndim != 1 or s.shape != y.shape:
        raise ValueError(f"values {y.shape} and stratum {s.shape} must be 1-D of one length")
    if not np.isfinite(y).all():
        raise ValueError("values must be finite (select the evaluated queries first)")
    if w.ndim != 1 or not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be one finite, non-negative traffic share per stratum")
    if s.size and (s.min() < 0 or s.max() >= w.size):
        raise ValueError(f"stratum indices must lie in 0..{w.size - 1} (one weight per stratum)")
    if traffic is None:
        t = np.ones(y.size)
    else:
        t = np.asarray(traffic, dtype=np.float64)
        if t.shape != y.shape or not np.isfinite(t).all() or (t < 0).any():
            raise ValueError("traffic must be one finite, non-negative count per value")
        # a stratum whose queries all carry no traffic count is weighted uniformly
        t_sum = np.bincount(s, weights=t, minlength=w.size)
        t = np.where(t_sum[s] > 0, t, 1.0)
    return y, s, w, t


def coefficients(stratum, weights, traffic=None) -> np.ndarray:
    """``c`` with ``Σ c_i y_i`` = the stratified mean of any values ``y`` on these queries.

    >>> coefficients([0, 0, 1], [0.5, 0.5]).tolist()
    [0.25, 0.25, 0.5]
    """
    s = np.asarray(stratum, dtype=np.int64)
    _, s, w, t = _inputs(np.zeros(s.size), s, weights, traffic)
    n_h = np.bincount(s, minlength=w.size)
    covered = (n_h > 0) & (w > 0)
    total = w[covered].sum()
    if total <= 0:
        return np.zeros(s.size)
    w_norm = np.where(covered, w / total, 0.0)
    t_sum = np.bincount(s, weights=t, minlength=w.size)
    return w_norm[s] * t / t_sum[s]


def t_interval(mean: float, se: float, df: int, level: float) -> tuple[float, float]:
    """``mean ± t_{df, (1+level)/2} · se`` (NaN when ``se`` is NaN)."""
    if not np.isfinite(se) or df < 1:
        return float("nan"), float("nan")
    q = float(sps.t.ppf(0.5 + level / 2.0, df))
    return mean - q * se, mean + q * se


def stratified(values, stratum, weights, traffic=None, level: float = 0.95) -> Estimate:
    """The traffic-weighted mean of per-query ``values`` (see the module notes).

    ``stratum[i]``: the stratum index of query ``i``; ``weights``: each stratum's traffic share
    (strata without queries may be listed: they drop out); ``traffic``: each query's own traffic
    (unique-query sampling), or None (traffic-weighted sampling).
    """
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"confidence level must lie strictly between 0 and 1, got {level}")
    y, s, w, t = _inputs(values, stratum, weights, traffic)
    h = w.size
    n = y.size
    n_h = np.bincount(s, minlength=h)
    covered = (n_h > 0) & (w > 0)
    nan = float("nan")
    total = w[covered].sum()
    if n == 0 or total <= 0:
        return Estimate(nan, nan, nan, nan, level, n, 0, 0, 0, 0.0, nan if n == 0 else float(y.mean()))
    w_norm = np.where(covered, w / total, 0.0)
    t_sum = np.bincount(s, weights=t, minlength=h)
    y_h = np.divide(np.bincount(s, weights=t * y, minlength=h), t_sum, out=np.zeros(h), where=t_sum > 0)
    mean = float((w_norm * y_h).sum())

    t_bar = np.divide(t_sum, n_h, out=np.ones(h), where=n_h > 0)
    e = t / t_bar[s] * (y - y_h[s])
    ss = np.bincount(s, weights=e * e, minlength=h)
    thick = covered & (n_h >= 2)
    thin = covered & (n_h == 1)
    df = int((n_h[thick] - 1).sum()) if thick.any() else n - 1
    # the thin strata's variance: all values together, each weighted as within its stratum
    overall = float(np.sum(t * y) / np.sum(t))
    pooled = float(np.sum((t / t_bar[s] * (y - overall)) ** 2) / (n - 1)) if n >= 2 else nan
    s2 = np.where(thick, np.divide(ss, n_h - 1, out=np.zeros(h), where=n_h > 1), 0.0)
    s2 = np.where(thin, pooled, s2)
    if thin.any() and not np.isfinite(pooled):
        se = nan
    else:
        se = float(np.sqrt((w_norm[covered] ** 2 * s2[covered] / n_h[covered]).sum()))
    low, high = t_interval(mean, se, df, level)
    return Estimate(mean, se, low, high, float(level), int(n), df, int(covered.sum()), int(thin.sum()),
                    float(w[covered].sum()), float(y.mean()))
