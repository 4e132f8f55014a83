"""What the server is made of: the servicer of each service and the authenticators.

``qrelay serve`` and the tests build a server through :func:`servicers` and
:func:`authenticator`, so there is one place that says which implementation serves what.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from elasticsearch import Elasticsearch

from services.logmapping import LogFieldMapping
from services._proto.qrelay.v1 import (
    evaluation_pb2_grpc,
    grading_pb2_grpc,
    operations_pb2_grpc,
    reporting_pb2_grpc,
)
from services.auth import Authenticator, StaticTokens
from services.config import Config

@dataclass
class Context:
    """What servicers share: configuration, the Elasticsearch client, background workers."""

    config: Config
    es: Elasticsearch
    log_mapping: LogFieldMapping = field(default_factory=LogFieldMapping)
    closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return self.config.es.index_prefix

    def close(self) -> None:
        for close in reversed(self.closers):
            close()


def servicers(ctx: Context) -> list[tuple[Callable[[Any, Any], None], Any]]:
    """``(add_*_to_server, servicer)`` for each of the four qrelay.v1 services."""
    from services.evaluation.servicer import EvaluationServicer

    return [
        (evaluation_pb2_grpc.add_EvaluationServiceServicer_to_server, EvaluationServicer(ctx)),
        (grading_pb2_grpc.add_GradingServiceServicer_to_server, grading_pb2_grpc.GradingServiceServicer()),
        (reporting_pb2_grpc.add_ReportingServiceServicer_to_server, reporting_pb2_grpc.ReportingServiceServicer()),
        (operations_pb2_grpc.add_OperationsServiceServicer_to_server, operations_pb2_grpc.OperationsServiceServicer()),
    ]


def authenticator(ctx: Context) -> Authenticator:
    """Who a bearer token is: configured tokens (engineers, ops, admins, dev graders)."""
    return StaticTokens(ctx.config.tokens)
