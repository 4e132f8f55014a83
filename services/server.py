"""Wiring: the gRPC server with auth, health checking, reflection and graceful drain."""
from __future__ import annotations

import logging
import signal
import threading
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services._proto.qrelay.v1 import common_pb2, evaluation_pb2, grading_pb2, operations_pb2, reporting_pb2
from services.auth import Authenticator, method_roles
from services.config import Config
from services.ratelimit import RateLimiter
from services.rpc import ServerInterceptor

log = logging.getLogger("qrelay.server")

PROTO_FILES = (common_pb2, evaluation_pb2, grading_pb2, reporting_pb2, operations_pb2)

SERVICE_FILES = (evaluation_pb2, grading_pb2, reporting_pb2, operations_pb2)


def service_names() -> list[str]:
    return [svc.full_name for mod in SERVICE_FILES for svc in mod.DESCRIPTOR.services_by_name.values()]


class PortInUse(Exception):
    """The gRPC port cannot be bound."""


@dataclass
class RunningServer:
    server: grpc.Server
    health: health.HealthServicer
    port: int
    drain_seconds: float

    def drain(self) -> None:
        """Stop taking new RPCs, let in-flight ones finish for up to ``drain_seconds``."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace=self.drain_seconds).wait()


def start(cfg: Config, authenticator: Authenticator, servicers: Sequence[tuple[Callable, object]],
          audit: Callable[[dict], None] | None = None) -> RunningServer:
    """Build and start the server with ``(add_*_to_server, servicer)`` pairs; returns once it listens.

    A service whose servicer is the generated base class answers UNIMPLEMENTED. ``audit`` writes
    one record per change (``services.store.audit``); the rate limits and TLS come from ``cfg``.
    """
    roles = method_roles(m.DESCRIPTOR for m in PROTO_FILES)
    inputs = {f"/{svc.full_name}/{m.name}": m.input_type.name
              for mod in SERVICE_FILES for svc in mod.DESCRIPTOR.services_by_name.values() for m in svc.methods}
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=cfg.server.max_workers, thread_name_prefix="rpc"),
        interceptors=[ServerInterceptor(roles, authenticator, inputs, RateLimiter(cfg.server.rate_limits), audit)],
        options=[("grpc.so_reuseport", 0)],
    )
    for add, servicer in servicers:
        add(servicer, server)

    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = service_names()
    reflection.enable_server_reflection([*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)

    address = f"{cfg.server.host}:{cfg.server.port}"
    try:
        if cfg.server.tls_cert is not None:
            port = server.add_secure_port(address, tls_credentials(cfg.server.tls_cert, cfg.server.tls_key))
        else:
            port = server.add_insecure_port(address)
    except RuntimeError:
        port = 0
    if port == 0 and cfg.server.port != 0:
        raise PortInUse(f"cannot listen on {address}: the port is in use or the address is not local")
    server.start()
    for name in ["", *names]:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(server, health_servicer, port, cfg.server.drain_seconds)


class TlsError(Exception):
    """The TLS certificate or key cannot be used."""


def tls_credentials(cert: Path, key: Path) -> grpc.ServerCredentials:
    """Server credentials from a PEM certificate chain and its private key."""
    try:
        chain, private = Path(cert).read_bytes(), Path(key).read_bytes()
    except OSError as exc:
        raise TlsError(f"cannot read the TLS certificate or key: {exc.filename}: {exc.strerror}") from None
    if b"-----BEGIN" not in chain or b"PRIVATE KEY-----" not in private:
        raise TlsError("--tls-cert needs a PEM certificate chain and --tls-key its PEM private key")
    return grpc.ssl_server_credentials([(private, chain)])


def run_until_signalled(running: RunningServer) -> None:
    """Block until SIGTERM/SIGINT, then drain."""
    stop = threading.Event()

    def on_signal(signum, _frame):
        log.info("draining", extra={"signal": signal.Signals(signum).name, "grace_s": running.drain_seconds})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    stop.wait()
    running.drain()
    log.info("stopped")
