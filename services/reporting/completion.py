"""GRADING → COMPLETE: grading progress with the ETA, and when and how an evaluation completes.

An evaluation completes when every item that needs humans has its ``overlap`` judgements
(ALL_JUDGED), when nothing needed humans at all (NOTHING_TO_JUDGE), or when its deadline passes
first (DEADLINE_PASSED: the report covers what was labelled by then, and the completion message
says how much that was), or when the headline comparison's decision became clear and the work
still out for humans is done (DECISION_REACHED, issue 12: :mod:`services.reporting.stopping`). The counts come from the consensus documents, so they are exactly what
reports will see.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch

from services.core import clock
from services.core.errors import FailedPrecondition
from services.reporting import hooks
from services.store import consensus, evaluations, judgements

log = logging.getLogger("qrelay.completion")

ALL_JUDGED, DEADLINE_PASSED, NOTHING_TO_JUDGE = "ALL_JUDGED", "DEADLINE_PASSED", "NOTHING_TO_JUDGE"
DECISION_REACHED = "DECISION_REACHED"


def grading_progress(es: Elasticsearch, prefix: str, evaluation_id: str, first_judgement: str | None,
                     window_seconds: float, now: dt.datetime | None = None) -> dict[str, Any]:
    """The evaluation's ``grading`` (GradingProgress): items for humans and done, judgements
    wanted and received, the judgement rate over the last ``window_seconds`` and the ETA at that
    rate, and how many items have a label."""
    now = now or clock.now()
    c = consensus.progress(es, prefix, evaluation_id)
    # The rate over the window, or over the time since the first judgement when grading started
    # later than that (at least a minute, so one early judgement does not promise the moon).
    start = now - dt.timedelta(seconds=window_seconds)
    if first_judgement:
        start = max(start, clock.parse_time(first_judgement))
    minutes = max((now - start).total_seconds(), 60.0) / 60.0
    recent = judgements.count(es, prefix, evaluation_id, since=clock.iso(start)) if first_judgement else 0
    rate = recent / minutes
    remaining = max(c["wanted"] - c["received"], 0)
    eta = None
    if remaining == 0:
        eta = clock.iso(now)
    elif rate > 0:
        eta = clock.iso(now + dt.timedelta(minutes=remaining / rate))
    return {
        "items": c["items"], "items_labelled": c["labelled"], "items_for_humans": c["for_humans"],
        "items_done": c["done"], "judgements_wanted": c["wanted"], "judgements": c["received"],
        "judgements_per_minute": round(rate, 3), "eta": eta,
        "labelled_share": round(c["labelled"] / c["items"], 6) if c["items"] else 0.0,
        "update_time": clock.iso(now),
    }


@dataclass(frozen=True)
class Decision:
    reason: str  # ALL_JUDGED | DEADLINE_PASSED | NOTHING_TO_JUDGE


def decide(grading: dict[str, Any], deadline: str | None, now: dt.datetime,
           stopping: dict[str, Any] | None = None) -> Decision | None:
    """Whether the evaluation is complete, and why (None: keep grading). ``stopping``: the
    evaluation's early-stopping state (decided: the headline decision is clear).

    >>> g = {"items": 10, "items_for_humans": 4, "items_done": 4}
    >>> decide(g, None, clock.now()).reason
    'ALL_JUDGED'
    >>> decide({**g, "items_done": 3}, "2000-01-01T00:00:00Z", clock.now()).reason
    'DEADLINE_PASSED'
    >>> decide({**g, "items_done": 3}, None, clock.now()) is None
    True
    >>> decide(g, None, clock.now(), {"decided": True}).reason
    'DECISION_REACHED'
    """
    if not grading.get("items"):
        return None  # not seeded yet
    if (stopping or {}).get("decided") and grading["items_done"] >= grading["items_for_humans"]:
        return Decision(DECISION_REACHED)
    if grading["items_for_humans"] == 0:
        return Decision(NOTHING_TO_JUDGE)
    if grading["items_done"] >= grading["items_for_humans"]:
        return Decision(ALL_JUDGED)
    if deadline and clock.parse_time(deadline) <= now:
        return Decision(DEADLINE_PASSED)
    return None


def _share(part: int, whole: int, what: str) -> str:
    return f"{part:,} of {whole:,} {what}" + (f" ({part / whole:.0%})" if whole else "")


def completion(decision: Decision, grading: dict[str, Any], now: dt.datetime,
               stopping: dict[str, Any] | None = None) -> dict[str, Any]:
    """The evaluation's ``completion`` (Completion): reason, coverage and one plain sentence.

    >>> g = {"items": 4935, "items_labelled": 3912, "items_for_humans": 1835, "items_done": 812, "judgements": 2650}
    >>> completion(Decision("DEADLINE_PASSED"), g, clock.now())["message"]
    'deadline passed: 3,912 of 4,935 items labelled (79%); 812 of 1,835 items for humans fully judged (44%)'
    """
    items, labelled = grading["items"], grading["items_labelled"]
    humans, done = grading["items_for_humans"], grading["items_done"]
    if decision.reason == NOTHING_TO_JUDGE:
        message = f"nothing needed humans: {_share(labelled, items, 'items labelled')} by the model or as ties"
    elif decision.reason == ALL_JUDGED:
        message = (f"all {humans:,} items for humans judged ({grading['judgements']:,} judgements); "
                   f"{_share(labelled, items, 'items labelled')}")
    elif decision.reason == DECISION_REACHED:
        st = stopping or {}
        iv = st.get("interval") or {}
        message = (f"stopped early, the decision was clear: {st.get('verdict', '')} on {st.get('measure', '')} "
                   f"({st.get('candidate', '')} vs {st.get('baseline', '')}; anytime-valid "
                   f"{iv.get('level', 0):.0%} interval [{iv.get('low', 0):+.4f}, {iv.get('high', 0):+.4f}] "
                   f"after {st.get('decided_queries', 0):,} complete queries); "
                   f"{_share(labelled, items, 'items labelled')}; {grading['judgements']:,} judgements")
    else:
        message = (f"deadline passed: {_share(labelled, items, 'items labelled')}; "
                   f"{_share(done, humans, 'items for humans fully judged')}")
    extra = {}
    if decision.reason == DECISION_REACHED and stopping:
        extra = {"decision": stopping.get("verdict", ""), "decided_queries": int(stopping.get("decided_queries") or 0),
                 "decided_interval": stopping.get("interval") or {}}
    return {**extra,
        "reason": decision.reason, "coverage": round(labelled / items, 6) if items else 0.0,
        "human_coverage": round(done / humans, 6) if humans else 1.0, "message": message,
        "items": items, "items_labelled": labelled, "items_for_humans": humans, "items_done": done,
        "complete_time": clock.iso(now), "hooks": "pending",
    }


def complete(es: Elasticsearch, prefix: str, evaluation_id: str, done: dict[str, Any], fields: dict[str, Any]) -> bool:
    """Move GRADING → COMPLETE with ``done`` (see :func:`completion`) and ``fields``, then run
    the hooks. False if the evaluation had already left GRADING (another replica, a cancel)."""
    try:
        evaluations.transition(es, prefix, evaluation_id, {"GRADING"}, "COMPLETE", reason=done["message"],
                               fields={"completion": done, "complete_time": done["complete_time"], **fields})
    except FailedPrecondition:
        return False
    log.info("evaluation complete", extra={"evaluation": evaluation_id, "reason": done["reason"],
                                            "detail": done["message"]})
    run_hooks(es, prefix, evaluation_id)
    return True


def run_hooks(es: Elasticsearch, prefix: str, evaluation_id: str) -> bool:
    """Call :func:`services.reporting.hooks.on_complete` and record that it returned (a crash
    before that leaves ``completion.hooks`` pending, and the worker calls it again)."""
    try:
        hooks.on_complete(es, prefix, evaluation_id)
    except Exception:  # noqa: BLE001 - the evaluation is complete either way; the next pass retries
        log.exception("completion hooks failed; will retry", extra={"evaluation": evaluation_id})
        return False
    evaluations.update_counts(es, prefix, evaluation_id, {}, completion={"hooks": "done"})
    return True
