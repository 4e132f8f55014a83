"""Which evaluations stop early, on which comparison (issue 12)."""
from services.reporting.stopping import Rule, decision, rule


def _doc(**stopping):
    return {"kinds": ["pointwise", "side_by_side"], "spec": {
        "rankers": [{"id": "control"}, {"id": "treatment"}, {"id": "other"}], **({"stopping": stopping} if stopping else {})}}


def test_on_by_default_first_ranker_is_the_baseline_and_opting_out_or_no_headline_grades_everything():
    assert rule(_doc()) == Rule("control", "treatment", "ndcg_cut_10", 0.0)
    assert rule(_doc(min_effect=0.01)).min_effect == 0.01
    assert rule(_doc(grade_everything=True)) is None
    assert rule({**_doc(), "kinds": ["side_by_side"]}) is None  # no pointwise headline
    assert rule({"kinds": ["pointwise"], "spec": {"rankers": [{"id": "solo"}]}}) is None


def test_the_decision_names_the_futility_verdict_with_its_minimum_effect():
    seq = {"verdict": "no effect as large as min_effect", "decided_at_look": 212, "eligible": 400, "values": "ppi",
           "decided_interval": {"low": -0.004, "high": 0.006, "level": 0.95}}
    d = decision(seq, Rule("a", "b", "ndcg_cut_10", 0.01))
    assert d["verdict"] == "no difference of at least 0.01" and d["decided_queries"] == 212 and d["decided"]
