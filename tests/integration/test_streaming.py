"""Streamed pre-judgement (issue 12) against a real local Ray, the packaged model, real
Elasticsearch and a real ``qrelay serve``: the job scores whole queries in the order graders are
served, opens grading after the first wave, and graders are never served an item before it is
scored; a stream cut short resumes, and one whose question is answered stops.
"""
from __future__ import annotations

import dataclasses
import os
import time

import grpc
import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from fixtures.evaluations import synthetic  # noqa: E402
from ray_jobs.prejudge import job  # noqa: E402
from services.store import consensus, evaluations, templates  # noqa: E402
from tests.integration import test_grading_support as w  # noqa: E402
from tests.integration.serving import qrelay_server  # noqa: E402

pytestmark = pytest.mark.slow

FIRST = 4  # queries in the first wave; then 8, then the rest


@pytest.fixture(scope="module")
def ray_cluster():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture
def world(es, es_url, es_config, index_prefix, ray_cluster):
    """An earlier, fully labelled evaluation (so the model auto-judges) and a way to make new ones."""
    templates.install(es, index_prefix)
    old = synthetic.generate("ev-old", 60, 200, 240, sxs_share=0.0, seed=11)
    synthetic.write(es, index_prefix, old, old.human_grades(share=1.0, noise=0.1, seed=1), state="COMPLETE")
    cfg = dataclasses.replace(es_config, url=es_url, index_prefix=index_prefix)

    def evaluation(evaluation_id: str, seed: int) -> dict[str, float]:
        """A PREJUDGING evaluation as production leaves it: unscored, one random order key per query."""
        syn = synthetic.generate(evaluation_id, 20, 160, 160, sxs_share=0.0, seed=seed)
        keys = {q: float(k) for q, k in zip(sorted({it["query_norm"] for it in syn.items}),
                                            np.random.default_rng(seed).random(20))}
        for it in syn.items:
            it.update(overlap=1, priority=50, scored=False, order_key=keys[it["query_norm"]])
        synthetic.write(es, index_prefix, syn)
        return keys

    def run(evaluation_id: str, log=lambda m: None) -> job.Summary:
        c = job.PrejudgeConfig(evaluation_id, actors=1, batch_size=32, threshold=0.7, audit_share=0.2,
                               first_wave_queries=FIRST)
        return job.run(es, index_prefix, cfg, es_url, c, log=log)

    return {"es": es, "prefix": index_prefix, "url": es_url, "evaluation": evaluation, "run": run}


def items_of(es, prefix: str, evaluation_id: str) -> dict[str, dict]:
    es.indices.refresh(index=f"{prefix}items")
    r = es.search(index=f"{prefix}items", size=10_000, query={"term": {"evaluation_id": evaluation_id}})
    return {h["_source"]["item_id"]: h["_source"] for h in r["hits"]["hits"]}


