"""``qrelay web``: the graders' web app, a thin HTTP front over a running gRPC server."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from services.cli import CommandError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "web",
        help="serve the graders' web app",
        description="Serve the graders' web app over HTTP. Graders sign in with the credential "
        "OperationsService.CreateGrader issued; every action is a GradingService call to the gRPC "
        "server given by --grpc, made with the grader's own credential.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="HTTP port (default 8080; 0 picks a free one)")
    p.add_argument("--grpc", default="127.0.0.1:50051", help="the qrelay gRPC server (default 127.0.0.1:50051)")
    p.add_argument("--ca-file", default=os.environ.get("QRELAY_CA_FILE"),
                   help="PEM CA certificate(s): reach the gRPC server over TLS (QRELAY_CA_FILE; default plaintext)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from services.web.app import serve

    try:
        httpd = serve(args.port, args.grpc, args.host, ca_file=args.ca_file)
    except OSError as exc:
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    host, port = httpd.server_address[:2]
    print(f"qrelay web on http://{host}:{port}/ (gRPC {args.grpc})", file=sys.stderr, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    stop.wait()
    httpd.shutdown()
    httpd.server_close()
    return 0
