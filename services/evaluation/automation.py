"""Keeping an evaluation's model–human agreement current while graders judge its audit share."""
from __future__ import annotations

import logging
import threading

from elasticsearch import Elasticsearch

from evaluators.automation import audit_agreement
from services.store import evaluations
from services.store import prejudgements as store

log = logging.getLogger("qrelay.automation")


def refresh_agreement(es: Elasticsearch, prefix: str, evaluation_id: str) -> dict:
    """Recompute the audit agreement from the judgements so far and store it, per locale, in the
    evaluation's ``automation``; returns it. Safe to call any time after pre-judgement."""
    agreement = audit_agreement(store.audit_items(es, prefix, evaluation_id),
                                store.evaluation_judgements(es, prefix, evaluation_id))
    doc = evaluations.get(es, prefix, evaluation_id)
    automation = dict(doc.get("automation") or {})
    automation["audit_agreement"] = agreement
    for loc, row in agreement.items():
        automation.setdefault("locales", {}).setdefault(loc, {})["agreement"] = row["agreement"]
    evaluations.update_counts(es, prefix, evaluation_id, doc.get("counts") or {}, automation=automation)
    return agreement


class AgreementRefresher:
    """Refreshes the agreement of every evaluation in GRADING every ``seconds`` (a daemon thread)."""

    def __init__(self, es: Elasticsearch, prefix: str, seconds: float = 30.0):
        self.es, self.prefix, self.seconds = es, prefix, seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="agreement", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.seconds):
            try:
                for evaluation_id in evaluations.ids_in_state(self.es, self.prefix, "GRADING"):
                    refresh_agreement(self.es, self.prefix, evaluation_id)
            except Exception as exc:  # noqa: BLE001 - Elasticsearch down: next round
                log.warning("cannot refresh audit agreement", extra={"error": str(exc)})
