"""Recurring evaluations: the server re-creates a series' first evaluation from its spec on
schedule, each time over the sliding log window that ends at the run's due time.

Run ``k`` of a series whose first evaluation was created at ``t0`` is due at ``t0 + k·every``;
its log window is ``[due − window, due)`` and its id derives from (series, k). Any number of
replicas may tick at once: creating run ``k`` is ``op_type=create`` on that id (a second
creator gets a conflict and creates nothing), and moving the series' ``next_run_time`` on uses
optimistic concurrency. A replica that dies between the two leaves the series due; the next
tick finds run ``k`` already there and only moves ``next_run_time`` on. A server that was down
over several due times creates the latest due run only (the missed windows are logged), so a
weekly series does not come back with a burst of stale evaluations.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import threading
from typing import Any, Callable

from elasticsearch import Elasticsearch

from services.core import clock
from services.evaluation.spec import proto_from_json, to_json
from services._proto.qrelay.v1 import evaluation_pb2
from services.store import evaluations, resources

log = logging.getLogger("qrelay.recurrence")


def run_id(series: str, k: int) -> str:
    """The id of run ``k`` of ``series`` (the same on every replica and every retry).

    >>> run_id("0123abcd", 3) == run_id("0123abcd", 3) != run_id("0123abcd", 4)
    True
    """
    return hashlib.sha256(f"{series}\x1frun\x1f{k}".encode()).hexdigest()[:20]


def due_run(t0: dt.datetime, every_s: float, now: dt.datetime) -> int:
    """The latest run index due at ``now`` (0 before the first re-creation is due).

    >>> t0 = dt.datetime(2024, 6, 3, tzinfo=dt.timezone.utc)
    >>> due_run(t0, 3600, t0 + dt.timedelta(minutes=59)), due_run(t0, 3600, t0 + dt.timedelta(hours=3, minutes=1))
    (0, 3)
    """
    return max(0, math.floor((now - t0).total_seconds() / every_s))


def recurrence_of(spec: evaluation_pb2.EvaluationSpec) -> tuple[float, float]:
    """(every, window) in seconds of a stored spec that has a recurrence."""
    r = spec.recurrence
    every = r.every.seconds + r.every.nanos / 1e9
    window = (r.window.seconds + r.window.nanos / 1e9) or every
    return every, window


def run_doc(head: dict[str, Any], k: int, now: dt.datetime) -> dict[str, Any]:
    """The evaluation document of run ``k`` of the series ``head`` starts: the head's spec over
    the window ending at the run's due time, its deadline (if any) as far after the due time as
    the head's was after its creation, no recurrence of its own."""
    spec = proto_from_json(head["spec"])
    every, window = recurrence_of(spec)
    t0 = clock.parse_time(head["create_time"])
    due = t0 + dt.timedelta(seconds=k * every)
    spec.ClearField("recurrence")
    spec.log_source.window.start_time.FromDatetime(due - dt.timedelta(seconds=window))
    spec.log_source.window.end_time.FromDatetime(due)
    deadline = None
    if spec.HasField("deadline"):
        deadline = due + (spec.deadline.ToDatetime(dt.timezone.utc) - t0)
        spec.deadline.FromDatetime(deadline)
    t = clock.iso(now)
    return {
        "evaluation_id": run_id(head["evaluation_id"], k),
        "display_name": f"{head.get('display_name') or head['evaluation_id']} · run {k}",
        "owner_team": head.get("owner_team", ""),
        "creator": head.get("creator", ""),
        "state": "PENDING",
        "priority": head.get("priority"),
        "deadline": clock.iso(deadline) if deadline else None,
        "kinds": head.get("kinds") or [],
        "spec": to_json(evaluation_pb2.Evaluation(spec=spec)),
        "counts": {},
        "strata": [],
        "series": head["evaluation_id"],
        "run_index": k,
        "create_time": t,
        "update_time": t,
    }


class Scheduler:
    """Re-creates due runs of recurring evaluations every ``tick_seconds`` (a daemon thread);
    ``submit`` hands a created run to production. ``now`` is the clock (tests drive :meth:`tick`)."""

    def __init__(self, es: Elasticsearch, prefix: str, submit: Callable[[str], None], tick_seconds: float = 30.0,
                 now: Callable[[], dt.datetime] = clock.now):
        self.es, self.prefix, self.submit = es, prefix, submit
        self.tick_seconds = tick_seconds
        self.now = now
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="recurrence", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 - Elasticsearch down: the series stays due, try next tick
                log.warning("cannot schedule recurring evaluations", extra={"error": str(exc)})

    def tick(self, now: dt.datetime | None = None) -> list[str]:
        """Create every due run (at most one per series); returns the ids this call created."""
        now = now or self.now()
        created = []
        for head in evaluations.due_recurrences(self.es, self.prefix, clock.iso(now)):
            if head["state"] == "CANCELLED":  # cancelling the first evaluation ends the series
                self._advance(head, None)
                continue
            every, _ = recurrence_of(proto_from_json(head["spec"]))
            t0 = clock.parse_time(head["create_time"])
            k = due_run(t0, every, now)
            doc = run_doc(head, k, now)
            if resources.create_once(self.es, evaluations.index(self.prefix), doc["evaluation_id"], doc):
                created.append(doc["evaluation_id"])
                expected = round((clock.parse_time(head["next_run_time"]) - t0).total_seconds() / every)
                log.info("recurring evaluation created", extra={
                    "evaluation": doc["evaluation_id"], "series": head["evaluation_id"], "run": k,
                    **({"missed_runs": k - expected} if k > expected else {})})
                self.submit(doc["evaluation_id"])
            self._advance(head, clock.iso(t0 + dt.timedelta(seconds=(k + 1) * every)))
        return created

    def _advance(self, head: dict[str, Any], following: str | None, attempts: int = 5) -> None:
        """Move the series' ``next_run_time`` from the value read to ``following``, unless another
        replica did already (the head also changes under us as its own evaluation progresses)."""
        due = head["next_run_time"]
        for _ in range(attempts):
            if evaluations.update_if_unchanged(self.es, self.prefix, head, {"next_run_time": following}):
                return
            head = evaluations.get(self.es, self.prefix, head["evaluation_id"])
            if head.get("next_run_time") != due:
                return
