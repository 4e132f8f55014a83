"""Which evaluations stop early, on which comparison, and what they store once decided (issue 12)."""
import pytest

from services.reporting.stopping import Rule, decision, rule


def _doc(**stopping):
    return {"kinds": ["pointwise", "side_by_side"], "spec": {
        "rankers": [{"id": "control"}, {"id": "treatment"}, {"id": "other"}], **({"stopping": stopping} if stopping else {})}}


def test_on_by_default_first_ranker_is_the_baseline_and_opting_out_or_no_headline_grades_everything():
    assert rule(_doc()) == Rule("control", "treatment", "ndcg_cut_10", 0.0, "SIGN_OR_EQUIVALENCE")
    assert rule(_doc(min_effect=0.01)).min_effect == 0.01
    assert rule(_doc(grade_everything=True)) is None
    assert rule(_doc(min_effect=0.02, rule="EXCLUDES_MIN_EFFECT")) == Rule("control", "treatment", "ndcg_cut_10",
                                                                           0.02, "EXCLUDES_MIN_EFFECT")
    assert rule({**_doc(), "kinds": ["side_by_side"]}) is None  # no pointwise headline
    assert rule({"kinds": ["pointwise"], "spec": {"rankers": [{"id": "solo"}]}}) is None


def test_the_decision_names_the_futility_verdict_with_its_minimum_effect():
    seq = {"verdict": "no effect as large as min_effect", "decided_at_look": 212, "eligible": 400, "values": "ppi",
           "decided_interval": {"low": -0.004, "high": 0.006, "level": 0.95}}
    d = decision(seq, Rule("a", "b", "ndcg_cut_10", 0.01))
    assert d["verdict"] == "no difference of at least 0.01" and d["decided_queries"] == 212 and d["decided"]


@pytest.mark.parametrize("verdict, low, high, sentence", [
    ("candidate gains at least min_effect", 0.023, 0.06, "candidate gains at least 0.02"),
    ("candidate gains less than min_effect", -0.03, -0.001, "candidate gains less than 0.02 (worse than the baseline)"),
    ("candidate gains less than min_effect", 0.002, 0.019,
     "candidate gains less than 0.02 (though better than the baseline)"),
    ("candidate gains less than min_effect", -0.01, 0.015, "candidate gains less than 0.02"),
])
def test_the_launch_bar_decision_says_which_side_of_the_minimum_effect(verdict, low, high, sentence):
    seq = {"verdict": verdict, "decided_at_look": 90, "eligible": 400, "values": "human",
           "decided_interval": {"low": low, "high": high, "level": 0.95}}
    d = decision(seq, Rule("a", "b", "ndcg_cut_10", 0.02, "EXCLUDES_MIN_EFFECT"))
    assert (d["verdict"], d["rule"], d["min_effect"], d["interval"]["low"]) == (sentence, "EXCLUDES_MIN_EFFECT", 0.02,
                                                                               low)
