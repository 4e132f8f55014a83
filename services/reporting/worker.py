"""The reporting worker: one background loop per server process over the evaluations in GRADING.

Every ``interval_seconds`` it takes each evaluation in GRADING in turn and, under a claim,

1. seeds its consensus documents (first pass only) and, while the pre-judgement job streams,
   gives each newly scored wave's documents the model's side (routing and the adaptive audit
   wait for the stream to end: they rewrite items the job may still be writing),
2. brings its consensus up to date (:func:`services.reporting.consensus.update`),
   then routes within the evaluation (:func:`services.reporting.routing.step`): once its
   calibration sample is labelled, the model is fitted on its own labels and what it is sure
   of is auto-judged,
3. refreshes the model–human agreement on the audit share when an audit item's label changed,
   With ``QRELAY_ADAPTIVE_AUDIT_SHARE`` it also spends extra audits where the model's errors move
   the headline most, with ``QRELAY_ADAPTIVE_AUDIT=verdict`` as many as reach the headline
   decision after the fewest human judgements (:mod:`services.reporting.adaptive`),
4. watches the headline comparison's anytime-valid sequence and, once its decision is clear,
   stops human work on the queries nobody started (:mod:`services.reporting.stopping`, issue 12),
5. stores the grading progress with the ETA (``grading``, ``counts.judgements/items_done``),
6. completes it when everything for humans is judged, nothing needed humans, the headline
   decision is reached and the started queries are done, or its deadline passed: a final refit,
   then GRADING → COMPLETE, then the completion hooks.

Claims: ``consensus.owner`` + ``consensus.heartbeat`` on the evaluation document, taken with
optimistic concurrency, so replicas share the evaluations and one that stops beating for
``claim_seconds`` is taken over. Every step is idempotent — a pass repeated by another replica
after a lost claim rewrites the same documents — so a lost claim costs time, never correctness.
Completion hooks that did not return (a crash) are retried for a day.
"""
from __future__ import annotations

import datetime as dt
import logging
import math
import os
import socket
import threading
from typing import Any

from elasticsearch import Elasticsearch

from evaluators.automation import audit_agreement
from services.core import clock
from services.reporting import completion
from services.reporting import consensus as updater
from services.reporting import adaptive, routing, stopping
from services.reporting.cache import LabelCache
from services.reporting.config import ReportingConfig
from services.store import consensus, evaluations, items

log = logging.getLogger("qrelay.reporting")

AUDIT_FIELDS = ["locale", "kind", "model_label", "source", "label", "preference"]
HOOK_RETRY_S = 86400.0


