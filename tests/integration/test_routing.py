"""Automation from a team's first evaluation, against a real local Ray, the packaged model, real
Elasticsearch and a real ``qrelay serve`` (whose reporting worker routes within the evaluation).

No earlier evaluation has labels, so the job auto-judges nothing and sends a stratified calibration
sample to graders first; graders label it through the gRPC API; the server then fits the model
on those labels and auto-judges the confident items still waiting — never one a grader holds —
with the audit share drawn as recorded.
"""
from __future__ import annotations

import dataclasses
import os
import time

import grpc
import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from evaluators.automation import audit_draw  # noqa: E402
from fixtures.evaluations import synthetic  # noqa: E402
from ray_jobs.prejudge import job  # noqa: E402
from services._proto.qrelay.v1 import evaluation_pb2 as ev, evaluation_pb2_grpc  # noqa: E402
from services.store import templates  # noqa: E402
from tests.integration import test_grading_support as w  # noqa: E402
from tests.integration.serving import auth, qrelay_server  # noqa: E402

pytestmark = pytest.mark.slow

THRESHOLD, AUDIT, SEED = 0.7, 0.25, 3
# Sized so that what the test checks does not hang on chance. The within-evaluation fit's folds
# (hence its temperature, hence which items reach the threshold) follow the order Elasticsearch
# returns the items in, which moves as items are updated. Simulated over 40 such orders with this
# world and the whole sample labelled (120 labels, 280 items waiting), the model was confident on
# at least 130 of the items graders b left free and right on at least 0.78 of them, and the chance
# that 24 items held at random include no confident one stayed below 1e-8. With 40 labels, 180
# items waiting and 8 held, as before, it was confident on 24 to 114, right on 0.62 to 0.83, and the
# 8 held included no confident one up to three times in ten.
ITEMS, SAMPLE = 400, 120
B_GRADERS, B_HOLDS = 3, 8  # 24 items held; a grader may hold 10 at once


@pytest.fixture(scope="module")
def ray_cluster():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def items_of(es, prefix: str, evaluation_id: str) -> dict[str, dict]:
    es.indices.refresh(index=f"{prefix}items")
    r = es.search(index=f"{prefix}items", size=10_000, query={"term": {"evaluation_id": evaluation_id}})
    return {h["_source"]["item_id"]: h["_source"] for h in r["hits"]["hits"]}


