"""Side-by-side (SxS) preference summaries.

Preferences are per task on the product scale −3..+3 (any finite numbers are
accepted): **negative favours the left/A system, positive the right/B system,
0 is a tie**. ``wins`` counts B wins (preference > 0), ``losses`` A wins.

* sign test: exact two-sided binomial test of wins vs losses with p = 1/2, ties
  excluded (Dixon and Mood, 1946) — equals ``scipy.stats.binomtest(wins, wins + losses)``;
* Wilcoxon signed-rank test (Wilcoxon, 1945) with zero differences dropped
  (``zero_method="wilcox"``), computed by ``scipy.stats.wilcoxon``;
* bootstrap CI of the mean preference (see :mod:`.bootstrap`);
* Hodges–Lehmann estimate (Hodges and Lehmann, 1963): the median of the Walsh
  averages ``(x_i + x_j) / 2, i <= j``, computed exactly from value counts when the
  preferences take few distinct values (the usual −3..+3 case), otherwise directly
  for ``n <= 4000`` and NaN beyond that.

Example:
    >>> s = sxs_summary([1, 2, 0, -1, 3, 1, 0, 2], seed=0)
    >>> (s.wins, s.ties, s.losses), round(s.mean_preference, 3)
    ((5, 2, 1), 1.0)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from . import _checks
from .bootstrap import bootstrap_means, percentile_interval

_HL_DIRECT_LIMIT = 4000
_HL_DISTINCT_LIMIT = 256


@dataclass(frozen=True)
class SxSSummary:
    n: int
    wins: int  # B (right) preferred
    ties: int
    losses: int  # A (left) preferred
    mean_preference: float
    ci_low: float  # bootstrap CI of mean_preference
    ci_high: float
    level: float
    sign_test_pvalue: float
    wilcoxon_statistic: float  # scipy's statistic (min of the signed-rank sums, two-sided)
    wilcoxon_pvalue: float
    hodges_lehmann: float


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Median of the sample in which ``values[k]`` occurs ``weights[k]`` times (as np.median would give)."""
    order = np.argsort(values, kind="stable")
    v, cum = values[order], np.cumsum(weights[order])
    total = int(cum[-1])
    # Element at 0-based position p of the expanded sorted sample: first k with cum[k] > p.
    lo = v[np.searchsorted(cum, (total - 1) // 2, side="right")]
    hi = v[np.searchsorted(cum, total // 2, side="right")]
    return float((lo + hi) / 2.0)


def hodges_lehmann(x) -> float:
    """Median of Walsh averages of ``x`` (one-sample Hodges–Lehmann estimator)."""
    x = _checks.finite_vector(x, "preferences")
    u, c = np.unique(x, return_counts=True)
    if u.size <= _HL_DISTINCT_LIMIT:
        i, j = np.triu_indices(u.size)
        weights = np.where(i == j, c[i] * (c[i] + 1) // 2, c[i] * c[j]).astype(np.int64)
        return _weighted_median((u[i] + u[j]) / 2.0, weights)
    if x.size > _HL_DIRECT_LIMIT:
        return float("nan")
    i, j = np.triu_indices(x.size)
    return float(np.median((x[i] + x[j]) / 2.0))


def sign_test(wins: int, losses: int) -> float:
    """Exact two-sided sign test p-value (ties already excluded); 1.0 when there is no decided task."""
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    return float(min(1.0, 2.0 * sps.binom.cdf(k, n, 0.5))) if wins != losses else 1.0


def wilcoxon_test(x) -> tuple[float, float]:
    """(statistic, p-value) of the two-sided Wilcoxon signed-rank test; (0, 1) when every preference is 0."""
    x = _checks.finite_vector(x, "preferences")
    if not np.any(x != 0):
        return 0.0, 1.0
    res = sps.wilcoxon(x, zero_method="wilcox", alternative="two-sided")
    return float(res.statistic), float(res.pvalue)


def sxs_summary(preferences, *, level: float = 0.95, n_resamples: int = 10_000,
                seed: int | None = None) -> SxSSummary:
    """Summarise SxS preferences (negative: A/left better, positive: B/right better)."""
    x = _checks.finite_vector(preferences, "preferences")
    level = _checks.level(level)
    n_resamples = _checks.count(n_resamples, "n_resamples")
    wins = int(np.count_nonzero(x > 0))
    losses = int(np.count_nonzero(x < 0))
    ties = int(x.size - wins - losses)
    boot = bootstrap_means(x, n_resamples, np.random.default_rng(seed))
    low, high = percentile_interval(boot, level)
    w_stat, w_p = wilcoxon_test(x)
    return SxSSummary(n=int(x.size), wins=wins, ties=ties, losses=losses,
                      mean_preference=float(x.mean()), ci_low=low, ci_high=high, level=level,
                      sign_test_pvalue=sign_test(wins, losses),
                      wilcoxon_statistic=w_stat, wilcoxon_pvalue=w_p,
                      hodges_lehmann=hodges_lehmann(x))
