import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats

from evaluators.calibration import (
    PRIOR, PRIOR_CONFIDENCE_CAP, OrdinalCalibrator, OrdinalParams, expected_calibration_error, fit_calibration, ordinal_proba,
    predict_preference, quality,
)


def sample(params, n, seed=0):
    rng = np.random.default_rng(seed)
    s = rng.uniform(-0.1, 1.0, n)
    p = ordinal_proba(params, s)
    y = np.array([rng.choice(4, p=row / row.sum()) for row in p])
    return s, y


def test_proba_rows_sum_to_one_and_are_monotone():
    s = np.linspace(-1, 1, 50)
    p = ordinal_proba(PRIOR, s)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-9)
    expected = p @ np.arange(4)
    assert (np.diff(expected) > 0).all()


def test_fit_recovers_parameters():
    true = OrdinalParams(slope=15.0, cutpoints=(0.2, 0.45, 0.75))
    s, y = sample(true, 5000)
    cal = OrdinalCalibrator(l2=0.5).fit(s, y)
    assert cal.params_.slope == pytest.approx(15.0, rel=0.15)
    np.testing.assert_allclose(cal.params_.cutpoints, true.cutpoints, atol=0.03)
    assert cal.n_ == 5000


def test_no_labels_means_prior_and_prior_confidence_is_capped():
    cal = OrdinalCalibrator().fit(np.array([]), np.array([], dtype=int))
    assert cal.params_ == PRIOR
    c = fit_calibration(np.array([]), np.array([], dtype=int), np.array([], dtype=object))
    s = np.linspace(-1, 1, 201)
    grade, conf, _ = c.predict(s, np.array(["en"] * len(s), dtype=object))
    assert conf.max() <= PRIOR_CONFIDENCE_CAP
    assert grade[0] == 0 and grade[-1] == 3


def test_strong_pull_stays_at_prior():
    cal = OrdinalCalibrator(l2=1e4).fit(np.array([0.9, 0.8]), np.array([0, 0]))
    np.testing.assert_allclose(cal.params_.cutpoints, PRIOR.cutpoints, atol=0.02)


def test_bad_grades_rejected():
    with pytest.raises(ValueError):
        OrdinalCalibrator().fit(np.array([0.1]), np.array([4]))


def test_ece_known_values():
    assert expected_calibration_error(np.array([1.0, 1.0]), np.array([True, True])) == 0.0
    # two bins: 0.9 conf with 50% acc (0.4 gap), 0.25 conf with 0% acc (0.25 gap); n=4
    c = np.array([0.9, 0.9, 0.25, 0.25])
    ok = np.array([True, False, False, False])
    assert expected_calibration_error(c, ok) == pytest.approx((2 * 0.4 + 2 * 0.25) / 4)


def test_calibrated_model_has_small_ece_and_good_quality():
    true = OrdinalParams(slope=12.0, cutpoints=(0.25, 0.5, 0.75))
    s, y = sample(true, 4000, seed=1)
    cal = OrdinalCalibrator().fit(s[:3000], y[:3000])
    q = quality(cal.predict_proba(s[3000:]), y[3000:])
    assert q["ece"] < 0.05
    assert q["spearman"] > 0.6
    oracle = ordinal_proba(true, s[3000:]).argmax(axis=1)
    assert q["accuracy"] >= (oracle == y[3000:]).mean() - 0.03


def test_quality_spearman_matches_scipy():
    p = ordinal_proba(PRIOR, np.array([0.1, 0.4, 0.6, 0.9]))
    y = np.array([0, 2, 1, 3])
    assert quality(p, y)["spearman"] == pytest.approx(stats.spearmanr(p @ np.arange(4), y).statistic)


def test_per_locale_when_enough_pooled_otherwise_prior_without_labels():
    a = OrdinalParams(12.0, (0.2, 0.4, 0.6))
    b = OrdinalParams(12.0, (0.4, 0.6, 0.8))
    sa, ya = sample(a, 600, 1)
    sb, yb = sample(b, 50, 2)
    s = np.concatenate([sa, sb])
    y = np.concatenate([ya, yb])
    loc = np.array(["en"] * 600 + ["de"] * 50, dtype=object)
    cal = fit_calibration(s, y, loc, min_locale=200, min_pooled=30)
    assert cal.source("en") == "locale" and cal.source("de") == "pooled" and cal.source("xx") == "pooled"
    np.testing.assert_allclose(cal.per_locale["en"].params_.cutpoints, a.cutpoints, atol=0.06)
    assert set(cal.report["locales"]) == {"en", "de"}
    assert 0 <= cal.report["overall"]["ece"] <= 1
    empty = fit_calibration(np.array([]), np.array([], dtype=int), np.array([], dtype=object))
    assert empty.source("en") == "prior" and empty.pooled.params_ == PRIOR
    # predict_proba routes rows to their locale's calibrator
    p = cal.predict_proba(np.array([0.5, 0.5]), np.array(["en", "de"], dtype=object))
    np.testing.assert_allclose(p[0], cal.per_locale["en"].predict_proba(np.array([0.5]))[0])
    np.testing.assert_allclose(p[1], cal.pooled.predict_proba(np.array([0.5]))[0])


