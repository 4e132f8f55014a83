"""The consensus documents the reporting worker writes, and when an evaluation completes (pure parts)."""
from __future__ import annotations

import datetime as dt

import numpy as np

from evaluators.consensus import Reliability, fit_reliability
from services._proto.qrelay.v1 import evaluation_pb2 as ev
from services.cli.eval import progress_line
from services.reporting import completion
from services.reporting.consensus import changed, query_id, recompute, seed_doc

NOW = "2024-06-01T12:00:00.000+00:00"


def item(**kw):
    base = {"item_id": "i1", "evaluation_id": "e", "kind": "pointwise", "query_norm": "laptop", "locale": "es-MX",
            "stratum": "tail|es-MX", "doc": {"doc_id": "d9"}, "ranks": {"control": 3, "treatment": 1},
            "needs_humans": True, "audit": False, "overlap": 3, "gold": False, "query_traffic": 17}
    return {**base, **kw}


def test_seeded_documents_say_where_each_first_label_comes_from():
    none = seed_doc(item(), NOW)
    assert none["source"] == "none" and "label" not in none and none["judgements"] == 0
    assert none["query_id"] == query_id("laptop", "tail|es-MX") and none["doc_id"] == "d9"
    assert none["ranks"] == {"control": 3, "treatment": 1} and none["query_traffic"] == 17 and none["overlap"] == 3

    gold = seed_doc(item(gold=True, gold_label=2, stratum="gold"), NOW)
    assert (gold["source"], gold["label"], gold["confidence"]) == ("gold", 2, 1.0)

    pj = {"grade": 3, "confidence": 0.91, "auto": True, "model_version": "m==1"}
    auto = seed_doc(item(needs_humans=False, prejudgement=pj), NOW)
    assert (auto["source"], auto["label"], auto["confidence"], auto["model_label"]) == ("model", 3, 0.91, 3.0)
    audit = seed_doc(item(audit=True, prejudgement=pj), NOW)
    assert audit["source"] == "model" and audit["audit"] and audit["needs_humans"]  # human once judged
    uncertain = seed_doc(item(prejudgement={**pj, "auto": False}), NOW)
    assert uncertain["source"] == "none" and uncertain["model_label"] == 3.0

    tie = seed_doc(item(kind="side_by_side", identical=True, needs_humans=False, ranker_a="a", ranker_b="b"), NOW)
    assert (tie["source"], tie["preference"], tie["ranker_a"], tie["ranker_b"]) == ("tie", 0.0, "a", "b")
    assert "doc_id" not in tie
    sxs = seed_doc(item(kind="side_by_side", prejudgement={"preference": -1.4, "auto": True, "confidence": 0.8}), NOW)
    assert (sxs["source"], sxs["preference"], sxs["model_label"]) == ("model", -1.4, -1.4)


def test_recomputed_labels_clamp_gold_count_overlap_and_only_changes_are_written():
    model = fit_reliability(["a", "a", "b", "b", "c", "c"], ["x", "y"] * 3, [2, 2, 0, 0, 3, 1])
    rows = [{"item_id": i, "grader": g, "kind": "pointwise", "grade": v}
            for i, g, v in [("a", "x", 2), ("a", "y", 2), ("b", "x", 0), ("b", "y", 0), ("c", "x", 3)]]
    stored = {"a": {"kind": "pointwise", "needs_humans": True, "overlap": 2, "source": "none", "judgements": 0},
              "b": {"kind": "pointwise", "needs_humans": True, "overlap": 2, "gold": True, "label": 1, "source": "gold"},
              "c": {"kind": "pointwise", "needs_humans": True, "overlap": 2, "source": "none"}}
    labels = recompute({"pointwise": model}, rows, stored)
    assert labels["a"]["label"] == 2 and labels["a"]["source"] == "human" and labels["a"]["human_done"]
    assert labels["a"]["method"] == "dawid-skene" and len(labels["a"]["posterior"]) == 4
    assert (labels["b"]["label"], labels["b"]["source"], labels["b"]["confidence"]) == (1, "gold", 1.0)
    assert labels["c"]["judgements"] == 1 and not labels["c"]["human_done"]
    # stored as computed: nothing to write; one field differs: that document only
    same = {i: {**stored[i], **labels[i]} for i in labels}
    assert changed(labels, same) == {}
    same["c"]["confidence"] = 0.1
    assert list(changed(labels, same)) == ["c"]


