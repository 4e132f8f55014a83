"""Multiple-comparison correction across segments (locales, query classes, ...).

Holm's step-down procedure (S. Holm, "A simple sequentially rejective multiple test
procedure", Scand. J. Statist. 6 (1979) 65–70) controls the family-wise error rate
and is uniformly more powerful than Bonferroni. Adjusted p-values:
``p~_(i) = max_{j <= i} min(1, (m - j + 1) * p_(j))`` over the sorted p-values.

Example:
    >>> r = holm([0.01, 0.04, 0.03, 0.20])
    >>> r.adjusted.round(2).tolist(), r.reject.tolist()
    ([0.04, 0.09, 0.09, 0.2], [True, False, False, False])
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _checks


@dataclass(frozen=True)
class HolmResult:
    adjusted: np.ndarray  # adjusted p-values, in input order
    reject: np.ndarray  # bool: adjusted <= alpha
    alpha: float


def holm(pvalues, *, alpha: float = 0.05) -> HolmResult:
    """Holm–Bonferroni adjusted p-values and rejections at family-wise level ``alpha``."""
    p = _checks.finite_vector(pvalues, "pvalues")
    if ((p < 0) | (p > 1)).any():
        raise ValueError("pvalues must lie in [0, 1]")
    alpha = _checks.level(alpha)
    m = p.size
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(stepped)
    adjusted.setflags(write=False)
    reject = adjusted <= alpha
    reject.setflags(write=False)
    return HolmResult(adjusted=adjusted, reject=reject, alpha=alpha)
