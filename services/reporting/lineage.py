"""What a report says about the labels it used: the label set's version and its lineage — how the
human judgements were aggregated (method, parameters, the reliability fit), which model and
calibration made the model's labels (with the routing's threshold and audit share), and the
guideline versions the judgements were made under — as the contract's ``LabelSet``.

Each judgement stores its guideline version (grading), each pre-judgement its model, version
and calibration fit (``ray_jobs/prejudge``), each consensus document its method, model version,
calibration and reliability fit (``services/reporting/consensus.py``); the evaluation's
consensus state names the fit every human label of a kind equals a recompute with. A report
re-scored with another evaluation's labels (``relabel_with``) names that evaluation and its
lineage, so two reports of one evaluation differ by exactly what their label sets say.
"""
from __future__ import annotations

from elasticsearch import Elasticsearch

from services.reporting import scope
from services.reporting.labels import LabelSet
from services.store import judgements


def label_set(es: Elasticsearch, prefix: str, ls: LabelSet, version: str, source: scope.Evaluation) -> dict:
    """The ``LabelSet`` of a report over ``ls`` (whose labels are ``source``'s evaluation's)."""
    method = max(ls.methods, key=ls.methods.get) if ls.methods else ""
    model = max(ls.models, key=ls.models.get) if ls.models else ""
    out: dict = {"method": method, "model": model, "version": version,
                 "consensus": consensus(ls, source.doc.get("consensus") or {}),
                 "models": [{"model": m, "calibration_id": c, "items": n,
                             **({"threshold": float(ls.threshold)} if ls.threshold is not None else {}),
                             **({"audit_share": float(ls.audit_share)} if ls.audit_share is not None else {})}
                            for (m, c), n in sorted(ls.calibrations.items())],
                 "guidelines": [{"kind": k, "version": v or "unrecorded", "judgements": n}
                                for (k, v), n in sorted(judgements.guideline_versions(es, prefix, source.evaluation_id)
                                                        .items()) if k]}
    if ls.update_time:
        out["update_time"] = ls.update_time
    if ls.source:
        out.update(source=f"evaluations/{ls.source}", relabelled_items=ls.relabelled, unmatched_items=ls.unmatched)
    return out


def consensus(ls: LabelSet, state: dict) -> list[dict]:
    """Per kind and method: the human labels it made, with the reliability fit the worker stored
    (older states name their model but not its parameters)."""
    fits = state.get("fits") or {}
    models = state.get("reliability") or {}
    rows = []
    for (kind, method), n in sorted(ls.human_methods.items()):
        row = {"kind": kind, "method": method, "labels": n}
        fit = fits.get(kind) or {}
        if fit:
            row.update(parameters={**(fit.get("parameters") or {}), "reliability_model": fit.get("method") or ""},
                       fit_id=fit.get("fit_id") or "", fitted_on=int(fit.get("judgements") or 0))
            if fit.get("time"):
                row["fit_time"] = fit["time"]
        elif models.get(kind):
            row["parameters"] = {"classes": ",".join(map(str, models[kind].get("classes") or []))}
            row["fitted_on"] = int(state.get("fitted_on") or 0)
            if state.get("fit_time"):
                row["fit_time"] = state["fit_time"]
        rows.append(row)
    return rows
