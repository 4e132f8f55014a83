"""Fuzzing from the wire: every RPC the server's reflection lists gets requests generated from
its descriptors and byte-mutated ones (services.wirefuzz; CI size here, bench/bench_fuzz.py runs
≥ 10,000 per RPC). Only OK, INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION,
PERMISSION_DENIED, UNAUTHENTICATED and rate-limit RESOURCE_EXHAUSTED may come back, every error
must reach the client intact, and the server must stay up. The defects fuzzing found first are
pinned as plain cases."""
from __future__ import annotations

import math
import os
import uuid

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services import wirefuzz
from services._proto.qrelay.v1 import evaluation_pb2, evaluation_pb2_grpc, grading_pb2, grading_pb2_grpc
from services._proto.qrelay.v1 import reporting_pb2, reporting_pb2_grpc
from services._proto.qrelay.v1 import operations_pb2 as ops_pb2
from services._proto.qrelay.v1 import operations_pb2_grpc
from tests.integration import test_grading_support as w
from tests.integration.serving import TOKENS, auth, qrelay_server
from tests.integration.test_grading import World, _drop, bad_request_fields

EXAMPLES = int(os.environ.get("QRELAY_FUZZ_EXAMPLES", "60"))  # per RPC


@pytest.fixture(scope="module")
def fuzzed(es_url, es, tmp_path_factory):
    """A server with a world to fuzz in: an evaluation in GRADING, a grader holding two leases,
    and resources whose names the fuzzer may use (a second evaluation and grader it may wreck)."""
    prefix = f"qt-fuzz-{uuid.uuid4().hex[:8]}-"
    log = tmp_path_factory.mktemp("fuzz") / "serve.log"
    # (no rate limits in tests: a limited call would exercise nothing behind the edge)
    with qrelay_server(es_url, prefix, log) as (address, proc), \
            grpc.insecure_channel(address) as ch:
        world, spare = World(es, ch, prefix), World(es, ch, prefix)
        w.seed(es, prefix, spare.eval_id, w.pointwise(spare.eval_id, 3, locale="en-US"))
        world.seed(w.pointwise(world.eval_id, 40, locale="en-US") + w.side_by_side(world.eval_id, 10, locale="en-US"))
        grader = world.grader(locales=["en-US"])
        leased = [grader.next().name for _ in range(2)]
        partner = operations_pb2_grpc.OperationsServiceStub(ch).CreatePartner(ops_pb2.CreatePartnerRequest(
            partner=ops_pb2.Partner(display_name="spare")), metadata=auth("ops")).name
        names = [f"evaluations/{spare.eval_id}", w.create_grader(ch, locales=["en-US"])[0], partner, *leased]
        yield {"channel": ch, "proc": proc, "tokens": {**TOKENS, "grader": grader.md[0][1][len("Bearer "):]},
               "names": names, "grader": grader, "log": log, "leased": leased}
    _drop(es, prefix)


def _window_request(request):
    request.window.start_time.seconds = 2**62  # far past year 9999
    return request


def _error(call, *args, **kw) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as e:
        call(*args, **kw)
    return e.value


