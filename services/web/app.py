"""The graders' web app: a thin HTTP front over the gRPC API.

The browser holds the grader's credential and sends it as ``Authorization: Bearer …``; each
``/api/{method}`` call is forwarded as is to the GradingService method of that name, with the
same token, and the answer (or the gRPC status) comes back as JSON. There is no business logic
here: routing, leases, scales and validation are the gRPC server's.

    GET  /                     the app (static HTML/CSS/JS)
    POST /api/NextAssignment   body: NextAssignmentRequest as JSON  → Assignment as JSON
    POST /api/SubmitJudgement  … and SkipAssignment, ExtendLease, GetMyStats alike
    errors: {"code": "FAILED_PRECONDITION", "message": "..."} with a matching HTTP status
"""
from __future__ import annotations

import json
import logging
import mimetypes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import grpc
from google.protobuf import json_format

from services._proto.qrelay.v1 import grading_pb2, grading_pb2_grpc

log = logging.getLogger("qrelay.web")

STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY = 64 * 1024
TIMEOUT_S = 15.0

# method -> request message type: exactly the GradingService methods, nothing else
METHODS = {m.name: getattr(grading_pb2, m.input_type.name)
           for m in grading_pb2.DESCRIPTOR.services_by_name["GradingService"].methods}

HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400, grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403, grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.FAILED_PRECONDITION: 409, grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}
PAGES = {"/": "index.html", "/app.js": "app.js", "/app.css": "app.css"}


class App:
    """What every request handler shares: the gRPC channel."""

    def __init__(self, grpc_target: str, ca_file: str | None = None):
        from services.cli.client import open_channel

        self.channel = open_channel(grpc_target, ca_file)
        self.stub = grading_pb2_grpc.GradingServiceStub(self.channel)

    def call(self, method: str, body: dict, token: str) -> tuple[int, dict]:
        request = json_format.ParseDict(body, METHODS[method](), ignore_unknown_fields=False)
        try:
            response = getattr(self.stub, method)(request, metadata=(("authorization", f"Bearer {token}"),),
                                                  timeout=TIMEOUT_S)
        except grpc.RpcError as e:
            code = e.code()
            return HTTP_STATUS.get(code, 502), {"code": code.name, "message": e.details() or code.name}
        return 200, json_format.MessageToDict(response, preserving_proto_field_name=True,
                                              always_print_fields_with_no_presence=True)


def handler(app: App) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "qrelay-web"

        def log_message(self, fmt, *args):  # one line per request, through logging
            log.debug("%s %s", self.address_string(), fmt % args)

        def _send(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Content-Security-Policy",
                             "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, obj: dict) -> None:
            self._send(status, json.dumps(obj).encode(), "application/json; charset=utf-8")

        def do_GET(self):
            name = PAGES.get(self.path.split("?", 1)[0])
            if name is None:
                return self._json(404, {"code": "NOT_FOUND", "message": "no such page"})
            ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
            self._send(200, (STATIC / name).read_bytes(), f"{ctype}; charset=utf-8")

        def do_POST(self):
            path = self.path.split("?", 1)[0]
            method = path[len("/api/"):] if path.startswith("/api/") else ""
            if method not in METHODS:
                return self._json(404, {"code": "NOT_FOUND", "message": f"no API method {path}"})
            auth = self.headers.get("Authorization", "")
            token = auth[len("Bearer "):].strip() if auth.startswith("Bearer ") else ""
            if not token:
                return self._json(401, {"code": "UNAUTHENTICATED", "message": "sign in with your credential"})
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return self._json(413, {"code": "INVALID_ARGUMENT", "message": "request too large"})
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("not an object")
                status, out = app.call(method, body, token)
            except (ValueError, json_format.ParseError) as exc:
                status, out = 400, {"code": "INVALID_ARGUMENT", "message": f"bad request body: {exc}"}
            self._json(status, out)

    return Handler


def serve(port: int, grpc_target: str, host: str = "127.0.0.1", ca_file: str | None = None) -> ThreadingHTTPServer:
    """A started-but-not-serving HTTP server (call ``serve_forever``); ``ca_file``: reach gRPC over TLS."""
    httpd = ThreadingHTTPServer((host, port), handler(App(grpc_target, ca_file)))
    httpd.daemon_threads = True
    return httpd
