"""The web front: the graders' app and the dashboards, a thin ASGI gateway over the gRPC API.

The browser holds the user's credential and sends it as ``Authorization: Bearer …``; each API
call is forwarded as is to the gRPC method of that name, with the same token, and the answer
(or the gRPC status) comes back as JSON. There is no business logic here: who may see what is
the gRPC server's auth interceptor's decision (a grader's token gets PERMISSION_DENIED from the
reporting RPCs, which the pages show), and routing, leases, reports and scorecards are the
server's too. The pages are static files; everything they show comes through ``/api``.

    GET  /                          the graders' app (static HTML/CSS/JS)
    GET  /evaluations               dashboards for engineer/ops/admin tokens: evaluations,
    GET  /evaluations/{id}          an evaluation's report, trends with alerts,
    GET  /trends, /workforce        grader and partner scorecards
    POST /api/NextAssignment        body: NextAssignmentRequest as JSON → Assignment as JSON
    POST /api/SubmitJudgement       … and every other GradingService method alike
    POST /api/{Service}/{Method}    the read-only EvaluationService/ReportingService calls of the dashboards
    errors: {"code": "FAILED_PRECONDITION", "message": "...", "violations": [...]} with a matching HTTP status
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from pathlib import Path

import grpc
from google.protobuf import json_format, message_factory
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from services._proto.qrelay.v1 import evaluation_pb2, grading_pb2, reporting_pb2

log = logging.getLogger("qrelay.web")

STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY = 64 * 1024
TIMEOUT_S = 15.0

# What the browser may call. The graders' app needs every GradingService method; the dashboards
# only read, so the gateway offers them the read methods and nothing that writes (creating or
# cancelling evaluations stays with the CLI and gRPC clients): a stolen page cannot do more
# than look. Roles are still the server's to check on every call.
_SERVICES = {
    "GradingService": (grading_pb2, None),
    "EvaluationService": (evaluation_pb2, ("GetEvaluation", "ListEvaluations")),
    "ReportingService": (reporting_pb2, ("GetEvaluationReport", "CompareRankers", "ListMetricSnapshots",
                                         "ListAlerts", "GetGraderScorecard", "GetPartnerScorecard",
                                         "ListScorecards")),
}


def _methods() -> dict[tuple[str, str], tuple[str, type, type]]:
    """(service, method) → (gRPC path, request class, response class) for every method offered."""
    table = {}
    for service, (module, allowed) in _SERVICES.items():
        desc = module.DESCRIPTOR.services_by_name[service]
        for m in desc.methods:
            if m.server_streaming or m.client_streaming or (allowed is not None and m.name not in allowed):
                continue
            table[(service, m.name)] = (f"/{desc.full_name}/{m.name}", message_factory.GetMessageClass(m.input_type),
                                        message_factory.GetMessageClass(m.output_type))
    return table


METHODS = _methods()

HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400, grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403, grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.FAILED_PRECONDITION: 409, grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNIMPLEMENTED: 501, grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}

# the graders' app keeps its paths; the dashboards share one static shell, whose script loads
# the page the path names and its data
PAGES = {"/": "index.html", "/app.js": "app.js", "/app.css": "app.css",
         "/evaluations": "dash.html", "/evaluations/{evaluation_id}": "dash.html",
         "/trends": "dash.html", "/workforce": "dash.html"}

HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
}


def error(status: int, code: str, message: str, violations: list | None = None) -> JSONResponse:
    body = {"code": code, "message": message}
    if violations:
        body["violations"] = violations
    return JSONResponse(body, status_code=status)


def _violations(err: grpc.aio.AioRpcError) -> list[dict]:
    """The google.rpc.BadRequest field violations an INVALID_ARGUMENT carries, if any."""
    status = rpc_status.from_call(err)
    out = []
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            out += [{"field": v.field, "description": v.description} for v in bad.field_violations]
    return out


class Gateway:
    """The one gRPC channel every request shares (opened and closed with the app's lifespan)."""

    def __init__(self, grpc_target: str):
        self.target = grpc_target
        self.channel: grpc.aio.Channel | None = None
        self._calls: dict = {}

    async def open(self) -> None:
        self.channel = grpc.aio.insecure_channel(self.target)
        self._calls = {key: self.channel.unary_unary(path, request_serializer=req.SerializeToString,
                                                     response_deserializer=resp.FromString)
                       for key, (path, req, resp) in METHODS.items()}

    async def close(self) -> None:
        if self.channel is not None:
            await self.channel.close()

    async def call(self, service: str, method: str, body: dict, token: str) -> JSONResponse:
        request = json_format.ParseDict(body, METHODS[(service, method)][1](), ignore_unknown_fields=False)
        try:
            response = await self._calls[(service, method)](
                request, metadata=(("authorization", f"Bearer {token}"),), timeout=TIMEOUT_S)
        except grpc.aio.AioRpcError as err:
            code = err.code()
            return error(HTTP_STATUS.get(code, 502), code.name, err.details() or code.name, _violations(err))
        return JSONResponse(json_format.MessageToDict(response, preserving_proto_field_name=True,
                                                      always_print_fields_with_no_presence=True))


async def _body(request: Request) -> bytes | None:
    """The request body, or None past MAX_BODY (counted as it streams, whatever Content-Length says)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(grpc_target: str) -> Starlette:
    gateway = Gateway(grpc_target)

    async def api(request: Request) -> Response:
        service = request.path_params.get("service", "GradingService")
        method = request.path_params["method"]
        if (service, method) not in METHODS:
            return error(404, "NOT_FOUND", f"no API method {request.url.path}")
        auth = request.headers.get("authorization", "")
        token = auth[len("Bearer "):].strip() if auth.startswith("Bearer ") else ""
        if not token:
            return error(401, "UNAUTHENTICATED", "sign in with your credential")
        raw = await _body(request)
        if raw is None:
            return error(413, "INVALID_ARGUMENT", "request too large")
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError("not an object")
            return await gateway.call(service, method, body, token)
        except (ValueError, json_format.ParseError) as exc:
            return error(400, "INVALID_ARGUMENT", f"bad request body: {exc}")

    def page(name: str):
        async def endpoint(request: Request) -> Response:
            return FileResponse(STATIC / name)
        return endpoint

    async def not_found(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 405:
            return error(405, "UNIMPLEMENTED", f"{request.method} is not served at {request.url.path}")
        return error(exc.status_code, "NOT_FOUND", "no such page")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await gateway.open()
        yield
        await gateway.close()

    routes = [Route(path, page(name), methods=["GET"]) for path, name in PAGES.items()]
    routes += [Route("/api/{method}", api, methods=["POST"]),
               Route("/api/{service}/{method}", api, methods=["POST"]),
               Mount("/static", StaticFiles(directory=STATIC), name="static")]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: not_found})
    return SecurityHeaders(app)


class SecurityHeaders:
    """Adds the same headers to every response: no caching of credentials' answers, a strict CSP
    (no inline script or style anywhere), no MIME sniffing, no referrer."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [(k, v) for k, v in message["headers"]
                                      if k.decode().lower() not in {h.lower() for h in HEADERS}]
                message["headers"] += [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]
            await send(message)

        await self.app(scope, receive, with_headers)


class WebServer:
    """``qrelay web``: uvicorn on a socket bound (and listening) before the address is announced,
    so port 0 works and a client that reads the address can connect at once."""

    def __init__(self, port: int, grpc_target: str, host: str = "127.0.0.1"):
        import uvicorn

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.socket.bind((host, port))
            self.socket.listen(128)
        except OSError:
            self.socket.close()
            raise
        self.address = self.socket.getsockname()[:2]
        # uvicorn's own logging setup is skipped (log_config=None): records go to ours;
        # SIGTERM/SIGINT make it finish in-flight requests, then stop
        self.server = uvicorn.Server(uvicorn.Config(
            create_app(grpc_target), log_config=None, access_log=False, timeout_graceful_shutdown=10,
            lifespan="on"))

    def run(self) -> None:
        asyncio.run(self.server.serve(sockets=[self.socket]))
