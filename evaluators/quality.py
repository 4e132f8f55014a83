"""Grader quality: accuracy on gold, agreement with consensus, drift over time.

All functions take columnar judgements (``workers``, ``items``, ``labels`` arrays,
one entry per judgement) and return per-worker arrays aligned with the sorted
unique worker ids in ``workers_`` of the result.

* Wilson score interval: E. B. Wilson, "Probable inference, the law of succession,
  and statistical inference", JASA 22 (1927) 209–212.
* Drift: two-proportion z-test (pooled variance) of a worker's window against all
  of that worker's earlier windows, one-sided for a drop (e.g. Agresti,
  *Categorical Data Analysis*, 3rd ed., §2.1.3).

Example:
    >>> acc = gold_accuracy(["a", "a", "b"], ["q1", "q2", "q1"], [1, 0, 1], {"q1": 1, "q2": 1})
    >>> acc.workers.tolist(), acc.correct.tolist(), acc.n.tolist()
    (['a', 'b'], [1, 1], [2, 1])
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import special


def _z(level: float) -> float:
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"confidence level must lie strictly between 0 and 1, got {level}")
    return float(special.ndtri(1 - (1 - level) / 2))


def _columns(**cols) -> list[np.ndarray]:
    arrays = [np.asarray(v) for v in cols.values()]
    sizes = {name: a.shape for name, a in zip(cols, arrays)}
    if any(a.ndim != 1 for a in arrays) or len({a.size for a in arrays}) != 1:
        raise ValueError(f"columns must be 1-D of equal length, got shapes {sizes}")
    if arrays[0].size == 0:
        raise ValueError("no judgements: the input is empty")
    for name, a in zip(cols, arrays):
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise ValueError(f"{name} contains NaN or inf")
    return arrays


def _reference(reference, name: str) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(reference, Mapping):
        keys, values = np.asarray(list(reference.keys())), np.asarray(list(reference.values()))
    else:
        try:
            keys, values = (np.asarray(c) for c in reference)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a mapping item -> label or a pair (items, labels)") from None
    if keys.ndim != 1 or keys.shape != values.shape:
        raise ValueError(f"{name} items and labels must be 1-D of equal length")
    if keys.size == 0:
        raise ValueError(f"{name} is empty")
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise ValueError(f"{name} labels contain NaN or inf")
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    if (keys[1:] == keys[:-1]).any():
        raise ValueError(f"{name} lists an item twice")
    return keys, values


def _match(items: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mask of judgements whose item is in keys, their positions in keys)."""
    pos = np.minimum(np.searchsorted(keys, items), keys.size - 1)
    hit = keys[pos] == items
    return hit, pos


