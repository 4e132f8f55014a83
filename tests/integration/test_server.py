"""`qrelay serve` as a user meets it: a real process, a real socket, a real Elasticsearch."""
import signal
import socket
import subprocess
import sys

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from services._proto.qrelay.v1 import evaluation_pb2, evaluation_pb2_grpc, grading_pb2, grading_pb2_grpc
from tests.integration.serving import auth, qrelay_server

QRELAY_SERVICES = {"qrelay.v1.EvaluationService", "qrelay.v1.GradingService",
                   "qrelay.v1.ReportingService", "qrelay.v1.OperationsService"}


@pytest.fixture(scope="module")
def server(es_url, es, tmp_path_factory):
    prefix = "qt-server-"
    with qrelay_server(es_url, prefix, tmp_path_factory.mktemp("serve") / "serve.log") as (address, proc):
        yield address, proc, prefix
    for index in es.indices.get(index=f"{prefix}*").body:
        es.indices.delete(index=index)


@pytest.fixture()
def channel(server):
    with grpc.insecure_channel(server[0]) as ch:
        yield ch


def test_health_serving_for_server_and_each_service(channel):
    stub = health_pb2_grpc.HealthStub(channel)
    for name in ["", *QRELAY_SERVICES]:
        assert stub.Check(health_pb2.HealthCheckRequest(service=name)).status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_four_services(channel):
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    names = {s.name for r in stub.ServerReflectionInfo(iter([request])) for s in r.list_services_response.service}
    assert QRELAY_SERVICES <= names
    # and the descriptors behind them resolve, so grpcurl can build requests
    request = reflection_pb2.ServerReflectionRequest(file_containing_symbol="qrelay.v1.EvaluationService")
    files = [r.file_descriptor_response.file_descriptor_proto for r in stub.ServerReflectionInfo(iter([request]))]
    assert files and files[0]


def test_index_templates_installed(server, es):
    prefix = server[2]
    for family in ("evaluations", "items", "assignments", "judgements", "gold", "graders", "partners",
                   "programmes", "metrics", "embeddings", "system", "holds", "seats", "audit"):
        assert es.indices.exists(index=f"{prefix}{family}")
        mapping = es.indices.get_mapping(index=f"{prefix}{family}").body[f"{prefix}{family}"]["mappings"]
        assert mapping["dynamic"] == "strict"


def _call(fn, request, metadata=()):
    with pytest.raises(grpc.RpcError) as info:
        fn(request, metadata=metadata, timeout=10)
    return info.value


def test_auth_codes(channel):
    stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
    req = evaluation_pb2.GetEvaluationRequest(name="evaluations/x")
    assert _call(stub.GetEvaluation, req).code() == grpc.StatusCode.UNAUTHENTICATED
    assert _call(stub.GetEvaluation, req, (("authorization", "Bearer wrong"),)).code() == grpc.StatusCode.UNAUTHENTICATED
    denied = _call(stub.GetEvaluation, req, auth("grader"))
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED and "grader" in denied.details()
    grading = grading_pb2_grpc.GradingServiceStub(channel)
    assert _call(grading.GetMyStats, grading_pb2.GetMyStatsRequest(), auth("engineer")).code() == grpc.StatusCode.PERMISSION_DENIED


def test_sigterm_drains_and_exits_zero(es_url, tmp_path):
    with qrelay_server(es_url, "qt-drain-", tmp_path / "serve.log") as (address, proc):
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    assert '"msg": "draining"' in (tmp_path / "serve.log").read_text()


def _serve(*args, env=None):
    return subprocess.run([sys.executable, "-m", "services.cli", "serve", *args], capture_output=True, text=True,
                          timeout=60, env=env)


def test_unreachable_es_is_one_clear_sentence():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    r = _serve("--es-url", f"http://127.0.0.1:{port}")
    assert r.returncode == 2
    assert "cannot be reached" in r.stderr and "Traceback" not in r.stderr


def test_port_in_use_is_one_clear_sentence(es_url):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        r = _serve("--es-url", es_url, "--port", str(s.getsockname()[1]), "--index-prefix", "qt-port-")
    assert r.returncode == 2
    assert "port is in use" in r.stderr and "Traceback" not in r.stderr


def test_unknown_flag_exits_nonzero():
    r = _serve("--no-such-flag")
    assert r.returncode == 2 and "unrecognized arguments: --no-such-flag" in r.stderr
