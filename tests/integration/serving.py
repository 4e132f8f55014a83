"""Start ``qrelay serve`` as a real process on a free port (shared by integration tests)."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import grpc

TOKENS = {"engineer": "t-eng", "grader": "t-grader", "ops": "t-ops", "admin": "t-admin"}
TOKENS_SPEC = ",".join(f"{t}={role}-user:{role}" for role, t in TOKENS.items())
# tests drive every role as scripts with no think time: no rate limits unless a test sets them
# (tests/integration/test_abuse.py does)
NO_RATE_LIMITS = "grader=0,engineer=0,ops=0,admin=0"


@contextmanager
def qrelay_server(es_url: str, index_prefix: str, log_path: Path, extra_env: dict | None = None):
    """Yields ``(address, process)``; drains it with SIGTERM afterwards."""
    env = {**os.environ, "QRELAY_ES_URL": es_url, "QRELAY_INDEX_PREFIX": index_prefix,
           "QRELAY_TOKENS": TOKENS_SPEC, "QRELAY_PORT": "0", "QRELAY_RATE_LIMITS": NO_RATE_LIMITS, **(extra_env or {})}
    log = open(log_path, "w+")
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", "serve"], env=env, stdout=log, stderr=log)
    address = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and address is None:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"qrelay serve exited with {proc.returncode}:\n{log.read()}")
        log.seek(0)
        m = re.search(r"serving gRPC on (\S+):(\d+)", log.read())
        if m:
            address = f"{m.group(1)}:{m.group(2)}"
        else:
            time.sleep(0.1)
    if address is None:
        proc.kill()
        raise RuntimeError("qrelay serve did not start within 60 s")
    cert = (extra_env or {}).get("QRELAY_TLS_CERT")
    ready = (grpc.secure_channel(address, grpc.ssl_channel_credentials(Path(cert).read_bytes())) if cert
             else grpc.insecure_channel(address))
    grpc.channel_ready_future(ready).result(timeout=10)
    ready.close()
    try:
        yield address, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


def auth(role: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {TOKENS[role]}"),)
