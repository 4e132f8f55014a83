"""The gRPC edge: one interceptor that authenticates, authorises, maps domain errors to
status codes (in this one place), and writes one structured access-log line per RPC."""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from typing import Callable, Mapping

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.core import errors
from services.auth import Authenticator, authorize, bearer_token, current_principal

log = logging.getLogger("qrelay.rpc")

_CODES: tuple[tuple[type[errors.QrelayError], grpc.StatusCode], ...] = (
    (errors.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (errors.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (errors.Unavailable, grpc.StatusCode.UNAVAILABLE),
)

# Services anyone may call without a token: health checks and reflection.
PUBLIC_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def status_for(exc: BaseException) -> status_pb2.Status:
    """The google.rpc.Status a caller gets for ``exc``."""
    from services.store.client import StoreUnavailable

    if isinstance(exc, errors.QrelayError):
        code = next((c for cls, c in _CODES if isinstance(exc, cls)), grpc.StatusCode.INTERNAL)
        status = status_pb2.Status(code=code.value[0], message=str(exc))
        if isinstance(exc, errors.InvalidArgument):
            detail = any_pb2.Any()
            detail.Pack(error_details_pb2.BadRequest(field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                for v in exc.violations
            ]))
            status.details.append(detail)
        return status
    if isinstance(exc, NotImplementedError):  # generated servicer bases: behaviour of a later release
        return status_pb2.Status(code=code_pb2.UNIMPLEMENTED, message="method not implemented yet")
    if isinstance(exc, StoreUnavailable) or _is_es_outage(exc):
        return status_pb2.Status(code=code_pb2.UNAVAILABLE, message=f"Elasticsearch is unavailable; retry later ({exc})")
    return status_pb2.Status(code=code_pb2.INTERNAL, message="internal error; it has been logged")


def _is_es_outage(exc: BaseException) -> bool:
    try:
        from elasticsearch import ApiError, TransportError
    except ImportError:  # pragma: no cover
        return False
    if isinstance(exc, TransportError):  # connection refused/reset, timeouts
        return True
    return isinstance(exc, ApiError) and exc.meta.status in (429, 502, 503, 504)


class ServerInterceptor(grpc.ServerInterceptor):
    def __init__(self, roles: Mapping[str, frozenset[str]], authenticator: Authenticator):
        self._roles = roles
        self._auth = authenticator

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(PUBLIC_PREFIXES):
            return handler
        token = bearer_token(handler_call_details.invocation_metadata or ())
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(method, token, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(method, token, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler  # qrelay has no client-streaming RPCs

    def _unary(self, method: str, token: str | None, behaviour: Callable):
        def wrapped(request, context):
            with self._serving(method, token, context):
                return behaviour(request, context)

        return wrapped

    def _stream(self, method: str, token: str | None, behaviour: Callable):
        def wrapped(request, context):
            with self._serving(method, token, context):
                yield from behaviour(request, context)

        return wrapped

    @contextmanager
    def _serving(self, method: str, token: str | None, context):
        """Authorise, run the body as the caller's principal, map its failure, log the call."""
        start = time.perf_counter()
        principal = None
        try:
            principal = authorize(method, token, self._roles, self._auth)
            reset = current_principal.set(principal)
            try:
                yield
            finally:
                current_principal.reset(reset)
        except Exception as exc:  # noqa: BLE001 - mapped to a status below
            self._fail(method, principal, start, exc, context)
        self._access(method, principal, start, "OK")

    def _fail(self, method, principal, start, exc, context):
        status = status_for(exc)
        code_name = code_pb2.Code.Name(status.code)
        if status.code == code_pb2.INTERNAL:
            log.exception("unhandled error in %s", method, exc_info=exc)
        self._access(method, principal, start, code_name, status.message)
        context.abort_with_status(rpc_status.to_status(status))

    @staticmethod
    def _access(method, principal, start, code, message=""):
        log.info(
            "rpc",
            extra={"rpc": {
                "method": method,
                "code": code,
                "ms": round((time.perf_counter() - start) * 1000, 2),
                "subject": principal.subject if principal else None,
                "role": principal.role if principal else None,
                **({"error": message} if message else {}),
            }},
        )
