"""Graded evaluations made the way users make them, for tests that need real reports, snapshots,
alerts and scorecards behind them: fixture search logs → CreateEvaluation → ``qrelay prejudge``
→ graders over GradingService → COMPLETE. Public interfaces only (gRPC and the CLI); no test
writes to qrelay's indices here.

Careful graders answer from the fixture's hidden grades (``fixtures.logs.truth.Oracle``), so
the rankers' true difference shows; a grader's ``policy`` can be careless instead.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import grpc

from services._proto.qrelay.v1 import common_pb2, evaluation_pb2 as ev, evaluation_pb2_grpc
from services._proto.qrelay.v1 import grading_pb2, operations_pb2, operations_pb2_grpc, reporting_pb2
from fixtures.logs.truth import Oracle
from tests.integration.serving import auth
from tests.integration.test_grading_support import GraderClient


def careful(oracle: Oracle) -> Callable[[grading_pb2.Task], dict]:
    """A careful grader: the fixture's hidden grade; for two lists, their hidden DCG difference
    rounded onto −3..+3 (positive: the right list is better, as shown)."""
    def answer(task: grading_pb2.Task) -> dict:
        if task.WhichOneof("body") == "pointwise":
            grade = oracle.grade(task.query, task.pointwise.result.doc_id)
            assert grade is not None, (task.query, task.pointwise.result.doc_id)
            return {"grade": grade}
        sides = task.side_by_side
        diff = oracle.dcg(task.query, [d.doc_id for d in sides.right]) - oracle.dcg(task.query, [d.doc_id for d in sides.left])
        return {"preference": max(-3, min(3, round(diff)))}
    return answer


def careless(task: grading_pb2.Task) -> dict:
    """Always the same answer, whatever the task."""
    return {"grade": 0} if task.WhichOneof("body") == "pointwise" else {"preference": 0}


@dataclass
class Grader:
    name: str          # graders/{id}
    credential: str
    display_name: str
    policy: Callable[[grading_pb2.Task], dict]
    judged: int = field(default=0)


def create_partner(channel, display_name: str, price: float = 0.0, currency: str = "") -> str:
    ops = operations_pb2_grpc.OperationsServiceStub(channel)
    p = ops.CreatePartner(operations_pb2.CreatePartnerRequest(partner=operations_pb2.Partner(
        display_name=display_name, price_per_judgement=price, currency=currency)), metadata=auth("ops"))
    return p.name


def create_grader(channel, display_name: str, locales, partner: str, policy: Callable[[grading_pb2.Task], dict]) -> Grader:
    ops = operations_pb2_grpc.OperationsServiceStub(channel)
    r = ops.CreateGrader(operations_pb2.CreateGraderRequest(grader=operations_pb2.Grader(
        display_name=display_name, locales=list(locales), partner=partner,
        skills=["pointwise", "side_by_side"])), metadata=auth("ops"))
    return Grader(r.grader.name, r.credential, display_name, policy)


def load_gold(channel, items: list[tuple[str, str, str, int]]) -> None:
    """Gold items ``(query, locale, doc id, grade)`` through OperationsService.LoadGoldItems."""
    ops = operations_pb2_grpc.OperationsServiceStub(channel)
    ops.LoadGoldItems(operations_pb2.LoadGoldItemsRequest(items=[operations_pb2.GoldItem(
        id=f"gold-{i}", query=q, locale=loc, grade=g,
        result=common_pb2.ResultDoc(doc_id=d, title=f"Result {d}", url=f"https://shop.example.com/p/{d}"))
        for i, (q, loc, d, g) in enumerate(items)]), metadata=auth("admin"))


def create_evaluation(channel, spec: ev.EvaluationSpec, display_name: str, request_id: str = "") -> ev.Evaluation:
    stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
    return stub.CreateEvaluation(ev.CreateEvaluationRequest(
        evaluation=ev.Evaluation(display_name=display_name, spec=spec), request_id=request_id),
        metadata=auth("engineer"), timeout=60)


def wait_state(channel, name: str, states, timeout: float = 300) -> ev.Evaluation:
    stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
    deadline = time.monotonic() + timeout
    while True:
        e = stub.GetEvaluation(ev.GetEvaluationRequest(name=name), metadata=auth("engineer"), timeout=30)
        if ev.EvaluationState.Name(e.state) in states:
            return e
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} did not reach {states} in {timeout:.0f} s: {e}")
        time.sleep(0.5)


def wait_judgements(channel, name: str, n: int, timeout: float = 120) -> ev.Evaluation:
    """The evaluation once its grading progress counts ``n`` judgements (the reporting worker
    has caught up with them)."""
    stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
    deadline = time.monotonic() + timeout
    while True:
        e = stub.GetEvaluation(ev.GetEvaluationRequest(name=name), metadata=auth("engineer"), timeout=30)
        if e.grading.judgements == n:
            return e
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} counts {e.grading.judgements} judgements, not {n}, after {timeout:.0f} s")
        time.sleep(0.5)


def next_run(channel, series: str, timeout: float = 300) -> ev.Evaluation:
    """The first run the server created of a recurring ``series`` after its head."""
    stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
    deadline = time.monotonic() + timeout
    while True:
        listed = stub.ListEvaluations(ev.ListEvaluationsRequest(page_size=500), metadata=auth("engineer")).evaluations
        runs = sorted((e for e in listed if e.series == series and e.name != series), key=lambda e: e.create_time.ToDatetime())
        if runs:
            return runs[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no run of {series} in {timeout:.0f} s")
        time.sleep(0.5)


def queries_complete(reporting, name: str) -> int:
    """Queries of the evaluation with every label (0 while the report refuses to answer)."""
    try:
        r = reporting.GetEvaluationReport(reporting_pb2.GetEvaluationReportRequest(name=name), metadata=auth("engineer"))
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.FAILED_PRECONDITION, e
        return 0
    return r.coverage.queries_complete


def prejudge(name: str, es_url: str, prefix: str, *extra: str, ray_address: str | None = None) -> None:
    """``qrelay prejudge`` as a user runs it (one encoder actor; on ``ray_address`` when given)."""
    env = {**os.environ, "QRELAY_ES_URL": es_url, "QRELAY_INDEX_PREFIX": prefix}
    argv = [sys.executable, "-m", "services.cli", "prejudge", name.split("/")[-1], "--actors", "1", "--quiet", *extra]
    if ray_address:
        argv += ["--ray-address", ray_address]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"qrelay prejudge failed:\n{done.stdout}\n{done.stderr}"


def grade_all(channel, graders: list[Grader], limit: int | None = None) -> int:
    """The graders take turns, one task each, until none of them gets another (or ``limit``
    judgements were submitted). Returns the judgements submitted."""
    clients = [(g, GraderClient(channel, g.credential)) for g in graders]
    active, total = list(clients), 0
    while active and (limit is None or total < limit):
        for pair in list(active):
            if limit is not None and total >= limit:
                break
            g, client = pair
            try:
                a = client.next()
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.NOT_FOUND, e
                active.remove(pair)
                continue
            client.submit(a.name, **g.policy(a.task))
            g.judged += 1
            total += 1
    return total