def test_what_fuzzing_found_first_answers_invalid_argument(fuzzed):
    ch = fuzzed["channel"]
    evals = evaluation_pb2_grpc.EvaluationServiceStub(ch)
    ops = operations_pb2_grpc.OperationsServiceStub(ch)
    grading = grading_pb2_grpc.GradingServiceStub(ch)
    reports = reporting_pb2_grpc.ReportingServiceStub(ch)
    invalid = grpc.StatusCode.INVALID_ARGUMENT
    cases = [
        # unknown enum values (proto3 enums are open): were INTERNAL
        (evals.ListEvaluations, evaluation_pb2.ListEvaluationsRequest(states=[14]), auth("engineer"), "states[0]"),
        (ops.CreatePartner, ops_pb2.CreatePartnerRequest(partner=ops_pb2.Partner(display_name="p", status=9)),
         auth("ops"), "partner.status"),
        (ops.CreateGrader, ops_pb2.CreateGraderRequest(grader=ops_pb2.Grader(
            display_name="g", locales=["en-US"], status=7)), auth("ops"), "grader.status"),
        (ops.ListGraders, ops_pb2.ListGradersRequest(status=-5), auth("ops"), "status"),
        (grading.SkipAssignment, grading_pb2.SkipAssignmentRequest(name=fuzzed["leased"][0], reason=99),
         fuzzed["grader"].md, "reason"),
        # a NaN price: was a TypeError
        (ops.CreateProgramme, ops_pb2.CreateProgrammeRequest(programme=ops_pb2.Programme(
            display_name="p", owner_teams=["t"], price_per_judgement=math.nan)), auth("ops"),
         "programme.price_per_judgement"),
        # long input echoed back: grew past gRPC's 8 KB metadata limit ("Stream removed")
        (evals.GetEvaluation, evaluation_pb2.GetEvaluationRequest(name="x" * 20_000), auth("engineer"), "name"),
        (ops.GetGrader, ops_pb2.GetGraderRequest(name="日" * 20_000), auth("ops"), "name"),
        (ops.LoadGoldItems, ops_pb2.LoadGoldItemsRequest(items=[ops_pb2.GoldItem(locale="é" * 9000)] * 200),
         auth("admin"), "items[0].id"),
        # found at bench size: a page token whose keys do not fit the listing's sort, and terms longer
        # than Elasticsearch indexes (32 KB) — both were a 400 from Elasticsearch, answered INTERNAL
        (evals.ListEvaluations, evaluation_pb2.ListEvaluationsRequest(page_token="WyJ4Il0="), auth("engineer"),
         "page_token"),
        (evals.ListEvaluations, evaluation_pb2.ListEvaluationsRequest(owner_team="日" * 12_000), auth("engineer"),
         "owner_team"),
        (ops.ListGraders, ops_pb2.ListGradersRequest(partner="partners/" + "x" * 40_000), auth("ops"), "partner"),
        (ops.CreateGrader, ops_pb2.CreateGraderRequest(grader=ops_pb2.Grader(
            display_name="g", locales=["en-US"], skills=["日" * 12_000])), auth("ops"), "grader.skills[0]"),
        # found in ReportingService once it was implemented: out-of-range windows, unknown export enums
        (reports.ListAlerts, _window_request(reporting_pb2.ListAlertsRequest()), auth("engineer"),
         "window.start_time"),
        (reports.ListScorecards, _window_request(reporting_pb2.ListScorecardsRequest(subject=1)), auth("ops"),
         "window.start_time"),
        (reports.ListAlerts, reporting_pb2.ListAlertsRequest(owner_team="evaluations/" * 4_000), auth("engineer"),
         "owner_team"),
    ]
    for call, request, md, field in cases:
        err = _error(call, request, metadata=md, timeout=30)
        assert err.code() == invalid, (call, err.code(), err.details()[:200])
        assert field in bad_request_fields(err), (call, bad_request_fields(err)[:5])
        assert len(err.details().encode()) <= 512
    export = ch.unary_stream("/qrelay.v1.ReportingService/ExportEvaluation")(
        reporting_pb2.ExportEvaluationRequest(name=fuzzed["names"][0], format=2**31 - 1).SerializeToString(),
        metadata=auth("engineer"), timeout=30)
    err = _error(lambda: next(export))
    assert err.code() == invalid and "format" in bad_request_fields(err)
    # bytes that are no message at all: gRPC's own INTERNAL "Exception deserializing request" before
    garbage = ch.unary_unary("/qrelay.v1.EvaluationService/GetEvaluation")
    err = _error(garbage, b"\xff\xff\xff", metadata=auth("engineer"), timeout=30)
    assert err.code() == invalid and bad_request_fields(err) == ["request"]
    err = _error(garbage, b"\xff\xff\xff", timeout=30)
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED  # who asks is still checked first


def test_every_rpc_answers_only_what_a_caller_may_get_and_the_server_stays_up(fuzzed, capsys):
    ch, proc = fuzzed["channel"], fuzzed["proc"]
    methods = wirefuzz.discover(ch)
    assert {m.service for m in methods} >= {"EvaluationService", "GradingService", "OperationsService",
                                            "ReportingService"}
    probes = wirefuzz.probe(ch, methods, fuzzed["tokens"])
    report = wirefuzz.Report()
    for i, m in enumerate(methods):
        if not probes[m.path].implemented:
            continue  # answers UNIMPLEMENTED for now; fuzzed as soon as it is implemented
        wirefuzz.fuzz_method(ch, m, EXAMPLES, fuzzed["tokens"], probes[m.path].roles, fuzzed["names"], report,
                             seed=i, alive=lambda: proc.poll() is None)
    with capsys.disabled():
        print(f"\n{report.table()}\nnot implemented yet: "
              + ", ".join(m.name for m in methods if not probes[m.path].implemented) + f"\n{report.seconds:.1f} s")
    assert dict(report.findings) == {}
    assert wirefuzz.logged_errors(fuzzed["log"].read_text()) == {}  # nothing went wrong out of sight either
    assert proc.poll() is None
    health = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert all(sum(c.values()) == EXAMPLES for c in report.counts.values())
