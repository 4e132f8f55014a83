"""Early stopping on the headline comparison (issue 12): watch it, decide, stop human work.

The headline is the spec's first ranker (baseline) against its second (candidate) on NDCG@10,
for pointwise evaluations with two rankers or more (``EvaluationSpec.stopping``). At every pass of
the reporting worker :func:`watch` computes CompareRankers' anytime-valid confidence sequence of
the headline (:func:`services.reporting.compare.sequential`, the same numbers a report shows);
once it decides under the spec's rule (``stopping.rule``: SIGN_OR_EQUIVALENCE, the default — the
sequence excludes 0, or with a minimum effect lies within ±min_effect; EXCLUDES_MIN_EFFECT — it
lies wholly above or wholly below +min_effect) the decision is stored on the evaluation
(``stopping``) and :func:`stop` takes human work off the queue:

* an item still waiting for humans (``needs_humans``, no judgement, no live lease) whose query no
  grader has started is no longer for humans (``needs_humans`` false, on the item and its
  consensus document) and has no label, so its query is not in the report. An audit item carried
  the model's label while it waited; that label goes too: left in place, with the item no longer
  routed, its query looked complete and settled by the model with no audit drawn — the prediction-
  powered value the model's alone, the draw that chose the audit ignored — and after a stop every
  unstarted query whose only human work was audits entered the report and the sequence at once
  (a 2,000-query bench run at a 50% audit share: the interval went from [−0.001, +0.060] to
  [+0.026, +0.039] the look after the decision);
* the queries graders have started (an item judged or leased, the calibration sample's aside: it is
  served first, a few items of many queries) are finished — every item of theirs
  for humans, the ones drawn for audit included — so every query humans began counts, and the
  audit share is met over every query the report covers. Audit items of queries nobody started
  stop too: those queries are not in the report, so checking the model there buys nothing.

Completion then sees every item for humans done and moves the evaluation to COMPLETE with
DECISION_REACHED (:mod:`services.reporting.completion`). The sequence is valid at every look,
so stopping at the first decisive look keeps its error rate (Howard et al. 2021).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch

from services.core import clock
from services.core.errors import FailedPrecondition
from services.reporting import compare, report, routing, scope
from services.reporting.cache import LabelCache
from services.store import consensus, items

log = logging.getLogger("qrelay.stopping")

MEASURE = "ndcg_cut_10"
ITEM_FIELDS = ["item_id", "query_norm", "locale", "stratum", "needs_humans", "overlap", "judgements", "kind",
               "calibration_sample"]


@dataclass(frozen=True)
class Rule:
    baseline: str
    candidate: str
    measure: str
    min_effect: float
    rule: str = compare.DEFAULT_STOP_RULE  # a StoppingRule name (compare.RULES)


def headline(doc: dict[str, Any]) -> tuple[str, str] | None:
    """(baseline, candidate) of the evaluation's headline comparison: its first two rankers, for a
    pointwise evaluation; None without one."""
    rankers = [r.get("id") for r in (doc.get("spec") or {}).get("rankers") or []]
    if len(rankers) < 2 or "pointwise" not in (doc.get("kinds") or ()):
        return None
    return rankers[0], rankers[1]


def rule(doc: dict[str, Any]) -> Rule | None:
    """The evaluation's stopping rule from its stored spec; None when it grades everything (opted
    out, or no headline comparison: side by side only, or fewer than two rankers)."""
    stopping = (doc.get("spec") or {}).get("stopping") or {}
    head = headline(doc)
    if stopping.get("grade_everything") or head is None:
        return None
    return Rule(*head, MEASURE, float(stopping.get("min_effect") or 0.0),
                stopping.get("rule") or compare.DEFAULT_STOP_RULE)


def context(es: Elasticsearch, prefix: str, cache: LabelCache, evaluation_id: str, what: str):
    """The headline measure's report context (None: nothing seeded yet) and the evaluation."""
    ev = scope.evaluation(es, prefix, evaluation_id, what)
    try:
        return report.context(cache, ev, scope.measures([MEASURE], scope.COMPARE_MEASURES), (), (), 0.0), ev
    except FailedPrecondition:
        return None, ev


def watch(es: Elasticsearch, prefix: str, cache: LabelCache, evaluation_id: str, r: Rule) -> dict[str, Any] | None:
    """The headline's sequence now (``SequentialDecision`` as a dict), or None when there is no
    complete query to compare yet."""
    ctx, ev = context(es, prefix, cache, evaluation_id, "early stopping")
    if ctx is None:
        return None
    a, b = ev.rankers.index(r.baseline), ev.rankers.index(r.candidate)
    seq = compare.sequential(ctx, r.measure, a, b, r.min_effect, r.rule)
    seq.pop("clause", None)
    return seq


def decision(seq: dict[str, Any], r: Rule) -> dict[str, Any]:
    """What the evaluation stores once the sequence decided (``stopping``): the verdict as a
    sentence that names the minimum effect it was decided against, and the interval it decided on."""
    iv = seq["decided_interval"]
    verdict = compare.verdict_sentence(seq["verdict"], r.min_effect, iv["low"], iv["high"])
    return {"decided": True, "verdict": verdict, "measure": r.measure, "baseline": r.baseline,
            "candidate": r.candidate, "min_effect": r.min_effect, "rule": r.rule,
            "decided_queries": int(seq["decided_at_look"]),
            "eligible": int(seq["eligible"]), "interval": seq["decided_interval"], "values": seq["values"],
            "decide_time": clock.now_iso()}


def stop(es: Elasticsearch, prefix: str, evaluation_id: str) -> int:
    """Take every item of the queries no grader has started off the humans' queue (see the
    module docstring); returns how many items stopped. Idempotent."""
    rows = list(items.of_evaluation(es, prefix, evaluation_id, ITEM_FIELDS))
    judged = {d["item_id"] for d in consensus.of_evaluation(es, prefix, evaluation_id, ["item_id", "judgements"])
              if (d.get("judgements") or 0) > 0}
    open_ = [r for r in rows if r.get("needs_humans") and r["item_id"] not in judged
             and not (r.get("judgements") or 0)]
    held = routing.held(es, prefix, [r["item_id"] for r in open_], {r["item_id"]: r for r in rows})
    # the calibration sample is served first, a few items of many queries: judging one starts no query
    started = {_query(r) for r in rows if not r.get("calibration_sample")
               and (r["item_id"] in judged or r["item_id"] in held or (r.get("judgements") or 0))}
    todo = [r["item_id"] for r in open_ if _query(r) not in started]
    stamp = clock.now_iso()
    routing.write(es, prefix, [(i, {"needs_humans": False}) for i in todo],
                   [(i, {"needs_humans": False, **routing.UNLABELLED, "update_time": stamp}) for i in todo])
    if todo:
        es.indices.refresh(index=[items.index(prefix), consensus.index(prefix)])
    log.info("grading stopped early", extra={"evaluation": evaluation_id, "stopped": len(todo),
                                             "started_queries": len(started)})
    return len(todo)


def _query(row: dict[str, Any]) -> tuple[str, str, str]:
    return row.get("query_norm") or "", row.get("locale") or "", row.get("stratum") or ""
