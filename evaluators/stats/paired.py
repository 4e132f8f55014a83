"""Paired comparison of two rankers scored on the same queries.

Differences are ``d = b - a`` per query (positive: ranker B scores higher).

* paired t-test (Student, 1908) — agrees with ``scipy.stats.ttest_rel(b, a)``;
* randomisation test by sign flipping (Fisher, 1935; see Smucker, Allan and
  Carterette, "A comparison of statistical significance tests for information
  retrieval evaluation", CIKM 2007): exact over all 2**n sign patterns when
  that is at most ``n_permutations``, otherwise Monte Carlo with the
  ``(count + 1) / (n_permutations + 1)`` estimate (Phipson and Smyth, 2010);
* bootstrap CI of the mean difference (see :mod:`.bootstrap`).

Example:
    >>> r = compare_paired([0.2, 0.4, 0.5, 0.1], [0.3, 0.6, 0.5, 0.4], seed=0)
    >>> round(r.mean_diff, 3), r.permutation_exact
    (0.15, True)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from . import _checks
from .bootstrap import MAX_ELEMENTS, bootstrap_means, bca_interval, percentile_interval

ALTERNATIVES = ("two-sided", "greater", "less")


@dataclass(frozen=True)
class TTest:
    statistic: float
    pvalue: float
    df: int


@dataclass(frozen=True)
class PermutationTest:
    pvalue: float
    n_permutations: int  # number of sign patterns evaluated (2**n when exact)
    exact: bool


@dataclass(frozen=True)
class PairedComparison:
    """Everything a "is B better than A?" answer needs."""

    n: int
    mean_a: float
    mean_b: float
    mean_diff: float  # mean of b - a
    ci_low: float  # bootstrap CI of mean_diff
    ci_high: float
    level: float
    t_statistic: float
    t_pvalue: float
    permutation_pvalue: float
    permutation_exact: bool
    alternative: str


def _alternative(alternative: str) -> str:
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    return alternative


def paired_t_test(a, b, *, alternative: str = "two-sided") -> TTest:
    """Paired t-test of ``mean(b - a) == 0``.

    With all differences equal the statistic is degenerate: all zero gives
    ``statistic=0, pvalue=1``; a constant non-zero shift gives ``±inf, pvalue=0``
    (scipy returns NaN there).
    """
    a, b = _checks.paired(a, b)
    alternative = _alternative(alternative)
    d = b - a
    n = d.size
    if n < 2:
        raise ValueError("a paired t-test needs at least 2 queries")
    mean = d.mean()
    sd = d.std(ddof=1)
    if sd == 0.0:
        if mean == 0.0:
            return TTest(0.0, 1.0, n - 1)
        t = float(np.copysign(np.inf, mean))
    else:
        t = float(mean / (sd / np.sqrt(n)))
    dist = sps.t(n - 1)
    if alternative == "two-sided":
        p = 2.0 * dist.sf(abs(t))
    elif alternative == "greater":
        p = dist.sf(t)
    else:
        p = dist.cdf(t)
    return TTest(t, float(min(1.0, p)), n - 1)


def _exceed(stat: np.ndarray, observed: float, alternative: str) -> np.ndarray:
    # A relative tolerance so that floating-point noise in equal sums counts as "as extreme".
    tol = 1e-12 * max(1.0, abs(observed))
    if alternative == "two-sided":
        return np.abs(stat) >= abs(observed) - tol
    if alternative == "greater":
        return stat >= observed - tol
    return stat <= observed + tol


def permutation_test(a, b, *, n_permutations: int = 10_000, alternative: str = "two-sided",
                     seed: int | None = None) -> PermutationTest:
    """Sign-flip randomisation test of the mean paired difference."""
    a, b = _checks.paired(a, b)
    alternative = _alternative(alternative)
    n_permutations = _checks.count(n_permutations, "n_permutations")
    d = b - a
    n = d.size
    observed = d.sum()
    if n <= 30 and 2 ** n <= n_permutations:
        # Exact: every sign pattern once (bits of 0..2**n-1), in bounded chunks.
        total = 2 ** n
        hits = 0
        chunk = max(1, MAX_ELEMENTS // max(1, n))
        bits = np.arange(n, dtype=np.int64)
        for start in range(0, total, chunk):
            codes = np.arange(start, min(total, start + chunk), dtype=np.int64)
            signs = 1.0 - 2.0 * ((codes[:, None] >> bits) & 1)
            hits += int(_exceed(signs @ d, observed, alternative).sum())
        return PermutationTest(hits / total, total, True)
    rng = np.random.default_rng(seed)
    hits = 0
    chunk = max(1, MAX_ELEMENTS // max(1, n))
    for start in range(0, n_permutations, chunk):
        size = min(n_permutations, start + chunk) - start
        signs = rng.integers(0, 2, size=(size, n), dtype=np.int8) * 2 - 1
        hits += int(_exceed(signs @ d, observed, alternative).sum())
    return PermutationTest((hits + 1) / (n_permutations + 1), n_permutations, False)


def compare_paired(a, b, *, level: float = 0.95, n_resamples: int = 10_000,
                   n_permutations: int = 10_000, ci_method: str = "percentile",
                   alternative: str = "two-sided", seed: int | None = None) -> PairedComparison:
    """Compare rankers A and B over the same queries (``a[i]``, ``b[i]`` score query ``i``).

    One ``seed`` drives both the bootstrap and the randomisation test.
    """
    a, b = _checks.paired(a, b)
    level = _checks.level(level)
    n_resamples = _checks.count(n_resamples, "n_resamples")
    if ci_method not in ("percentile", "bca"):
        raise ValueError(f"ci_method must be 'percentile' or 'bca', got {ci_method!r}")
    d = b - a
    seeds = np.random.SeedSequence(seed).spawn(2)
    boot = bootstrap_means(d, n_resamples, np.random.default_rng(seeds[0]))
    low, high = (percentile_interval(boot, level) if ci_method == "percentile"
                 else bca_interval(d, boot, level))
    t = paired_t_test(a, b, alternative=alternative) if d.size >= 2 else TTest(float("nan"), float("nan"), 0)
    perm = permutation_test(a, b, n_permutations=n_permutations, alternative=alternative,
                            seed=int(seeds[1].generate_state(1)[0]))
    return PairedComparison(n=int(d.size), mean_a=float(a.mean()), mean_b=float(b.mean()),
                            mean_diff=float(d.mean()), ci_low=low, ci_high=high, level=level,
                            t_statistic=t.statistic, t_pvalue=t.pvalue,
                            permutation_pvalue=perm.pvalue, permutation_exact=perm.exact,
                            alternative=alternative)
