"""evaluators.agreement against the krippendorff package, sklearn (if present) and hand-checked cases."""
from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluators.agreement import (
    cohen_kappa,
    fleiss_kappa,
    fleiss_kappa_from_counts,
    krippendorff_alpha,
    percent_agreement,
    reliability_matrix,
    value_counts,
)


def _random_matrix(rng, raters, units, values, missing):
    x = rng.choice(values, size=(raters, units)).astype(float)
    # Correlate raters a little so alpha is not ~0.
    truth = rng.choice(values, size=units)
    agree = rng.random((raters, units)) < 0.6
    x[agree] = np.broadcast_to(truth, x.shape)[agree]
    x[rng.random(x.shape) < missing] = np.nan
    return x


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
@pytest.mark.parametrize("seed", range(5))
def test_alpha_matches_krippendorff_package(level, seed):
    rng = np.random.default_rng(seed)
    values = [[0, 1, 2, 3], [1, 2, 5, 7, 11], [-2, 0, 3], [0.5, 1.25, 2.0, 4.75]][seed % 4]
    if level == "ratio":
        values = np.abs(values)
    x = _random_matrix(rng, raters=rng.integers(2, 9), units=rng.integers(5, 400), values=values,
                       missing=rng.uniform(0, 0.6))
    try:
        expected = krippendorff.alpha(x, level_of_measurement=level)
    except ValueError:
        pytest.skip("reference undefined on this draw")
    assert krippendorff_alpha(x, level) == pytest.approx(expected, abs=1e-9)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the reference divides 0/0 on degenerate draws
@given(st.integers(0, 2**32 - 1), st.sampled_from(["nominal", "ordinal", "interval"]))
@settings(max_examples=30, deadline=None)
def test_alpha_matches_package_property(seed, level):
    rng = np.random.default_rng(seed)
    x = _random_matrix(rng, raters=int(rng.integers(2, 6)), units=int(rng.integers(2, 40)),
                       values=[0, 1, 2, 3], missing=0.3)
    try:
        expected = krippendorff.alpha(x, level_of_measurement=level)
    except (ValueError, ZeroDivisionError, FloatingPointError):
        with pytest.raises(ValueError):
            krippendorff_alpha(x, level)
        return
    if not np.isfinite(expected):
        with pytest.raises(ValueError):
            krippendorff_alpha(x, level)
        return
    assert krippendorff_alpha(x, level) == pytest.approx(expected, abs=1e-9)


def test_alpha_wikipedia_example():
    data = [[np.nan, np.nan, np.nan, np.nan, np.nan, 3, 4, 1, 2, 1, 1, 3, 3, np.nan, 3],
            [1, np.nan, 2, 1, 3, 3, 4, 3, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan],
            [np.nan, np.nan, 2, 1, 3, 4, 4, np.nan, 2, 1, 1, 3, 3, np.nan, 4]]
    assert krippendorff_alpha(data, "nominal") == pytest.approx(0.691358, abs=1e-6)
    assert krippendorff_alpha(data, "interval") == pytest.approx(0.810845, abs=1e-6)


def test_alpha_large_sparse_domain_path():
    # Non-integer values take the np.unique path; integers spanning > 32 values too.
    rng = np.random.default_rng(1)
    x = _random_matrix(rng, 4, 200, np.arange(0, 100, 3), 0.2)
    assert krippendorff_alpha(x, "ordinal") == pytest.approx(krippendorff.alpha(x, level_of_measurement="ordinal"), abs=1e-9)


def test_alpha_perfect_agreement():
    assert krippendorff_alpha([[0, 1, 2, 3], [0, 1, 2, 3]], "ordinal") == 1.0


@pytest.mark.parametrize("data, msg", [
    ([[1, 1], [1, 1]], "two distinct"),
    ([[np.nan, np.nan]], "no ratings"),
    ([[1, 2, np.nan], [np.nan, np.nan, 3]], "two or more raters"),
    ([1, 2, 3], "2-D"),
    ([[1, np.inf], [1, 2]], "inf"),
    ([["a", "b"], ["a", "b"]], "numeric"),
    (np.empty((0, 3)), "empty"),
])
def test_alpha_bad_input(data, msg):
    with pytest.raises(ValueError, match=msg):
        krippendorff_alpha(data, "nominal")


def test_alpha_bad_level_and_negative_ratio():
    with pytest.raises(ValueError, match="level"):
        krippendorff_alpha([[1, 2], [1, 2]], "cardinal")
    with pytest.raises(ValueError, match="non-negative"):
        krippendorff_alpha([[-1, 2], [1, 2]], "ratio")


# --------------------------------------------------------------------------- Fleiss

WIKI_FLEISS = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
               [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]


