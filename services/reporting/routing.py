"""Routing within an evaluation: once graders have labelled its calibration sample, fit the
pre-judgement model on the evaluation's own human labels and settle what it can — so that a new
team's first evaluation is automated too, not only the evaluations after it.

One :func:`step` per pass of the reporting worker over an evaluation in GRADING:

1. read the consensus documents: which pointwise items have a human (or gold) label, and how
   much of the calibration sample (:mod:`ray_jobs.prejudge`) is labelled;
2. when the sample is labelled (``sample_ready`` of it) — or, for an evaluation the job
   calibrated on earlier evaluations, as soon as there are labels — and enough new labels
   arrived since the last fit, fit the learned model (:func:`evaluators.relevance_model.fit_learned`)
   on the evaluation's human grades — every judgement one sample, as the job learns from
   earlier evaluations, so that the model sees what graders said rather than a consensus
   that may still be settling — and its gold labels, with the signals the job stored on every
   item; an evaluation calibrated on
   earlier evaluations switches to the within-evaluation model only when it does at least as
   well on held-out labels;
3. re-score the items still waiting for humans — no judgement, no live lease or submitted slot,
   not gold, not in the calibration sample, not drawn for audit — and auto-judge the confident
   ones; a random audit share of those still goes to humans (deterministic draw, its probability
   recorded on every auto-judged item); side-by-side items are re-scored from the pointwise
   predictions of their documents;
4. write items and consensus documents, then read the slots again: an item a grader leased in the
   meantime goes back to the graders (``needs_humans`` restored), so nobody loses a task they
   hold. A human label is never replaced: items with judgements are not candidates.

What the routing used is stored in ``automation.calibration`` (``source``: ``prior``,
``earlier_evaluations`` or ``within_evaluation``, with the labels it was fitted on and its
held-out agreement); see ``Evaluation.automation`` in the contract.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from elasticsearch import Elasticsearch

from evaluators.automation import audit_draw, automation_by_locale, Routing
from evaluators.calibration import predict_preference
from evaluators.lineage import digest
from evaluators.relevance_model import fit_learned
from services.core import clock
from services.reporting.config import ReportingConfig
from services.store import assignments, consensus, items, judgements
from services.store import prejudgements as item_updates

log = logging.getLogger("qrelay.routing")

PRIOR, EARLIER, WITHIN = "prior", "earlier_evaluations", "within_evaluation"
LABEL_SOURCES = ("human", "gold")
CONSENSUS_FIELDS = ["item_id", "kind", "locale", "source", "label", "judgements", "needs_humans", "audit", "gold",
                    "calibration_sample"]
ITEM_FIELDS = ["item_id", "kind", "locale", "query_norm", "doc.doc_id", "left", "right", "identical", "gold",
               "gold_label", "audit", "needs_humans", "calibration_sample", "overlap", "prejudgement"]
HOLDING = ("LEASED", "SUBMITTED")  # slot states that mean a grader has (or had) the item
# a consensus document's label fields when it has none (the model's side taken back)
UNLABELLED = {"source": "none", "label": None, "preference": None, "confidence": None, "method": None}


@dataclass
class Outcome:
    """What one step did; ``automation`` and ``counts`` go onto the evaluation document."""

    automation: dict[str, Any]
    counts: dict[str, int]
    fitted: bool = False
    routed: int = 0
    returned: int = 0  # routed, then found leased: back to the graders


def step(es: Elasticsearch, prefix: str, evaluation_id: str, automation: dict[str, Any],
         cfg: ReportingConfig) -> Outcome | None:
    """One routing step (see the module docstring); None when there is nothing to store."""
    cal = automation.get("calibration") or {}
    if not automation.get("features") or not cal.get("features"):
        return None  # pre-judged before items carried their signals: nothing to re-score with
    c = consensus.labelled_counts(es, prefix, evaluation_id)
    sample = {**(automation.get("calibration_sample") or {}), "items": c["sample"], "labelled": c["sample_labelled"],
              "complete": c["sample_labelled"] >= cfg.routing_sample_ready * c["sample"]}
    out = Outcome({"calibration_sample": sample}, {})
    state = automation.get("routing") or {}
    fitted_on = int(state.get("fitted_on") or 0)
    n = c["labelled"]
    due = n >= cfg.routing_min_labels and (not fitted_on or n - fitted_on >= max(
        cfg.routing_refit_every, cfg.routing_refit_growth * fitted_on))
    if cal.get("source") == PRIOR and not sample["complete"]:
        due = False  # the sample first: it is what makes the held-out agreement mean anything
    if not due:
        return out if sample != automation.get("calibration_sample") else None

    docs = {d["item_id"]: d for d in consensus.of_evaluation(es, prefix, evaluation_id, CONSENSUS_FIELDS)}
    rows = list(items.of_evaluation(es, prefix, evaluation_id, ITEM_FIELDS))
    names = list(cal["features"])
    pw_rows = [r for r in rows if r.get("kind") == "pointwise"]
    X = np.array([[_value((r.get("prejudgement") or {}).get("features") or {}, k) for k in names] for r in pw_rows],
                 dtype=float).reshape(len(pw_rows), len(names))
    loc = np.array([r.get("locale") or "" for r in pw_rows], dtype=object)
    lab = _labels(es, prefix, evaluation_id, pw_rows)
    if len(lab) < cfg.routing_min_labels:
        return out
    li = np.array([r for r, _, _ in lab], dtype=np.int64)
    y = np.array([g for _, g, _ in lab], dtype=int)
    random = np.array([rnd for _, _, rnd in lab], dtype=bool)
    model = fit_learned(X[li], y, loc[li], random, min_locale=cfg.routing_min_locale_model,
                        learner=cal.get("learner") or "auto", seed=int(automation.get("seed") or 0), groups=li)
    heldout = (model.report or {}).get("overall") or {}
    # fitted_on counts labelled items (what triggers a refit), judgements the rows fitted on
    state = {**state, "fitted_on": n, "judgements": len(lab), "fits": int(state.get("fits") or 0) + 1,
             "last_fit": clock.now_iso(), "heldout": heldout}
    out.automation["routing"] = state
    out.fitted = True
    # an evaluation the job calibrated on earlier evaluations keeps that model where it applies
    # until its own does as well on held-out labels; the locales the prior served get its own
    before = ((cal.get("heldout") or {}).get("overall") or {}).get("accuracy") if cal.get("source") == EARLIER else None
    better = before is None or (heldout.get("accuracy") or 0.0) >= before
    job_source = {loc: row.get("calibration_source") for loc, row in (automation.get("locales") or {}).items()}
    proba = model.predict_proba(X, loc)
    grade = proba.argmax(axis=1)
    conf = proba[np.arange(len(grade)), grade]
    n_loc = {str(k): int(v) for k, v in zip(*np.unique(loc[li].astype(str), return_counts=True))}
    served = np.array([n_loc.get(str(x), 0) >= cfg.routing_min_locale_labels and (better or job_source.get(x) == PRIOR)
                       for x in loc], dtype=bool)
    if not served.any():
        log.info("within-evaluation model not better than the earlier evaluations' yet",
                 extra={"evaluation": evaluation_id, "labels": n})
        return out

    # label lineage: this fit's name, carried by every label it makes
    calibration_id = digest({"within": evaluation_id, "fit": state["fits"], "learner": cal.get("learner") or "auto",
                             "features": names, "heldout": model.report})
    threshold = float(automation.get("threshold") or 0.8)
    audit_share = float(automation.get("audit_share") or 0.0)
    seed = int(automation.get("seed") or 0)
    decisions: dict[str, dict[str, Any]] = {}  # item id -> what to write
    stamp = clock.now_iso()
    for i, r in enumerate(pw_rows):
        c = docs.get(r["item_id"]) or {}
        if not _waiting(r, c) or not served[i]:
            continue
        decisions[r["item_id"]] = {"kind": "pointwise", "grade": int(grade[i]), "confidence": float(conf[i]),
                                   "auto": bool(conf[i] >= threshold)}
    _side_by_side(rows, docs, pw_rows, proba, served, threshold, decisions)

    # leases: an item a grader holds (or has judged) is not the routing's to take
    auto_ids = [i for i, d in decisions.items() if d["auto"]]
    leased = held(es, prefix, auto_ids, {r["item_id"]: r for r in rows})
    for item_id in leased:
        decisions[item_id]["auto"] = False
    item_changes, cons_changes = [], []
    routed = []
    for item_id, d in decisions.items():
        audit = d["auto"] and audit_draw(seed, item_id) < audit_share
        pj = {"confidence": round(d["confidence"], 6), "auto": d["auto"], "time": stamp, "calibration": WITHIN,
              "calibration_id": calibration_id}
        label: dict[str, Any]
        if d["kind"] == "pointwise":
            pj["grade"] = d["grade"]
            label = {"label": d["grade"]}
            model_label = float(d["grade"])
        else:
            pj.update(preference=d["preference"], score=round(d["delta"], 6))
            label = {"preference": round(d["preference"], 3)}
            model_label = float(d["preference"])
        fields: dict[str, Any] = {"prejudgement": pj}
        cons: dict[str, Any] = {"model_label": model_label, "update_time": stamp}
        if d["auto"]:
            fields.update(needs_humans=bool(audit), audit=bool(audit), audit_probability=audit_share)
            cons.update(needs_humans=bool(audit), audit=bool(audit), audit_probability=audit_share, source="model",
                        method="model", calibration_id=calibration_id, confidence=round(d["confidence"], 3), **label)
            routed.append(item_id)
        item_changes.append((item_id, fields))
        cons_changes.append((item_id, cons))
    write(es, prefix, item_changes, cons_changes)
    # a grader may have leased one between the check and the write: give it back to the graders
    back = held(es, prefix, routed, {r["item_id"]: r for r in rows})
    if back:
        write(es, prefix, [(i, {"needs_humans": True, "audit": False, "prejudgement": {"auto": False}}) for i in back],
               [(i, {"needs_humans": True, "audit": False, **UNLABELLED, "update_time": stamp}) for i in back])
    out.routed, out.returned = len(routed) - len(back), len(back)
    state["routed"] = int(state.get("routed") or 0) + out.routed
    item_updates.refresh_items(es, prefix)
    mine = {str(x) for x in loc[served]}
    out.automation.update(_automation(es, prefix, evaluation_id, automation, model, len(lab), n_loc, state, mine,
                                      WITHIN if better else EARLIER))
    out.counts = {k: out.automation[k] for k in ("auto_judged", "for_humans")}
    log.info("routed within the evaluation", extra={"evaluation": evaluation_id, "labels": n, "routed": out.routed,
                                                    "returned": out.returned, "heldout": heldout.get("accuracy")})
    return out


def _labels(es: Elasticsearch, prefix: str, evaluation_id: str, pw_rows: list[dict]) -> list[tuple[int, int, bool]]:
    """``(pointwise row, grade, drawn at random)`` of every human pointwise judgement of the
    evaluation and every gold label; random: gold, the calibration sample, the audit share."""
    row_of = {r["item_id"]: i for i, r in enumerate(pw_rows)}

    def random(r: dict) -> bool:
        return bool(r.get("calibration_sample") or r.get("audit") or r.get("gold"))

    out = [(row_of[j["item_id"]], int(j["grade"]), random(pw_rows[row_of[j["item_id"]]]))
           for j in judgements.of_evaluation(es, prefix, evaluation_id, ("item_id", "grade"))
           if j.get("grade") is not None and j.get("item_id") in row_of and 0 <= int(j["grade"]) <= 3]
    out += [(i, int(r["gold_label"]), True) for i, r in enumerate(pw_rows)
            if r.get("gold") and r.get("gold_label") is not None]
    return out


def _value(features: dict, name: str) -> float:
    v = features.get(name)
    return np.nan if v is None else float(v)


def _waiting(item: dict[str, Any], cons: dict[str, Any]) -> bool:
    """Still waiting for humans and nobody's: needs humans, no judgement, not gold, not in the
    calibration sample, not drawn for audit, not an identical pair."""
    return bool(item.get("needs_humans")) and not item.get("gold") and not item.get("calibration_sample") \
        and not item.get("audit") and not item.get("identical") and not (cons.get("judgements") or 0) \
        and cons.get("source") in (None, "none", "model")


def held(es: Elasticsearch, prefix: str, item_ids: list[str], by_id: dict[str, dict]) -> set[str]:
    """The items among ``item_ids`` with a slot a grader leased or submitted."""
    slot_ids = [assignments.slot_id(i, s) for i in item_ids for s in range(max(1, int(by_id[i].get("overlap") or 1)))]
    out = set()
    for start in range(0, len(slot_ids), 2000):
        for sl in assignments.get_slots(es, prefix, slot_ids[start:start + 2000]).values():
            if sl.doc is not None and sl.doc.get("state") in HOLDING:
                out.add(sl.doc.get("item_id") or sl.slot_id.rpartition(":")[0])
    return out


def write(es: Elasticsearch, prefix: str, item_changes: list, cons_changes: list) -> None:
    if not item_changes:
        return
    _, errors = item_updates.write(es, prefix, item_changes)
    if errors:
        raise RuntimeError(f"{len(errors)} routing updates of items failed (first: {errors[0]})")
    _, errors = consensus.update(es, prefix, cons_changes)
    if errors:
        raise RuntimeError(f"{len(errors)} routing updates of consensus documents failed (first: {errors[0]})")


def _side_by_side(rows: list[dict], docs: dict, pw_rows: list[dict], proba: np.ndarray, served: np.ndarray,
                  threshold: float, decisions: dict) -> None:
    """Side-by-side items still waiting, re-scored from their documents' pointwise predictions
    (only items all of whose documents are pooled pointwise items of a served locale)."""
    where = {(r.get("query_norm"), r.get("locale"), str((r.get("doc") or {}).get("doc_id"))): i
             for i, r in enumerate(pw_rows) if served[i]}
    sx = [r for r in rows if r.get("kind") == "side_by_side" and _waiting(r, docs.get(r["item_id"]) or {})]
    item, side, rank, key, rows_p, kept = [], [], [], [], [], []
    for r in sx:
        lists = [r.get("left") or [], r.get("right") or []]
        found = [[where.get((r.get("query_norm"), r.get("locale"), str(d.get("doc_id")))) for d in lst] for lst in lists]
        if any(f is None for side_ in found for f in side_) or not any(lists):
            continue
        k = len(kept)
        kept.append(r["item_id"])
        keys: dict[str, int] = {}
        for s, (lst, idx) in enumerate(zip(lists, found)):
            for pos, (d, j) in enumerate(zip(lst, idx)):
                item.append(k); side.append(s); rank.append(int(d.get("position") or pos + 1) - 1)
                key.append(keys.setdefault(str(d.get("doc_id")), len(keys))); rows_p.append(j)
    if not kept:
        return
    pref, conf, delta = predict_preference(np.array(item), np.array(side), np.array(rank), np.array(key),
                                           proba[np.array(rows_p)], len(kept))
    for k, item_id in enumerate(kept):
        decisions[item_id] = {"kind": "side_by_side", "preference": float(pref[k]), "delta": float(delta[k]),
                              "confidence": float(conf[k]), "auto": bool(conf[k] >= threshold)}


def _automation(es: Elasticsearch, prefix: str, evaluation_id: str, automation: dict, model, n: int,
                n_loc: dict[str, int], state: dict, mine: set[str], source: str) -> dict[str, Any]:
    """The evaluation's automation figures after a step: counts per locale from the items, and
    the calibration the routing used (``source`` overall; within the evaluation for the
    locales in ``mine``, what they had before elsewhere)."""
    rows = list(items.of_evaluation(es, prefix, evaluation_id, ["locale", "prejudgement.auto", "audit", "needs_humans"]))
    auto = np.array([bool((r.get("prejudgement") or {}).get("auto")) for r in rows], dtype=bool)
    audit = np.array([bool(r.get("audit")) for r in rows], dtype=bool)
    needs = np.array([bool(r.get("needs_humans")) for r in rows], dtype=bool)
    locs = [r.get("locale") or "" for r in rows]
    locales = automation_by_locale(locs, Routing(auto=auto, audit=audit & auto, needs_humans=needs))
    report = model.report or {}
    before = automation.get("locales") or {}
    for loc, row in locales.items():
        if loc in mine:
            row.update(calibration_source=WITHIN, calibration_labels=n_loc.get(loc, 0),
                       calibration=(report.get("locales") or {}).get(loc))
        else:
            row.update({k: (before.get(loc) or {}).get(k) for k in ("calibration_source", "calibration_labels", "calibration")})
    total = len(rows)
    figures = {"auto_judged": int(auto.sum()), "audit": int((audit & auto).sum()), "for_humans": int(needs.sum()),
               "automation_rate": float((auto & ~needs).sum() / total) if total else 0.0, "locales": locales}
    cal = automation.get("calibration") or {}
    per_locale = {**(cal.get("locales") or {}), **{loc: {"source": WITHIN, "labels": n_loc.get(loc, 0)} for loc in mine}}
    if source != WITHIN:  # the earlier evaluations' model still routes the others: keep its description
        return {**figures, "calibration": {**cal, "locales": per_locale}}
    return {**figures, "calibration": {
        **cal, "source": WITHIN, "labels": n, "heldout": report, "fit_time": state["last_fit"],
        "fits": int(cal.get("fits") or 0) + 1, "locales": per_locale,
        "earlier": cal if cal.get("source") == EARLIER else cal.get("earlier")}}
