"""What the server is made of: the servicer of each service and the authenticators.

``qrelay serve`` and the tests build a server through :func:`servicers` and
:func:`authenticator`, so there is one place that says which implementation serves what.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from elasticsearch import Elasticsearch

from services.core.logmapping import LogFieldMapping
from services._proto.qrelay.v1 import (
    evaluation_pb2_grpc,
    grading_pb2_grpc,
    operations_pb2_grpc,
    reporting_pb2_grpc,
)
from services.auth import Authenticator, StaticTokens
from services.config import Config

if TYPE_CHECKING:
    from services.grading.config import GradingConfig


@dataclass
class Context:
    """What servicers share: configuration, the Elasticsearch client, background workers."""

    config: Config
    es: Elasticsearch
    log_mapping: LogFieldMapping = field(default_factory=LogFieldMapping)
    closers: list[Callable[[], None]] = field(default_factory=list)
    _secret: bytes | None = None
    _grader_credentials: Any = None

    @property
    def prefix(self) -> str:
        return self.config.es.index_prefix

    @property
    def secret(self) -> bytes:
        """The server secret: configured (``QRELAY_SECRET_KEY``), else the one every replica of this
        index prefix shares in the ``system`` index."""
        if self._secret is None:
            from services.store import system

            self._secret = self.config.secret_key or system.server_secret(self.es, self.prefix)
        return self._secret

    def close(self) -> None:
        for close in reversed(self.closers):
            close()


def servicers(ctx: Context) -> list[tuple[Callable[[Any, Any], None], Any]]:
    """``(add_*_to_server, servicer)`` for each of the four qrelay.v1 services."""
    from services.evaluation.servicer import EvaluationServicer
    from services.grading.servicer import GradingServicer
    from services.operations.servicer import OperationsServicer
    from services.reporting.servicer import ReportingServicer

    grading = GradingServicer(ctx, grading_config(ctx))
    credentials = grader_credentials(ctx)
    return [
        (evaluation_pb2_grpc.add_EvaluationServiceServicer_to_server, EvaluationServicer(ctx)),
        (grading_pb2_grpc.add_GradingServiceServicer_to_server, grading),
        (reporting_pb2_grpc.add_ReportingServiceServicer_to_server, ReportingServicer(ctx)),
        (operations_pb2_grpc.add_OperationsServiceServicer_to_server, OperationsServicer(ctx, grading.dispatch, credentials)),
    ]


def grading_config(ctx: Context) -> "GradingConfig":
    """Grading settings (lease TTL, caches, guideline texts) from ``QRELAY_LEASE_SECONDS`` etc.
    (until they move into :class:`Config`, this is the one place that reads them)."""
    import os

    from services.grading.config import GradingConfig

    return GradingConfig.from_mapping(os.environ)


def grader_credentials(ctx: Context):
    """The one grader-credential checker of this process (the operations servicer tells it to
    forget a grader whose credentials it rotated or revoked)."""
    from services.operations.credentials import GraderCredentials

    if ctx._grader_credentials is None:
        ctx._grader_credentials = GraderCredentials(ctx.es, ctx.prefix, grading_config(ctx).credential_cache_seconds)
    return ctx._grader_credentials


def authenticator(ctx: Context) -> Authenticator:
    """Who a bearer token is: configured tokens (engineers, ops, admins, dev graders), then
    grader credentials issued by OperationsService (checked against the graders index, cached
    briefly per process)."""
    from services.operations.credentials import Chain

    return Chain([StaticTokens(ctx.config.tokens), grader_credentials(ctx)])


def audit_log(ctx: Context) -> Callable[[dict], None]:
    """Where the server writes one record per change: the append-only ``audit`` index."""
    from services.store import audit

    return lambda record: audit.append(ctx.es, ctx.prefix, record)
