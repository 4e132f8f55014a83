"""Recurrence and alerting in the evaluation spec: defaults, the one-hour floor, bad input."""
import datetime as dt

import pytest

from services._proto.qrelay.v1 import common_pb2, evaluation_pb2 as ev
from services.core.errors import InvalidArgument
from services.evaluation.spec import from_proto


def _spec(**kw) -> ev.EvaluationSpec:
    s = ev.EvaluationSpec(log_source=ev.LogSource(index_pattern="logs"), rankers=[ev.Ranker(
        id="a", log_bucket=ev.LogBucket(bucket="a"))], kinds=[common_pb2.POINTWISE], sample_plan=ev.SamplePlan(size=10),
        **kw)
    s.log_source.window.start_time.FromDatetime(dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc))
    s.log_source.window.end_time.FromDatetime(dt.datetime(2024, 6, 8, tzinfo=dt.timezone.utc))
    return s


def _every(seconds, window=None) -> ev.Recurrence:
    r = ev.Recurrence()
    r.every.FromSeconds(seconds)
    if window is not None:
        r.window.FromSeconds(window)
    return r


def _violations(spec, **kw) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as e:
        from_proto("x", spec, **kw)
    return {v.field: v.description for v in e.value.violations}


def test_defaults_fill_in():
    s = from_proto("x", _spec(recurrence=_every(7 * 86400), alerting=ev.Alerting()), min_recurrence_s=3600)
    assert (s.recurrence.every_s, s.recurrence.window_s) == (604800, 604800)
    a = s.alerting
    assert (a.measures, a.baseline_snapshots, a.alpha, a.min_drop, a.webhook_url) == (("ndcg_cut_10",), 4, 0.05, 0, "")
    assert from_proto("x", _spec()).recurrence is None and from_proto("x", _spec()).alerting is None


def test_measures_are_stored_by_their_canonical_name():
    s = from_proto("x", _spec(alerting=ev.Alerting(measures=["ndcg_cut.10", "P_5", "P.5"])))
    assert s.alerting.measures == ("ndcg_cut_10", "P_5")


def test_users_get_at_least_an_hour_a_configured_floor_may_be_lower():
    assert "between 1 h and 366 days" in _violations(_spec(recurrence=_every(1800)), min_recurrence_s=3600)[
        "evaluation.spec.recurrence.every"]
    assert from_proto("x", _spec(recurrence=_every(2)), min_recurrence_s=1).recurrence.every_s == 2


@pytest.mark.parametrize("url, needle", [
    ("hooks.example.com/x", "absolute http(s) URL"),
    ("ftp://hooks.example.com/x", "absolute http(s) URL"),
    ("https://", "absolute http(s) URL"),
    ("https://hooks.example.com:99999/x", "not a valid URL"),
    ("https://hooks.example.com/a b", "spaces"),
    ("https://example.com/" + "x" * 3000, "at most 2048"),
])
def test_malformed_webhook_urls(url, needle):
    assert needle in _violations(_spec(alerting=ev.Alerting(webhook_url=url)))["evaluation.spec.alerting.webhook_url"]


def test_every_bad_alerting_and_recurrence_field_is_named_at_once():
    v = _violations(_spec(recurrence=_every(0, window=-5), alerting=ev.Alerting(
        measures=["ndcg_cut_10", "nope", "P"], baseline_snapshots=99, min_drop=-1, alpha=0.7)), min_recurrence_s=3600)
    assert set(v) == {"evaluation.spec.recurrence.every", "evaluation.spec.recurrence.window",
                      "evaluation.spec.alerting.measures[1]", "evaluation.spec.alerting.measures[2]",
                      "evaluation.spec.alerting.baseline_snapshots", "evaluation.spec.alerting.min_drop",
                      "evaluation.spec.alerting.alpha"}
    assert "unknown measure 'nope'" in v["evaluation.spec.alerting.measures[1]"]
    assert "names 9 measures" in v["evaluation.spec.alerting.measures[2]"]


def test_grading_order_and_early_stopping_default_on_and_min_effect_is_checked():
    s = from_proto("x", _spec())
    assert (s.query_complete, s.early_stop, s.min_effect) == (True, True, 0.0)
    s = from_proto("x", _spec(grading_order=ev.ITEM_RANDOM, stopping=ev.Stopping(min_effect=0.01, grade_everything=True)))
    assert (s.query_complete, s.early_stop, s.min_effect) == (False, False, 0.01)
    for bad in (float("nan"), float("inf"), -0.01, 1.0):
        assert "must be finite and in [0, 1)" in _violations(_spec(stopping=ev.Stopping(min_effect=bad)))[
            "evaluation.spec.stopping.min_effect"]


def test_the_launch_bar_rule_needs_a_minimum_effect_and_unknown_rules_are_rejected():
    assert from_proto("x", _spec()).stop_rule == "SIGN_OR_EQUIVALENCE"
    s = from_proto("x", _spec(stopping=ev.Stopping(rule=ev.EXCLUDES_MIN_EFFECT, min_effect=0.01)))
    assert (s.stop_rule, s.min_effect) == ("EXCLUDES_MIN_EFFECT", 0.01)
    v = _violations(_spec(stopping=ev.Stopping(rule=ev.EXCLUDES_MIN_EFFECT)))
    assert v == {"evaluation.spec.stopping.min_effect": "must be above 0 with the EXCLUDES_MIN_EFFECT rule: the gain "
                                                        "the candidate must show (e.g. 0.01 of NDCG@10)"}
    v = _violations(_spec(stopping=ev.Stopping(rule=7, min_effect=0.01)))
    assert v == {"evaluation.spec.stopping.rule": "unknown stopping rule 7; one of SIGN_OR_EQUIVALENCE, "
                                                  "EXCLUDES_MIN_EFFECT"}
