"""Metric snapshots: when an evaluation completes, one dated value per ranker × segment × measure
goes to the ``metrics`` index, for trends (``ListMetricSnapshots``) and regression alerts.

Segments are all queries, and each segment field alone: ``band`` when the sample plan has
frequency bands, and each stratify-by field (``locale``, ``device``, ...) — the breakdowns a
trend page plots. Measures are the report's defaults plus the measures the evaluation's
alerting watches. The numbers are the report's (traffic-weighted mean, interval, standard
error, queries, judged share), taken from rows of this shape::

    {"ranker": "treatment", "segment": "locale=es-MX", "segment_fields": ["locale"],
     "measure": "ndcg_cut_10", "mean": 0.61, "low": 0.58, "high": 0.64, "level": 0.95,
     "std_error": 0.015, "unweighted_mean": 0.60, "queries": 212, "judged_share": 0.97,
     "traffic_share": 0.18, "estimator": "stratified mean re-weighted to traffic"}
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Any, Iterable

from services.core import clock
from services.evaluation.spec import proto_from_json
from services.store import metrics

REPORT_MEASURES = ("ndcg_cut_10", "P_10", "recip_rank", "map")
ROW_FIELDS = ("mean", "low", "high", "level", "std_error", "unweighted_mean", "queries", "judged_share",
              "traffic_share", "estimator")


def segment_fields(evaluation: dict[str, Any]) -> list[str]:
    """The fields an evaluation's queries can be segmented by: ``band`` (with bands), then its
    stratify-by fields, in the order of the spec."""
    plan = proto_from_json(evaluation.get("spec") or {}).sample_plan
    return (["band"] if plan.HasField("bands") else []) + list(plan.stratify_by)


def measures_of(evaluation: dict[str, Any]) -> list[str]:
    """The report's default measures, then those the evaluation's alerting watches."""
    spec = proto_from_json(evaluation.get("spec") or {})
    watched = list(spec.alerting.measures) if spec.HasField("alerting") else []
    return list(dict.fromkeys([*REPORT_MEASURES, *watched]))


def series_of(evaluation: dict[str, Any]) -> str:
    """The series an evaluation's snapshots belong to: its recurring series, else itself."""
    return evaluation.get("series") or evaluation["evaluation_id"]


def snapshot_time(evaluation: dict[str, Any], now: dt.datetime | None = None) -> str:
    """When the evaluation completed (its snapshots' date); ``now`` if it has no completion time."""
    return evaluation.get("complete_time") or clock.iso(now or clock.now())


def snapshot_docs(evaluation: dict[str, Any], rows: Iterable[dict[str, Any]],
                  now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The ``metrics`` documents of a completed evaluation's report rows."""
    spec = proto_from_json(evaluation.get("spec") or {})
    window = spec.log_source.window
    ev_id = evaluation["evaluation_id"]
    completion = evaluation.get("completion") or {}
    base = {
        "evaluation_id": ev_id, "owner_team": evaluation.get("owner_team") or "",
        "series": series_of(evaluation), "run_index": int(evaluation.get("run_index") or 0),
        "window_start": clock.iso(window.start_time.ToDatetime(dt.timezone.utc)) if window.HasField("start_time") else None,
        "window_end": clock.iso(window.end_time.ToDatetime(dt.timezone.utc)) if window.HasField("end_time") else None,
        "snapshot_time": snapshot_time(evaluation, now),
        "partial": completion.get("reason") == "DEADLINE_PASSED" and float(completion.get("coverage", 1.0)) < 1.0,
        "create_time": clock.iso(now or clock.now()),
    }
    return [{
        **base, "snapshot_id": metrics.snapshot_id(ev_id, r["ranker"], r["segment"], r["measure"]),
        "ranker": r["ranker"], "segment": r["segment"], "segment_fields": list(r.get("segment_fields") or []),
        "measure": r["measure"], **{k: r[k] for k in ROW_FIELDS if _storable(r.get(k))},
    } for r in rows]


def _storable(value: Any) -> bool:
    """Whether a row value goes into the snapshot: JSON has no NaN (a one-query segment's
    interval), and Elasticsearch refuses the whole document for one.

    >>> [_storable(v) for v in (None, float("nan"), 0.5, "e")]
    [False, False, True, True]
    """
    return value is not None and not (isinstance(value, float) and not math.isfinite(value))


def rows_from_report(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Snapshot rows of a report in the contract's shape (``EvaluationReport`` as a dict: segments
    → rankers → metrics). A metric without queries (its mean does not exist) gives no row.

    >>> r = {"estimator": "e", "confidence": 0.95, "segments": [{"key": "locale=es-MX", "values": {"locale": "es-MX"},
    ...      "traffic_share": 0.3, "rankers": [{"ranker": "b", "metrics": [{"measure": "map", "mean": 0.5,
    ...      "std_error": 0.02, "queries": 40, "interval": {"low": 0.46, "high": 0.54, "level": 0.95},
    ...      "judged_share": 1.0, "unweighted_mean": 0.49}]}]}]}
    >>> [(x["segment"], x["segment_fields"], x["mean"], x["low"], x["queries"]) for x in rows_from_report(r)]
    [('locale=es-MX', ['locale'], 0.5, 0.46, 40)]
    """
    rows = []
    for seg in report.get("segments") or []:
        for rk in seg.get("rankers") or []:
            for m in rk.get("metrics") or []:
                mean, n = m.get("mean"), int(m.get("queries") or 0)
                if mean is None or not math.isfinite(mean) or n == 0:
                    continue
                iv = m.get("interval") or {}
                se = m.get("std_error")
                rows.append({
                    "ranker": rk["ranker"], "segment": seg.get("key", ""), "segment_fields": list(seg.get("values") or {}),
                    "measure": m["measure"], "mean": float(mean), "low": iv.get("low"), "high": iv.get("high"),
                    "level": iv.get("level", report.get("confidence")),
                    "std_error": float(se) if se is not None and math.isfinite(se) else None,
                    "unweighted_mean": m.get("unweighted_mean"), "queries": n, "judged_share": m.get("judged_share"),
                    "traffic_share": seg.get("traffic_share"), "estimator": report.get("estimator"),
                })
    return rows
