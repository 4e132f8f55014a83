"""evaluators.quality: Wilson intervals, gold accuracy, consensus agreement, drift."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluators.quality import consensus_agreement, drift, gold_accuracy, wilson_interval


def test_wilson_known_values():
    lo, hi = wilson_interval([8, 0, 10], [10, 10, 10])
    np.testing.assert_allclose(lo, [0.4901625, 0.0, 0.7224672], atol=1e-6)
    np.testing.assert_allclose(hi, [0.9433178, 0.2775328, 1.0], atol=1e-6)
    lo, hi = wilson_interval(0, 0)
    assert np.isnan(lo) and np.isnan(hi)


@given(st.integers(1, 500), st.data())
@settings(max_examples=50, deadline=None)
def test_wilson_contains_estimate(n, data):
    x = data.draw(st.integers(0, n))
    lo, hi = wilson_interval(x, n)
    assert 0 <= lo <= x / n <= hi <= 1


def test_wilson_bad_input():
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(5, 3)
    with pytest.raises(ValueError, match="level"):
        wilson_interval(1, 3, level=95)


def test_gold_accuracy_hand_case():
    r = gold_accuracy(workers=["a", "a", "a", "b", "b", "c"],
                      items=["g1", "g2", "x", "g1", "g2", "x"],
                      labels=[1, 0, 3, 1, 1, 2],
                      gold={"g1": 1, "g2": 1})
    assert r.workers.tolist() == ["a", "b", "c"]
    assert r.n.tolist() == [2, 2, 0] and r.correct.tolist() == [1, 2, 0]
    assert r.accuracy[:2].tolist() == [0.5, 1.0] and np.isnan(r.accuracy[2])
    lo, hi = wilson_interval(1, 2)
    assert (r.low[0], r.high[0]) == (lo, hi)
    # Pair-of-arrays gold works the same.
    r2 = gold_accuracy(["a"], ["g1"], [1], (["g1"], [1]))
    assert r2.accuracy.tolist() == [1.0]


def test_gold_accuracy_bad_input():
    with pytest.raises(ValueError, match="equal length"):
        gold_accuracy(["a"], ["g1", "g2"], [1], {"g1": 1})
    with pytest.raises(ValueError, match="empty"):
        gold_accuracy([], [], [], {"g1": 1})
    with pytest.raises(ValueError, match="gold is empty"):
        gold_accuracy(["a"], ["g1"], [1], {})
    with pytest.raises(ValueError, match="twice"):
        gold_accuracy(["a"], ["g1"], [1], (["g1", "g1"], [1, 2]))
    with pytest.raises(ValueError, match="NaN"):
        gold_accuracy(["a"], ["g1"], [np.nan], {"g1": 1})


def test_consensus_agreement_graded():
    r = consensus_agreement(workers=["a", "a", "b", "b", "b"], items=[1, 2, 1, 2, 3],
                            labels=[3, 1, 2, 0, 2], consensus={1: 3, 2: 1}, graded=True)
    assert r.n.tolist() == [2, 2]
    assert r.agree.tolist() == [1.0, 0.0]
    assert r.mean_abs_deviation.tolist() == [0.0, 1.0]
    nominal = consensus_agreement(["a"], [1], ["x"], {1: "x"})
    assert nominal.agree.tolist() == [1.0] and np.isnan(nominal.mean_abs_deviation[0])
    with pytest.raises(ValueError, match="non-negative integers"):
        consensus_agreement(["a"], [1], [1.5], {1: 1}, graded=True)
    with pytest.raises(ValueError, match="numeric"):
        consensus_agreement(["a"], [1], ["x"], {1: "x"}, graded=True)


def test_drift_flags_a_drop_and_not_a_steady_worker():
    rng = np.random.default_rng(0)
    t = np.tile(np.arange(400), 2).astype(float)
    workers = np.repeat(["steady", "drops"], 400)
    p = np.where((workers == "drops") & (t >= 300), 0.5, 0.9)
    success = rng.random(800) < p
    r = drift(workers, t, success, edges=[0, 100, 200, 300, 400])
    assert r.workers.tolist() == ["drops", "steady"]
    assert r.n.tolist() == [[100] * 4, [100] * 4]
    assert r.flagged[0].tolist() == [False, False, False, True]
    assert not r.flagged[1].any()
    assert np.isnan(r.z[:, 0]).all()  # nothing earlier to compare the first window with


def test_drift_z_by_hand():
    # Window 0: 9/10, window 1: 5/10. pooled 14/20 -> se = sqrt(.7*.3*(.1+.1)).
    success = [1] * 9 + [0] + [1] * 5 + [0] * 5
    r = drift(["w"] * 20, list(range(20)), success, [0, 10, 20])
    z = (0.9 - 0.5) / np.sqrt(0.7 * 0.3 * 0.2)
    assert r.z[0, 1] == pytest.approx(z)
    assert r.rate[0].tolist() == [0.9, 0.5]


def test_drift_datetimes_and_outside_ignored():
    ts = np.array(["2026-01-01", "2026-01-02", "2026-01-09", "2027-05-05"], dtype="datetime64[D]")
    edges = np.array(["2026-01-01", "2026-01-08", "2026-01-15"], dtype="datetime64[D]")
    r = drift(["a"] * 4, ts, [True, True, False, False], edges)
    assert r.n.tolist() == [[2, 1]]


@pytest.mark.parametrize("kwargs, msg", [
    (dict(edges=[0, 0, 1]), "strictly increasing"),
    (dict(edges=[0]), "at least two"),
    (dict(success=[2, 1]), "boolean"),
    (dict(timestamps=[0.0, np.nan]), "NaN"),
    (dict(alpha=2.0), "alpha"),
])
def test_drift_bad_input(kwargs, msg):
    args = dict(workers=["a", "a"], timestamps=[0, 1], success=[True, False], edges=[0, 2])
    args.update(kwargs)
    with pytest.raises(ValueError, match=msg):
        drift(**args)