class ReportingWorker:
    """The loop (a daemon thread); :meth:`run_once` is one pass, for tests and benchmarks."""

    def __init__(self, es: Elasticsearch, prefix: str, cfg: ReportingConfig, owner: str | None = None):
        self.es, self.prefix, self.cfg = es, prefix, cfg
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:reporting"
        self._stop = threading.Event()
        self._held: set[str] = set()
        self._seen: dict[str, dict[str, str]] = {}  # evaluation -> judgements of the slack window applied
        self.labels = LabelCache(es, prefix, label_sets=2, answers=32)  # the headline sequence's label sets
        self._thread = threading.Thread(target=self._loop, name="reporting", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Finish the evaluation in hand (up to a few seconds), then give the claims back."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10.0)
        for evaluation_id in sorted(self._held):
            try:
                evaluations.release_worker(self.es, self.prefix, evaluation_id, self.owner)
            except Exception:  # noqa: BLE001 - the claim goes stale on its own
                pass

    def _loop(self) -> None:
        while not self._stop.wait(self.cfg.interval_seconds):
            try:
                self.run_once()
            except Exception as exc:  # noqa: BLE001 - Elasticsearch down: next round
                log.warning("reporting pass failed", extra={"error": str(exc)})

    def run_once(self) -> None:
        """One pass: every evaluation in GRADING, then completion hooks still pending."""
        for evaluation_id in evaluations.ids_in_state(self.es, self.prefix, "GRADING"):
            if self._stop.is_set():
                return
            try:
                self.process(evaluation_id)
            except Exception:  # noqa: BLE001 - one evaluation must not stop the others
                log.exception("reporting failed for an evaluation", extra={"evaluation": evaluation_id})
        since = clock.iso(clock.now() - dt.timedelta(seconds=HOOK_RETRY_S))
        for doc in evaluations.completed_since(self.es, self.prefix, since):
            if (doc.get("completion") or {}).get("hooks") == "pending" and self._claim(doc["evaluation_id"], ("COMPLETE",)):
                completion.run_hooks(self.es, self.prefix, doc["evaluation_id"])

    def _claim(self, evaluation_id: str, states=("GRADING",)) -> dict[str, Any] | None:
        now = clock.now()
        stale = clock.iso(now - dt.timedelta(seconds=self.cfg.claim_seconds))
        doc = evaluations.claim_worker(self.es, self.prefix, evaluation_id, self.owner, clock.iso(now), stale, states)
        if doc is not None:
            self._held.add(evaluation_id)
        return doc

    def process(self, evaluation_id: str) -> str | None:
        """One evaluation, if we get its claim; returns the completion reason when it completed."""
        doc = self._claim(evaluation_id)
        if doc is None:
            return None
        es, prefix, cfg = self.es, self.prefix, self.cfg
        state = updater.State.from_doc(doc.get("consensus"))
        fields: dict[str, Any] = {}
        # Items appear before GRADING, but seeding is create-only and cheap to check, so items
        # written late (or a seed cut short) still get their documents.
        n_items = items.count(es, prefix, evaluation_id)
        created = 0
        prejudged = int((doc.get("counts") or {}).get("prejudged") or 0)
        if not state.seeded or n_items != state.items:
            through = items.last_scored(es, prefix, evaluation_id)  # before the seed reads the items
            created = updater.seed(es, prefix, evaluation_id)
            state.seeded, state.items = True, n_items
            state.seed_time = state.seed_time or clock.now_iso()
            if state.scored_through is None:
                state.scored, state.scored_through = prejudged, through
        elif prejudged > state.scored and state.scored_through is not None:
            # streamed pre-judgement: a new wave is scored; its documents get the model's side
            updater.apply_scored(es, prefix, evaluation_id, state, prejudged)
        streaming = evaluations.streaming(doc)
        seen = self._seen.setdefault(evaluation_id, {})
        # Judgements of items that had no document yet were skipped: a refit applies everything.
        result = updater.update(es, prefix, evaluation_id, state, cfg, seen=seen,
                                force_refit=bool(created and state.judgements))
        if self._claim(evaluation_id) is None:
            return None  # the pass outlived the claim: the replica that took over carries on
        audit = result.audit_changed
        try:
            # both wait for the stream to end: they rewrite items the job may still be writing
            routed = None if streaming else routing.step(es, prefix, evaluation_id, doc.get("automation") or {}, cfg)
        except Exception:  # noqa: BLE001 - routing is an optimisation: consensus and completion go on
            log.exception("routing within the evaluation failed", extra={"evaluation": evaluation_id})
            routed = None
        if routed is not None:
            fields["automation"] = routed.automation
        try:
            adapted = None if streaming else adaptive.step(es, prefix, self.labels, evaluation_id, doc,
                                                           cfg.adaptive_audit_share, cfg.adaptive_audit)
        except Exception:  # noqa: BLE001 - the random audit share stands on its own
            log.exception("adaptive audit failed", extra={"evaluation": evaluation_id})
            adapted = None
        if adapted is not None:
            fields["automation"] = {**(fields.get("automation") or {}), "adaptive_audit": adapted}
        stop = self._watch(evaluation_id, doc)
        if stop is not None:
            fields["stopping"] = stop
        elif (doc.get("stopping") or {}).get("streaming") and not streaming:
            # decided while the job still scored: the waves it wrote before it saw the decision
            # are stopped too, once it has ended
            stopped = stopping.stop(es, prefix, evaluation_id)
            fields["stopping"] = stop = {**doc["stopping"], "streaming": False,
                                         "stopped_items": int(doc["stopping"].get("stopped_items") or 0) + stopped}
        stop = stop or doc.get("stopping")
        grading = completion.grading_progress(es, prefix, evaluation_id, state.first_judgement, cfg.rate_window_seconds)
        now = clock.now()
        decision = completion.decide(grading, doc.get("deadline"), now, stop)
        if decision is not None and decision.reason != completion.NOTHING_TO_JUDGE:
            # The final consensus: every judgement, a freshly fitted model.
            final = updater.update(es, prefix, evaluation_id, state, cfg, force_refit=True, seen=seen)
            audit = audit or final.audit_changed
            grading = completion.grading_progress(es, prefix, evaluation_id, state.first_judgement,
                                                  cfg.rate_window_seconds, now)
        if audit:  # grading_progress refreshed the consensus index: the search sees this pass's labels
            agreement = self._agreement(evaluation_id).get("automation") or {}
            fields["automation"] = _merged(fields.get("automation") or {}, agreement)
        if result.written or result.refit:
            log.info("consensus updated", extra={"evaluation": evaluation_id, "read": result.read,
                                                 "touched": result.touched, "written": result.written,
                                                 "refit": result.refit, "judgements": state.judgements})
        fields.update(consensus=state.to_doc(), grading=grading,
                      counts={"judgements": grading["judgements"], "items_done": grading["items_done"],
                              **(routed.counts if routed is not None else {})})
        if decision is None:
            evaluations.update_counts(es, prefix, evaluation_id, fields.pop("counts"), **fields)
            return None
        done = completion.completion(decision, grading, now, stop)
        self._seen.pop(evaluation_id, None)
        return decision.reason if completion.complete(es, prefix, evaluation_id, done, fields) else None

    def _watch(self, evaluation_id: str, doc: dict[str, Any]) -> dict[str, Any] | None:
        """The early-stopping state to store (None: nothing new): the headline sequence while
        undecided; the decision once it is clear, after taking the work nobody started off the queue."""
        rule = stopping.rule(doc)
        if rule is None or (doc.get("stopping") or {}).get("decided"):
            return None
        try:
            seq = stopping.watch(self.es, self.prefix, self.labels, evaluation_id, rule)
        except Exception:  # noqa: BLE001 - stopping early is an optimisation: grading goes on
            log.exception("the headline sequence could not be computed", extra={"evaluation": evaluation_id})
            return None
        if seq is None:
            return None
        if seq["decision"] != "decided":
            iv = {k: (v if math.isfinite(v) else None) for k, v in seq["interval"].items()}  # ±inf before burn-in
            return {"decided": False, "looks": int(seq["looks"]), "eligible": int(seq["eligible"]),
                    "interval": iv, "min_effect": rule.min_effect}
        decided = stopping.decision(seq, rule)
        decided["stopped_items"] = stopping.stop(self.es, self.prefix, evaluation_id)
        decided["streaming"] = evaluations.streaming(doc)
        return decided

    def _agreement(self, evaluation_id: str) -> dict[str, Any]:
        """The audit share's model–human agreement per locale, as the evaluation stores it."""
        docs = list(consensus.of_evaluation(self.es, self.prefix, evaluation_id, AUDIT_FIELDS, audit=True))
        if not docs:
            return {}
        agreement = audit_agreement(docs)
        return {"automation": {"audit_agreement": agreement,
                               "locales": {loc: {"agreement": row["agreement"]} for loc, row in agreement.items()}}}


def _merged(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """``a`` updated by ``b``, nested dictionaries merged (as Elasticsearch merges a partial update)."""
    out = dict(a)
    for k, v in b.items():
        out[k] = _merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out
