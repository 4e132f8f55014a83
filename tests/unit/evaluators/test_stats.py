"""evaluators.stats against scipy and hand-checked cases."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from evaluators.stats import (
    bootstrap_mean_ci,
    bootstrap_mean_cis,
    compare_paired,
    hodges_lehmann,
    holm,
    paired_t_test,
    permutation_test,
    sign_test,
    stratified_mean,
    sxs_summary,
)

RNG = np.random.default_rng(7)
A = RNG.uniform(0, 1, 40)
B = np.clip(A + RNG.normal(0.05, 0.1, 40), 0, 1)


# --------------------------------------------------------------------------- bootstrap


def test_bootstrap_percentile_close_to_scipy():
    ours = bootstrap_mean_ci(A, n_resamples=20_000, seed=1)
    ref = sps.bootstrap((A,), np.mean, n_resamples=20_000, method="percentile", random_state=1).confidence_interval
    assert ours.mean == pytest.approx(A.mean())
    assert ours.low == pytest.approx(ref.low, abs=0.01)
    assert ours.high == pytest.approx(ref.high, abs=0.01)
    assert ours.std_error == pytest.approx(A.std(ddof=1) / np.sqrt(A.size), rel=0.05)


def test_bootstrap_bca_close_to_scipy():
    x = RNG.exponential(1.0, 60)  # skewed: BCa differs from percentile
    ours = bootstrap_mean_ci(x, n_resamples=20_000, method="bca", seed=3)
    ref = sps.bootstrap((x,), np.mean, n_resamples=20_000, method="BCa", random_state=3).confidence_interval
    assert ours.low == pytest.approx(ref.low, abs=0.03)
    assert ours.high == pytest.approx(ref.high, abs=0.03)


def test_bootstrap_deterministic_and_seed_sensitive():
    assert bootstrap_mean_ci(A, seed=5) == bootstrap_mean_ci(A, seed=5)
    assert bootstrap_mean_ci(A, seed=5) != bootstrap_mean_ci(A, seed=6)


def test_bootstrap_multi_metric_shares_resamples():
    m = np.column_stack([A, B])
    cis = bootstrap_mean_cis(m, n_resamples=2000, seed=0)
    assert [c.mean for c in cis] == pytest.approx([A.mean(), B.mean()])
    # Column 0 alone with the same seed uses the same query resamples.
    alone = bootstrap_mean_ci(A, n_resamples=2000, seed=0)
    assert (cis[0].low, cis[0].high) == pytest.approx((alone.low, alone.high), rel=1e-12)


def test_bootstrap_chunking_does_not_change_result(monkeypatch):
    from evaluators.stats import bootstrap as mod

    full = mod.bootstrap_mean_ci(A, n_resamples=999, seed=2)
    monkeypatch.setattr(mod, "MAX_ELEMENTS", 100)  # many small chunks
    assert mod.bootstrap_mean_cis(A[:, None], n_resamples=999, seed=2)[0] == full


def test_bootstrap_constant_and_single():
    ci = bootstrap_mean_ci([0.5] * 10, n_resamples=100, method="bca", seed=0)
    assert ci.low == ci.high == 0.5
    assert bootstrap_mean_ci([0.3], n_resamples=100, seed=0).low == pytest.approx(0.3)


@pytest.mark.parametrize("bad, msg", [([], "at least 1"), ([1.0, np.nan], "non-finite"),
                                      ([1.0, np.inf], "non-finite"), ([[[1.0]]], "dimensional")])
def test_bootstrap_bad_input(bad, msg):
    with pytest.raises(ValueError, match=msg):
        bootstrap_mean_cis(bad) if msg == "dimensional" else bootstrap_mean_ci(bad)


def test_bootstrap_bad_parameters():
    with pytest.raises(ValueError, match="level"):
        bootstrap_mean_ci(A, level=1.5)
    with pytest.raises(ValueError, match="method"):
        bootstrap_mean_ci(A, method="normal")
    with pytest.raises(ValueError, match="n_resamples"):
        bootstrap_mean_ci(A, n_resamples=0)


# --------------------------------------------------------------------------- paired


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_t_test_matches_scipy(alternative):
    ours = paired_t_test(A, B, alternative=alternative)
    ref = sps.ttest_rel(B, A, alternative=alternative)
    assert ours.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-9)
    assert ours.df == A.size - 1


def test_t_test_degenerate():
    assert paired_t_test([1, 2, 3], [1, 2, 3]).pvalue == 1.0
    r = paired_t_test([1, 2, 3], [2, 3, 4])
    assert r.statistic == np.inf and r.pvalue == 0.0


def test_exact_permutation_matches_scipy():
    a, b = A[:12], B[:12]
    ours = permutation_test(a, b, n_permutations=10_000)
    assert ours.exact and ours.n_permutations == 2 ** 12
    ref = sps.permutation_test((b - a,), np.mean, permutation_type="samples", n_resamples=np.inf,
                               alternative="two-sided")
    assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-12)


def test_exact_permutation_by_hand():
    # d = (1, 2): sign patterns give sums 3, 1, -1, -3; |s| >= 3 for 2 of 4.
    assert permutation_test([0, 0], [1, 2]).pvalue == 0.5
    assert permutation_test([0, 0], [1, 2], alternative="greater").pvalue == 0.25


def test_monte_carlo_permutation_close_to_t_and_deterministic():
    r1 = permutation_test(A, B, n_permutations=20_000, seed=4)
    assert not r1.exact
    assert r1 == permutation_test(A, B, n_permutations=20_000, seed=4)
    assert r1.pvalue == pytest.approx(paired_t_test(A, B).pvalue, abs=0.01)


def test_compare_paired():
    r = compare_paired(A, B, seed=0, n_resamples=2000, n_permutations=2000)
    assert r.mean_diff == pytest.approx((B - A).mean())
    assert r.ci_low < r.mean_diff < r.ci_high
    assert r.t_pvalue == pytest.approx(sps.ttest_rel(B, A).pvalue)
    assert r == compare_paired(A, B, seed=0, n_resamples=2000, n_permutations=2000)
    assert compare_paired(A, B, seed=0, n_resamples=500, ci_method="bca").ci_low < r.mean_diff


def test_paired_bad_input():
    with pytest.raises(ValueError, match="same length"):
        compare_paired([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="non-finite"):
        paired_t_test([1, np.nan], [1, 2])
    with pytest.raises(ValueError, match="alternative"):
        paired_t_test([1, 2], [1, 3], alternative="bigger")
    with pytest.raises(ValueError, match="at least 2"):
        paired_t_test([1], [2])


# --------------------------------------------------------------------------- stratified


def test_stratified_by_hand():
    values = [1.0, 0.0, 0.5, 0.7]
    e = stratified_mean(values, [0, 0, 1, 1], [0.25, 0.75])
    assert e.mean == pytest.approx(0.25 * 0.5 + 0.75 * 0.6)
    # s_0^2 = 0.5, s_1^2 = 0.02; var = .25^2 * .5 / 2 + .75^2 * .02 / 2
    assert e.std_error == pytest.approx(np.sqrt(0.0625 * 0.25 + 0.5625 * 0.01))
    assert e.low == pytest.approx(e.mean - 1.959963984540054 * e.std_error)
    assert e.stratum_counts == (2, 2)


def test_stratified_equal_to_plain_mean_when_proportional():
    x = RNG.normal(size=30)
    s = np.repeat([0, 1, 2], 10)
    e = stratified_mean(x, s, [1 / 3, 1 / 3, 1 / 3])
    assert e.mean == pytest.approx(x.mean())


def test_stratified_empty_zero_weight_stratum_allowed():
    e = stratified_mean([1.0, 2.0], [0, 0], [1.0, 0.0])
    assert e.mean == 1.5 and e.n_strata == 1


@pytest.mark.parametrize("values, strata, weights, msg", [
    ([1.0, 2.0], [0, 0], [0.5, 0.4], "sum to 1"),
    ([1.0, 2.0], [0, 1], [0.5, 0.5], "fewer than 2"),
    ([1.0, 2.0], [0, 2], [0.5, 0.5], r"\[0, 1\]"),
    ([1.0, 2.0], [0], [1.0], "one entry per value"),
    ([1.0, 2.0], [0.5, 0], [1.0], "integer"),
    ([1.0, 2.0], [0, 0], [1.5, -0.5], "non-negative"),
    ([1.0, np.nan], [0, 0], [1.0], "non-finite"),
])
def test_stratified_bad_input(values, strata, weights, msg):
    with pytest.raises(ValueError, match=msg):
        stratified_mean(values, strata, weights)


# --------------------------------------------------------------------------- SxS


PREFS = np.array([1, 2, 0, -1, 3, 1, 0, 2, 1, -2, 1, 1, 0, 2])


def test_sxs_counts_and_tests_match_scipy():
    s = sxs_summary(PREFS, seed=0, n_resamples=2000)
    assert (s.wins, s.ties, s.losses, s.n) == (9, 3, 2, 14)
    assert s.mean_preference == pytest.approx(PREFS.mean())
    assert s.sign_test_pvalue == pytest.approx(sps.binomtest(9, 11, 0.5).pvalue, rel=1e-12)
    ref = sps.wilcoxon(PREFS, zero_method="wilcox")
    assert s.wilcoxon_pvalue == pytest.approx(ref.pvalue) and s.wilcoxon_statistic == ref.statistic
    assert s.ci_low < s.mean_preference < s.ci_high
    assert s == sxs_summary(PREFS, seed=0, n_resamples=2000)


def test_sxs_all_ties():
    s = sxs_summary([0, 0, 0], seed=0, n_resamples=100)
    assert s.sign_test_pvalue == 1.0 and s.wilcoxon_pvalue == 1.0 and s.hodges_lehmann == 0.0


@given(st.integers(0, 40), st.integers(0, 40))
@settings(max_examples=40, deadline=None)
def test_sign_test_equals_binomtest(wins, losses):
    expected = 1.0 if wins + losses == 0 else sps.binomtest(wins, wins + losses).pvalue
    assert sign_test(wins, losses) == pytest.approx(expected, rel=1e-9)


@given(st.lists(st.integers(-3, 3), min_size=1, max_size=60))
@settings(max_examples=50, deadline=None)
def test_hodges_lehmann_counts_equal_brute_force(xs):
    x = np.array(xs, dtype=float)
    i, j = np.triu_indices(x.size)
    assert hodges_lehmann(x) == np.median((x[i] + x[j]) / 2)


def test_hodges_lehmann_continuous():
    x = RNG.normal(size=300)
    i, j = np.triu_indices(x.size)
    assert hodges_lehmann(x) == pytest.approx(np.median((x[i] + x[j]) / 2))


# --------------------------------------------------------------------------- Holm


def test_holm_by_hand():
    r = holm([0.01, 0.04, 0.03, 0.20])
    # sorted 0.01, 0.03, 0.04, 0.20 -> 0.04, 0.09, 0.08 -> 0.09 (monotone), 0.20
    assert r.adjusted.tolist() == pytest.approx([0.04, 0.09, 0.09, 0.20])
    assert r.reject.tolist() == [True, False, False, False]


@given(st.lists(st.floats(0, 1), min_size=1, max_size=30))
@settings(max_examples=50, deadline=None)
def test_holm_properties(ps):
    p = np.array(ps)
    adj = holm(p).adjusted
    assert (adj >= p - 1e-15).all() and (adj <= 1).all()
    assert (adj <= np.minimum(1, p * p.size) + 1e-15).all()  # never worse than Bonferroni
    order = np.argsort(p, kind="stable")
    assert (np.diff(adj[order]) >= -1e-15).all()


def test_holm_bad_input():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm([0.5, 1.2])
    with pytest.raises(ValueError, match="at least 1"):
        holm([])
