"""The whole loop through public interfaces only (issue 10's "done when"): fixture search logs →
CreateEvaluation → `qrelay prejudge` (real Ray, the packaged model) → simulated graders over
gRPC (created with OperationsService, answering from the fixture's hidden grades with noise) →
COMPLETE (the server's reporting worker) → GetEvaluationReport / CompareRankers → `qrelay
export`; then `qrelay trec-eval` on the exported qrels and runs prints the report's unweighted
NDCG@10 to the last digit it prints, and the weighted NDCG@10 is recomputed by hand from the
strata weights and each query's traffic."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid

import grpc
import numpy as np
import pytest

from fixtures.logs.documents import DocumentCorpus
from fixtures.logs.queries import QueryUniverse
from fixtures.logs.truth import Oracle
from services._proto.qrelay.v1 import common_pb2, evaluation_pb2 as ev, evaluation_pb2_grpc
from services._proto.qrelay.v1 import reporting_pb2 as rp, reporting_pb2_grpc
from tests.integration import test_grading_support as w
from tests.integration.serving import TOKENS, auth, qrelay_server
from tests.integration.test_grading import _drop

pytestmark = pytest.mark.slow

START, END = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc), dt.datetime(2024, 7, 15, tzinfo=dt.timezone.utc)
NOISE = 0.1


def spec(log_index: str) -> ev.EvaluationSpec:
    s = ev.EvaluationSpec(
        log_source=ev.LogSource(index_pattern=log_index),
        rankers=[ev.Ranker(id="control", log_bucket=ev.LogBucket(bucket="control")),
                 ev.Ranker(id="treatment", log_bucket=ev.LogBucket(bucket="treatment"))],
        kinds=[common_pb2.POINTWISE, common_pb2.SIDE_BY_SIDE], depth=5, overlap=2, owner_team="search-quality",
        # unique-query sampling: the weighted mean also weights each query by its own traffic
        sample_plan=ev.SamplePlan(size=16, unit=ev.UNIQUE_QUERY, seed=3, stratify_by=["locale"],
                                  bands=ev.FrequencyBands(traffic_share=ev.CutPoints(points=[0.5, 0.8]))))
    s.log_source.window.start_time.FromDatetime(START)
    s.log_source.window.end_time.FromDatetime(END)
    return s


def qrelay(env: dict, *argv: str, timeout: float = 600) -> str:
    p = subprocess.run([sys.executable, "-m", "services.cli", *argv], env=env, capture_output=True, text=True,
                       timeout=timeout)
    assert p.returncode == 0, f"qrelay {' '.join(argv)}: {p.stderr[-3000:]}"
    return p.stdout


def wait_for(stub, name: str, states: set[str], timeout: float) -> ev.Evaluation:
    deadline = time.monotonic() + timeout
    while True:
        e = stub.GetEvaluation(ev.GetEvaluationRequest(name=name), metadata=auth("engineer"), timeout=30)
        state = ev.EvaluationState.Name(e.state)
        if state in states:
            return e
        assert state not in ("FAILED", "CANCELLED") and time.monotonic() < deadline, (state, e.state_reason)
        time.sleep(1)


def grade_everything(channel, oracle: Oracle, locales: list[str], rng: np.random.Generator) -> int:
    """Three graders work until no task is left; each answers the hidden truth, moved by one
    with probability NOISE. Returns the judgements submitted."""
    graders = []
    for i in range(3):
        _, credential = w.create_grader(channel, locales=locales, skills=["pointwise", "side_by_side"],
                                        name=f"sim {i}")
        graders.append(w.GraderClient(channel, credential))
    submitted, idle = 0, set()
    while len(idle) < len(graders):
        for i, g in enumerate(graders):
            if i in idle:
                continue
            try:
                a = g.next()
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.NOT_FOUND, e
                idle.add(i)
                continue
            t = a.task
            shift = int(rng.choice([-1, 1])) if rng.random() < NOISE else 0
            if t.WhichOneof("body") == "pointwise":
                truth = oracle.grade(t.query, t.pointwise.result.doc_id)
                assert truth is not None, (t.query, t.pointwise.result.doc_id)
                g.submit(a.name, grade=int(np.clip(truth + shift, 0, 3)))
            else:
                gain = [oracle.dcg(t.query, [d.doc_id for d in side]) for side in (t.side_by_side.left,
                                                                                  t.side_by_side.right)]
                truth = int(np.clip(np.round(gain[1] - gain[0]), -3, 3))  # as shown: positive, right better
                g.submit(a.name, preference=int(np.clip(truth + shift, -3, 3)))
            submitted += 1
    return submitted


def test_logs_to_verdict_through_public_interfaces(es, es_url, fixture_logs, tmp_path):
    prefix = f"qt-loop-{uuid.uuid4().hex[:8]}-"
    env = {**os.environ, "QRELAY_ES_URL": es_url, "QRELAY_INDEX_PREFIX": prefix, "HF_HUB_OFFLINE": "1",
           "QRELAY_TOKEN": TOKENS["engineer"]}
    rng = np.random.default_rng(11)
    try:
        with qrelay_server(es_url, prefix, tmp_path / "serve.log", {"QRELAY_REPORTING_SECONDS": "1"}) as (address, _), \
                grpc.insecure_channel(address) as channel:
            env["QRELAY_ADDRESS"] = address
            evals = evaluation_pb2_grpc.EvaluationServiceStub(channel)
            created = evals.CreateEvaluation(ev.CreateEvaluationRequest(
                evaluation=ev.Evaluation(display_name="loop", spec=spec(fixture_logs[0])), request_id="loop-1"),
                metadata=auth("engineer"), timeout=60)
            name, ev_id = created.name, created.name.split("/")[1]
            produced = wait_for(evals, name, {"PREJUDGING"}, 300)
            assert produced.counts.queries == 16

            out = qrelay(env, "prejudge", ev_id, "--actors", "1", "--batch-size", "32", "--json", "--quiet")
            assert json.loads(out.strip().splitlines()[-1])["state"] == "GRADING"

            oracle = Oracle(QueryUniverse(seed=5), DocumentCorpus())  # the world of the fixture logs (seed 5)
            locales = sorted({s.key.split("|")[1] for s in produced.strata})
            submitted = grade_everything(channel, oracle, locales, rng)
            assert submitted > 0
            done = wait_for(evals, name, {"COMPLETE"}, 300)

            reporting = reporting_pb2_grpc.ReportingServiceStub(channel)
            report = reporting.GetEvaluationReport(rp.GetEvaluationReportRequest(
                name=name, measures=["ndcg_cut_10"], segment_by=["locale"]), metadata=auth("engineer"), timeout=120)
            comparison = reporting.CompareRankers(rp.CompareRankersRequest(
                name=name, baseline="control", candidate="treatment"), metadata=auth("engineer"), timeout=120)
            assert not report.partial and report.coverage.queries_complete == report.coverage.queries == 16
            assert report.grading.judgements == submitted and report.grading.graders == 3
            assert comparison.summary.startswith("treatment ") and comparison.differences[0].queries > 0

            qrels, consensus_jsonl = tmp_path / "consensus.qrels", tmp_path / "consensus.jsonl"
            qrelay(env, "export", ev_id, "--format", "trec", "-o", str(qrels))
            qrelay(env, "export", ev_id, "--format", "jsonl", "-o", str(consensus_jsonl))
            items = [json.loads(x) for x in consensus_jsonl.read_text().splitlines()]
            assert all(d["query_traffic"] > 0 for d in items if not d.get("gold"))  # production → items → consensus
            overall = {r.ranker: r.metrics[0] for r in report.segments[0].rankers}
            for ranker in ("control", "treatment"):
                run = tmp_path / f"{ranker}.run"
                qrelay(env, "export", ev_id, "--format", "trec", "--content", "runs", "--ranker", ranker, "-o", str(run))
                printed = qrelay(env, "trec-eval", "-q", "-m", "ndcg_cut.10", str(qrels), str(run)).splitlines()
                per_query = {qid: float(v) for _, qid, v in (line.split("\t") for line in printed)}
                m = overall[ranker]
                assert f"{m.unweighted_mean:6.4f}" == printed[-1].split("\t")[2]  # what trec_eval prints
                assert m.queries == len(per_query) - 1
                # by hand: Σ_h W_h ȳ_h over the strata with a query, ȳ_h weighted by each query's traffic
                weight = {s.key: s.weight for s in done.strata}
                of = {d["query_id"]: (d["stratum"], d["query_traffic"]) for d in items if not d.get("gold")}
                num, den = {}, {}
                for qid, v in per_query.items():
                    if qid == "all":
                        continue
                    h, t = of[qid]
                    num[h] = num.get(h, 0.0) + t * v
                    den[h] = den.get(h, 0.0) + t
                want = sum(weight[h] * num[h] / den[h] for h in num) / sum(weight[h] for h in num)
                assert m.mean == pytest.approx(want, abs=1e-4)  # trec_eval prints per-query values to 4 decimals
    finally:
        _drop(es, prefix)
