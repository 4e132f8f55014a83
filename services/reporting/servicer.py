"""ReportingService: translates messages to the reporting domain and back; the domain decides.

An RPC this class does not define answers UNIMPLEMENTED (the generated base class).
"""
from __future__ import annotations

import math

from google.protobuf import json_format

from services._proto.qrelay.v1 import reporting_pb2, reporting_pb2_grpc
from services.aip import id_of
from services.reporting import compare, export, report
from services.reporting.cache import LabelCache


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

    # --- reports, comparisons, exports ---------------------------------------------------

    def GetEvaluationReport(self, request, context):
        r = report.build(self.ctx.es, self.ctx.prefix, self.labels, id_of(request.name, "evaluations"),
                         list(request.measures), list(request.segment_by), list(request.segments), request.confidence)
        return message(r, reporting_pb2.EvaluationReport)

    def CompareRankers(self, request, context):
        r = compare.build(self.ctx.es, self.ctx.prefix, self.labels, id_of(request.name, "evaluations"),
                          request.baseline, request.candidate, list(request.measures), list(request.segment_by),
                          list(request.segments), request.confidence)
        return message(r, reporting_pb2.RankerComparison)

    def ExportEvaluation(self, request, context):
        plan = export.plan(self.ctx.es, self.ctx.prefix, self.labels, id_of(request.name, "evaluations"),
                           reporting_pb2.ExportContent.Name(request.content).replace("EXPORT_CONTENT_UNSPECIFIED", ""),
                           reporting_pb2.ExportFormat.Name(request.format), request.ranker)
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

    # --- scorecards ----------------------------------------------------------------------
