"""Candidate minus baseline on the same queries, re-weighted to traffic, with its tests.

For each paired query ``d_i = candidate_i − baseline_i``; the difference is the stratified
mean of ``d`` (:mod:`.strata`), so it equals the difference of the two rankers' weighted
means. Its interval is Student-t on the stratified standard error; the paired t-test uses the
same t statistic (with one stratum and traffic-weighted sampling this is exactly
``scipy.stats.ttest_rel(candidate, baseline)``), and the randomisation test flips the signs of
the weighted per-query contributions (:mod:`.randomisation`).

>>> r = weighted_difference([0.2, 0.4, 0.5, 0.1], [0.3, 0.6, 0.5, 0.4], [0, 0, 0, 0], [1.0])
>>> round(r.difference, 3), r.randomisation_exact, round(r.p_randomisation, 3)
(0.15, True, 0.25)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from .randomisation import sign_flip
from .strata import coefficients, stratified

__all__ = ["WeightedDifference", "weighted_difference", "t_pvalue"]


@dataclass(frozen=True)
class WeightedDifference:
    n: int  # paired queries
    difference: float  # weighted mean of candidate − baseline
    std_error: float
    low: float
    high: float
    level: float
    df: int
    p_t: float  # two-sided paired t-test on the weighted difference
    p_randomisation: float  # two-sided sign-flip test of the weighted difference
    randomisation_exact: bool
    permutations: int
    baseline_mean: float  # weighted, over the paired queries
    candidate_mean: float
    unweighted_difference: float


def t_pvalue(mean: float, se: float, df: int) -> float:
    """Two-sided p of ``mean / se`` on t(df); 1 for a zero mean, 0 for a non-zero mean with zero SE."""
    if not np.isfinite(mean) or not np.isfinite(se) or df < 1:
        return float("nan")
    if mean == 0.0:
        return 1.0
    if se == 0.0:
        return 0.0
    return float(min(1.0, 2.0 * sps.t.sf(abs(mean / se), df)))


def weighted_difference(baseline, candidate, stratum, weights, traffic=None, level: float = 0.95,
                        n_permutations: int = 10_000, seed: int | None = None) -> WeightedDifference:
    """Compare two rankers' per-query values on the same queries (see the module notes)."""
    a = np.asarray(baseline, dtype=np.float64)
    b = np.asarray(candidate, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"baseline and candidate must be paired by query: shapes {a.shape} and {b.shape}")
    d = b - a
    est = stratified(d, stratum, weights, traffic, level)
    c = coefficients(stratum, weights, traffic)
    nan = float("nan")
    if d.size == 0:
        return WeightedDifference(0, nan, nan, nan, nan, est.level, 0, nan, nan, False, 0, nan, nan, nan)
    flip = sign_flip(c * d, n_permutations, seed)
    return WeightedDifference(
        n=int(d.size), difference=est.mean, std_error=est.std_error, low=est.low, high=est.high, level=est.level,
        df=est.df, p_t=t_pvalue(est.mean, est.std_error, est.df), p_randomisation=flip.pvalue,
        randomisation_exact=flip.exact, permutations=flip.n_permutations,
        baseline_mean=float(c @ a), candidate_mean=float(c @ b), unweighted_difference=float(d.mean()),
    )
