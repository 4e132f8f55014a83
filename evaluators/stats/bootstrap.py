"""Bootstrap confidence intervals for means (percentile and BCa).

Resampling is vectorised: index matrices of shape ``(chunk, n)`` are drawn from
``np.random.default_rng(seed)`` and reduced chunk by chunk so memory stays bounded
(about ``max_elements`` numbers live at once) whatever ``n_resamples`` is.

References: B. Efron and R. Tibshirani, *An Introduction to the Bootstrap* (1993),
ch. 13 (percentile) and ch. 14 (BCa, bias-corrected and accelerated).

Example:
    >>> ci = bootstrap_mean_ci([0.2, 0.4, 0.6, 0.8], n_resamples=2000, seed=1)
    >>> round(ci.mean, 2), ci.low <= ci.mean <= ci.high
    (0.5, True)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from . import _checks

#: Upper bound on the number of floats a resampling chunk materialises.
MAX_ELEMENTS = 1 << 22

METHODS = ("percentile", "bca")


@dataclass(frozen=True)
class MeanCI:
    """A sample mean with a bootstrap confidence interval."""

    mean: float
    low: float
    high: float
    std_error: float  # bootstrap standard error (std of the resampled means)
    level: float
    n: int
    method: str
    n_resamples: int


def bootstrap_means(values, n_resamples: int, rng: np.random.Generator,
                    max_elements: int = MAX_ELEMENTS) -> np.ndarray:
    """Means of ``n_resamples`` bootstrap resamples of the rows of ``values``.

    ``values`` is ``(n,)`` or ``(n, m)``; the result is ``(n_resamples,)`` or
    ``(n_resamples, m)``. All columns share each resample (so per-metric
    intervals are computed from the same query resamples).
    """
    x = np.asarray(values, dtype=float)
    one_d = x.ndim == 1
    if one_d:
        x = x[:, None]
    n, m = x.shape
    out = np.empty((n_resamples, m))
    chunk = max(1, max_elements // max(1, n * m))
    for start in range(0, n_resamples, chunk):
        stop = min(n_resamples, start + chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        if m == 1:
            out[start:stop, 0] = x[idx, 0].mean(axis=1)
        else:
            out[start:stop] = x[idx].mean(axis=1)
    return out[:, 0] if one_d else out


def _ndtri(p):
    return special.ndtri(p)


def percentile_interval(boot: np.ndarray, level: float) -> tuple[float, float]:
    alpha = 1.0 - level
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def bca_interval(x: np.ndarray, boot: np.ndarray, level: float) -> tuple[float, float]:
    """BCa interval for the mean of ``x`` given its bootstrap means ``boot``."""
    theta = x.mean()
    n = x.size
    if n < 3 or np.ptp(boot) == 0.0:
        return percentile_interval(boot, level)
    # Bias correction: the share of resampled means below the estimate (ties count half).
    share = (np.count_nonzero(boot < theta) + 0.5 * np.count_nonzero(boot == theta)) / boot.size
    share = min(max(share, 1.0 / (boot.size + 1)), boot.size / (boot.size + 1))
    z0 = _ndtri(share)
    # Acceleration from the jackknife means (closed form for the mean).
    jack = (x.sum() - x) / (n - 1)
    d = jack.mean() - jack
    denom = 6.0 * (d @ d) ** 1.5
    a = float((d ** 3).sum() / denom) if denom > 0 else 0.0
    alpha = 1.0 - level
    z = _ndtri(np.array([alpha / 2, 1 - alpha / 2]))
    adj = special.ndtr(z0 + (z0 + z) / (1 - a * (z0 + z)))
    low, high = np.quantile(boot, adj)
    return float(low), float(high)


def _interval(x: np.ndarray, boot: np.ndarray, level: float, method: str) -> tuple[float, float]:
    if method == "percentile":
        return percentile_interval(boot, level)
    return bca_interval(x, boot, level)


def bootstrap_mean_ci(values, *, level: float = 0.95, n_resamples: int = 10_000,
                      method: str = "percentile", seed: int | None = None) -> MeanCI:
    """Mean of ``values`` (e.g. one metric's per-query scores) with a bootstrap CI.

    ``method`` is ``"percentile"`` or ``"bca"``. Deterministic for a given ``seed``.
    """
    x = _checks.finite_vector(values, "values")
    return bootstrap_mean_cis(x[:, None], level=level, n_resamples=n_resamples,
                              method=method, seed=seed)[0]


def bootstrap_mean_cis(values, *, level: float = 0.95, n_resamples: int = 10_000,
                       method: str = "percentile", seed: int | None = None) -> tuple[MeanCI, ...]:
    """Per-column means with bootstrap CIs for a ``(queries, metrics)`` matrix.

    Every metric is resampled with the same query resamples.

    Example:
        >>> cis = bootstrap_mean_cis([[0.1, 1.0], [0.3, 0.0], [0.5, 1.0]], n_resamples=500, seed=0)
        >>> [round(c.mean, 3) for c in cis]
        [0.3, 0.667]
    """
    level = _checks.level(level)
    n_resamples = _checks.count(n_resamples, "n_resamples")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    x = _checks.finite_matrix(values, "values")
    rng = np.random.default_rng(seed)
    boot = bootstrap_means(x, n_resamples, rng)
    result = []
    for j in range(x.shape[1]):
        low, high = _interval(x[:, j], boot[:, j], level, method)
        result.append(MeanCI(mean=float(x[:, j].mean()), low=low, high=high,
                             std_error=float(boot[:, j].std(ddof=1)) if n_resamples > 1 else 0.0,
                             level=level, n=int(x.shape[0]), method=method, n_resamples=n_resamples))
    return tuple(result)
