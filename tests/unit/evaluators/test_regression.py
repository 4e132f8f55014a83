"""evaluators.regression: the drop test against a trailing baseline."""
import numpy as np
import pytest
from scipy import special, stats

from evaluators.regression import drop_test


def test_one_baseline_snapshot_is_a_two_sample_z_test():
    r = drop_test([0.50, 0.70], [0.02, 0.02], [[0.55], [0.55]], [[0.015], [0.015]])
    sd = np.hypot(0.02, 0.015)
    assert r.baseline.tolist() == [0.55, 0.55] and r.n.tolist() == [1, 1]
    assert r.pvalue == pytest.approx(special.ndtr(np.array([-0.05, 0.15]) / sd))
    assert r.tau.tolist() == [0.0, 0.0]


def test_dersimonian_laird_by_hand_and_student_t_under_heterogeneity():
    m = np.array([0.60, 0.64, 0.58, 0.66])
    e = np.array([0.01, 0.012, 0.008, 0.01])
    w = 1 / e ** 2
    fixed = (w * m).sum() / w.sum()
    q = (w * (m - fixed) ** 2).sum()
    tau2 = (q - 3) / (w.sum() - (w ** 2).sum() / w.sum())
    ws = 1 / (e ** 2 + tau2)
    base = (ws * m).sum() / ws.sum()
    sd = np.sqrt(0.01 ** 2 + tau2 + 1 / ws.sum())
    r = drop_test([0.55], [0.01], [m], [e], alpha=0.05)
    assert tau2 > 0 and r.tau[0] == pytest.approx(np.sqrt(tau2)) and r.baseline[0] == pytest.approx(base)
    assert r.pvalue[0] == pytest.approx(stats.t.cdf((0.55 - base) / sd, 3))
    q95 = stats.t.ppf(0.95, 3)
    assert (r.low[0], r.high[0]) == pytest.approx((0.55 - base - q95 * sd, 0.55 - base + q95 * sd))


def test_the_interval_excludes_zero_exactly_when_the_test_rejects():
    rng = np.random.default_rng(1)
    base = 0.6 + 0.01 * rng.standard_normal((500, 4))
    r = drop_test(0.6 + 0.03 * rng.standard_normal(500), np.full(500, 0.01), base, np.full((500, 4), 0.01), alpha=0.1)
    assert ((r.pvalue < 0.1) == (r.high < 0)).all()


def test_false_alarms_stay_near_alpha_when_weeks_vary_more_than_their_error():
    rng = np.random.default_rng(0)
    n, k, se, tau = 20_000, 4, 0.01, 0.02
    obs = 0.6 + tau * rng.standard_normal((n, k + 1)) + se * rng.standard_normal((n, k + 1))
    r = drop_test(obs[:, -1], np.full(n, se), obs[:, :-1], np.full((n, k), se))
    assert (r.pvalue < 0.05).mean() < 0.06
    worse = drop_test(obs[:, -1] - 0.1, np.full(n, se), obs[:, :-1], np.full((n, k), se))
    assert (worse.pvalue < 0.05).mean() > 0.9  # a drop of 5 spreads is found


def test_ragged_series_and_no_baseline():
    r = drop_test([0.5, 0.5], [0.01, 0.01], [[0.6, np.nan], [np.nan, np.nan]], [[0.01, np.nan], [np.nan, np.nan]])
    assert r.n.tolist() == [1, 0] and r.baseline[0] == pytest.approx(0.6)
    assert np.isnan(r.pvalue[1]) and np.isnan(r.baseline[1]) and r.pvalue[0] < 1e-6


def test_zero_standard_errors_do_not_divide_by_zero():
    r = drop_test([0.5], [0.0], [[0.6, 0.6]], [[0.0, 0.0]])
    assert r.pvalue[0] == 0.0 and r.drop[0] == pytest.approx(-0.1)


@pytest.mark.parametrize("args, kw, needle", [
    (([0.5], [0.1], [0.6], [0.1]), {}, "matrix"),
    (([0.5], [-0.1], [[0.6]], [[0.1]]), {}, "non-negative"),
    (([np.nan], [0.1], [[0.6]], [[0.1]]), {}, "finite"),
    (([0.5], [0.1], [[0.6]], [[np.nan]]), {}, "exactly where"),
    (([0.5], [0.1], [[0.6, 0.7]], [[0.1]]), {}, "shape"),
    (([0.5, 0.4], [0.1, 0.1], [[0.6]], [[0.1]]), {}, "rows"),
    (([0.5], [0.1], [[0.6]], [[0.1]]), {"alpha": 0.7}, "alpha"),
])
def test_bad_input(args, kw, needle):
    with pytest.raises(ValueError, match=needle):
        drop_test(*args, **kw)
