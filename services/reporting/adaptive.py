"""Adaptive audit (issue 12): more human checks of the model where its errors move the headline
most — per stratum, by Neyman's rule — with every settled item's probability of a check recorded,
so the prediction-powered estimates stay unbiased (:mod:`evaluators.reporting.audit`).

One :func:`step` per pass of the reporting worker, for an evaluation with a headline comparison
(:func:`services.reporting.stopping.headline`), an audit share, and a server that spends an
extra audit share (``QRELAY_ADAPTIVE_AUDIT_SHARE``, 0 = off) — or, with
``QRELAY_ADAPTIVE_AUDIT=verdict``, for an evaluation that stops early, as many audits as bring the
anytime-valid verdict after the fewest human judgements (:func:`evaluators.reporting.audit.verdict_inclusion`: with a low
audit share a disagreeing audit enters its query's value 1/π times over, a grader's noise
included, and the sequence needs queries in proportion to that variance); re-allocated whenever the human
labels grew by a tenth since the last allocation, once every stratum has a few audits in queries
whose items sent to humans are all judged (the only ones that show the model's errors; for the
verdict, once there are ``POOLED_AUDITS`` of them in all), and never after the headline decision.

The design stays a Poisson sample with known probabilities: a settled item goes to humans when
its fixed uniform draw (:func:`evaluators.automation.audit_draw`, the same draw as the random
audit) falls below its probability, and an item's probability only ever rises — to its stratum's
current one — so an item is audited exactly when its draw is below its final recorded probability,
which is the weight :mod:`evaluators.reporting.ppi` gives it. Items newly drawn go to humans
(``needs_humans``, ``audit``); their model label stands until a human's replaces it.
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np
from elasticsearch import Elasticsearch

from evaluators.automation import audit_draw
from evaluators.reporting.audit import audit_inclusion, residual_sd, verdict_inclusion
from evaluators.reporting.strata import coefficients
from services.core import clock
from services.reporting import compare, estimates, routing, stopping
from services.reporting.cache import LabelCache
from services.reporting.config import ADAPTIVE_AUDIT_MODES
from services.reporting.labels import SOURCE

log = logging.getLogger("qrelay.adaptive")

REGROW = 0.1  # re-allocate once the human labels grew by this share
MIN_AUDITS = 10  # audits a stratum needs for its own residual estimate (fewer: the pooled one)
POOLED_AUDITS = 30  # the verdict mode: audits (all strata) before its first allocation


def step(es: Elasticsearch, prefix: str, cache: LabelCache, evaluation_id: str, doc: dict[str, Any],
         extra_share: float, mode: str = "share") -> dict[str, Any] | None:
    """One allocation (see the module docstring); the ``automation.adaptive_audit`` to store, or None."""
    if mode not in ADAPTIVE_AUDIT_MODES:
        raise ValueError(f"mode must be one of {ADAPTIVE_AUDIT_MODES}, got {mode!r}")
    automation = doc.get("automation") or {}
    audit_share = float(automation.get("audit_share") or 0.0)
    head = stopping.headline(doc)
    # for the verdict: only where grading stops once the headline decides — an evaluation graded to
    # the end would get its extra audits re-opened late (one of the bench's was, after its crowd had
    # finished)
    off = extra_share <= 0 if mode == "share" else stopping.rule(doc) is None
    if off or audit_share <= 0 or head is None or (doc.get("stopping") or {}).get("decided"):
        return None
    ctx, ev = stopping.context(es, prefix, cache, evaluation_id, "adaptive audit")
    if ctx is None or ctx.qv is None:
        return None
    ls, pw, m = ctx.labels, ctx.labels.pointwise, stopping.MEASURE
    humans = int((pw.source == SOURCE["human"]).sum())
    before = automation.get("adaptive_audit") or {}
    if before and humans < (1 + REGROW) * int(before.get("at_labels") or 0):
        return None
    a, b = ev.rankers.index(head[0]), ev.rankers.index(head[1])
    h = len(ctx.weights)
    st = ls.query_stratum[pw.query]
    settled = estimates.settled(pw) & (st >= 0)
    pi = estimates.inclusion(ls, pw)
    n_h = np.bincount(st[settled], minlength=h).astype(float)
    q_h = np.bincount(ls.query_stratum[ls.query_stratum >= 0], minlength=h).astype(float)
    audited = settled & pw.needs_humans & (pw.source == SOURCE["human"])
    pi_now = np.divide(np.bincount(st[settled], weights=pi[settled], minlength=h), n_h, out=np.full(h, audit_share),
                       where=n_h > 0)
    qv = ctx.qv
    d_ppi, d_model = qv.ppi[m][b] - qv.ppi[m][a], qv.model[m][b] - qv.model[m][a]
    usable = np.isfinite(d_ppi - d_model)
    # Only audits in usable queries (every item sent to humans judged) show the model's errors. A
    # stratum whose queries wait on audits just drawn — the last allocation raised it — has none to
    # show, not an error of 0: counting all its audits gave it an estimate from its few usable
    # queries, often 0, and the next allocation moved its extra audits to a stratum the model gets
    # right, for good.
    audits = np.bincount(st[audited & usable[pw.query]], minlength=h)
    if mode == "verdict":
        # the level matters more than the spread, and every query judged meanwhile carries the
        # random share's heavy 1/π corrections: start once the pooled estimate has its audits (small
        # strata take the pooled value; waiting for every stratum kept a bench run at the 5% share
        # for its first 500 queries)
        if audits.sum() < POOLED_AUDITS:
            return None
        pi_h, s_h = _for_verdict(ctx, a, b, d_ppi, d_model, usable, settled, pi, pi_now, audits, audit_share)
    else:
        # not before the audit has checked every stratum a little (min(MIN_AUDITS, half of what the random
        # audit will check there)): an item's probability never falls, so an early guess would stay spent
        if ((n_h > 0) & (audits < np.minimum(MIN_AUDITS, np.ceil(0.5 * audit_share * n_h)))).any():
            return None
        n_usable = np.bincount(st[settled & usable[pw.query]], minlength=h).astype(float)
        s_h = residual_sd(d_ppi, d_model, ls.query_stratum, pi_now, n_usable, audits, h, min_audits=MIN_AUDITS)
        pi_h = audit_inclusion(ctx.weights, s_h, settled=n_h, queries=q_h, audit_share=audit_share,
                               extra_share=extra_share)
    if not (s_h > 0).any():
        return None  # the audit has not caught the model out anywhere yet: nothing to steer by
    seed = int(automation.get("seed") or 0)
    raise_ = np.flatnonzero(settled & (pi_h[np.maximum(st, 0)] > pi + 1e-9))
    item_changes, cons_changes, added = [], [], 0
    stamp = clock.now_iso()
    for row in raise_.tolist():
        new = round(float(pi_h[st[row]]), 6)
        item_id = pw.item_id[row]
        fields: dict[str, Any] = {"audit_probability": new}
        if not pw.audit[row] and audit_draw(seed, item_id) < new:
            fields.update(needs_humans=True, audit=True)
            added += 1
        item_changes.append((item_id, fields))
        cons_changes.append((item_id, {**fields, "update_time": stamp}))
    routing.write(es, prefix, item_changes, cons_changes)
    keys = [s.get("key", "") for s in ev.strata]
    out = {"at_labels": humans, "mode": mode, "extra_share": extra_share if mode == "share" else None,
           "update_time": stamp,
           "strata": {k: {"inclusion": round(float(p), 6), "residual_sd": round(float(s), 6), "settled": int(n)}
                      for k, p, s, n in zip(keys, pi_h, s_h, n_h)},
           "raised": int(before.get("raised") or 0) + len(item_changes),
           "audits_added": int(before.get("audits_added") or 0) + added}
    log.info("adaptive audit", extra={"evaluation": evaluation_id, "raised": len(item_changes), "added": added})
    return out


def _for_verdict(ctx, a: int, b: int, d_ppi, d_model, usable, settled, pi, pi_now, audits, audit_share: float):
    """Per stratum, the probability of a check that reaches the verdict after the fewest human
    judgements, and ``S_h`` — in the units of the anytime-valid sequence
    (:func:`evaluators.reporting.sequential.headline_sequence`: each eligible query's value times
    ``n · c_q``), over the same eligible queries."""
    ls, pw, h = ctx.labels, ctx.labels.pointwise, len(ctx.weights)
    eligible = compare.eligible_queries(ctx, a, b)
    n = int(eligible.sum())
    scale = np.zeros(len(ls.query_ids))
    scale[eligible] = n * coefficients(ls.query_stratum[eligible], ctx.weights, ctx.traffic_of(eligible))
    in_eligible = eligible[pw.query]
    st = ls.query_stratum[pw.query]
    mine = settled & in_eligible
    n_usable = np.bincount(st[mine & usable[pw.query]], minlength=h).astype(float)
    s_h = residual_sd(scale * d_ppi, scale * d_model, np.where(eligible, ls.query_stratum, -1), pi_now, n_usable,
                      audits, h, min_audits=MIN_AUDITS)
    # the variance a query's value would have were every item judged by humans: the label set's
    # values (the model's labels stand where it settled; a disagreement's share is in S_h)
    labels = scale * (ctx.pm.values[stopping.MEASURE][b] - ctx.pm.values[stopping.MEASURE][a])
    full = labels[eligible & np.isfinite(labels)]
    per_query = np.bincount(st[mine], minlength=h) / max(n, 1)
    humans = float((~settled & in_eligible).sum()) / max(n, 1)
    # an item's probability never falls: a stratum's floor is the least any of its items has now
    lowest = np.full(h, np.inf)
    np.minimum.at(lowest, st[mine], pi[mine])
    floor = np.where(np.isfinite(lowest), np.maximum(lowest, audit_share), audit_share)
    pi_h = verdict_inclusion(s_h, settled_per_query=per_query, human_per_query=humans,
                             variance_all_human=float(full.var()) if full.size > 1 else 0.0, floor=floor)
    return pi_h, s_h
