"""``qrelay web``: the graders' app and the dashboards, a thin HTTP front over a running gRPC server."""
from __future__ import annotations

import argparse
import sys

from services.cli import CommandError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "web",
        help="serve the graders' web app and the dashboards",
        description="Serve the graders' web app and the dashboards over HTTP. Graders sign in at / with "
        "the credential OperationsService.CreateGrader issued; engineers and ops leads sign in with "
        "their token to the report pages (/evaluations), trends (/trends) and scorecards (/workforce). "
        "Every action is a call to the gRPC server given by --grpc, made with the user's own "
        "credential; that server decides who may see what. SIGTERM or Ctrl-C finishes requests in "
        "flight, then stops.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="HTTP port (default 8080; 0 picks a free one)")
    p.add_argument("--grpc", default="127.0.0.1:50051", help="the qrelay gRPC server (default 127.0.0.1:50051)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from services.web.app import WebServer

    try:
        server = WebServer(args.port, args.grpc, args.host)
    except OSError as exc:
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    host, port = server.address
    print(f"qrelay web on http://{host}:{port}/ (gRPC {args.grpc})", file=sys.stderr, flush=True)
    server.run()
    return 0
