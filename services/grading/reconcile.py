"""Judgements committed on a slot are never lost: a reconciler appends any SUBMITTED slot's
judgement that is missing from ``judgements``.

Submit writes twice — the slot (LEASED → SUBMITTED, carrying the judgement) and then the
append-only ``judgements`` document — and answers after both. A crash, a kill or an
Elasticsearch failure between the two leaves the judgement on the slot only (issue 11); a grader
who retries gets it written by the submit itself, but one who moved on would leave the item one
judgement short. Every replica runs this pass at start and then every ``interval`` seconds: it
reads the SUBMITTED slots updated since a shared watermark (less a margin for clock skew and
writes in flight) and appends what is missing with ``op_type=create``, so replicas running it at
the same time, or twice, never duplicate (the judgement id is the assignment id).
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

from elasticsearch import Elasticsearch

from services.core import clock
from services.store import assignments, judgements, system

log = logging.getLogger("qrelay.grading")

WATERMARK = "judgement-reconciler"


def run_once(es: Elasticsearch, prefix: str, margin_seconds: float = 120.0, settle_seconds: float = 5.0) -> int:
    """One pass; returns how many judgements it appended."""
    started = clock.now()
    mark, read = system.watermark(es, prefix, WATERMARK)
    since = clock.iso(clock.parse_time(mark) - timedelta(seconds=margin_seconds)) if mark else None
    written = 0
    for page in assignments.submitted_since(es, prefix, since):
        written += judgements.create_missing(es, prefix, page)
    # what was written in the last moments may not be searchable yet: the next pass reads it again
    system.advance_watermark(es, prefix, WATERMARK, read, clock.iso(started - timedelta(seconds=settle_seconds)),
                             clock.iso(started))
    if written:
        log.warning("appended %d judgements that were committed on their slots only", written)
    return written


class Reconciler:
    """Runs :func:`run_once` at start and every ``interval`` seconds in a daemon thread."""

    def __init__(self, es: Elasticsearch, prefix: str, interval: float):
        self.es, self.prefix, self.interval = es, prefix, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="judgement-reconciler", daemon=True)

    def start(self) -> "Reconciler":
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop, letting a pass in flight finish first (the client it uses closes after this)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                run_once(self.es, self.prefix)
            except Exception:  # noqa: BLE001 - Elasticsearch down or busy: the next pass tries again
                if self._stop.is_set():
                    return  # shutting down: the next start's pass does it
                log.warning("judgement reconciliation failed; retrying in %.0f s", self.interval, exc_info=True)
            self._stop.wait(self.interval)