# --- ΔDCG preference ------------------------------------------------------------------------

E = np.eye(4)


def sxs(left, right, docs_left=None, docs_right=None):
    """one item; left/right: lists of grade distributions."""
    nl, nr = len(left), len(right)
    docs_left = list(range(nl)) if docs_left is None else docs_left
    docs_right = list(range(nl, nl + nr)) if docs_right is None else docs_right
    return (np.zeros(nl + nr, int), np.array([0] * nl + [1] * nr), np.array(list(range(nl)) + list(range(nr))),
            np.array(docs_left + docs_right), np.array(list(left) + list(right)), 1)


def test_certain_grades_give_certain_preference():
    pref, conf, d = predict_preference(*sxs([E[0], E[0]], [E[3], E[3]]))
    assert pref[0] == 3 and conf[0] == 1.0 and d[0] == pytest.approx(1.0)
    pref, conf, d = predict_preference(*sxs([E[3], E[3]], [E[0], E[0]]))
    assert pref[0] == -3 and d[0] == pytest.approx(-1.0)


def test_identical_lists_are_a_certain_tie():
    pr = [np.array([0.25] * 4), np.array([0.1, 0.2, 0.3, 0.4])]
    pref, conf, d = predict_preference(*sxs(pr, pr, [0, 1], [0, 1]))
    assert pref[0] == 0 and d[0] == 0 and conf[0] == 1.0  # same documents: no variance at all


def test_swap_negates_and_keeps_confidence():
    rng = np.random.default_rng(0)
    left = rng.dirichlet(np.ones(4), 5)
    right = rng.dirichlet(np.ones(4), 5)
    p1, c1, d1 = predict_preference(*sxs(left, right))
    p2, c2, d2 = predict_preference(*sxs(right, left))
    assert p1[0] == -p2[0] and c1[0] == pytest.approx(c2[0]) and d1[0] == pytest.approx(-d2[0])


def test_delta_matches_expected_dcg_and_monte_carlo_confidence():
    rng = np.random.default_rng(1)
    left = rng.dirichlet(np.ones(4), 4)
    right = rng.dirichlet(np.ones(4) * 0.5, 4)
    right[0] = [0.0, 0.0, 0.2, 0.8]
    pref, conf, share = predict_preference(*sxs(left, right))
    w = 1 / np.log2(np.arange(4) + 2)
    g = np.arange(4)
    delta = (right @ g) @ w - (left @ g) @ w
    assert share[0] == pytest.approx(delta / (3 * w.sum()))
    draws = 20000
    draw = lambda p: (rng.random((draws, len(p)))[..., None] > np.cumsum(p, axis=1)[None, :, :3]).sum(-1)
    gl, gr = draw(left), draw(right)
    mc = gr @ w - gl @ w
    if pref[0] != 0:
        assert conf[0] == pytest.approx((np.sign(mc) == np.sign(pref[0])).mean(), abs=0.06)


def test_vectorised_over_items_and_cutoff():
    # item 0: right better; item 1: left better; ranks past the cutoff are ignored
    item = np.array([0, 0, 1, 1, 1])
    side = np.array([0, 1, 0, 1, 1])
    rank = np.array([0, 0, 0, 0, 12])
    doc = np.array([0, 1, 0, 1, 2])
    pr = E[[0, 3, 3, 0, 3]]
    pref, conf, _ = predict_preference(item, side, rank, doc, pr, 2)
    assert pref.tolist() == [3.0, -3.0]


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(0, 10_000))
def test_preference_in_range(nl, nr, seed):
    rng = np.random.default_rng(seed)
    pref, conf, d = predict_preference(*sxs(rng.dirichlet(np.ones(4), nl), rng.dirichlet(np.ones(4), nr)))
    assert -3 <= pref[0] <= 3 and pref[0] == int(pref[0])
    assert 0 <= conf[0] <= 1 and -1 <= d[0] <= 1
