"""Human-only, model-only and prediction-powered estimates beside a report's label-set numbers, and
the one to lead with.

The label set's own numbers (``MetricValue.mean``, ``MetricDifference.difference``) take every
label as truth — the model's too, on the items it settled. Beside them:

* **ppi** — the model's labels corrected by the human audit of them
  (:mod:`evaluators.reporting.ppi`): unbiased whatever the model's errors, given each item's
  known probability of having been routed to humans (1 for items the model was unsure of, the
  probability recorded on a settled item — the audit share, or its stratum's adaptive audit
  probability (issue 12) — for the items it settled);
* **human** — human labels alone, each unit weighted by the inverse of its probability of having
  been judged in full by humans (only estimable when enough such units exist);
* **model** — the model's labels taken as truth on every item (no valid interval; shown for
  contrast).

The lead: human-only when no model label is behind the number (the three agree); otherwise the
prediction-powered estimate when at least :data:`MIN_AUDITS` audited items check the model's
labels (its interval is never wider than the human-only one: λ is tuned over both); otherwise
the human-only one if estimable, else the label set's own number, said plainly.
"""
from __future__ import annotations

import numpy as np

from evaluators.reporting import PPIResult, QueryValues, item_values, ppi_estimate, query_values, stratified
from evaluators.reporting.paired import t_pvalue
from services.reporting.labels import SOURCE, Items, LabelSet

#: Audited items (model-settled items humans judged) a prediction-powered interval must rest on
#: before a report leads with it: the correction is a mean over them, and its interval is a
#: normal approximation.
MIN_AUDITS = 30


def settled(items: Items) -> np.ndarray:
    """Items the model settled: not routed to humans, or routed only as an audit. An item humans
    labelled although neither routed to them nor drawn for audit (a grader leased it as the
    routing settled it) was in fact sent to humans: it counts as theirs, with certainty."""
    human = items.source == SOURCE["human"]
    return (items.audit | (~items.needs_humans & ~human)) & (items.source != SOURCE["tie"])


def inclusion(ls: LabelSet, items: Items) -> np.ndarray:
    """Each item's probability of having been routed to humans: 1 unless the model settled it;
    a settled item's own recorded probability (adaptive audit, issue 12: it differs by stratum),
    else the routing's audit share."""
    share = ls.audit_share or 1.0
    own = items.inclusion if items.inclusion is not None else np.full(len(items), np.nan)
    return np.where(settled(items), np.where(np.isfinite(own) & (own > 0), own, share), 1.0)


def design_note(ls: LabelSet) -> str:
    """Why the label set cannot carry prediction-powered estimates ("" when it can)."""
    n = int(settled(ls.pointwise).sum() + settled(ls.sxs).sum())
    if n and ls.audit_share is None:
        return (f"the model settled {n:,} items but the audit share its routing used is not recorded, so no "
                "item's probability of a human check is known")
    if n and ls.audit_share <= 0:
        return f"the model settled {n:,} items and none could be drawn for a human audit (audit share 0)"
    return ""


def pointwise_values(ls: LabelSet, measures, max_grade: int) -> QueryValues | None:
    """Per-query model-only, prediction-powered and human-only values (None: no valid design)."""
    if design_note(ls):
        return None
    pw = ls.pointwise
    human = np.where(pw.source == SOURCE["human"], pw.label, -1)
    model = np.where(np.isfinite(pw.model_label), np.rint(np.nan_to_num(pw.model_label)), -1).astype(np.int64)
    pi = inclusion(ls, pw)
    # an item routed to humans with certainty, or settled and not drawn: consistent by construction;
    # an audit stays drawn when an early stop took it off the queue unjudged — its query is not usable
    routed = pw.needs_humans | pw.audit | (pi >= 1)
    grade = max(max_grade, int(model.max(initial=0)), int(human.max(initial=0)))
    return query_values(pw.query, model, human, routed, pi, pw.ranks, len(ls.query_ids), measures,
                        max_grade=grade)


def sxs_design(ls: LabelSet, prefs_human: np.ndarray, prefs_model: np.ndarray):
    """Item units for side-by-side preferences (oriented already): ``(ppi, human, inclusion, labelled)``;
    a tie of identical lists is known for certain (a human-equivalent 0)."""
    sx = ls.sxs
    tie = sx.source == SOURCE["tie"]
    pi = inclusion(ls, sx)
    routed = sx.needs_humans | sx.audit | tie | (pi >= 1)
    human = np.where(tie, 0.0, np.where(sx.source == SOURCE["human"], prefs_human, np.nan))
    ppi, hum, _ = item_values(prefs_model, human, routed, pi)
    return ppi, hum, pi, routed & np.isfinite(human)


def _row(kind: str, value: float, lo: float, hi: float, *, est=None, units: int, checks: int = 0, lam=None,
         available: bool = True, note: str = "", p: float | None = None, level: float) -> dict:
    out = {"kind": kind, "value": float(np.clip(value, lo, hi)) if np.isfinite(value) else value,
           "units": units, "human_checks": checks, "available": available, "note": note, "std_error": 0.0}
    if est is not None and available and np.isfinite(est.low):
        out["interval"] = {"low": float(np.clip(est.low, lo, hi)), "high": float(np.clip(est.high, lo, hi)),
                           "level": level}
        out["std_error"] = float(est.std_error)
    if lam is not None:
        out["lam"] = float(lam)
    if p is not None and np.isfinite(p):
        out["p_value"] = float(p)
    return out