def test_fleiss_wikipedia_example():
    # P-bar = 0.378, P_e = 0.213 -> kappa = 0.210 (Fleiss 1971 via Wikipedia).
    assert fleiss_kappa_from_counts(WIKI_FLEISS) == pytest.approx(0.20993, abs=1e-5)


def test_fleiss_from_matrix_equals_counts_and_drops_single_ratings():
    x = np.array([[0, 1, 2, 2, 1], [0, 1, 1, 2, np.nan], [0, 2, 1, 2, np.nan]])
    counts, domain = value_counts(x)
    assert domain.tolist() == [0, 1, 2]
    assert fleiss_kappa(x) == pytest.approx(fleiss_kappa_from_counts(counts[:4]))
    # Hand check on the 4 complete units: P_i = 1, 1/3, 1/3, 1 -> 2/3; p = (3, 4, 5)/12.
    p_e = (9 + 16 + 25) / 144
    assert fleiss_kappa(x) == pytest.approx((2 / 3 - p_e) / (1 - p_e))


def test_fleiss_varying_raters_hand_case():
    # Unit 1: (a, a, b) P=1/3; unit 2: (a, a) P=1; pooled p_a = 4/5, p_b = 1/5.
    counts = [[2, 1], [2, 0]]
    p_e = 0.8 ** 2 + 0.2 ** 2
    assert fleiss_kappa_from_counts(counts) == pytest.approx(((1 / 3 + 1) / 2 - p_e) / (1 - p_e))


def test_fleiss_bad_input():
    with pytest.raises(ValueError, match="non-negative integers"):
        fleiss_kappa_from_counts([[1.5, 1], [2, 0]])
    with pytest.raises(ValueError, match="two or more"):
        fleiss_kappa_from_counts([[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="undefined"):
        fleiss_kappa_from_counts([[2, 0], [3, 0]])


# --------------------------------------------------------------------------- percent agreement


def test_percent_agreement_hand_case():
    assert percent_agreement([[1, 1, 2], [1, 2, 2], [1, np.nan, 3]]) == pytest.approx((1 + 0 + 1 / 3) / 3)


# --------------------------------------------------------------------------- Cohen


def test_cohen_hand_cases():
    # 2x2 table [[20, 5], [10, 15]]: p_o = .7, p_e = .5*.6 + .5*.4 = .5 -> kappa = .4
    a = [0] * 25 + [1] * 25
    b = [0] * 20 + [1] * 5 + [0] * 10 + [1] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa([1, 2, 3], [1, 2, 3]) == 1.0


def test_cohen_quadratic_hand_case():
    # a = (0, 1, 2), b = (0, 2, 2): observed disagreement sum((a-b)^2)/3 = 1/3;
    # expected = mean over all (i, j) pairs of (a_i - b_j)^2 = 15/9.
    assert cohen_kappa([0, 1, 2], [0, 2, 2], weights="quadratic") == pytest.approx(1 - (1 / 3) / (15 / 9))


def test_cohen_drops_missing_pairs():
    assert cohen_kappa([0, 1, np.nan, 1], [0, 1, 1, np.nan]) == cohen_kappa([0, 1], [0, 1])


@pytest.mark.parametrize("weights", [None, "quadratic"])
def test_cohen_matches_sklearn(weights):
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    for _ in range(5):
        a = rng.integers(0, 4, 200)
        b = np.clip(a + rng.integers(-1, 2, 200), 0, 3)
        assert cohen_kappa(a, b, weights=weights) == pytest.approx(sk.cohen_kappa_score(a, b, weights=weights), abs=1e-12)


def test_cohen_bad_input():
    with pytest.raises(ValueError, match="equal length"):
        cohen_kappa([1, 2], [1])
    with pytest.raises(ValueError, match="both raters"):
        cohen_kappa([np.nan, 1], [1, np.nan])
    with pytest.raises(ValueError, match="weights"):
        cohen_kappa([1, 2], [1, 2], weights="linear-ish")
    with pytest.raises(ValueError, match="undefined"):
        cohen_kappa([1, 1], [1, 1])


# --------------------------------------------------------------------------- reliability matrix


def test_reliability_matrix_from_columns():
    m, items, workers = reliability_matrix(["q2", "q1", "q1"], ["b", "a", "b"], [3, 1, 2])
    assert items.tolist() == ["q1", "q2"] and workers.tolist() == ["a", "b"]
    np.testing.assert_array_equal(m, [[1, np.nan], [2, 3]])
    with pytest.raises(ValueError, match="more than once"):
        reliability_matrix(["q1", "q1"], ["a", "a"], [1, 2])
    with pytest.raises(ValueError, match="NaN"):
        reliability_matrix(["q1"], ["a"], [np.nan])
    with pytest.raises(ValueError, match="no judgements"):
        reliability_matrix([], [], [])