def first_lease(grader: w.GraderClient, seconds: float = 60):
    """The first task the server serves (its list of evaluations in GRADING may lag a moment)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return grader.next()
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.NOT_FOUND, e
            assert time.monotonic() < deadline, "grading did not open after the first wave"
            time.sleep(0.5)


def test_grading_opens_after_the_first_wave_and_never_serves_an_unscored_item(world, tmp_path):
    es, prefix = world["es"], world["prefix"]
    keys = world["evaluation"]("ev-stream", 31)
    first_queries = set(sorted(keys, key=keys.get)[:FIRST])  # the lowest order keys
    at_first_wave: dict = {}

    with qrelay_server(world["url"], prefix, tmp_path / "serve.log", {"QRELAY_REPORTING_SECONDS": "1"}) as (address, _), \
            grpc.insecure_channel(address) as channel:
        locales = sorted({it["locale"] for it in items_of(es, prefix, "ev-stream").values()})
        grader = w.GraderClient(channel, w.create_grader(channel, locales=locales, skills=["pointwise"])[1])

        def log(message: str) -> None:
            if not message.startswith("wave 1/"):
                return
            # the job waits here, between its first and second wave: grading is open on the first
            ev = evaluations.get(es, prefix, "ev-stream")
            its = items_of(es, prefix, "ev-stream")
            scored = {i for i, it in its.items() if it.get("scored")}
            at_first_wave.update(state=ev["state"], phase=ev["automation"]["progress"]["phase"],
                                 prejudged=ev["counts"]["prejudged"], scored=scored, items=its)
            served = [first_lease(grader)]
            grader.submit(served[0].name, grade=2)
            served += grader.drain()
            by_key = {(it["query"], it["doc"]["doc_id"]): i for i, it in its.items()}
            at_first_wave["served"] = [by_key[(a.task.query, a.task.pointwise.result.doc_id)] for a in served]

        s = world["run"]("ev-stream", log)

        first = at_first_wave
        assert first["state"] == "GRADING" and first["phase"] == "stream"
        assert 0 < first["prejudged"] == len(first["scored"]) < len(first["items"])
        # the first wave is the first queries of the grading order, whole
        assert {first["items"][i]["query_norm"] for i in first["scored"]} == first_queries
        assert all(it.get("scored") == (it["query_norm"] in first_queries) for it in first["items"].values())
        # graders got exactly the first wave's items for humans, and nothing unscored
        want = {i for i in first["scored"] if first["items"][i]["needs_humans"]}
        assert want and sorted(first["served"]) == sorted(want)

        assert s.waves == 3 and s.scored == s.items == 160 and not s.stream_stopped and s.state == "GRADING"
        after = items_of(es, prefix, "ev-stream")
        assert all(it["scored"] for it in after.values())
        ev = evaluations.get(es, prefix, "ev-stream")
        assert ev["automation"]["progress"]["phase"] == "done" and ev["counts"]["prejudged"] == 160
        assert ev["automation"]["scored"] == 160 and ev["automation"]["stream"]["waves"] == 3
        # later waves were scored later, in the order's sequence
        t_of = {}
        for it in after.values():
            t_of.setdefault(it["query_norm"], set()).add(it["prejudgement"]["time"])
        assert all(len(t) == 1 for t in t_of.values())  # one wave per query
        ranked = sorted(keys, key=keys.get)
        times = [next(iter(t_of[q])) for q in ranked]
        assert times == sorted(times) and len(set(times)) == 3

        # the server's worker gives each later wave's consensus documents the model's side
        auto = {i for i, it in after.items() if it["prejudgement"]["auto"] and not it["audit"]}
        assert auto - first["scored"], "no later item was auto-judged: the consensus update was not exercised"
        deadline = time.monotonic() + 90
        while True:
            docs = consensus.get_many(es, prefix, list(after), ["source", "label", "needs_humans", "model_label"])
            pending = [i for i in auto if docs.get(i, {}).get("source") != "model"]
            if not pending:
                break
            assert time.monotonic() < deadline, f"{len(pending)} auto-judged items never got the model's label"
            time.sleep(1)
        assert all(docs[i]["label"] == after[i]["prejudgement"]["grade"] for i in auto)
        assert all(docs[i]["needs_humans"] == after[i]["needs_humans"] for i in after)
        # a human label of the first wave stands
        assert all(docs[i]["source"] == "human" for i in first["served"])


def test_a_stream_cut_short_resumes_and_one_whose_question_is_answered_stops(world):
    es, prefix = world["es"], world["prefix"]

    # a crash after the second wave: the evaluation is GRADING with the stream unfinished
    world["evaluation"]("ev-crash", 32)

    def crash(message: str) -> None:
        if message.startswith("wave 2/"):
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        world["run"]("ev-crash", crash)
    before = items_of(es, prefix, "ev-crash")
    ev = evaluations.get(es, prefix, "ev-crash")
    assert ev["state"] == "GRADING" and evaluations.streaming(ev)
    done = {i: it["prejudgement"]["time"] for i, it in before.items() if it.get("scored")}
    assert 0 < len(done) < len(before)
    s = world["run"]("ev-crash")  # the rerun resumes the stream and leaves what was scored alone
    after = items_of(es, prefix, "ev-crash")
    assert s.scored == 160 and s.written == 160 - len(done) and all(it["scored"] for it in after.values())
    assert all(after[i]["prejudgement"]["time"] == t for i, t in done.items())
    assert not evaluations.streaming(evaluations.get(es, prefix, "ev-crash"))
    with pytest.raises(job.FailedPrecondition, match="GRADING"):
        world["run"]("ev-crash")  # finished: nothing to resume

    # the headline decided after the first wave: the queries not yet scored are not needed
    world["evaluation"]("ev-decided", 33)

    def decide(message: str) -> None:
        if message.startswith("wave 1/"):
            es.update(index=evaluations.index(prefix), id="ev-decided", doc={"stopping": {"decided": True}},
                      refresh="wait_for")

    s = world["run"]("ev-decided", decide)
    its = items_of(es, prefix, "ev-decided")
    assert "question was answered" in s.stream_stopped
    assert 0 < s.scored == sum(bool(it.get("scored")) for it in its.values()) < 160
    ev = evaluations.get(es, prefix, "ev-decided")
    assert ev["automation"]["progress"]["phase"] == "done" and ev["automation"]["progress"]["stopped"]
