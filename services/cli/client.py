"""What every gRPC-client command shares: the address, the token, and readable errors."""
from __future__ import annotations

import argparse
import os
from contextlib import contextmanager

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from services.cli import CommandError


def add_connection_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--server", default=os.environ.get("QRELAY_ADDRESS", "127.0.0.1:50051"),
                   help="qrelay gRPC address (QRELAY_ADDRESS, default 127.0.0.1:50051)")
    p.add_argument("--token", default=os.environ.get("QRELAY_TOKEN"),
                   help="bearer token (QRELAY_TOKEN; the local stack prints dev tokens)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per call (default 30)")
    p.add_argument("--ca-file", default=os.environ.get("QRELAY_CA_FILE"),
                   help="PEM CA certificate(s): connect over TLS, trusting these (QRELAY_CA_FILE; default plaintext)")


def metadata(args: argparse.Namespace) -> tuple[tuple[str, str], ...]:
    if not args.token:
        raise CommandError("no token: pass --token or set QRELAY_TOKEN")
    return (("authorization", f"Bearer {args.token}"),)


def describe(err: grpc.RpcError) -> str:
    """``CODE: message`` plus one line per field violation."""
    lines = [f"{err.code().name}: {err.details()}"]
    status = rpc_status.from_call(err)
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            lines += [f"  {v.field}: {v.description}" for v in bad.field_violations]
    return "\n".join(lines)


def open_channel(target: str, ca_file: str | None) -> grpc.Channel:
    """A channel to ``target``: TLS trusting the PEM CA certificates in ``ca_file``, else plaintext."""
    if not ca_file:
        return grpc.insecure_channel(target)
    try:
        ca = open(ca_file, "rb").read()
    except OSError as exc:
        raise CommandError(f"cannot read the CA file {ca_file}: {exc.strerror}") from None
    return grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=ca))


@contextmanager
def channel(args: argparse.Namespace):
    """A channel to ``--server``; gRPC failures become one readable :class:`CommandError`."""
    ch = open_channel(args.server, getattr(args, "ca_file", None))
    try:
        yield ch
    except grpc.RpcError as err:
        if err.code() == grpc.StatusCode.UNAVAILABLE and "connect" in (err.details() or "").lower():
            raise CommandError(f"cannot reach qrelay at {args.server} (is `qrelay serve` running?)") from None
        raise CommandError(describe(err), exit_code=1) from None
    finally:
        ch.close()
