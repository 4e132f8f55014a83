"""ReportingService: translates messages to the reporting domain and back; the domain decides.

An RPC this class does not define answers UNIMPLEMENTED (the generated base class).
"""
from __future__ import annotations

from services._proto.qrelay.v1 import reporting_pb2_grpc


class ReportingServicer(reporting_pb2_grpc.ReportingServiceServicer):
    def __init__(self, ctx) -> None:
        self.ctx = ctx

    # --- reports, comparisons, exports ---------------------------------------------------

    # --- trends, alerts ------------------------------------------------------------------

    # --- scorecards ----------------------------------------------------------------------
