"""The side-by-side verdict: wins, ties and losses of the candidate, its traffic-weighted mean
preference with an interval, and the sign and Wilcoxon signed-rank tests.

Preferences are consensus values on the −3..+3 scale oriented so that **positive favours the
candidate**. A consensus is a (reliability-weighted) mean of integer ratings, so it is rarely
exactly 0: a preference counts as a win or a loss when it rounds away from 0 on the scale
(``|p| >= tie_band``, 0.5 by default) and as a tie otherwise; the Wilcoxon test sees ties as
0 (and drops them, ``zero_method="wilcox"``). Sign test: exact binomial on wins vs losses
(:func:`evaluators.stats.sign_test`); Wilcoxon: :func:`evaluators.stats.wilcoxon_test`. The
mean preference is re-weighted to traffic like every metric (:mod:`.strata`).

>>> v = sxs_verdict([1.0, 2.0, 0.2, -1.0, 3.0, 1.0], [0] * 6, [1.0])
>>> (v.wins, v.ties, v.losses), round(v.mean_preference, 3)
((4, 1, 1), 1.033)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluators.stats import sign_test, wilcoxon_test

from .strata import stratified

__all__ = ["Verdict", "sxs_verdict", "oriented"]


@dataclass(frozen=True)
class Verdict:
    n: int
    wins: int  # candidate preferred
    ties: int
    losses: int  # baseline preferred
    mean_preference: float  # traffic-weighted; positive favours the candidate
    std_error: float
    low: float
    high: float
    level: float
    p_sign: float
    p_wilcoxon: float


def oriented(preference, ranker_a, ranker_b, baseline, candidate) -> np.ndarray:
    """Preferences (positive: ``ranker_b`` better) turned to favour ``candidate`` when positive;
    NaN for pairs that are not (baseline, candidate) in either order.

    >>> oriented([1.0, 2.0, 1.0], ["A", "B", "A"], ["B", "A", "C"], "A", "B").tolist()
    [1.0, -2.0, nan]
    """
    p = np.asarray(preference, dtype=np.float64)
    a, b = np.asarray(ranker_a), np.asarray(ranker_b)
    forward = (a == baseline) & (b == candidate)
    backward = (a == candidate) & (b == baseline)
    return np.where(forward, p, np.where(backward, -p, np.nan))


def sxs_verdict(preferences, stratum, weights, traffic=None, level: float = 0.95,
                tie_band: float = 0.5) -> Verdict:
    """Summarise consensus preferences of one segment (see the module notes)."""
    x = np.asarray(preferences, dtype=np.float64)
    est = stratified(x, stratum, weights, traffic, level)
    decided = np.where(np.abs(x) >= tie_band, x, 0.0)
    wins = int(np.count_nonzero(decided > 0))
    losses = int(np.count_nonzero(decided < 0))
    if x.size == 0:
        p_sign = p_wilcoxon = float("nan")
    else:
        p_sign = sign_test(wins, losses)
        p_wilcoxon = wilcoxon_test(decided)[1]
    return Verdict(int(x.size), wins, int(x.size) - wins - losses, losses, est.mean, est.std_error, est.low,
                   est.high, est.level, p_sign, p_wilcoxon)
