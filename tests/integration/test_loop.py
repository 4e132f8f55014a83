"""The whole loop through public interfaces only (issue 10's "done when"): fixture search logs →
CreateEvaluation → `qrelay prejudge` (real Ray, the packaged model) → simulated graders over
gRPC (created with OperationsService, answering from the fixture's hidden grades with noise) →
COMPLETE (the server's reporting worker) → GetEvaluationReport / CompareRankers → `qrelay
export`; then `qrelay trec-eval` on the exported qrels and runs prints the report's unweighted
NDCG@10 to the last digit it prints, and the weighted NDCG@10 is recomputed by hand from the
strata weights and each query's traffic."""
from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid

import grpc
import pytest

from fixtures.graders import WorkforceSpec, draw_workforce
from fixtures.logs.documents import DocumentCorpus
from fixtures.logs.queries import QueryUniverse
from fixtures.logs.truth import Oracle
from services._proto.qrelay.v1 import common_pb2, evaluation_pb2 as ev, evaluation_pb2_grpc
from services._proto.qrelay.v1 import reporting_pb2 as rp, reporting_pb2_grpc
from services.simulation.crowd import Crowd, create_graders
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


def grade_everything(address: str, oracle: Oracle, locales: list[str]) -> int:
    """Three simulated graders (fixtures.graders, over gRPC by services.simulation) work until the
    queue is empty; each answers the hidden truth, off by one with probability about NOISE.
    Returns the judgements submitted."""
    spec = WorkforceSpec(graders=3, noise=NOISE, careless_share=0.0, skip_rate=0.0, bias_share=0.0)
    profiles = [dataclasses.replace(p, locales=tuple(locales))
                for p in draw_workforce(spec, dict.fromkeys(locales, 1.0), seed=11)]

    async def work() -> int:
        async with grpc.aio.insecure_channel(address) as channel:
            credentials = await create_graders(channel, profiles, TOKENS["ops"])
            return (await Crowd(channel, list(zip(profiles, credentials)), spec, oracle, seed=11).run()).judgements

    return asyncio.run(work())


def test_logs_to_verdict_through_public_interfaces(es, es_url, fixture_logs, tmp_path):
    prefix = f"qt-loop-{uuid.uuid4().hex[:8]}-"
    env = {**os.environ, "QRELAY_ES_URL": es_url, "QRELAY_INDEX_PREFIX": prefix, "HF_HUB_OFFLINE": "1",
           "QRELAY_TOKEN": TOKENS["engineer"]}
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
            submitted = grade_everything(address, oracle, locales)
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
