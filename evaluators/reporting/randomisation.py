"""Sign-flip randomisation test of a weighted sum of paired differences.

Under the null hypothesis that the two rankers are exchangeable on every query, each query's
difference is as likely to have the opposite sign, so the observed statistic
``D = Σ_i x_i`` (``x_i = c_i d_i``: a query's difference times its weight in the stratified
mean) is compared with ``D* = Σ_i s_i x_i`` over random signs ``s_i = ±1`` (Fisher 1935;
Smucker, Allan and Carterette, CIKM 2007, for IR). Two-sided p-value: the share of sign
patterns with ``|D*| >= |D|``.

* exact over all ``2**n`` patterns when that is at most ``n_permutations`` (queries whose
  difference is 0 are left out first: flipping them changes nothing) — done by
  :func:`evaluators.stats.permutation_test`, whose answer this equals;
* otherwise Monte Carlo with the ``(hits + 1) / (B + 1)`` estimate (Phipson and Smyth, 2010).
  Signs are drawn as random bytes, eight queries per byte, and ``D*`` is summed from a table of
  the 256 signed sums of each group of eight: ``n / 8`` lookups per pattern instead of ``n``
  multiply-adds, so 10,000 patterns over 5,000 queries take a few tens of milliseconds.

>>> r = sign_flip([0.1, 0.2, -0.05, 0.3], n_permutations=1000)
>>> r.exact, r.pvalue
(True, 0.25)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluators.stats import permutation_test

__all__ = ["SignFlip", "sign_flip"]

_MAX_ELEMENTS = 1 << 22  # table lookups materialised at once
# bit k of byte value v -> +1 / -1
_SIGNS = np.where((np.arange(256)[:, None] >> np.arange(8)) & 1, 1.0, -1.0)


@dataclass(frozen=True)
class SignFlip:
    pvalue: float
    n_permutations: int  # sign patterns evaluated (2**n when exact)
    exact: bool


def sign_flip(x, n_permutations: int = 10_000, seed: int | None = None) -> SignFlip:
    """Two-sided sign-flip test of ``Σ x_i`` against 0 (see the module notes)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or not np.isfinite(x).all():
        raise ValueError("x must be a 1-D array of finite values")
    if int(n_permutations) != n_permutations or n_permutations < 1:
        raise ValueError(f"n_permutations must be a positive integer, got {n_permutations!r}")
    x = x[x != 0.0]
    n = x.size
    if n == 0:
        return SignFlip(1.0, 1, True)
    if n <= 30 and 2 ** n <= n_permutations:
        r = permutation_test(np.zeros(n), x, n_permutations=int(n_permutations))
        return SignFlip(r.pvalue, r.n_permutations, True)
    observed = abs(x.sum())
    tol = 1e-12 * max(1.0, observed)  # floating-point noise in equal sums counts as "as extreme"
    groups = -(-n // 8)
    padded = np.zeros(groups * 8)
    padded[:n] = x
    table = _SIGNS @ padded.reshape(groups, 8).T  # (256, groups): signed sum of each group per byte value
    table = np.ascontiguousarray(table.T).ravel()  # group g, byte v at g * 256 + v
    base = (np.arange(groups) * 256)[None, :]
    rng = np.random.default_rng(seed)
    hits = 0
    chunk = max(1, _MAX_ELEMENTS // groups)
    for start in range(0, int(n_permutations), chunk):
        size = min(int(n_permutations) - start, chunk)
        codes = np.frombuffer(rng.bytes(size * groups), dtype=np.uint8).reshape(size, groups)
        sums = table[base + codes].sum(axis=1)
        hits += int(np.count_nonzero(np.abs(sums) >= observed - tol))
    return SignFlip((hits + 1) / (int(n_permutations) + 1), int(n_permutations), False)
