"""What happens for trends when an evaluation completes, and the trend and alert listings.

:func:`on_complete` is the completion hook's part for trends: take the metric snapshots (the
report's numbers, one per ranker × segment × measure), then check them for regressions. It is
idempotent — snapshot and alert ids derive from their content — so a completion hook that runs
twice (a replica died, a retry) writes the same documents and raises no alert twice.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Callable

from services.core import clock
from services.core.errors import FieldViolation, InvalidArgument, QrelayError, Unavailable
from services.reporting import regressions, snapshots, webhooks
from services.store import evaluations, metrics

log = logging.getLogger("qrelay.trends")

# (es, prefix, evaluation document, measures, segment fields) -> report rows (see services.reporting.snapshots)
RowsFn = Callable[[Any, str, dict[str, Any], list[str], list[str]], list[dict[str, Any]]]

MAX_PAGE = 1000
DEFAULT_DAYS = 90


def report_rows(es, prefix: str, evaluation: dict[str, Any], measures: list[str], fields: list[str]
                ) -> list[dict[str, Any]]:
    """The report's rows for the snapshots: all queries, then each of ``fields`` alone (one
    report per field; all queries come with the first). An evaluation the report refuses (no
    fully labelled query, a spec it cannot read) has no snapshot: retrying would not change
    that, so it is logged, not raised; only an outage propagates (the hook is retried)."""
    try:
        from services.reporting import report
        from services.reporting.cache import LabelCache
    except ImportError:  # a build without the report (until it lands on main): nothing to snapshot
        log.warning("no snapshots: this build has no report", extra={"evaluation": evaluation["evaluation_id"]})
        return []

    cache = LabelCache(es, prefix)
    rows: list[dict[str, Any]] = []
    for i, by in enumerate([[f] for f in fields] or [[]]):
        try:
            r = report.build(es, prefix, cache, evaluation["evaluation_id"], measures, by)
        except Unavailable:
            raise
        except QrelayError as exc:
            log.warning("no snapshots: the report is refused", extra={"evaluation": evaluation["evaluation_id"],
                                                                     "why": str(exc)})
            return []
        rows += [x for x in snapshots.rows_from_report(r) if i == 0 or x["segment"]]
    return rows


def on_complete(es, prefix: str, evaluation_id: str, rows: RowsFn = report_rows,
                now: dt.datetime | None = None) -> dict[str, int]:
    """Snapshots, then the regression check, for a COMPLETE evaluation. Returns counts for the log."""
    evaluation = evaluations.get(es, prefix, evaluation_id)
    measures = snapshots.measures_of(evaluation)
    docs = snapshots.snapshot_docs(evaluation, rows(es, prefix, evaluation, measures,
                                                    snapshots.segment_fields(evaluation)), now)
    metrics.write(es, prefix, docs)
    raised = regressions.check(es, prefix, evaluation, docs, now)
    if any(a["delivery"] == "pending" for a in raised):
        webhooks.wake()
    log.info("trends updated", extra={"evaluation": evaluation_id, "snapshots": len(docs), "alerts": len(raised)})
    return {"snapshots": len(docs), "alerts": len(raised)}


def window(start: dt.datetime | None, end: dt.datetime | None, default_days: float,
           now: dt.datetime | None = None, field: str = "window") -> tuple[str, str]:
    """A listing's time window as stored times: ``[start, end)``, by default the last
    ``default_days`` days; an empty or inverted window is INVALID_ARGUMENT."""
    end = end or now or clock.now()
    start = start or end - dt.timedelta(days=default_days)
    if start >= end:
        raise InvalidArgument(FieldViolation(field, "end_time must be after start_time"))
    return clock.iso(start), clock.iso(end)
