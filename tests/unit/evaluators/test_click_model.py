"""The DBN click model recovers the parameters of simulated clicks, and corrects position bias."""
from __future__ import annotations

import numpy as np
import pytest

from evaluators.click_model import DBN, pair_index

K = 10


def simulate(a, s, gamma, lists, n, rng, examine_first=1.0):
    """``n`` sessions per list (rows of pair indices): the DBN's generative story."""
    pairs = np.repeat(lists, n, axis=0)
    m = len(pairs)
    clicks = np.zeros(pairs.shape, dtype=bool)
    examining = rng.random(m) < examine_first
    for k in range(pairs.shape[1]):
        p = pairs[:, k]
        here = p >= 0
        c = examining & here & (rng.random(m) < a[np.maximum(p, 0)])
        sat = c & (rng.random(m) < s[np.maximum(p, 0)])
        clicks[:, k] = c
        examining &= here & ~sat & (rng.random(m) < gamma)
    return pairs, clicks


def configurations(pairs, clicks):
    """Identical sessions collapsed with a weight, as the log aggregation hands them over."""
    key = np.concatenate([pairs, clicks.astype(np.int64)], axis=1)
    uniq, inv, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    return uniq[:, :pairs.shape[1]], uniq[:, pairs.shape[1]:].astype(bool), counts


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(3)
    n_pairs = 40
    a = rng.uniform(0.05, 0.8, n_pairs)
    s = rng.uniform(0.1, 0.9, n_pairs)
    # four queries of ten results each; every pair also shown at other positions by a second ranker
    lists = np.arange(n_pairs).reshape(4, K)
    lists = np.concatenate([lists, lists[:, ::-1], np.roll(lists, 3, axis=1)])
    pairs, clicks = simulate(a, s, 0.85, lists, 6000, rng)
    return a, s, pairs, clicks


def test_recovers_known_parameters(world):
    a, s, pairs, clicks = world
    p, c, wgt = configurations(pairs, clicks)
    assert len(p) < len(pairs) / 5  # the aggregation is what makes logs cheap
    m = DBN(max_iter=200).fit(p, c, weight=wgt)
    assert m.gamma_ == pytest.approx(0.85, abs=0.03)
    assert np.abs(m.attractiveness_ - a).max() < 0.06
    assert np.corrcoef(m.satisfaction_, s)[0, 1] > 0.9
    # the same fit from the raw sessions
    raw = DBN(max_iter=200).fit(pairs, clicks)
    assert np.allclose(raw.attractiveness_, m.attractiveness_, atol=1e-6)
    assert m.impressions_.sum() == pytest.approx(pairs.size)


def test_position_bias_corrected_unlike_click_through_rate(world):
    """Raw CTR ranks a pair by where it was shown; the DBN by what it is."""
    a, s, pairs, clicks = world
    m = DBN(max_iter=200).fit(*configurations(pairs, clicks)[:2], weight=configurations(pairs, clicks)[2])
    ctr = m.clicks_ / m.impressions_
    err_dbn = np.abs(m.attractiveness_ - a).mean()
    err_ctr = np.abs(ctr - a).mean()
    assert err_dbn < err_ctr / 3
    assert m.examinations_.max() <= m.impressions_.max() + 1e-9


def test_abandoned_searches_do_not_read_as_unattractive_top_results():
    rng = np.random.default_rng(5)
    a = rng.uniform(0.1, 0.7, 20)
    s = rng.uniform(0.2, 0.8, 20)
    lists = np.arange(20).reshape(2, K)
    lists = np.concatenate([lists, lists[:, ::-1]])
    pairs, clicks = simulate(a, s, 0.8, lists, 15000, rng, examine_first=0.6)
    p, c, w = configurations(pairs, clicks)
    m = DBN(max_iter=300).fit(p, c, weight=w)
    assert m.examine_first_ == pytest.approx(0.6, abs=0.05)
    assert np.abs(m.attractiveness_ - a).max() < 0.08
    stuck = DBN(examine_first=1.0, max_iter=300).fit(p, c, weight=w)  # the original model's E_1 = 1
    assert np.abs(stuck.attractiveness_ - a).mean() > 2 * np.abs(m.attractiveness_ - a).mean()


def test_rare_pairs_stay_near_the_prior():
    pairs = np.array([[0, 1, -1]])
    clicks = np.array([[True, False, False]])
    m = DBN().fit(pairs, clicks)
    assert 0.5 <= m.attractiveness_[0] < 1.0 and 0.0 < m.attractiveness_[1] <= 0.5
    assert np.isfinite(m.log_likelihood_)


def test_bad_input():
    with pytest.raises(ValueError, match="click on a position without a result"):
        DBN().fit(np.array([[0, -1]]), np.array([[False, True]]))
    with pytest.raises(ValueError, match="one shape"):
        DBN().fit(np.array([[0, 1]]), np.array([[False]]))
    with pytest.raises(ValueError, match="gamma"):
        DBN(gamma=0.0)


def test_pair_index_numbers_query_doc_pairs():
    p, q, d = pair_index(np.array(["q1", "q2", "q1"], dtype=object),
                         np.array([["a", "b"], ["a", "c"], ["b", None]], dtype=object))
    assert p[0, 0] != p[1, 0]  # the same document under two queries is two pairs
    assert p[0, 1] == p[2, 0] and p[2, 1] == -1
    assert [(q[i], d[i]) for i in p[1]] == [("q2", "a"), ("q2", "c")]
