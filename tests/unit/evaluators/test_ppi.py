"""evaluators.stats.ppi: pinned against ppi-python on shared cases; strata, inclusion probabilities, bad input."""
from __future__ import annotations

import numpy as np
import ppi_py  # the reference peer (dev extra): a hard import, so the pin cannot silently skip
import pytest

from evaluators.stats import ppi_mean, ppi_paired_difference, ppi_sxs_preference, pseudo_outcomes


def _case(seed, n=600, share=0.2, bias=0.05, noise=0.15):
    rng = np.random.default_rng(seed)
    y = rng.uniform(0, 1, n)
    f = np.clip(y + rng.normal(bias, noise, n), 0, 1)
    labelled = rng.random(n) < share
    return y, f, labelled


@pytest.mark.parametrize("lam", [None, 0.0, 0.5, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_ppi_python(seed, lam):
    y, f, lab = _case(seed)
    ours = ppi_mean(f, np.where(lab, y, np.nan), lam=lam, level=0.9)
    low, high = ppi_py.ppi_mean_ci(y[lab], f[lab], f[~lab], alpha=0.1, lam=lam)
    point = ppi_py.ppi_mean_pointestimate(y[lab], f[lab], f[~lab], lam=lam)
    assert ours.estimate == pytest.approx(float(np.ravel(point)[0]), rel=1e-12, abs=1e-12)
    assert ours.low == pytest.approx(float(np.ravel(low)[0]), rel=1e-12, abs=1e-12)
    assert ours.high == pytest.approx(float(np.ravel(high)[0]), rel=1e-12, abs=1e-12)
    assert ours.n_labelled == lab.sum() and ours.n_unlabelled == (~lab).sum()
    if lam is not None:
        assert ours.lam == lam


def test_tuned_lambda_is_ppi_python_lambda():
    y, f, lab = _case(3)
    ours = ppi_mean(f, np.where(lab, y, np.nan))
    # ppi-python's λ̂ reproduces its interval; ours must give the same interval with our λ.
    low, high = ppi_py.ppi_mean_ci(y[lab], f[lab], f[~lab], alpha=0.05, lam=ours.lam)
    assert (ours.low, ours.high) == pytest.approx((float(np.ravel(low)[0]), float(np.ravel(high)[0])), rel=1e-12)
    assert 0 < ours.lam < 1


def test_human_and_model_only_beside():
    y, f, lab = _case(4)
    r = ppi_mean(f, np.where(lab, y, np.nan))
    lo, hi = ppi_py.ppi_mean_ci(y[lab], f[lab], f[~lab], alpha=0.05, lam=0.0)
    assert r.human_only == pytest.approx(y[lab].mean())
    assert (r.human_low, r.human_high) == pytest.approx((float(np.ravel(lo)[0]), float(np.ravel(hi)[0])))
    assert r.model_only == pytest.approx(f.mean())
    # A useful model narrows the interval; the model-only number carries the model's bias.
    assert r.high - r.low < r.human_high - r.human_low
    assert r.model_only - y.mean() > 0.02
    assert r.estimator == "ppi++"


def test_stratified_is_ppi_python_per_stratum_reweighted():
    rng = np.random.default_rng(5)
    strata = np.repeat([0, 1, 2], [300, 200, 500])
    y = rng.beta(2 + strata, 3, strata.size)
    f = np.clip(y + rng.normal(0.03 * strata, 0.1, strata.size), 0, 1)
    lab = rng.random(strata.size) < 0.25
    w = np.array([0.6, 0.3, 0.1])
    r = ppi_mean(f, np.where(lab, y, np.nan), strata=strata, weights=w)
    est = var = 0.0
    for h in range(3):
        m = strata == h
        point = float(np.ravel(ppi_py.ppi_mean_pointestimate(y[m & lab], f[m & lab], f[m & ~lab], lam=r.lam))[0])
        low, high = (float(np.ravel(v)[0]) for v in
                     ppi_py.ppi_mean_ci(y[m & lab], f[m & lab], f[m & ~lab], alpha=0.05, lam=r.lam))
        est += w[h] * point
        var += (w[h] * (high - low) / 2 / 1.959963984540054) ** 2
    assert r.estimate == pytest.approx(est, rel=1e-10)
    assert r.std_error == pytest.approx(np.sqrt(var), rel=1e-8)
    assert r.estimator == "stratified ppi++"
    # The shared λ minimises the stratified variance: nudging it widens the interval.
    for other in (r.lam - 0.05, r.lam + 0.05):
        assert ppi_mean(f, np.where(lab, y, np.nan), strata=strata, weights=w, lam=other).std_error > r.std_error


def test_inverse_probability_is_unbiased_under_unequal_inclusion():
    # Units with a high model value go to humans 4x more often; the IPW form corrects for it,
    # a naive mean of the labelled units does not.
    rng = np.random.default_rng(6)
    n, reps = 400, 300
    estimates, naive = [], []
    for _ in range(reps):
        y = rng.uniform(0, 1, n)
        f = np.clip(y + rng.normal(0.05, 0.1, n), 0, 1)
        pi = np.where(f > 0.5, 0.4, 0.1)
        human = np.where(rng.random(n) < pi, y, np.nan)
        estimates.append(ppi_mean(f, human, inclusion=pi).estimate)
        naive.append(np.nanmean(human))
    se = np.std(estimates) / np.sqrt(reps)
    assert abs(np.mean(estimates) - 0.5) < 4 * se
    assert np.mean(naive) - 0.5 > 0.05


def test_pseudo_outcomes_are_unbiased_per_unit():
    rng = np.random.default_rng(7)
    y = rng.uniform(0, 1, 20)
    f = np.clip(y + 0.2, 0, 1)
    pi = np.linspace(0.2, 0.9, 20)
    draws = np.array([pseudo_outcomes(f, np.where(rng.random(20) < pi, y, np.nan), pi, 0.7) for _ in range(4000)])
    se = draws.std(axis=0) / np.sqrt(draws.shape[0])
    assert (np.abs(draws.mean(axis=0) - y) < 4.5 * se).all()
    with pytest.raises(ValueError, match="inclusion"):
        pseudo_outcomes(f, y, None, 0.5)


def test_paired_difference_and_sxs():
    y, f, lab = _case(8)
    yb, fb, _ = _case(9)
    r = ppi_paired_difference(f, fb, np.where(lab, y, np.nan), np.where(lab, yb, np.nan))
    d = ppi_mean(f - fb, np.where(lab, y - yb, np.nan))
    assert (r.estimate, r.low, r.high, r.lam) == (d.estimate, d.low, d.high, d.lam)
    with pytest.raises(ValueError, match="same units"):
        ppi_paired_difference(f, fb, np.where(lab, y, np.nan), yb)
    pref = np.round(6 * (y - 0.5))
    s = ppi_sxs_preference(np.clip(pref + 1, -3, 3), np.where(lab, pref, np.nan))
    assert s.low < pref.mean() < s.high
    with pytest.raises(ValueError, match="-3..\\+3"):
        ppi_sxs_preference([4, 0], [1, np.nan])


@pytest.mark.parametrize("kwargs, message", [
    (dict(prediction=[0.1], human=[0.1]), "at least 2"),
    (dict(prediction=[0.1, 0.2, 0.3], human=[0.1, np.nan]), "one entry per unit"),
    (dict(prediction=[0.1, 0.2, 0.3], human=[0.1, np.nan, np.nan]), "fewer than 2 labelled"),
    (dict(prediction=[0.1, np.nan, 0.3], human=[0.1, 0.2, np.nan]), "non-finite"),
    (dict(prediction=[0.1, 0.2, 0.3], human=[0.1, 0.2, np.nan], inclusion=[0.5, 0.0, 0.5]), r"\(0, 1\]"),
    (dict(prediction=[0.1, 0.2, 0.3], human=[0.1, 0.2, np.nan], strata=[0, 1, 0], weights=[0.5, 0.6]), "sum to 1"),
    (dict(prediction=[0.1, 0.2, 0.3], human=[0.1, 0.2, np.nan], strata=[0, 2, 0], weights=[0.5, 0.5]), "one weight"),
    (dict(prediction=[0.1, 0.2, 0.3], human=[0.1, 0.2, np.nan], lam=np.nan), "lam"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ppi_mean(**kwargs)