def test_first_evaluation_is_automated_once_its_calibration_sample_is_labelled(
        es, es_url, es_config, index_prefix, ray_cluster, tmp_path):
    templates.install(es, index_prefix)
    syn = synthetic.generate("ev-first", 60, 200, ITEMS, sxs_share=0.0, seed=21)
    for it in syn.items:  # what production gives every item
        it.update(overlap=1, priority=50)
    synthetic.write(es, index_prefix, syn)
    cfg = job.PrejudgeConfig("ev-first", actors=1, batch_size=32, threshold=THRESHOLD, audit_share=AUDIT, seed=SEED,
                             sample_min=SAMPLE)
    s = job.run(es, index_prefix, dataclasses.replace(es_config, url=es_url, index_prefix=index_prefix), es_url, cfg,
                log=lambda m: None)
    # nothing calibrated this programme before: the prior auto-judges nothing, a sample goes first
    assert s.state == "GRADING" and s.auto_judged == 0 and s.calibration_sample == SAMPLE
    before = items_of(es, index_prefix, "ev-first")
    sample = {i for i, it in before.items() if it.get("calibration_sample")}
    assert len(sample) == SAMPLE and all(before[i]["priority"] == 51 for i in sample)
    assert all(it["prejudgement"]["features"]["bm25_text"] is not None for it in before.values())
    truth = {(it["query"], it["doc"]["doc_id"]): syn.truth[i] for i, it in before.items()}
    locales = sorted({it["locale"] for it in before.values()})

    # the worker fits once the whole sample is labelled, not at 90% of it: the fit is then one
    # function of the sample's labels (not of how many a pass happened to see), and it cannot
    # come before grader b holds its items, while grader a still holds the last few
    env = {"QRELAY_REPORTING_SECONDS": "1", "QRELAY_ROUTING_MIN_LABELS": str(SAMPLE)}
    with qrelay_server(es_url, index_prefix, tmp_path / "serve.log", env) as (address, _), \
            grpc.insecure_channel(address) as channel:
        stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
        got = stub.GetEvaluation(ev.GetEvaluationRequest(name="evaluations/ev-first"), metadata=auth("engineer"))
        assert got.automation.calibration.source == ev.PRIOR and got.automation.calibration_sample.items == SAMPLE
        graders = [w.GraderClient(channel, w.create_grader(channel, locales=locales, skills=["pointwise"],
                                                           name=f"sim {k}")[1]) for k in range(1 + B_GRADERS)]
        a, bs = graders[0], graders[1:]
        # grader a: the sample comes first; the last four sample leases are held back for a moment
        held_by_a, served = [], []
        while len(served) < len(sample):
            lease = a.next()
            t = lease.task
            served.append((t.query, t.pointwise.result.doc_id))
            if len(served) > len(sample) - 4:
                held_by_a.append((lease.name, truth[served[-1]]))
            else:
                a.submit(lease.name, grade=truth[served[-1]])
        by_key = {(it["query"], it["doc"]["doc_id"]): i for i, it in before.items()}
        assert {by_key[k] for k in served} == sample  # priority: graders get the whole sample first
        # graders b take ordinary items and keep them while the sample is completed
        held_by_b = []
        for b in bs:
            for _ in range(B_HOLDS):
                lease = b.next()
                held_by_b.append(by_key[(lease.task.query, lease.task.pointwise.result.doc_id)])
        assert not set(held_by_b) & sample
        for name, grade in held_by_a:
            a.submit(name, grade=grade)

        deadline = time.monotonic() + 120
        while True:
            got = stub.GetEvaluation(ev.GetEvaluationRequest(name="evaluations/ev-first"), metadata=auth("engineer"))
            if got.automation.calibration.source == ev.WITHIN_EVALUATION:
                break
            assert time.monotonic() < deadline, "the worker never fitted within the evaluation"
            time.sleep(1)

    cal = got.automation.calibration
    assert cal.labels >= SAMPLE and cal.heldout_labels > 0 and 0 <= cal.heldout_agreement <= 1 and cal.fits >= 1
    assert "bm25_rel" in cal.features and got.automation.calibration_sample.complete
    after = items_of(es, index_prefix, "ev-first")
    auto = {i for i, it in after.items() if it["prejudgement"]["auto"]}
    assert len(auto) >= 20 and got.automation.auto_judged == len(auto)
    # what humans labelled stays theirs, what graders hold stays with them
    assert not auto & sample and not auto & set(held_by_b)
    confident_b = [i for i in held_by_b if after[i]["prejudgement"]["confidence"] >= THRESHOLD]
    assert confident_b, "no held item was confident: the lease check was not exercised"
    assert all(after[i]["needs_humans"] for i in held_by_b)
    # the audit share: every auto-judged item carries its inclusion probability, and the draw is the recorded one
    for i in auto:
        it = after[i]
        assert it["audit_probability"] == AUDIT and it["prejudgement"]["calibration"] == "within_evaluation"
        assert it["audit"] == (audit_draw(SEED, i) < AUDIT) and it["needs_humans"] == it["audit"]
    n_audit = sum(after[i]["audit"] for i in auto)
    assert abs(n_audit - AUDIT * len(auto)) <= 4 * np.sqrt(AUDIT * (1 - AUDIT) * len(auto)) + 1
    # the model's labels are right far more often than chance on what it settled
    assert np.mean([after[i]["prejudgement"]["grade"] == syn.truth[i] for i in auto]) > 0.6
    es.indices.refresh(index=f"{index_prefix}consensus")
    cons = {h["_id"]: h["_source"] for h in es.search(index=f"{index_prefix}consensus", size=10_000, query={
        "terms": {"item_id": sorted(auto)}})["hits"]["hits"]}
    assert all(cons[i]["source"] in ("model", "human") and cons[i]["needs_humans"] == after[i]["audit"] for i in auto)
