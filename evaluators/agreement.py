"""Inter-rater agreement: Krippendorff's alpha, Fleiss' kappa, Cohen's kappa, percent agreement.

Input for the multi-rater measures is a *reliability matrix* of shape
``(raters, units)`` with ``NaN`` where a rater did not rate a unit — the layout of
the ``krippendorff`` package. :func:`reliability_matrix` builds one from columnar
``(item, worker, label)`` arrays.

Everything reduces to a ``(units, values)`` count matrix built with one
``np.bincount``; alpha's coincidence matrix is then a single ``V x V`` matrix
product, so cost is linear in the number of ratings.

Example:
    >>> data = [[1, 2, 3, 3, np.nan], [1, 2, 3, 2, 1], [np.nan, 2, 3, 3, 1]]
    >>> round(krippendorff_alpha(data, "nominal"), 4)
    0.7857
"""
from __future__ import annotations

import numpy as np

LEVELS = ("nominal", "ordinal", "interval", "ratio")

# Integer ratings spanning at most this many values are counted without sorting.
_SMALL_SPAN = 32


# ---------------------------------------------------------------------------- input


def _matrix(data, name: str = "reliability data") -> np.ndarray:
    try:
        x = np.asarray(data, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric (NaN for missing): {exc}") from None
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (raters x units) matrix, got shape {x.shape}")
    if x.size == 0:
        raise ValueError(f"{name} is empty")
    if np.isinf(x).any():
        raise ValueError(f"{name} contains inf; use NaN for missing ratings")
    return x


def value_counts(data) -> tuple[np.ndarray, np.ndarray]:
    """``(counts, domain)``: ``counts[u, v]`` = raters giving unit ``u`` the value ``domain[v]``."""
    x = _matrix(data)
    present = ~np.isnan(x)
    if not present.any():
        raise ValueError("reliability data has no ratings (all NaN)")
    lo, hi = float(np.nanmin(x)), float(np.nanmax(x))
    n_missing = x.size - int(np.count_nonzero(present))
    # floor(x) != x holds exactly for NaN and for non-integers.
    if hi - lo <= _SMALL_SPAN and int(np.count_nonzero(np.floor(x) != x)) == n_missing:
        # Graded data (the common case): one comparison pass per possible grade, no sort.
        grid = np.arange(lo, hi + 1.0)
        counts = np.stack([(x == g).sum(axis=0) for g in grid], axis=1)
        used = counts.any(axis=0)
        return counts[:, used], grid[used]
    domain, codes = np.unique(x[present], return_inverse=True)
    units = np.broadcast_to(np.arange(x.shape[1]), x.shape)[present]
    v = domain.size
    counts = np.bincount(units * v + codes.ravel(), minlength=x.shape[1] * v).reshape(x.shape[1], v)
    return counts, domain


def reliability_matrix(items, workers, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columnar judgements → ``(matrix, item_ids, worker_ids)``, matrix ``(workers, items)`` with NaN gaps.

    Labels must be numeric; a worker rating the same item twice is a ValueError.
    """
    items = np.asarray(items)
    workers = np.asarray(workers)
    y = np.asarray(labels, dtype=float)
    if not (items.shape == workers.shape == y.shape) or items.ndim != 1:
        raise ValueError(f"items, workers and labels must be 1-D of equal length, got {items.shape}, {workers.shape}, {y.shape}")
    if y.size == 0:
        raise ValueError("no judgements")
    if not np.isfinite(y).all():
        raise ValueError("labels contain NaN or inf")
    item_ids, ic = np.unique(items, return_inverse=True)
    worker_ids, wc = np.unique(workers, return_inverse=True)
    flat = wc.ravel() * item_ids.size + ic.ravel()
    if np.unique(flat).size != flat.size:
        raise ValueError("a worker rated the same item more than once")
    m = np.full((worker_ids.size, item_ids.size), np.nan)
    m.ravel()[flat] = y
    return m, item_ids, worker_ids


# ---------------------------------------------------------------------------- Krippendorff


def _distances(domain: np.ndarray, n_v: np.ndarray, level: str) -> np.ndarray:
    if level == "nominal":
        return 1.0 - np.eye(domain.size)
    if level == "ordinal":
        # d(c, k) = (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2 (Krippendorff 2011, "Computing Krippendorff's alpha").
        cum = np.concatenate([[0.0], np.cumsum(n_v)])
        i = np.arange(domain.size)
        lo, hi = np.minimum.outer(i, i), np.maximum.outer(i, i)
        between = cum[hi + 1] - cum[lo]
        return (between - (n_v[:, None] + n_v[None, :]) / 2.0) ** 2
    if level == "interval":
        return np.subtract.outer(domain, domain) ** 2
    if level == "ratio":
        s = np.add.outer(domain, domain)
        diff = np.subtract.outer(domain, domain)
        return np.divide(diff, s, out=np.zeros_like(s), where=s != 0) ** 2
    raise ValueError(f"level must be one of {LEVELS}, got {level!r}")


def krippendorff_alpha(data, level: str = "interval") -> float:
    """Krippendorff's alpha for a ``(raters, units)`` reliability matrix (NaN = missing).

    ``alpha = 1 - D_o / D_e`` from the coincidence matrix
    (K. Krippendorff, *Content Analysis*, 2nd ed. 2004, ch. 11; "Computing
    Krippendorff's Alpha-Reliability", 2011). Units rated by fewer than two raters
    carry no pairable values. Agrees with ``krippendorff.alpha`` (same distance
    functions, value domain = the distinct ratings present).

    Example:
        >>> round(krippendorff_alpha([[0, 1, 2, 3], [0, 1, 2, 2]], "interval"), 4)
        0.8889
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    counts, domain = value_counts(data)
    if level == "ratio" and (domain < 0).any():
        raise ValueError("ratio level needs non-negative values")
    if domain.size < 2:
        raise ValueError("alpha is undefined with fewer than two distinct values")
    m_u = counts.sum(axis=1)
    if not (m_u >= 2).any():
        raise ValueError("alpha needs at least one unit rated by two or more raters")
    w = np.divide(1.0, m_u - 1.0, out=np.zeros(m_u.shape), where=m_u >= 2)
    c = counts.astype(float)
    # o = sum_u (c_u c_u^T - diag(c_u)) / (m_u - 1), as one matrix product.
    o = (c * w[:, None]).T @ c
    o[np.diag_indices_from(o)] -= w @ c
    n_v = o.sum(axis=0)
    n = n_v.sum()
    e = (np.outer(n_v, n_v) - np.diag(n_v)) / (n - 1.0)
    d = _distances(domain, n_v, level)
    d_e = (e * d).sum()
    if d_e == 0:
        raise ValueError("alpha is undefined: no expected disagreement")
    return float(1.0 - (o * d).sum() / d_e)


# ---------------------------------------------------------------------------- Fleiss / percent


def _counts_arg(counts) -> np.ndarray:
    c = np.asarray(counts, dtype=float)
    if c.ndim != 2 or c.size == 0:
        raise ValueError(f"counts must be a non-empty (units x categories) matrix, got shape {c.shape}")
    if not np.isfinite(c).all() or (c < 0).any() or (c != np.round(c)).any():
        raise ValueError("counts must be non-negative integers")
    return c


def fleiss_kappa_from_counts(counts) -> float:
    """Fleiss' kappa from a ``(units, categories)`` table of rating counts.

    J. L. Fleiss, "Measuring nominal scale agreement among many raters",
    Psychol. Bull. 76 (1971) 378–382. With a varying number of ratings per unit
    we use the usual generalisation: units with fewer than 2 ratings are dropped;
    ``P_i = sum_j n_ij (n_ij - 1) / (n_i (n_i - 1))`` is averaged over units with
    equal weight; category shares ``p_j`` are pooled over all remaining ratings;
    ``kappa = (mean P_i - sum p_j^2) / (1 - sum p_j^2)``. With a constant number
    of raters this is exactly Fleiss (1971).

    Example (Wikipedia's worked example, kappa = 0.210):
        >>> t = [[0,0,0,0,14],[0,2,6,4,2],[0,0,3,5,6],[0,3,9,2,0],[2,2,8,1,1],
        ...      [7,7,0,0,0],[3,2,6,3,0],[2,5,3,2,2],[6,5,2,1,0],[0,2,2,3,7]]
        >>> round(fleiss_kappa_from_counts(t), 3)
        0.21
    """
    c = _counts_arg(counts)
    n_i = c.sum(axis=1)
    c = c[n_i >= 2]
    n_i = n_i[n_i >= 2]
    if c.shape[0] == 0:
        raise ValueError("Fleiss' kappa needs at least one unit with two or more ratings")
    p_i = ((c * (c - 1)).sum(axis=1)) / (n_i * (n_i - 1))
    p_j = c.sum(axis=0) / n_i.sum()
    p_e = float((p_j ** 2).sum())
    if p_e == 1.0:
        raise ValueError("Fleiss' kappa is undefined: every rating is the same category")
    return float((p_i.mean() - p_e) / (1.0 - p_e))


def fleiss_kappa(data) -> float:
    """Fleiss' kappa for a ``(raters, units)`` reliability matrix (NaN = missing); see :func:`fleiss_kappa_from_counts`."""
    counts, _ = value_counts(data)
    return fleiss_kappa_from_counts(counts)


def percent_agreement(data) -> float:
    """Mean over units (with >= 2 ratings) of the share of agreeing rater pairs.

    For unit ``u`` with ``m_u`` ratings: ``sum_v c_uv (c_uv - 1) / (m_u (m_u - 1))``;
    each unit weighs the same however many raters it had.

    Example:
        >>> round(percent_agreement([[1, 1, 2], [1, 2, 2], [1, np.nan, 3]]), 4)
        0.4444
    """
    counts, _ = value_counts(data)
    c = counts.astype(float)
    m = c.sum(axis=1)
    keep = m >= 2
    if not keep.any():
        raise ValueError("percent agreement needs at least one unit with two or more ratings")
    c, m = c[keep], m[keep]
    return float(((c * (c - 1)).sum(axis=1) / (m * (m - 1))).mean())


# ---------------------------------------------------------------------------- Cohen


def cohen_kappa(a, b, *, weights: str | None = None) -> float:
    """Cohen's kappa between two raters; pairs where either rating is NaN are dropped.

    J. Cohen, "A coefficient of agreement for nominal scales", Educ. Psychol. Meas.
    20 (1960); weighted: J. Cohen, Psychol. Bull. 70 (1968). ``weights`` is
    ``None`` (unweighted) or ``"quadratic"``, whose disagreement weight is
    ``(x - y)**2`` on the rating *values* (equal to sklearn's index-based weights
    when the categories are consecutive integers).

    Example:
        >>> round(cohen_kappa([0, 1, 2, 2, 3], [0, 1, 2, 3, 3]), 4)
        0.7368
    """
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"a and b must be 1-D of equal length, got shapes {x.shape} and {y.shape}")
    if np.isinf(x).any() or np.isinf(y).any():
        raise ValueError("ratings contain inf; use NaN for missing")
    if weights not in (None, "quadratic"):
        raise ValueError(f"weights must be None or 'quadratic', got {weights!r}")
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if x.size == 0:
        raise ValueError("no unit was rated by both raters")
    domain, codes = np.unique(np.concatenate([x, y]), return_inverse=True)
    k = domain.size
    cx, cy = codes[: x.size], codes[x.size:]
    observed = np.bincount(cx * k + cy, minlength=k * k).reshape(k, k) / x.size
    expected = np.outer(np.bincount(cx, minlength=k), np.bincount(cy, minlength=k)) / x.size ** 2
    w = 1.0 - np.eye(k) if weights is None else np.subtract.outer(domain, domain) ** 2
    denom = (w * expected).sum()
    if denom == 0:
        raise ValueError("Cohen's kappa is undefined: both raters used a single, identical category")
    return float(1.0 - (w * observed).sum() / denom)
