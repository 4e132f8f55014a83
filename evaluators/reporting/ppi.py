"""Prediction-powered report numbers: the model's labels on every item, human labels where the
routing sent items to humans, and each item's known probability of having been sent there.

**The design** (today's routing, ``ray_jobs/prejudge/route.py``): an item the model was unsure
of goes to humans with probability 1; an item the model settled (auto-judged) goes to humans
with the audit share ``a``, by a draw of its own (sha256 of the seed and the item id). So item
``i`` has a known inclusion probability ``π_i`` (1 or ``a``), an indicator ``R_i`` (sent to
humans), the model's label ``f_i`` and, where ``R_i = 1``, the human consensus ``y_i``.

**Which units form a valid sample.**

* *Side by side*: the unit is the item. The items sent to humans are a Poisson sample with known
  ``π_i``, so PPI++ in its inverse-probability form applies as it is (it equals
  :func:`evaluators.stats.ppi_mean` with ``inclusion``; pinned in the tests).
* *Pointwise measures* (NDCG@k, P@k, MAP, …): the unit is the query, but a query's human value
  ``M(y_q)`` needs a human label on every pooled item. The queries humans judged in full are
  those with no settled item (``π_q = 1``) and the rare ones whose every settled item was drawn
  for audit (``π_q = Π a``): not a random sample of queries — the first group is the queries
  the model found hard — and the second, the only one that checks the model, shrinks as
  ``a^m`` with ``m`` settled items. Query-level PPI on them is biased (``π`` ignored) or
  useless (weights of ``1/0.05⁵``). The audits enter **per item** instead:

      Y_q = Σ_{S ⊆ D_q} Π_{i∈S} π_i⁻¹ Π_{i∈D_q∖S} (1 − π_i⁻¹) · M(ℓ^S)

  with ``D_q`` the audited items whose human label differs from the model's and ``ℓ^S`` the
  query's labels with humans' on the items humans judged in ``S`` (and outside ``D_q``), the
  model's on the rest. ``Y_q`` is the multilinear extension of the measure (in the items'
  one-hot labels) at ``e_i = onehot(f_i) + (R_i/π_i)(onehot(y_i) − onehot(f_i))``; the ``e_i``
  are independent with mean ``onehot(y_i)``, so ``E[Y_q] = M(y_q)`` exactly — for any measure,
  linear in the labels or not (T. Zrnic and E. J. Candès, "Active statistical inference", ICML
  2024, for the per-unit form; the expansion is the Horvitz–Thompson estimator of a function of
  independently sampled items). Items in agreement contribute their label; only a disagreeing
  audit expands, into two terms.

**PPI++'s power parameter.** The human-only estimate ``H_q = (R_q/π_q) M(y_q)`` (``R_q``:
every item of the query judged by humans, ``π_q = Π π_i``) is the same expansion at
``e_i = (R_i/π_i) onehot(y_i)``. Every ``ψ_q(λ) = (1 − λ) H_q + λ Y_q + c_h (1 − R_q/π_q)`` is
unbiased; λ and a per-stratum intercept ``c_h`` (the regression estimator's correction for the
random number of labels, Särndal, Swensson and Wretman 1992, §6.4; only in strata where at
least two units with ``π < 1`` were judged in full, else it would impute them) are chosen to
minimise the stratified variance. For item units and a linear measure this is PPI++'s λ exactly
(A. N. Angelopoulos, J. C. Duchi and T. Zrnic, arXiv:2311.01453): ``λf + (R/π)(y − λf)``.
When fewer than ``min_checked`` units with ``π < 1`` were judged in full by humans, the
human-only estimate is not estimable — its variance estimate would rest on a handful of huge
weights — and λ is 1 with no intercept (``Y_q`` alone).

Means are re-weighted to traffic with :func:`evaluators.reporting.strata.stratified` (strata
weights, each query's own traffic under unique-query sampling), so the variance is the
between-query variance of ``ψ_q`` within strata, which holds the audit draws' variance too
(the "ultimate cluster" estimator, Särndal et al. §4.6).

>>> query = np.array([0, 0, 1, 1])
>>> model, human = np.array([2, 0, 1, 0]), np.array([3, 0, -1, -1])  # item 0 audited: humans say 3
>>> routed, inclusion = np.array([True, True, False, False]), np.array([0.5, 1.0, 0.5, 0.5])
>>> v = query_values(query, model, human, routed, inclusion, np.array([[1, 2, 1, 2]]), 2, ["P_1"])
>>> v.ppi["P_1"].tolist(), v.model["P_1"].tolist(), v.usable.tolist()   # P@1: 2·1 + (1 − 2)·1 = 1
([[1.0, 1.0]], [[1.0, 1.0]], [True, True])
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .pooled import per_query_values
from .strata import Estimate, stratified

__all__ = ["QueryValues", "PPIResult", "query_values", "item_values", "ppi_estimate", "KMAX", "MIN_CHECKED"]

#: Disagreeing audits a query may have before its expansion (2^k label sets) is too large to
#: compute; such a query is left out and counted (with the audit share at 5% it takes a query of
#: hundreds of settled items).
KMAX = 12
#: Units with π < 1 humans must have judged in full before the human-only estimate is shown.
MIN_CHECKED = 30


@dataclass(frozen=True, eq=False)
class QueryValues:
    """Per-query values of each measure, ``(rankers, queries)`` arrays, and the design."""

    measures: list
    model: dict  # the measure on the model's labels (NaN: an item without a model label, or not retrieved)
    ppi: dict  # Y_q (NaN unless usable and retrieved)
    human: dict  # H_q = R_q/π_q · M(y_q): 0 unless judged in full by humans; NaN unless usable and retrieved
    inclusion: np.ndarray  # π_q = Π_i π_i
    labelled: np.ndarray  # R_q: every item of the query has a human label
    usable: np.ndarray  # items sent to humans all judged, the others all labelled by the model
    settled: np.ndarray  # items with π < 1 (the model settled them)
    audits: np.ndarray  # of those, sent to humans (judged, in usable queries)
    too_many: np.ndarray  # usable but for more than KMAX disagreeing audits (left out)
    retrieved: np.ndarray  # (rankers, queries) the ranker listed something


def _check_design(model, human, routed, inclusion, n: int):
    model = np.asarray(model, dtype=np.int64)
    human = np.asarray(human, dtype=np.int64)
    routed = np.asarray(routed, dtype=bool)
    pi = np.asarray(inclusion, dtype=np.float64)
    if not (model.shape == human.shape == routed.shape == pi.shape == (n,)):
        raise ValueError("model, human, routed and inclusion need one entry per item")
    if not np.isfinite(pi).all() or ((pi <= 0) | (pi > 1)).any():
        raise ValueError("inclusion probabilities must lie in (0, 1]")
    if (~routed & (pi >= 1)).any():
        raise ValueError("an item sent to humans with probability 1 must be routed to them")
    if ((human >= 0) & ~routed).any():
        raise ValueError("only items routed to humans can have a human label")
    return model, human, routed, pi


def query_values(query, model, human, routed, inclusion, ranks, n_queries: int, measures,
                 max_grade: int | None = None) -> QueryValues:
    """Model-only, prediction-powered and human-only per-query values (see the module notes).

    One row per pooled item: its ``query``, the ``model``'s grade and the ``human`` consensus
    (-1 where none), whether it was ``routed`` to humans, its ``inclusion`` probability, and its
    ``ranks`` per ranker (0: not listed) — as :func:`.pooled.per_query_values` takes them.
    """
    query = np.asarray(query, dtype=np.int64)
    ranks = np.atleast_2d(np.asarray(ranks, dtype=np.int64))
    model, human, routed, pi = _check_design(model, human, routed, inclusion, query.size)
    if max_grade is None:
        max_grade = int(max(model.max(initial=0), human.max(initial=0)))
    nq = n_queries
    items = np.bincount(query, minlength=nq)
    ok_item = np.where(routed, human >= 0, model >= 0)
    usable = (items > 0) & (np.bincount(query[~ok_item], minlength=nq) == 0)
    hybrid = np.where(routed, human, model)
    disagree = routed & (pi < 1) & (human >= 0) & (model >= 0) & (human != model) & usable[query]
    k = np.bincount(query[disagree], minlength=nq)
    too_many = usable & (k > KMAX)
    usable &= ~too_many

    plain = per_query_values(query, model, ranks, nq, measures, max_grade=max_grade)
    by_humans = per_query_values(query, human, ranks, nq, measures, max_grade=max_grade)
    ms = plain.measures
    labelled = by_humans.complete
    pi_q = np.exp(np.bincount(query, weights=np.log(pi), minlength=nq))

    # the expansion: 2^k copies of each usable query, one per subset S of its disagreeing audits
    sel = np.flatnonzero(usable[query])
    copies = np.where(usable, 2 ** np.minimum(k, KMAX), 0).astype(np.int64)
    first_copy = np.concatenate(([0], np.cumsum(copies)[:-1]))
    n_virtual = int(copies.sum())
    rep = copies[query[sel]]
    row = np.repeat(sel, rep)
    group_start = np.repeat(np.cumsum(rep) - rep, rep)
    s = np.arange(row.size) - group_start  # which subset this copy stands for
    bit_of = np.full(query.size, -1, dtype=np.int64)  # a disagreeing audit's bit in its query's subsets
    dis = np.flatnonzero(disagree & usable[query])
    if dis.size:
        order = dis[np.argsort(query[dis], kind="stable")]
        counts = np.bincount(query[order], minlength=nq)
        bit_of[order] = np.arange(order.size) - (np.cumsum(counts) - counts)[query[order]]
    j = bit_of[row]
    expands = j >= 0
    take_human = expands & (((s >> np.maximum(j, 0)) & 1) == 1)
    label_v = np.where(expands, np.where(take_human, human[row], model[row]), hybrid[row])
    vq = first_copy[query[row]] + s
    coef = np.ones(n_virtual)
    inv = 1.0 / pi[row[expands]]
    np.multiply.at(coef, vq[expands], np.where(take_human[expands], inv, 1.0 - inv))
    origin = np.repeat(np.arange(nq), copies)
    expanded = per_query_values(vq, label_v, ranks[:, row], max(n_virtual, 1), measures, max_grade=max_grade)

    retrieved = plain.retrieved
    ppi, hum, mod = {}, {}, {}
    for m in ms:
        name = str(m)
        y = np.full((ranks.shape[0], nq), np.nan)
        h = np.full((ranks.shape[0], nq), np.nan)
        for r in range(ranks.shape[0]):
            vals = expanded.values[name][r, :n_virtual]
            y[r] = np.bincount(origin, weights=coef * vals, minlength=nq)
            h[r] = np.where(labelled, np.divide(by_humans.values[name][r], pi_q), 0.0)
        ok = usable[None, :] & retrieved
        ppi[name] = np.where(ok, y, np.nan)
        hum[name] = np.where(ok, h, np.nan)
        mod[name] = plain.values[name]
    settled = np.bincount(query, weights=(pi < 1).astype(float), minlength=nq).astype(np.int64)
    audits = np.bincount(query, weights=((pi < 1) & routed).astype(float), minlength=nq).astype(np.int64)
    return QueryValues(ms, mod, ppi, hum, pi_q, labelled & usable, usable, settled, audits, too_many, retrieved)


def item_values(model, human, routed, inclusion) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Item units (side by side): ``(ppi, human, usable)`` with ``Y_i = f_i + (R_i/π_i)(y_i − f_i)``
    and ``H_i = (R_i/π_i) y_i`` — the same expansion with one item per unit. ``model`` and
    ``human`` are values (NaN where none).

    >>> y, h, ok = item_values([1.0, 0.5], [2.0, np.nan], [True, False], [0.5, 0.5])
    >>> y.tolist(), h.tolist(), ok.tolist()
    ([3.0, 0.5], [4.0, 0.0], [True, True])
    """
    f = np.asarray(model, dtype=np.float64)
    y = np.asarray(human, dtype=np.float64)
    routed = np.asarray(routed, dtype=bool)
    pi = np.asarray(inclusion, dtype=np.float64)
    if not (f.shape == y.shape == routed.shape == pi.shape) or f.ndim != 1:
        raise ValueError("model, human, routed and inclusion need one entry per item")
    if ((pi <= 0) | (pi > 1)).any() or (~routed & (pi >= 1)).any():
        raise ValueError("inclusion probabilities must lie in (0, 1], and 1 only for items routed to humans")
    usable = np.where(routed, np.isfinite(y), np.isfinite(f))
    ratio = np.where(routed, 1.0 / pi, 0.0)
    yy, ff = np.nan_to_num(y), np.nan_to_num(f)
    # an item sent to humans with certainty needs no model label
    ppi = np.where(pi >= 1, yy, ff + ratio * (yy - ff))
    return np.where(usable, ppi, np.nan), np.where(usable, ratio * yy, np.nan), usable