def wilson_interval(successes, trials, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised Wilson score interval; ``(nan, nan)`` where ``trials == 0``.

    Example:
        >>> lo, hi = wilson_interval(8, 10)
        >>> round(float(lo), 4), round(float(hi), 4)
        (0.4902, 0.9433)
    """
    z = _z(level)
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    if (n < 0).any() or (x < 0).any() or (x > n).any():
        raise ValueError("need 0 <= successes <= trials")
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        low, high = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    # Exact at the ends (the formula gives 0 and 1 there, up to rounding).
    low = np.where(x == 0, 0.0, low)
    high = np.where(x == n, 1.0, high)
    low, high = np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)
    return low, high


@dataclass(frozen=True)
class WorkerAccuracy:
    workers: np.ndarray
    n: np.ndarray  # gold judgements per worker
    correct: np.ndarray
    accuracy: np.ndarray  # NaN for a worker with no gold judgement
    low: np.ndarray  # Wilson interval
    high: np.ndarray
    level: float


def gold_accuracy(workers, items, labels, gold, *, level: float = 0.95) -> WorkerAccuracy:
    """Per-worker accuracy on gold items with Wilson score intervals.

    ``gold`` maps item → correct label (or is a pair ``(items, labels)``); judgements
    of non-gold items are ignored. Every worker in ``workers`` gets a row.
    """
    workers, items, labels = _columns(workers=workers, items=items, labels=labels)
    keys, values = _reference(gold, "gold")
    worker_ids, w = np.unique(workers, return_inverse=True)
    hit, pos = _match(items, keys)
    right = hit & (labels == values[pos])
    n = np.bincount(w[hit], minlength=worker_ids.size)
    correct = np.bincount(w[right], minlength=worker_ids.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = correct / n
    low, high = wilson_interval(correct, n, level)
    return WorkerAccuracy(worker_ids, n, correct, np.where(n > 0, acc, np.nan), low, high, float(level))


@dataclass(frozen=True)
class ConsensusAgreement:
    workers: np.ndarray
    n: np.ndarray  # judgements on items that have a consensus label
    agree: np.ndarray  # share equal to the consensus label
    mean_abs_deviation: np.ndarray  # mean |label - consensus| (graded only; NaN otherwise)


def consensus_agreement(workers, items, labels, consensus, *, graded: bool = False) -> ConsensusAgreement:
    """Per worker: share of labels equal to the aggregated (consensus) label, and for
    graded labels the mean absolute deviation from it.

    ``consensus`` maps item → aggregated label (e.g. ``dict(zip(model.items_, model.labels_))``).
    """
    workers, items, labels = _columns(workers=workers, items=items, labels=labels)
    keys, values = _reference(consensus, "consensus")
    worker_ids, w = np.unique(workers, return_inverse=True)
    hit, pos = _match(items, keys)
    n = np.bincount(w[hit], minlength=worker_ids.size)
    agree_count = np.bincount(w[hit], weights=(labels[hit] == values[pos[hit]]).astype(float),
                              minlength=worker_ids.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        agree = np.where(n > 0, agree_count / n, np.nan)
    if graded:
        try:
            y = labels.astype(float)
            c = values.astype(float)
        except (TypeError, ValueError):
            raise ValueError("graded=True needs numeric labels") from None
        if (y < 0).any() or (y != np.round(y)).any() or (c < 0).any() or (c != np.round(c)).any():
            raise ValueError("grades must be non-negative integers")
        dev = np.bincount(w[hit], weights=np.abs(y[hit] - c[pos[hit]]), minlength=worker_ids.size)
        with np.errstate(invalid="ignore", divide="ignore"):
            mad = np.where(n > 0, dev / n, np.nan)
    else:
        mad = np.full(worker_ids.size, np.nan)
    return ConsensusAgreement(worker_ids, n, agree, mad)


@dataclass(frozen=True)
class DriftReport:
    workers: np.ndarray
    edges: np.ndarray  # window edges; window j is [edges[j], edges[j+1])
    n: np.ndarray  # (workers, windows) judgements
    successes: np.ndarray  # (workers, windows) correct / agreeing judgements
    rate: np.ndarray  # successes / n, NaN for empty windows
    z: np.ndarray  # drop statistic vs all earlier windows (positive = worse now); NaN where untestable
    pvalue: np.ndarray  # one-sided p-value of a drop
    flagged: np.ndarray  # bool: pvalue < alpha
    alpha: float


def drift(workers, timestamps, success, edges, *, alpha: float = 0.01, min_count: int = 1) -> DriftReport:
    """Per-worker, per-window success rate (accuracy on gold, or agreement with
    consensus — ``success`` is the per-judgement boolean) and a flag where a window's
    rate dropped significantly below the same worker's pooled earlier windows.

    ``timestamps`` are numbers or ``datetime64``; ``edges`` increasing, of the same
    kind; judgements outside ``[edges[0], edges[-1])`` are ignored. A window is tested
    only when it and the earlier pool both have ``>= min_count`` judgements and the
    pooled rate is strictly between 0 and 1.

    Example:
        >>> r = drift(["a"] * 8, [0, 1, 2, 3, 10, 11, 12, 13], [1, 1, 1, 1, 0, 0, 0, 1], [0, 10, 20], alpha=0.1)
        >>> r.rate.tolist(), r.flagged.tolist()
        ([[1.0, 0.25]], [[False, True]])
    """
    workers, timestamps, success = _columns(workers=workers, timestamps=timestamps, success=success)
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError("alpha must lie strictly between 0 and 1")
    edges = np.asarray(edges)
    if edges.ndim != 1 or edges.size < 2:
        raise ValueError("edges must hold at least two window boundaries")
    if timestamps.dtype.kind == "M" or edges.dtype.kind == "M":
        try:
            timestamps = timestamps.astype("datetime64[ns]").astype(np.int64)
            edges_num = edges.astype("datetime64[ns]").astype(np.int64)
        except (TypeError, ValueError):
            raise ValueError("timestamps and edges must both be datetimes or both numbers") from None
    else:
        try:
            timestamps = timestamps.astype(float)
            edges_num = edges.astype(float)
        except (TypeError, ValueError):
            raise ValueError("timestamps and edges must be numeric or datetime64") from None
        if not np.isfinite(edges_num).all():
            raise ValueError("edges contain NaN or inf")
    if (np.diff(edges_num) <= 0).any():
        raise ValueError("edges must be strictly increasing")
    s = np.asarray(success)
    if s.dtype != bool:
        if s.dtype.kind not in "iuf" or not np.isin(s, (0, 1)).all():
            raise ValueError("success must be boolean (or 0/1)")
        s = s.astype(bool)
    worker_ids, w = np.unique(workers, return_inverse=True)
    n_win = edges_num.size - 1
    win = np.searchsorted(edges_num, timestamps, side="right") - 1
    inside = (win >= 0) & (win < n_win)
    flat = w[inside] * n_win + win[inside]
    shape = (worker_ids.size, n_win)
    n = np.bincount(flat, minlength=worker_ids.size * n_win).reshape(shape)
    x = np.bincount(flat, weights=s[inside].astype(float), minlength=worker_ids.size * n_win).reshape(shape)
    # Pooled earlier windows: exclusive cumulative sums along time.
    n_prev = np.cumsum(n, axis=1) - n
    x_prev = np.cumsum(x, axis=1) - x
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, x / n, np.nan)
        p_prev = x_prev / n_prev
        pooled = (x + x_prev) / (n + n_prev)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / n_prev))
        z = (p_prev - rate) / se
    testable = (n >= max(1, min_count)) & (n_prev >= max(1, min_count)) & (se > 0)
    z = np.where(testable, z, np.nan)
    pvalue = np.where(testable, special.ndtr(-np.nan_to_num(z)), np.nan)
    flagged = testable & (pvalue < alpha)
    return DriftReport(worker_ids, edges, n, x.astype(np.int64), rate, z, pvalue, flagged, float(alpha))
