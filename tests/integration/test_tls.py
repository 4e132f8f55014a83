"""Optional TLS on the gRPC port (`qrelay serve --tls-cert/--tls-key`), with a self-signed
certificate made here; the CLI and the web app's gRPC client connect with a CA file."""
from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import re
import subprocess
import sys
import urllib.request
import uuid

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services._proto.qrelay.v1 import evaluation_pb2, evaluation_pb2_grpc
from tests.integration import test_grading_support as w
from tests.integration.serving import TOKENS, auth, qrelay_server
from tests.integration.test_grading import _drop


def self_signed(directory) -> tuple:
    """A certificate for 127.0.0.1 and localhost, signed by its own key (it is its own CA)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "qrelay test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture(scope="module")
def tls_server(es_url, es, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tls")
    cert, key = self_signed(tmp)
    prefix = f"qt-tls-{uuid.uuid4().hex[:8]}-"
    with qrelay_server(es_url, prefix, tmp / "serve.log",
                       {"QRELAY_TLS_CERT": str(cert), "QRELAY_TLS_KEY": str(key)}) as (address, _):
        yield address, cert, prefix
    _drop(es, prefix)


def test_tls_clients_with_the_ca_connect_and_plaintext_ones_do_not(tls_server):
    address, cert, _ = tls_server
    creds = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
    with grpc.secure_channel(address, creds) as ch:
        r = evaluation_pb2_grpc.EvaluationServiceStub(ch).ListEvaluations(
            evaluation_pb2.ListEvaluationsRequest(), metadata=auth("engineer"), timeout=30)
        assert list(r.evaluations) == []
    with grpc.insecure_channel(address) as ch:
        assert w.code_of(evaluation_pb2_grpc.EvaluationServiceStub(ch).ListEvaluations,
                         evaluation_pb2.ListEvaluationsRequest(), metadata=auth("engineer"),
                         timeout=10) == grpc.StatusCode.UNAVAILABLE
    with grpc.secure_channel(address, grpc.ssl_channel_credentials()) as ch:  # the system CAs do not know it
        assert w.code_of(evaluation_pb2_grpc.EvaluationServiceStub(ch).ListEvaluations,
                         evaluation_pb2.ListEvaluationsRequest(), metadata=auth("engineer"),
                         timeout=10) == grpc.StatusCode.UNAVAILABLE


def test_the_cli_and_the_web_app_connect_with_a_ca_file(tls_server):
    address, cert, _ = tls_server
    env = {**os.environ, "QRELAY_ADDRESS": address, "QRELAY_TOKEN": TOKENS["engineer"]}
    ok = subprocess.run([sys.executable, "-m", "services.cli", "eval", "list", "--ca-file", str(cert)],
                        env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    plain = subprocess.run([sys.executable, "-m", "services.cli", "eval", "list"], env=env,
                           capture_output=True, text=True, timeout=60)
    assert plain.returncode != 0
    with grpc.secure_channel(address, grpc.ssl_channel_credentials(cert.read_bytes())) as ch:
        _, credential = w.create_grader(ch, locales=["en-US"])
    web = subprocess.Popen([sys.executable, "-m", "services.cli", "web", "--port", "0", "--grpc", address,
                            "--ca-file", str(cert)], stderr=subprocess.PIPE, text=True)
    try:
        m = re.search(r"qrelay web on (http://\S+?)/? ", web.stderr.readline())
        req = urllib.request.Request(f"{m.group(1)}/api/GetMyStats", data=b"{}", method="POST",
                                     headers={"Authorization": f"Bearer {credential}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            assert r.status == 200 and json.loads(r.read())["done_total"] == "0"
    finally:
        web.terminate()
        web.wait(30)
