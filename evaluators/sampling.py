"""Sampling math for evaluation requests: frequency bands, allocation to strata, and
reproducible weighted sampling without replacement.

Pure functions over numpy arrays; the service feeds them query frequencies that
Elasticsearch aggregated, never raw events.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class InfeasiblePlan(ValueError):
    """The data cannot satisfy the sample plan (e.g. a stratum has too few distinct queries)."""


def frequency_bands(counts: np.ndarray, *, traffic_share: np.ndarray | None = None,
                    count_quantiles: np.ndarray | None = None) -> np.ndarray:
    """Band index (0 = head) of each query, from its frequency.

    ``traffic_share`` cut points ``[0.5, 0.8]``: queries ordered by count (desc) until 50 % of
    traffic are head (band 0), until 80 % torso (1), the rest tail (2). A query is in the band
    where its traffic *starts*, so the most frequent query is always head.
    ``count_quantiles`` ``[0.99, 0.9]``: queries whose count is at or above the 99th
    percentile of counts are head, at or above the 90th torso, the rest tail.

    >>> frequency_bands(np.array([50, 30, 10, 5, 5]), traffic_share=np.array([0.5, 0.8])).tolist()
    [0, 1, 2, 2, 2]
    """
    counts = np.asarray(counts, dtype=np.int64)
    if counts.ndim != 1:
        raise ValueError("counts must be one-dimensional")
    if (counts < 0).any():
        raise ValueError("counts must be non-negative")
    if (traffic_share is None) == (count_quantiles is None):
        raise ValueError("give exactly one of traffic_share or count_quantiles")
    cuts = np.asarray(traffic_share if traffic_share is not None else count_quantiles, dtype=np.float64)
    if cuts.ndim != 1 or not np.all((cuts > 0) & (cuts < 1)):
        raise ValueError("cut points must lie strictly between 0 and 1")
    if traffic_share is not None:
        if np.any(np.diff(cuts) <= 0):
            raise ValueError("traffic_share cut points must increase")
        order = np.argsort(-counts, kind="stable")
        total = counts.sum()
        if total == 0:
            return np.zeros(len(counts), dtype=np.int64)
        start_share = (np.cumsum(counts[order]) - counts[order]) / total
        bands = np.empty(len(counts), dtype=np.int64)
        bands[order] = np.searchsorted(cuts, start_share, side="right")
        return bands
    if np.any(np.diff(cuts) >= 0):
        raise ValueError("count_quantiles cut points must decrease (head first), e.g. [0.99, 0.9]")
    if len(counts) == 0:
        return np.zeros(0, dtype=np.int64)
    thresholds = np.quantile(counts, cuts)
    # band = number of thresholds the count falls below
    return (counts[:, None] < thresholds[None, :]).sum(axis=1).astype(np.int64)


def allocate_proportional(sizes: np.ndarray, total: int, caps: np.ndarray | None = None) -> np.ndarray:
    """Split ``total`` over strata in proportion to ``sizes`` (largest-remainder / Hamilton).

    Counts sum to ``total`` exactly; ties in remainders go to the earlier stratum. With
    ``caps`` (e.g. distinct queries per stratum), a stratum never gets more than its cap and
    the excess is re-split over the others in proportion to their sizes — the head of a
    traffic-weighted plan carries most traffic in few distinct queries.

    >>> allocate_proportional(np.array([50, 30, 20]), 7).tolist()
    [4, 2, 1]
    >>> allocate_proportional(np.array([80, 15, 5]), 10, caps=np.array([3, 100, 100])).tolist()
    [3, 5, 2]
    """
    sizes = np.asarray(sizes, dtype=np.float64)
    if total < 0:
        raise ValueError("total must be non-negative")
    if sizes.sum() <= 0:
        raise ValueError("strata are empty")
    caps = np.full(len(sizes), total, dtype=np.int64) if caps is None else np.asarray(caps, dtype=np.int64)
    if caps.sum() < total:
        raise InfeasiblePlan(f"the strata hold {int(caps.sum())} distinct queries; the plan asks for {total}")
    result = np.zeros(len(sizes), dtype=np.int64)
    open_ = (caps > 0) & (sizes > 0)
    remaining = total
    while remaining:
        if not open_.any():  # only zero-size strata have room left
            open_ = caps > result
            weights = np.where(open_, 1.0, 0.0)
        else:
            weights = np.where(open_, sizes, 0.0)
        share = _hamilton(weights, remaining)
        over = result + share > caps
        if not over.any():
            result += share
            break
        result[over] = caps[over]
        open_ &= ~over
        remaining = total - int(result.sum())
    return result


def _hamilton(weights: np.ndarray, total: int) -> np.ndarray:
    quota = weights / weights.sum() * total
    base = np.floor(quota).astype(np.int64)
    short = total - int(base.sum())
    if short:
        remainder = quota - base
        order = np.lexsort((np.arange(len(weights)), -remainder))
        base[order[:short]] += 1
    return base


def weighted_sample(weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``k`` items drawn without replacement, probability ∝ weight
    (Efraimidis & Spirakis 2006, "Weighted random sampling with a reservoir": keep the k
    largest ``log(u) / w``). Uniform when all weights are equal. Sorted ascending."""
    weights = np.asarray(weights, dtype=np.float64)
    if k > len(weights):
        raise InfeasiblePlan(f"cannot draw {k} from {len(weights)}")
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.all(np.isfinite(weights)) or (weights <= 0).any():
        raise ValueError("weights must be finite and positive")
    keys = np.log(rng.random(len(weights))) / weights
    chosen = np.argpartition(-keys, k - 1)[:k]
    return np.sort(chosen)


