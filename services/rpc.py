"""The gRPC edge: one interceptor that authenticates, authorises, maps domain errors to
status codes (in this one place), and writes one structured access-log line per RPC."""
from __future__ import annotations

import json
import logging
import time
import uuid
from contextlib import contextmanager
from typing import Callable, Mapping

import grpc
from google.protobuf import any_pb2, duration_pb2, json_format, text_format
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.core import errors
from services.auth import Authenticator, authenticate, bearer_token, current_principal, permit
from services.config import Principal
from services.ratelimit import RateLimiter

log = logging.getLogger("qrelay.rpc")

_CODES: tuple[tuple[type[errors.QrelayError], grpc.StatusCode], ...] = (
    (errors.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (errors.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (errors.Unavailable, grpc.StatusCode.UNAVAILABLE),
    (errors.ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
)

# Services anyone may call without a token: health checks and reflection.
PUBLIC_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")

# What an error answer may echo back. gRPC carries the message (percent-encoded) and the status
# details (base64) in trailing metadata, which clients refuse past 8 KB ("Stream removed"): a
# message or field violation quoting a long input must be cut, so the answer reaches the caller.
MAX_MESSAGE_BYTES = 512
MAX_FIELD_BYTES = 128
MAX_DESCRIPTION_BYTES = 256
MAX_VIOLATIONS = 16


def cap(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes (whole characters), marked with an ellipsis.

    >>> cap("abc", 10), cap("x" * 20, 10), len(cap("日" * 20, 10).encode())
    ('abc', 'xxxxxxx…', 9)
    """
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[:limit - 3].decode(errors="ignore") + "…"


def _violations(items: list[errors.FieldViolation]) -> list[error_details_pb2.BadRequest.FieldViolation]:
    out = [error_details_pb2.BadRequest.FieldViolation(field=cap(v.field, MAX_FIELD_BYTES),
                                                       description=cap(v.description, MAX_DESCRIPTION_BYTES))
           for v in items[:MAX_VIOLATIONS]]
    if len(items) > MAX_VIOLATIONS:
        out.append(error_details_pb2.BadRequest.FieldViolation(
            field="request", description=f"and {len(items) - MAX_VIOLATIONS} more problems"))
    return out


class Undecodable:
    """A request whose bytes do not parse as the method's message (answered INVALID_ARGUMENT after
    authentication, instead of gRPC's own INTERNAL "Exception deserializing request")."""

    def __init__(self, message_name: str, reason: str):
        self.message_name, self.reason = message_name, reason


def tolerant(deserializer: Callable | None, message_name: str) -> Callable | None:
    if deserializer is None:
        return None

    def parse(data: bytes):
        try:
            return deserializer(data)
        except Exception as exc:  # noqa: BLE001 - any parse failure is the caller's bytes
            return Undecodable(message_name, type(exc).__name__)

    return parse


def status_for(exc: BaseException) -> status_pb2.Status:
    """The google.rpc.Status a caller gets for ``exc``."""
    from services.store.client import StoreUnavailable

    if isinstance(exc, errors.QrelayError):
        code = next((c for cls, c in _CODES if isinstance(exc, cls)), grpc.StatusCode.INTERNAL)
        status = status_pb2.Status(code=code.value[0], message=cap(str(exc), MAX_MESSAGE_BYTES))
        if isinstance(exc, errors.InvalidArgument):
            detail = any_pb2.Any()
            detail.Pack(error_details_pb2.BadRequest(field_violations=_violations(exc.violations)))
            status.details.append(detail)
        if isinstance(exc, errors.ResourceExhausted):
            detail = any_pb2.Any()
            delay = duration_pb2.Duration()
            delay.FromNanoseconds(int(exc.retry_after * 1e9))
            detail.Pack(error_details_pb2.RetryInfo(retry_delay=delay))
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


def _decoded(request) -> None:
    if isinstance(request, Undecodable):
        raise errors.InvalidArgument(errors.FieldViolation(
            "request", f"the bytes are not a valid {request.message_name} message ({request.reason})"))


# Methods that change nothing, by the API's naming convention (AIP standard and custom reads).
READS = ("Get", "List", "Watch", "Compare", "Export")
AUDIT_REQUEST_BYTES = 8192


def is_change(method: str) -> bool:
    """Whether a method changes something (and so is audited).

    >>> is_change("/qrelay.v1.OperationsService/SuspendGrader"), is_change("/qrelay.v1.EvaluationService/ListEvaluations")
    (True, False)
    """
    return not method.rsplit("/", 1)[-1].startswith(READS)


class _Call:
    """What the audit needs to know of one call: its request and response, once there."""

    def __init__(self, request):
        self.request, self.response = request, None


class ServerInterceptor(grpc.ServerInterceptor):
    def __init__(self, roles: Mapping[str, frozenset[str]], authenticator: Authenticator,
                 inputs: Mapping[str, str] | None = None, limiter: RateLimiter | None = None,
                 audit: Callable[[dict], None] | None = None):
        self._roles = roles
        self._auth = authenticator
        self._inputs = dict(inputs or {})  # method -> its request message's name, for errors
        self._limiter = limiter
        self._audit = audit  # writes one audit record (services.store.audit), or None: no audit log

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(PUBLIC_PREFIXES):
            return handler
        token = bearer_token(handler_call_details.invocation_metadata or ())
        parse = tolerant(handler.request_deserializer, self._inputs.get(method, "request"))
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(method, token, handler.unary_unary),
                request_deserializer=parse,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(method, token, handler.unary_stream),
                request_deserializer=parse,
                response_serializer=handler.response_serializer,
            )
        return handler  # qrelay has no client-streaming RPCs

    def _unary(self, method: str, token: str | None, behaviour: Callable):
        def wrapped(request, context):
            call = _Call(request)
            with self._serving(method, token, context, call):
                _decoded(request)
                call.response = behaviour(request, context)
                return call.response

        return wrapped

    def _stream(self, method: str, token: str | None, behaviour: Callable):
        def wrapped(request, context):
            with self._serving(method, token, context, _Call(request)):
                _decoded(request)
                yield from behaviour(request, context)

        return wrapped

    @contextmanager
    def _serving(self, method: str, token: str | None, context, call: _Call):
        """Authenticate, authorise, rate-limit, run the body as the caller's principal, map its
        failure, log the call, and audit it when it is a change."""
        start = time.perf_counter()
        principal = None
        try:
            principal = authenticate(token, self._auth)
            permit(method, principal, self._roles)
            self._limit(principal)
            reset = current_principal.set(principal)
            try:
                yield
            finally:
                current_principal.reset(reset)
        except Exception as exc:  # noqa: BLE001 - mapped to a status below
            self._fail(method, principal, start, exc, context, call)
        self._access(method, principal, start, "OK")
        self._record(method, principal, context, call, "OK")

    def _limit(self, principal: Principal) -> None:
        wait = self._limiter.take(principal) if self._limiter else None
        if wait is not None:
            raise errors.ResourceExhausted(
                f"rate limit: {principal.role} {principal.subject!r} is over its calls per second; "
                f"retry in {wait:.2f} s", wait)

    def _fail(self, method, principal, start, exc, context, call):
        status = status_for(exc)
        code_name = code_pb2.Code.Name(status.code)
        if status.code == code_pb2.INTERNAL:
            log.exception("unhandled error in %s", method, exc_info=exc)
        self._access(method, principal, start, code_name, status.message)
        self._record(method, principal, context, call, code_name, status.message)
        context.abort_with_status(rpc_status.to_status(status))

    def _record(self, method: str, principal: Principal | None, context, call: _Call, code: str,
                message: str = "") -> None:
        """One audit record for a change by an engineer, ops lead or admin, or an attempt at one by
        anybody signed in (a grader calling an operations method). Never fails the call."""
        if self._audit is None or principal is None or not is_change(method) or code == "RESOURCE_EXHAUSTED":
            return
        if principal.role == "grader" and method.startswith("/qrelay.v1.GradingService/"):
            return  # graders' own work: their judgements are the record
        try:
            self._audit(audit_record(method, principal, context, call, code, message))
        except Exception:  # noqa: BLE001 - the change is done; the access log keeps the line
            log.error("could not write the audit record of %s by %s", method, principal.subject, exc_info=True)

    @staticmethod
    def _access(method, principal, start, code, message=""):
        """One structured access-log line per call."""
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


def audit_record(method: str, principal: Principal, context, call: _Call, code: str, message: str) -> dict:
    """Who, what, when, under which request id, with what outcome (services.store.audit)."""
    from services.core import clock

    request = call.request if not isinstance(call.request, Undecodable) else None
    request_id = getattr(request, "request_id", "") if request is not None else ""
    for key, value in context.invocation_metadata() or ():
        if key == "x-request-id" and not request_id:
            request_id = value if isinstance(value, str) else value.decode(errors="replace")
    return {
        "audit_id": uuid.uuid4().hex, "time": clock.now_iso(), "subject": principal.subject, "role": principal.role,
        "method": method, "request_id": cap(request_id, 200), "target": cap(_target(request, call.response), 300),
        "code": code, "message": message, "peer": context.peer(), "request": _summary(request),
    }


def _target(request, response) -> str:
    """The resource a call created or named: the response's name, the request's, or a named child's."""
    for msg in (response, request):
        if msg is None:
            continue
        fields = msg.DESCRIPTOR.fields_by_name
        if "name" in fields and getattr(msg, "name"):
            return msg.name
        for f in msg.DESCRIPTOR.fields:
            if f.message_type is not None and not f.is_repeated and msg.HasField(f.name):
                child = getattr(msg, f.name)
                if "name" in child.DESCRIPTOR.fields_by_name and child.name:
                    return child.name
    return ""


def _summary(request) -> dict:
    """The request as JSON, cut to :data:`AUDIT_REQUEST_BYTES` (a big request keeps its shape only)."""
    if request is None:
        return {"undecodable": True}
    try:
        as_json = json_format.MessageToDict(request, preserving_proto_field_name=True)
    except json_format.SerializeToJsonError:  # e.g. a Timestamp out of range: keep the wire form
        return {"text": cap(text_format.MessageToString(request, as_one_line=True), AUDIT_REQUEST_BYTES)}
    text = json.dumps(as_json, ensure_ascii=False)
    if len(text.encode()) <= AUDIT_REQUEST_BYTES:
        return as_json
    return {"cut": True, "bytes": len(text.encode()), "fields": sorted(as_json)}