def test_a_human_label_on_an_item_the_model_settled_makes_it_a_human_item_done_with_what_it_got():
    model = fit_reliability(["a", "a", "b"], ["x", "y", "x"], [2, 2, 1])
    rows = [{"item_id": i, "grader": g, "kind": "pointwise", "grade": v} for i, g, v in [("a", "x", 2), ("b", "x", 1)]]
    stored = {"a": {"kind": "pointwise", "needs_humans": False, "audit": False, "overlap": 3, "source": "model"},
              "b": {"kind": "pointwise", "needs_humans": True, "audit": True, "overlap": 3, "source": "model"}}
    labels = recompute({"pointwise": model}, rows, stored)
    assert (labels["a"]["source"], labels["a"]["needs_humans"], labels["a"]["overlap"], labels["a"]["human_done"]) == (
        "human", True, 1, True)
    assert "overlap" not in labels["b"] and not labels["b"]["human_done"]  # an audit item waits for its overlap


def test_side_by_side_documents_carry_the_weighted_preference():
    model = Reliability(classes=np.array([-1, 0, 1]), graders=np.array(["x", "y"], dtype=object),
                        confusion=np.stack([np.eye(3) * 0.9 + 0.1 / 3, np.full((3, 3), 1 / 3)]),
                        prior=np.full(3, 1 / 3), skill=np.array([0.9333, 1 / 3]), judgements=np.array([50, 50]))
    rows = [{"item_id": "s", "grader": "x", "kind": "side_by_side", "preference": 2},
            {"item_id": "s", "grader": "y", "kind": "side_by_side", "preference": -3}]
    stored = {"s": {"kind": "side_by_side", "needs_humans": True, "overlap": 2}}
    out = recompute({"side_by_side": model}, rows, stored)["s"]
    assert out["preference"] == 2.0 and out["method"] == "reliability-weighted-mean"  # the coin flipper weighs 0
    assert out["posterior"][2] == out["confidence"] and out["human_done"]


def grading(**kw):
    return {"items": 4935, "items_labelled": 3912, "items_for_humans": 1835, "items_done": 812, "judgements": 2650,
            "judgements_wanted": 5505, **kw}


def test_completion_reasons_and_plain_messages():
    now = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
    assert completion.decide(grading(), "2024-06-02T00:00:00Z", now) is None  # deadline ahead, work left
    late = completion.decide(grading(), "2024-05-31T00:00:00Z", now)
    done = completion.completion(late, grading(), now)
    assert done["reason"] == "DEADLINE_PASSED" and done["coverage"] == round(3912 / 4935, 6)
    assert done["message"] == ("deadline passed: 3,912 of 4,935 items labelled (79%); "
                               "812 of 1,835 items for humans fully judged (44%)")
    finished = grading(items_done=1835, items_labelled=4935, judgements=5505)
    # all judged wins over a deadline that passed meanwhile
    all_judged = completion.decide(finished, "2024-05-31T00:00:00Z", now)
    assert completion.completion(all_judged, finished, now)["message"] == (
        "all 1,835 items for humans judged (5,505 judgements); 4,935 of 4,935 items labelled (100%)")
    nothing = grading(items_for_humans=0, items_done=0, items_labelled=4935)
    out = completion.completion(completion.decide(nothing, None, now), nothing, now)
    assert out["reason"] == "NOTHING_TO_JUDGE" and out["human_coverage"] == 1.0
    assert completion.decide(grading(items=0), None, now) is None  # not seeded yet: nothing to decide


def test_watch_line_shows_the_grading_bar_with_eta_and_the_completion_message():
    p = ev.EvaluationProgress(state=ev.GRADING, stage_progress=0.5, grading=ev.GradingProgress(
        items_for_humans=10, items_done=5, judgements=15, judgements_wanted=30, judgements_per_minute=2.5))
    p.report_time.FromSeconds(1_000_000)
    p.eta.FromSeconds(1_000_000 + 725)
    line = progress_line(p)
    assert "GRADING" in line and "█" * 12 + "░" * 12 in line and "items judged 5/10" in line
    assert "judgements 15/30" in line and "2.5/min" in line and "ETA 12m05s" in line
    p = ev.EvaluationProgress(state=ev.COMPLETE, stage_progress=1.0,
                              completion=ev.Completion(message="deadline passed: 3 of 4 items labelled (75%)"))
    assert progress_line(p).endswith("deadline passed: 3 of 4 items labelled (75%)")
