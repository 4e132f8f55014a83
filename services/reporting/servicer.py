"""ReportingService: translates messages to the reporting domain and back; the domain decides.

An RPC this class does not define answers UNIMPLEMENTED (the generated base class).
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Any

from google.protobuf import json_format

from evaluators.metrics.registry import parse_measure
from services._proto.qrelay.v1 import common_pb2, evaluation_pb2, reporting_pb2, reporting_pb2_grpc
from services.aip import check_keyword, enum_name, id_of, page_after, page_token, time_of, timestamp
from services.core.errors import FieldViolation, InvalidArgument
from services.reporting import compare, export, report, scorecards, trends
from services.reporting.cache import LabelCache
from services.reporting.webhooks import WebhookSender
from services.store import alerts, metrics


def message(d: dict, cls):
    """A domain answer (a dict in the contract's shape) as the message ``cls``; NaN (a number that
    does not exist for lack of queries, next to its count) and infinities travel as such."""
    return json_format.ParseDict(_finite_json(d), cls())


def _finite_json(x):
    if isinstance(x, float) and not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
    if isinstance(x, dict):
        return {k: _finite_json(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite_json(v) for v in x]
    return x


class ReportingServicer(reporting_pb2_grpc.ReportingServiceServicer):
    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.labels = LabelCache(ctx.es, ctx.prefix)
        # trends: alert webhooks are sent in the background, never on a caller's path
        self.webhooks = WebhookSender(ctx.es, ctx.prefix, ctx.config.trends)
        ctx.closers.append(self.webhooks.stop)
        self.webhooks.start()

    # --- reports, comparisons, exports ---------------------------------------------------

    def GetEvaluationReport(self, request, context):
        r = report.build(self.ctx.es, self.ctx.prefix, self.labels, id_of(request.name, "evaluations"),
                         list(request.measures), list(request.segment_by), list(request.segments), request.confidence,
                         _relabel(request.relabel_with))
        return message(r, reporting_pb2.EvaluationReport)

    def CompareRankers(self, request, context):
        rule = enum_name(evaluation_pb2.StoppingRule, request.stopping_rule, "stopping_rule")
        rule = compare.DEFAULT_STOP_RULE if rule == "STOPPING_RULE_UNSPECIFIED" else rule
        r = compare.build(self.ctx.es, self.ctx.prefix, self.labels, id_of(request.name, "evaluations"),
                          request.baseline, request.candidate, list(request.measures), list(request.segment_by),
                          list(request.segments), request.confidence, _relabel(request.relabel_with),
                          request.min_effect, rule)
        return message(r, reporting_pb2.RankerComparison)

    def ExportEvaluation(self, request, context):
        plan = export.plan(self.ctx.es, self.ctx.prefix, self.labels, id_of(request.name, "evaluations"),
                           enum_name(reporting_pb2.ExportContent, request.content, "content")
                           .replace("EXPORT_CONTENT_UNSPECIFIED", ""),
                           enum_name(reporting_pb2.ExportFormat, request.format, "format"), request.ranker)
        first = True
        for data in plan.chunks:
            if first:
                yield reporting_pb2.ExportChunk(data=data, content_type=plan.content_type, file_name=plan.file_name)
                first = False
            else:
                yield reporting_pb2.ExportChunk(data=data)
        if first:  # an empty file still announces its type and name
            yield reporting_pb2.ExportChunk(content_type=plan.content_type, file_name=plan.file_name)

    # --- trends, alerts ------------------------------------------------------------------

    def ListMetricSnapshots(self, request, context):
        measure = _one_measure(request.measure, "measure")
        start, end = trends.window(*_window(request.window), trends.DEFAULT_DAYS)
        series = id_of(request.series, "evaluations", "series") if request.series else ""
        docs, after = metrics.page(
            self.ctx.es, self.ctx.prefix, _page_size(request.page_size), page_after(request.page_token),
            measure=measure, ranker=check_keyword(request.ranker, "ranker"),
            segment=None if request.all_segments else check_keyword(request.segment, "segment"),
            start=start, end=end, owner_team=check_keyword(request.owner_team, "owner_team"), series=series)
        return reporting_pb2.ListMetricSnapshotsResponse(snapshots=[snapshot_proto(d) for d in docs],
                                                         next_page_token=page_token(after))

    def ListAlerts(self, request, context):
        start, end = trends.window(*_window(request.window), trends.DEFAULT_DAYS)
        series = id_of(request.series, "evaluations", "series") if request.series else ""
        docs, after = alerts.page(self.ctx.es, self.ctx.prefix, _page_size(request.page_size),
                                  page_after(request.page_token), start, end, series,
                                  check_keyword(request.owner_team, "owner_team"))
        return reporting_pb2.ListAlertsResponse(alerts=[alert_proto(d) for d in docs], next_page_token=page_token(after))

    # --- scorecards ----------------------------------------------------------------------

    def GetGraderScorecard(self, request, context):
        grader_id = id_of(request.grader, "graders", "grader")
        start, end = scorecards.window(*_window(request.window))
        return scorecard_proto(scorecards.grader_scorecard(self.ctx.es, self.ctx.prefix, self.ctx.config.quality,
                                                           grader_id, start, end))

    def GetPartnerScorecard(self, request, context):
        partner_id = id_of(request.partner, "partners", "partner")
        start, end = scorecards.window(*_window(request.window))
        return scorecard_proto(scorecards.partner_scorecard(self.ctx.es, self.ctx.prefix, self.ctx.config.quality,
                                                            partner_id, start, end))

    def ListScorecards(self, request, context):
        by = {reporting_pb2.GRADERS: "grader", reporting_pb2.PARTNERS: "partner"}.get(request.subject)
        if by is None:
            raise InvalidArgument(FieldViolation("subject", "GRADERS or PARTNERS"))
        if request.partner and by == "partner":
            raise InvalidArgument(FieldViolation("partner", "filters graders; leave it empty for PARTNERS"))
        partner_id = id_of(request.partner, "partners", "partner") if request.partner else ""
        start, end = scorecards.window(*_window(request.window))
        cards = scorecards.list_scorecards(self.ctx.es, self.ctx.prefix, self.ctx.config.quality, by, start, end,
                                           partner_id)
        return reporting_pb2.ListScorecardsResponse(scorecards=[scorecard_proto(c) for c in cards])


def _relabel(name: str) -> str:
    """The evaluation id ``relabel_with`` names ("" for the evaluation's own labels)."""
    return id_of(name, "evaluations", "relabel_with") if name else ""


# --- trends, alerts: translation -----------------------------------------------------------


def _one_measure(name: str, field: str) -> str:
    """A measure name as the snapshots store it (``ndcg_cut.10`` → ``ndcg_cut_10``)."""
    if not name.strip():
        raise InvalidArgument(FieldViolation(field, "required, e.g. ndcg_cut_10"))
    try:
        parsed = parse_measure(name)
    except ValueError as exc:
        raise InvalidArgument(FieldViolation(field, str(exc))) from None
    if len(parsed) != 1:
        raise InvalidArgument(FieldViolation(field, f"{name!r} names {len(parsed)} measures; give one cutoff, "
                                                    f"e.g. {parsed[0]}"))
    return str(parsed[0])


def _window(w: common_pb2.TimeWindow) -> tuple[dt.datetime | None, dt.datetime | None]:
    # an out-of-range Timestamp is the caller's (INVALID_ARGUMENT), found by bench/bench_fuzz.py
    return (time_of(w.start_time, "window.start_time") if w.HasField("start_time") else None,
            time_of(w.end_time, "window.end_time") if w.HasField("end_time") else None)


def _page_size(n: int) -> int:
    if n < 0:
        raise InvalidArgument(FieldViolation("page_size", "must not be negative"))
    return min(n or 100, trends.MAX_PAGE)


def _set_time(msg, attr: str, value: str | None) -> None:
    if ts := timestamp(value):
        getattr(msg, attr).CopyFrom(ts)


def snapshot_proto(d: dict[str, Any]) -> reporting_pb2.MetricSnapshot:
    s = reporting_pb2.MetricSnapshot(
        evaluation=f"evaluations/{d['evaluation_id']}", ranker=d["ranker"], segment=d["segment"],
        series=f"evaluations/{d['series']}" if d.get("series") else "", run_index=int(d.get("run_index") or 0),
        traffic_share=d.get("traffic_share") or 0.0, partial=bool(d.get("partial")),
        value=reporting_pb2.MetricValue(
            measure=d["measure"], mean=d["mean"], queries=int(d.get("queries") or 0),
            judged_share=d.get("judged_share") or 0.0, std_error=d.get("std_error") or 0.0,
            unweighted_mean=d.get("unweighted_mean") or 0.0,
            interval=common_pb2.Interval(low=d.get("low") or 0.0, high=d.get("high") or 0.0, level=d.get("level") or 0.0)))
    for attr in ("snapshot_time", "window_start", "window_end"):
        _set_time(s, attr, d.get(attr))
    return s


def alert_proto(d: dict[str, Any]) -> reporting_pb2.Alert:
    a = reporting_pb2.Alert(
        name=f"alerts/{d['alert_id']}", evaluation=f"evaluations/{d['evaluation_id']}",
        series=f"evaluations/{d['series']}" if d.get("series") else "", ranker=d["ranker"], segment=d["segment"],
        measure=d["measure"], value=d["value"], baseline=d["baseline"], drop=d["drop"],
        interval=common_pb2.Interval(low=d["low"], high=d["high"], level=d["level"]), p_value=d["p_value"],
        p_value_holm=d.get("p_value_holm") or 0.0, baseline_snapshots=int(d["baseline_snapshots"]),
        baseline_evaluations=[f"evaluations/{e}" for e in d.get("baseline_evaluations") or []],
        message=d["message"], delivery=d.get("delivery") or "none", delivery_attempts=int(d.get("attempts") or 0),
        delivery_error=d.get("last_error") or "")
    for attr in ("create_time", "delivered_time"):
        _set_time(a, attr, d.get(attr))
    return a


# --- scorecards: translation ---------------------------------------------------------------

_CARD_FIELDS = ("subject", "display_name", "partner", "judgements", "gold_accuracy", "consensus_agreement",
                "throughput_per_hour", "median_seconds_on_task", "cost", "sla_met_share", "gold_judgements",
                "consensus_judgements", "skip_rate", "skips", "drifting", "cost_per_judgement", "currency",
                "sla_judgements", "flagged", "active_hours")


def scorecard_proto(c: dict[str, Any]) -> reporting_pb2.Scorecard:
    out = reporting_pb2.Scorecard(**{k: c[k] for k in _CARD_FIELDS},
                                  flags=[reporting_pb2.QualityFlag(**f) for f in c["flags"]])
    for k in ("reliability", "drift_p_value", "cost_per_reliable_judgement"):
        if c.get(k) is not None:
            setattr(out, k, c[k])
    low, high, level = c["gold_accuracy_interval"]
    if low is not None:
        out.gold_accuracy_interval.CopyFrom(common_pb2.Interval(low=low, high=high, level=level))
    out.window.start_time.FromDatetime(c["window"][0])
    out.window.end_time.FromDatetime(c["window"][1])
    return out