def summarise(ppi, human, inclusion, labelled, model, stratum, weights, traffic, model_stratum, model_traffic, *,
              level: float, bounds: tuple[float, float], unit: str, audits: int, settled_items: int,
              difference: bool = False) -> dict:
    """``estimates``, ``lead`` and ``lead_reason`` of one number (a mean or a difference) over the
    usable units given; ``model`` (with its own strata) is over the units with a model value."""
    lo, hi = bounds
    nan = float("nan")
    n = int(np.size(ppi))
    m = stratified(model, model_stratum, weights, model_traffic, level) if np.size(model) else None
    model_row = _row("model", m.mean if m else nan, lo, hi, units=int(np.size(model)), available=m is not None,
                     note=("the model's labels taken as truth: no valid interval" if m else
                           "no unit has a model label on every item"), level=level)
    if n == 0:
        why = f"no {unit[:-1]} is usable yet (every item sent to humans judged)"
        rows = [_row("human", nan, lo, hi, units=0, available=False, note=why, level=level), model_row,
                _row("ppi", nan, lo, hi, units=0, available=False, note=why, level=level)]
        return {"estimates": rows, "lead": "labels", "lead_reason": f"the label set's estimate: {why}"}
    r: PPIResult = ppi_estimate(ppi, human, inclusion, labelled, stratum, weights, traffic, level, unit=unit)
    pv = (lambda e: t_pvalue(e.mean, e.std_error, e.df)) if difference else (lambda e: None)
    h = r.human
    human_row = _row("human", h.mean if h else nan, lo, hi, est=h, units=n, checks=r.checked, available=h is not None,
                     note=f"not estimable: {r.human_note}" if r.human_note else "", p=pv(h) if h else None,
                     level=level)
    ppi_ok = not (settled_items and audits == 0)
    ppi_note = ("" if not settled_items else
                "no audited item checks the model's labels" if not ppi_ok else
                f"rests on {audits:,} audited items (fewer than {MIN_AUDITS})" if audits < MIN_AUDITS else "")
    ppi_row = _row("ppi", r.ppi.mean, lo, hi, est=r.ppi, units=n, checks=audits, lam=r.lam, available=ppi_ok,
                   note=ppi_note, p=pv(r.ppi) if ppi_ok else None, level=level)
    lead, reason = _lead(r, n, unit, audits, settled_items, ppi_ok)
    return {"estimates": [human_row, model_row, ppi_row], "lead": lead, "lead_reason": reason}


def _lead(r: PPIResult, n: int, unit: str, audits: int, settled_items: int, ppi_ok: bool) -> tuple[str, str]:
    if not settled_items:
        return "human", (f"every label behind it is human (or a tie of identical lists), so human-only and "
                         f"prediction-powered are one number: human-only over {n:,} {unit}")
    if ppi_ok and audits >= MIN_AUDITS:
        base = (f"prediction-powered: {audits:,} audited items correct the model's labels on {settled_items:,} items "
                f"it settled, over {n:,} {unit} (λ={r.lam:.2f})")
        if r.human is None:
            return "ppi", f"{base}; human labels alone cannot estimate it: {r.human_note}"
        wp, wh = r.ppi.high - r.ppi.low, r.human.high - r.human.low
        if wp <= wh:
            return "ppi", f"{base}; its interval is {1 - wp / wh:.0%} narrower than the human-only one"
        return "human", (f"human-only over {r.checked:,} fully judged {unit}: its interval is narrower than the "
                         f"prediction-powered one")
    short = (f"only {audits:,} audited items check the model's labels on {settled_items:,} items it settled "
             f"(at least {MIN_AUDITS} are needed for a prediction-powered interval)")
    if r.human is not None:
        return "human", f"human-only: {short}"
    return "labels", (f"the label set's estimate, which takes the model's labels as truth on {settled_items:,} items: "
                      f"{short}, and human labels alone cannot estimate it")


def unavailable(note: str, unit: str) -> dict:
    """The estimates of a label set without a valid design (see :func:`design_note`)."""
    nan = float("nan")
    rows = [{"kind": k, "value": nan, "units": 0, "human_checks": 0, "available": False, "note": note,
             "std_error": 0.0} for k in ("human", "model", "ppi")]
    return {"estimates": rows, "lead": "labels", "lead_reason": f"the label set's estimate: {note}"}


ESTIMATOR = (
    "Beside each label-set number, three estimates (`estimates`, the one to quote in `lead`): human-only, "
    "model-only (the model's labels taken as truth, no valid interval) and prediction-powered. Items the model was "
    "unsure of went to humans with probability 1, items it settled with the audit share (one independent draw per "
    "item), so every item's probability of a human check is known. Side by side, the unit is the item and the human "
    "audit of settled items is a Poisson sample: PPI++ in inverse-probability form (Angelopoulos, Duchi and Zrnic "
    "2023; Zrnic and Candès 2024). For per-query measures the unit is the query, but the queries humans judged in "
    "full are not a random sample (they are the ones the model found hard, plus the few whose every settled item "
    "happened to be audited), so the audit enters per item: each query's value is the measure's expansion over its "
    "audited items that disagree with the model, each weighted by 1/audit share (exactly unbiased for the query's "
    "human value, for any measure); human-only weights each fully judged query by 1/π_q (π_q = audit share to the "
    "power of its settled items) and is shown only when at least 30 such queries exist; PPI++'s λ mixes the two "
    "to minimise the stratified variance (λ=1 when human-only is not estimable). All are re-weighted to traffic as "
    "above, with between-query (ultimate-cluster) variances, values and intervals clipped to the measure's range; "
    f"the report leads with the prediction-powered number when at least {MIN_AUDITS} audited items check the model, "
    "else human-only if estimable, else the label set's.")
