"""Workforce scorecards: per-subject (grader or partner) throughput, quality, cost and SLA from
columnar judgements — one entry per judgement, arrays in, arrays out.

* Throughput: judgements per *active hour* (distinct clock hours with at least one judgement).
* Median time on task.
* Gold accuracy and agreement with consensus with Wilson score intervals
  (``evaluators.quality.wilson_interval``); skip rate ``skips / (skips + judgements)`` likewise.
* Drift: the same success rate in the window's second half against its first half, one-sided
  two-proportion z-test (``evaluators.quality.drift``); on gold when the subject judged gold in
  both halves, else on agreement with consensus.
* Cost: the sum of the judgements' prices; SLA: the share of judgements with an SLA that met it.

Example:
    >>> s = workforce_stats(["a", "a", "b"], [0, 100, 4000], [10, 30, 20], gold=[True, True, False],
    ...                     gold_correct=[True, False, False], start=0, end=7200)
    >>> s.subjects.tolist(), s.judgements.tolist(), s.active_hours.tolist(), s.median_seconds.tolist()
    (['a', 'b'], [2, 1], [1, 1], [20.0, 20.0])
    >>> s.gold_n.tolist(), s.gold_correct.tolist()
    ([2, 0], [1, 0])
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .quality import drift, wilson_interval


@dataclass(frozen=True)
class WorkforceStats:
    subjects: np.ndarray  # sorted subject ids; every array below is aligned with it
    judgements: np.ndarray
    active_hours: np.ndarray
    throughput: np.ndarray  # judgements per active hour (NaN without judgements)
    median_seconds: np.ndarray  # NaN without judgements
    gold_n: np.ndarray
    gold_correct: np.ndarray
    gold_accuracy: np.ndarray  # NaN without gold
    gold_low: np.ndarray
    gold_high: np.ndarray
    consensus_n: np.ndarray  # judgements on items with a consensus label to compare with
    consensus_agree: np.ndarray
    agreement: np.ndarray
    agreement_low: np.ndarray
    agreement_high: np.ndarray
    skips: np.ndarray
    skip_rate: np.ndarray  # NaN without judgements or skips
    skip_low: np.ndarray
    skip_high: np.ndarray
    drift_on: np.ndarray  # "gold", "agreement" or "" (untestable)
    drift_first: np.ndarray  # success rate in the first half
    drift_second: np.ndarray  # ... and in the second half
    drift_n: np.ndarray  # (subjects, 2) judgements behind each half
    drift_p: np.ndarray  # one-sided p-value of a drop; NaN when untestable
    cost: np.ndarray  # sum of the prices of priced judgements
    priced: np.ndarray  # judgements with a price
    sla_n: np.ndarray  # judgements with an SLA
    sla_met: np.ndarray
    level: float


def _column(x, n: int, name: str, dtype) -> np.ndarray:
    if x is None:
        return np.zeros(n, dtype=dtype)
    a = np.asarray(x)
    if a.ndim != 1 or a.size != n:
        raise ValueError(f"{name} must be 1-D with one entry per judgement ({n}), got shape {a.shape}")
    if dtype is bool and a.dtype != bool:
        if a.size and not np.isin(a, (0, 1)).all():
            raise ValueError(f"{name} must be boolean")
    return a.astype(dtype)


def _median_by(group: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    order = np.lexsort((values, group))
    g, v = group[order], values[order]
    counts = np.bincount(g, minlength=n_groups)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out = np.full(n_groups, np.nan)
    has = counts > 0
    lo = offsets[has] + (counts[has] - 1) // 2
    hi = offsets[has] + counts[has] // 2
    out[has] = (v[lo] + v[hi]) / 2
    return out


def _rate(x: np.ndarray, n: np.ndarray, level: float):
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, x / np.maximum(n, 1), np.nan)
    low, high = wilson_interval(x, n, level)
    return rate, low, high


def workforce_stats(subject, submit_time, seconds_on_task, *, gold=None, gold_correct=None, with_consensus=None,
                    agrees=None, price=None, sla_known=None, sla_met=None, skip_subject=(), subjects=None,
                    start: float, end: float, level: float = 0.95) -> WorkforceStats:
    """Per-subject statistics of the judgements in ``[start, end)`` (times in seconds).

    ``subject``: who made each judgement (grader or partner id). ``gold``/``gold_correct``: a
    gold judgement and whether it matched. ``with_consensus``/``agrees``: the item has a
    consensus to compare with, and the judgement equals it. ``price``: price of the judgement
    (NaN: none). ``sla_known``/``sla_met``: the judgement had an SLA, and met it.
    ``skip_subject``: one entry per skip in the window. ``subjects``: report these (and only
    these) subjects, e.g. ones with skips but no judgement; default: everyone seen.
    """
    subj = np.asarray(subject)
    if subj.ndim != 1:
        raise ValueError("subject must be 1-D")
    n = subj.size
    t = _column(submit_time, n, "submit_time", float)
    secs = _column(seconds_on_task, n, "seconds_on_task", float)
    if n and not (np.isfinite(t).all() and np.isfinite(secs).all()) or (secs < 0).any():
        raise ValueError("submit times must be finite and times on task finite and non-negative")
    if not end > start:
        raise ValueError("the window is empty: end must be after start")
    is_gold = _column(gold, n, "gold", bool)
    correct = _column(gold_correct, n, "gold_correct", bool) & is_gold
    judged = _column(with_consensus, n, "with_consensus", bool) & ~is_gold
    agree = _column(agrees, n, "agrees", bool) & judged
    prices = _column(price, n, "price", float) if price is not None else np.full(n, np.nan)
    sla = _column(sla_known, n, "sla_known", bool)
    met = _column(sla_met, n, "sla_met", bool) & sla
    skips_of = np.asarray(skip_subject)

    ids = np.unique(np.concatenate([subj.astype(object), skips_of.astype(object)])) if subjects is None \
        else np.unique(np.asarray(subjects, dtype=object))
    ids = np.asarray(sorted(ids.tolist()), dtype=object)
    m = ids.size
    code = np.searchsorted(ids, subj.astype(object)) if n else np.zeros(0, np.intp)
    keep = (code < m) & (ids[np.minimum(code, max(m - 1, 0))] == subj) if m and n else np.zeros(n, bool)
    code, t, secs, is_gold, correct, judged, agree, prices, sla, met = (
        a[keep] for a in (code, t, secs, is_gold, correct, judged, agree, prices, sla, met))

    def count(mask=None, weights=None):
        c = code if mask is None else code[mask]
        return np.bincount(c, weights=weights, minlength=m)

    judgements = count().astype(np.int64)
    hours = np.unique(np.stack([code, np.floor(t / 3600).astype(np.int64)]), axis=1)[0] if code.size else code
    active = np.bincount(hours, minlength=m).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        throughput = np.where(active > 0, judgements / np.maximum(active, 1), np.nan)
    gold_n, gold_ok = count(is_gold).astype(np.int64), count(correct).astype(np.int64)
    cons_n, cons_ok = count(judged).astype(np.int64), count(agree).astype(np.int64)
    if skips_of.size and m:
        sc = np.searchsorted(ids, skips_of.astype(object))
        sk = (sc < m) & (ids[np.minimum(sc, m - 1)] == skips_of)
        skips = np.bincount(sc[sk], minlength=m).astype(np.int64)
    else:
        skips = np.zeros(m, np.int64)
    priced = ~np.isnan(prices)

    # drift: first half against second half of the window, on gold where possible
    edges = np.array([start, (start + end) / 2, end], dtype=float)
    first, second = np.full(m, np.nan), np.full(m, np.nan)
    dn, dp = np.zeros((m, 2), np.int64), np.full(m, np.nan)
    on = np.full(m, "", dtype=object)
    for name, mask, success in (("agreement", judged, agree), ("gold", is_gold, correct)):  # gold wins
        if not mask.any():
            continue
        r = drift(code[mask], t[mask], success[mask], edges, alpha=0.5)
        both = (r.n > 0).all(axis=1)
        use = r.workers[both]  # workers are subject codes
        on[use] = name
        first[use], second[use] = r.rate[both, 0], r.rate[both, 1]
        dn[use] = r.n[both]
        dp[use] = r.pvalue[both, 1]

    g_rate, g_low, g_high = _rate(gold_ok, gold_n, level)
    a_rate, a_low, a_high = _rate(cons_ok, cons_n, level)
    s_rate, s_low, s_high = _rate(skips, skips + judgements, level)
    return WorkforceStats(
        subjects=ids, judgements=judgements, active_hours=active, throughput=throughput,
        median_seconds=_median_by(code, secs, m), gold_n=gold_n, gold_correct=gold_ok, gold_accuracy=g_rate,
        gold_low=g_low, gold_high=g_high, consensus_n=cons_n, consensus_agree=cons_ok, agreement=a_rate,
        agreement_low=a_low, agreement_high=a_high, skips=skips, skip_rate=s_rate, skip_low=s_low, skip_high=s_high,
        drift_on=on, drift_first=first, drift_second=second, drift_n=dn, drift_p=dp,
        cost=count(priced, prices[priced]),
        priced=count(priced).astype(np.int64), sla_n=count(sla).astype(np.int64), sla_met=count(met).astype(np.int64),
        level=float(level),
    )
