"""Domain errors: what went wrong, in terms a caller can act on.

The domain raises these; the gRPC edge (``services.rpc``) maps each to one status code in
one place. Nothing here imports grpc.
"""
from __future__ import annotations

from dataclasses import dataclass


class QrelayError(Exception):
    """Base of every error a caller should see as a clear message."""


@dataclass(frozen=True)
class FieldViolation:
    """One bad field: a dotted path into the request (``evaluation.spec.depth``) and why."""

    field: str
    description: str


class InvalidArgument(QrelayError):
    """The request is malformed; ``violations`` says which fields and why (INVALID_ARGUMENT)."""

    def __init__(self, violations: list[FieldViolation] | FieldViolation, message: str | None = None):
        self.violations = [violations] if isinstance(violations, FieldViolation) else list(violations)
        super().__init__(message or "; ".join(f"{v.field}: {v.description}" for v in self.violations))


class NotFound(QrelayError):
    """The named resource does not exist (NOT_FOUND)."""


class FailedPrecondition(QrelayError):
    """The system is not in a state that allows this (FAILED_PRECONDITION), e.g. a lost lease."""


class PermissionDenied(QrelayError):
    """The caller is known but may not do this (PERMISSION_DENIED)."""


class Unauthenticated(QrelayError):
    """No valid credential (UNAUTHENTICATED)."""


class ResourceExhausted(QrelayError):
    """The caller went over its rate limit (RESOURCE_EXHAUSTED); ``retry_after`` seconds until a call fits."""

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(QrelayError):
    """A dependency (Elasticsearch) is down; the call is safe to retry (UNAVAILABLE)."""


class ConfigError(ValueError):
    """A configuration value is wrong; the message names the setting."""


class Violations:
    """Collects field violations so a request reports all its problems at once.

    >>> v = Violations(); v.check(False, "depth", "must be in 1..100"); v.raise_if_any()
    Traceback (most recent call last):
    ...
    services.core.errors.InvalidArgument: depth: must be in 1..100
    """

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []

    def add(self, field: str, description: str) -> None:
        self.items.append(FieldViolation(field, description))

    def check(self, ok: bool, field: str, description: str) -> bool:
        if not ok:
            self.add(field, description)
        return ok

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidArgument(self.items)