@dataclass(frozen=True)
class PPIResult:
    """The prediction-powered estimate beside the human-only one, over the same units."""

    ppi: Estimate
    human: Estimate | None  # None: not estimable (see ``human_note``)
    human_note: str
    lam: float  # the power parameter: 0 human-only, 1 the per-item correction alone
    settled: int  # units with π < 1 (the model settled at least one of their items)
    checked: int  # of those, judged in full by humans (what the human-only estimate rests on)


def _centred(x, s, t, h):
    """Residuals of the stratified (traffic-ratio) mean: ``(t/t̄_h)(x − x̄_h)``."""
    t_sum = np.bincount(s, weights=t, minlength=h)
    n_h = np.bincount(s, minlength=h)
    mean = np.divide(np.bincount(s, weights=t * x, minlength=h), t_sum, out=np.zeros(h), where=t_sum > 0)
    t_bar = np.divide(t_sum, n_h, out=np.ones(h), where=n_h > 0)
    return t / t_bar[s] * (x - mean[s])


def ppi_estimate(ppi, human, inclusion, labelled, stratum, weights, traffic=None, level: float = 0.95, *,
                 lam: float | None = None, min_checked: int = MIN_CHECKED, unit: str = "units") -> PPIResult:
    """``Σ_h W_h mean_h ψ(λ)`` over the units given (see the module notes).

    ``ppi``/``human``: ``Y`` and ``H`` per unit (finite), ``inclusion``: ``π`` per unit,
    ``labelled``: ``R`` per unit (judged in full by humans), ``stratum``/``weights``/``traffic``
    as :func:`.strata.stratified`. ``lam``: a fixed λ (None: tuned). Differences of two rankers
    are differences of ``ppi`` and of ``human`` on the same units. ``unit``: what a unit is
    called in ``human_note``.
    """
    y = np.asarray(ppi, dtype=np.float64)
    hh = np.asarray(human, dtype=np.float64)
    pi = np.asarray(inclusion, dtype=np.float64)
    r = np.asarray(labelled, dtype=bool)
    s = np.asarray(stratum, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    if not (y.shape == hh.shape == pi.shape == r.shape == s.shape) or y.ndim != 1:
        raise ValueError("ppi, human, inclusion, labelled and stratum need one entry per unit")
    if not (np.isfinite(y).all() and np.isfinite(hh).all()):
        raise ValueError("ppi and human values must be finite (select the usable units first)")
    t = np.ones(y.size) if traffic is None else np.asarray(traffic, dtype=np.float64)
    if traffic is not None:  # as stratified(): a stratum whose queries carry no traffic is uniform
        t_sum = np.bincount(s, weights=t, minlength=w.size)
        t = np.where(t_sum[s] > 0, t, 1.0)
    h = w.size
    settled = pi < 1
    checked = settled & r
    d = np.where(r, 1.0 - 1.0 / pi, 1.0) * settled  # 1 − R/π: 0 where π = 1
    # the intercept only where it is estimable: a stratum without two checked units would impute them
    fit_c = np.bincount(s[checked], minlength=h) >= 2
    if settled.any() and checked.sum() < min_checked:
        human_note = (f"{int(checked.sum()):,} of the {int(settled.sum()):,} {unit} with model-settled items were "
                      f"judged in full by humans; at least {min_checked} are needed")
    else:
        human_note = ""
    human_ok = not human_note

    n_h = np.bincount(s, minlength=h)
    covered = (n_h > 0) & (w > 0)
    w_norm = np.where(covered, w / w[covered].sum(), 0.0) if covered.any() else np.zeros(h)
    thick = covered & (n_h >= 2)
    scale = np.divide(w_norm ** 2, n_h * np.maximum(n_h - 1, 1), out=np.zeros(h), where=thick)
    ea, eb, ed = (_centred(x, s, t, h) for x in (hh, y - hh, d))
    dd2 = np.where(fit_c, np.bincount(s, weights=ed * ed, minlength=h), 0.0)

    def project(e):
        beta = np.divide(np.bincount(s, weights=e * ed, minlength=h), dd2, out=np.zeros(h), where=dd2 > 0)
        return e - beta[s] * ed

    def intercept(e):
        return -np.divide(np.bincount(s, weights=e * ed, minlength=h), dd2, out=np.zeros(h), where=dd2 > 0)

    if not human_ok:
        used = 1.0 if lam is None else float(lam)
        c = np.zeros(h)
    else:
        if lam is None:
            pa, pb = project(ea), project(eb)
            num = -(scale * np.bincount(s, weights=pa * pb, minlength=h)).sum()
            den = (scale * np.bincount(s, weights=pb * pb, minlength=h)).sum()
            used = float(np.clip(num / den, 0.0, 1.0)) if den > 0 else 0.0
        else:
            used = float(lam)
        c = intercept(ea + used * eb)
    if not 0.0 <= used <= 1.0:
        raise ValueError(f"lam must lie in [0, 1], got {used!r}")
    psi = hh + used * (y - hh) + c[s] * d
    est = stratified(psi, s, w, traffic, level)
    human_est = None
    if human_ok:
        human_est = stratified(hh + intercept(ea)[s] * d, s, w, traffic, level)
    return PPIResult(est, human_est, human_note, used, int(settled.sum()), int(checked.sum()))