@dataclass(frozen=True)
class StratifiedSample:
    """The drawn sample and the statistics to weight it back to traffic."""

    chosen: np.ndarray            # indices into the query arrays, ascending
    stratum_of_chosen: np.ndarray  # stratum index per chosen query
    population_queries: np.ndarray  # per stratum: distinct queries
    population_traffic: np.ndarray  # per stratum: events
    allocated: np.ndarray          # per stratum: queries sampled
    weights: np.ndarray            # per stratum: traffic share (sums to 1)


def stratified_sample(
    counts: np.ndarray,
    strata: np.ndarray,
    n_strata: int,
    size: int,
    *,
    traffic_weighted: bool,
    fixed: np.ndarray | None = None,
    seed: int = 0,
    labels: list[str] | None = None,
) -> StratifiedSample:
    """Draw ``size`` distinct queries, stratified.

    ``counts[i]``: events of query i; ``strata[i]``: its stratum in ``0..n_strata-1``.
    Proportional allocation follows each stratum's traffic (traffic-weighted unit) or its
    number of distinct queries (unique-query unit), capped at the stratum's distinct queries
    with the excess re-split over the others; ``fixed`` gives counts per stratum instead.
    Within a stratum, queries are drawn ∝ count (traffic-weighted) or uniformly. The same
    inputs and seed give the same sample. Raises :class:`InfeasiblePlan` naming the stratum
    when it has fewer distinct queries than allocated.
    """
    counts = np.asarray(counts, dtype=np.int64)
    strata = np.asarray(strata, dtype=np.int64)
    if counts.shape != strata.shape:
        raise ValueError(f"counts and strata differ in shape: {counts.shape} vs {strata.shape}")
    if size <= 0 and fixed is None:
        raise ValueError("size must be positive")
    if len(strata) and (strata.min() < 0 or strata.max() >= n_strata):
        raise ValueError("stratum index out of range")
    name = (lambda s: labels[s]) if labels else str
    pop_q = np.bincount(strata, minlength=n_strata).astype(np.int64)
    pop_t = np.bincount(strata, weights=counts, minlength=n_strata).astype(np.int64)
    if fixed is not None:
        allocated = np.asarray(fixed, dtype=np.int64)
        if allocated.shape != (n_strata,) or (allocated < 0).any():
            raise ValueError("fixed allocation needs one non-negative count per stratum")
    else:
        if pop_q.sum() < size:
            raise InfeasiblePlan(f"the logs hold {int(pop_q.sum())} distinct queries; the plan asks for {size}")
        allocated = allocate_proportional(pop_t if traffic_weighted else pop_q, size, caps=pop_q)
    short = [f"{name(s)} has {pop_q[s]} distinct queries, the plan asks for {allocated[s]}"
             for s in range(n_strata) if allocated[s] > pop_q[s]]
    if short:
        raise InfeasiblePlan("; ".join(short))
    rng = np.random.default_rng(seed)
    chosen = []
    for s in range(n_strata):  # per stratum, not per query: a handful of iterations
        members = np.flatnonzero(strata == s)
        w = counts[members].astype(np.float64) if traffic_weighted else np.ones(len(members))
        chosen.append(members[weighted_sample(w, int(allocated[s]), rng)])
    picked = np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)
    total = pop_t.sum()
    return StratifiedSample(
        chosen=picked,
        stratum_of_chosen=strata[picked],
        population_queries=pop_q,
        population_traffic=pop_t,
        allocated=allocated,
        weights=pop_t / total if total else np.zeros(n_strata),
    )


def query_order(strata, seed: int) -> np.ndarray:
    """A grading order key in [0, 1) per query: graders get whole queries in increasing key.

    Within each stratum the queries take a random permutation; the r-th of a stratum of ``n``
    queries gets ``(r + u) / n`` with ``u`` uniform in [0, 1), so the strata interleave in
    proportion to their allocation (stratified systematic order) and, at any point of grading,
    the queries done in each stratum are a simple random sample of it — which is what makes a
    partial report an unbiased estimate (issue 12). ``seed``: the same seed, the same order.

    >>> query_order(["a", "a", "b"], seed=1).round(3).tolist()
    [0.244, 0.518, 0.215]
    """
    s = np.asarray(strata, dtype=object)
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFFFFFFFFFF, 12])
    keys = np.empty(s.size, dtype=np.float64)
    for name in sorted(set(s.tolist())):
        idx = np.flatnonzero(s == name)
        rank = rng.permutation(idx.size)
        keys[idx] = (rank + rng.random(idx.size)) / idx.size
    return keys
