"""evaluators.scorecards: per-subject workforce statistics from columnar judgements."""
import numpy as np
import pytest

from evaluators.quality import wilson_interval
from evaluators.scorecards import workforce_stats

H = 3600.0


def test_throughput_is_over_active_hours_and_the_median_is_per_subject():
    s = workforce_stats(["a"] * 5 + ["b"], [10, 20, H + 5, 5 * H, 5 * H + 1, 30], [4, 8, 6, 100, 2, 7],
                        start=0, end=10 * H)
    assert s.subjects.tolist() == ["a", "b"] and s.judgements.tolist() == [5, 1]
    assert s.active_hours.tolist() == [3, 1] and s.throughput == pytest.approx([5 / 3, 1.0])
    assert s.median_seconds.tolist() == [6.0, 7.0]


def test_gold_agreement_and_skips_come_with_wilson_intervals():
    n = 20
    s = workforce_stats(["g"] * n, np.arange(n), np.ones(n), gold=[True] * 10 + [False] * 10,
                        gold_correct=[True] * 7 + [False] * 13, with_consensus=[True] * 20,
                        agrees=[True] * 15 + [False] * 5, skip_subject=["g"] * 5 + ["idle"], start=0, end=H)
    assert s.subjects.tolist() == ["g", "idle"]
    assert (s.gold_n[0], s.gold_correct[0], s.gold_accuracy[0]) == (10, 7, 0.7)
    assert (s.gold_low[0], s.gold_high[0]) == pytest.approx(tuple(float(x) for x in wilson_interval(7, 10)))
    # gold judgements are never compared with consensus (their label is the gold label)
    assert (s.consensus_n[0], s.consensus_agree[0]) == (10, 5)
    assert (s.skips.tolist(), s.skip_rate[0], s.skip_rate[1]) == ([5, 1], 0.2, 1.0)
    assert np.isnan(s.gold_accuracy[1]) and s.judgements[1] == 0 and np.isnan(s.median_seconds[1])


def test_drift_compares_the_second_half_with_the_first_on_gold_first():
    t = np.concatenate([np.linspace(0, 0.49 * H, 40), np.linspace(0.5 * H, 0.99 * H, 40)])
    ok = np.r_[np.ones(38), np.zeros(2), np.ones(20), np.zeros(20)].astype(bool)
    s = workforce_stats(["a"] * 80, t, np.ones(80), gold=np.ones(80, bool), gold_correct=ok, start=0, end=H)
    assert s.drift_on[0] == "gold" and s.drift_n[0].tolist() == [40, 40]
    assert (s.drift_first[0], s.drift_second[0]) == (0.95, 0.5) and s.drift_p[0] < 1e-4
    steady = workforce_stats(["a"] * 80, t, np.ones(80), with_consensus=np.ones(80, bool), agrees=np.tile([1, 0], 40),
                             start=0, end=H)
    assert steady.drift_on[0] == "agreement" and steady.drift_p[0] > 0.3
    half = workforce_stats(["a"] * 3, [1, 2, 3], [1, 1, 1], gold=[1, 1, 1], gold_correct=[1, 0, 1], start=0, end=H)
    assert half.drift_on[0] == "" and np.isnan(half.drift_p[0])  # nothing in the second half


def test_cost_and_sla_count_only_what_applies():
    s = workforce_stats(["a", "a", "a"], [1, 2, 3], [1, 1, 1], price=[0.1, np.nan, 0.3],
                        sla_known=[True, True, False], sla_met=[True, False, True], start=0, end=H)
    assert s.cost[0] == pytest.approx(0.4) and s.priced[0] == 2 and (s.sla_n[0], s.sla_met[0]) == (2, 1)


def test_only_the_subjects_asked_for():
    s = workforce_stats(["a", "b"], [1, 2], [1, 1], subjects=["b", "c"], start=0, end=H)
    assert s.subjects.tolist() == ["b", "c"] and s.judgements.tolist() == [1, 0]


@pytest.mark.parametrize("kw, needle", [
    ({"submit_time": [1, 2]}, "one entry per judgement"),
    ({"seconds_on_task": [1, -1, 1]}, "non-negative"),
    ({"gold": [2, 0, 1]}, "boolean"),
    ({"end": 0}, "window is empty"),
])
def test_bad_input(kw, needle):
    args = {"submit_time": [1, 2, 3], "seconds_on_task": [1, 1, 1], "start": 0, "end": H, **kw}
    with pytest.raises(ValueError, match=needle):
        workforce_stats(["a", "b", "c"], **args)
