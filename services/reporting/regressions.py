"""Regression alerts: after an evaluation's snapshots are taken, each watched measure × ranker ×
segment is tested against the trailing baseline of its series (``evaluators.regression``: a
one-sided test of the drop from the snapshots' means and standard errors), Holm-corrected
across all the tests of the completion so a report with many segments does not cry wolf.
A significant drop of at least ``min_drop`` becomes an alert: stored (``alerts`` index), logged,
and queued for the webhook, which a background sender delivers (``services.reporting.webhooks``).
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np

from evaluators.regression import drop_test
from evaluators.stats.multiple import holm
from services.core import clock
from services.evaluation.spec import proto_from_json
from services.reporting.snapshots import series_of
from services.store import alerts, metrics

log = logging.getLogger("qrelay.alerts")


def check(es, prefix: str, evaluation: dict[str, Any], snapshots: list[dict[str, Any]],
          now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Test the evaluation's watched snapshots against their baselines; store, log and queue an
    alert for each significant drop. Returns the alerts raised now (a second check of the same
    evaluation raises none again)."""
    spec = proto_from_json(evaluation.get("spec") or {})
    if not spec.HasField("alerting"):
        return []
    a = spec.alerting
    watched = [s for s in snapshots if s["measure"] in set(a.measures) and s.get("std_error") is not None]
    if not watched:
        return []
    keys = [(s["ranker"], s["segment"], s["measure"]) for s in watched]
    n = a.baseline_snapshots
    baselines = metrics.trailing_many(es, prefix, keys, series_of(evaluation), watched[0]["snapshot_time"], n,
                                      exclude_evaluation=evaluation["evaluation_id"])
    means = np.full((len(keys), n), np.nan)
    errors = np.full((len(keys), n), np.nan)
    for i, key in enumerate(keys):
        base = [b for b in baselines[key] if b.get("std_error") is not None]
        means[i, :len(base)] = [b["mean"] for b in base]
        errors[i, :len(base)] = [b["std_error"] for b in base]
    tested = ~np.isnan(means).all(axis=1)
    if not tested.any():
        log.info("no baseline yet: nothing to compare with", extra={"evaluation": evaluation["evaluation_id"]})
        return []
    idx = np.flatnonzero(tested)
    r = drop_test([watched[i]["mean"] for i in idx], [watched[i]["std_error"] for i in idx], means[idx], errors[idx],
                  alpha=a.alpha)
    adjusted = holm(r.pvalue, alpha=a.alpha).adjusted
    now = now or clock.now()
    raised = []
    for j, i in enumerate(idx):
        if not (adjusted[j] < a.alpha and r.drop[j] <= -a.min_drop and r.drop[j] < 0):
            continue
        s = watched[i]
        raised.append(_alert(evaluation, s, baselines[keys[i]], r, j, float(adjusted[j]), a, now))
    created = set(alerts.create(es, prefix, raised))
    raised = [d for d in raised if d["alert_id"] in created]
    for d in raised:
        log.warning(d["message"], extra={"alert": {k: d[k] for k in (
            "alert_id", "evaluation_id", "series", "ranker", "segment", "measure", "value", "baseline", "drop",
            "p_value", "p_value_holm", "delivery")}})
    return raised


def _alert(evaluation, s, baseline, r, j, p_holm, a, now) -> dict[str, Any]:
    ev_id = evaluation["evaluation_id"]
    where = s["segment"] or "all queries"
    n = int(r.n[j])
    message = (f"{s['measure']} of {s['ranker']} in {where} fell {-r.drop[j]:.3f} below its {n}-snapshot baseline "
               f"{r.baseline[j]:.3f} to {s['mean']:.3f} (p={p_holm:.2g} Holm-adjusted, n={s.get('queries', 0)} queries)")
    t = clock.iso(now)
    return {
        "alert_id": alerts.alert_id(ev_id, s["ranker"], s["segment"], s["measure"]), "create_time": t,
        "evaluation_id": ev_id, "series": evaluation.get("series") or "", "owner_team": evaluation.get("owner_team") or "",
        "ranker": s["ranker"], "segment": s["segment"], "measure": s["measure"], "value": float(s["mean"]),
        "baseline": float(r.baseline[j]), "drop": float(r.drop[j]), "low": float(r.low[j]), "high": float(r.high[j]),
        "level": 1 - 2 * a.alpha, "p_value": float(r.pvalue[j]), "p_value_holm": p_holm, "baseline_snapshots": n,
        "baseline_evaluations": [b["evaluation_id"] for b in baseline], "message": message,
        "webhook_url": a.webhook_url or None, "delivery": "pending" if a.webhook_url else "none",
        "attempts": 0, **({"next_attempt_time": t} if a.webhook_url else {}), "update_time": t,
    }
