"""evaluators.reporting.ppi: the per-item expansion is exactly unbiased for every measure (checked by
enumerating every audit draw), the item-unit estimate is evaluators.stats.ppi_mean (itself pinned
against ppi-python), λ and the human-only estimate behave as documented."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from evaluators.reporting import per_query_values, stratified
from evaluators.reporting.ppi import KMAX, item_values, ppi_estimate, query_values
from evaluators.stats import ppi_mean

MEASURES = ["ndcg_cut_5", "P_3", "map", "err_cut_5", "recip_rank"]


def _world(seed=0, queries=3, per_query=6, settled=3):
    """Queries of ``per_query`` pooled items, two rankers, the first ``settled`` items of each settled by the model."""
    rng = np.random.default_rng(seed)
    query = np.repeat(np.arange(queries), per_query)
    truth = rng.integers(0, 4, query.size)
    model = np.clip(truth + rng.choice([-1, 0, 0, 1], query.size), 0, 3)
    ranks = np.zeros((2, query.size), dtype=np.int64)
    for q in range(queries):
        idx = np.flatnonzero(query == q)
        ranks[0, idx] = rng.permutation(np.arange(1, per_query + 1))
        ranks[1, idx[:-1]] = rng.permutation(np.arange(1, per_query))  # ranker 1 misses one doc
    is_settled = np.tile(np.arange(per_query) < settled, queries)
    return query, truth, model, ranks, is_settled


@pytest.mark.parametrize("seed", [0, 1])
def test_expected_value_over_every_audit_draw_is_the_human_value(seed):
    query, truth, model, ranks, is_settled = _world(seed)
    a = 0.3
    pi = np.where(is_settled, a, 1.0)
    want = per_query_values(query, truth, ranks, 3, MEASURES, max_grade=3).values
    settled_idx = np.flatnonzero(is_settled)
    exp_ppi = {m: np.zeros((2, 3)) for m in want}
    exp_human = {m: np.zeros((2, 3)) for m in want}
    for draw in itertools.product([False, True], repeat=settled_idx.size):
        audited = np.zeros(query.size, bool)
        audited[settled_idx[list(draw)]] = True
        p = np.prod(np.where(draw, a, 1 - a))
        routed = ~is_settled | audited
        v = query_values(query, model, np.where(routed, truth, -1), routed, pi, ranks, 3, MEASURES, max_grade=3)
        assert v.usable.all()
        for m in want:
            exp_ppi[m] += p * v.ppi[m]
            exp_human[m] += p * v.human[m]
    for m in want:
        np.testing.assert_allclose(exp_ppi[m], want[m], rtol=1e-12, atol=1e-12, err_msg=m)
        np.testing.assert_allclose(exp_human[m], want[m], rtol=1e-12, atol=1e-12, err_msg=m)


def test_no_audit_disagrees_then_ppi_is_the_label_sets_value_and_model_only_is_the_models():
    query, truth, model, ranks, is_settled = _world(3)
    routed = ~is_settled
    pi = np.where(is_settled, 0.05, 1.0)
    human = np.where(routed, truth, -1)
    v = query_values(query, model, human, routed, pi, ranks, 3, ["ndcg_cut_5"], max_grade=3)
    hybrid = per_query_values(query, np.where(routed, truth, model), ranks, 3, ["ndcg_cut_5"], max_grade=3)
    plain = per_query_values(query, model, ranks, 3, ["ndcg_cut_5"], max_grade=3)
    np.testing.assert_array_equal(v.ppi["ndcg_cut_5"], hybrid.values["ndcg_cut_5"])
    np.testing.assert_array_equal(v.model["ndcg_cut_5"], plain.values["ndcg_cut_5"])
    assert not v.labelled.any() and (v.human["ndcg_cut_5"] == 0).all()
    assert v.settled.tolist() == [3, 3, 3] and v.audits.tolist() == [0, 0, 0]


def test_pending_items_and_too_many_disagreements_leave_a_query_out():
    query, truth, model, ranks, is_settled = _world(4, queries=2, per_query=KMAX + 3, settled=KMAX + 2)
    pi = np.where(is_settled, 0.5, 1.0)
    routed = np.ones(query.size, bool)
    human = np.where(query == 0, (model + 1) % 4, truth)  # query 0: every audit disagrees
    human[np.flatnonzero(query == 1)[-1]] = -1  # query 1: one item for humans not judged yet
    v = query_values(query, model, human, routed, pi, ranks, 2, ["P_3"])
    assert v.too_many.tolist() == [True, False] and v.usable.tolist() == [False, False]
    assert np.isnan(v.ppi["P_3"]).all()


def test_inconsistent_designs_are_refused():
    with pytest.raises(ValueError, match="probability 1 must be routed"):
        query_values([0], [1], [-1], [False], [1.0], [[1]], 1, ["P_1"])
    with pytest.raises(ValueError, match="only items routed"):
        query_values([0], [1], [2], [False], [0.5], [[1]], 1, ["P_1"])
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        query_values([0], [1], [2], [True], [0.0], [[1]], 1, ["P_1"])


def _items(seed, n=800, a=0.2, auto=0.7):
    rng = np.random.default_rng(seed)
    y = rng.uniform(-3, 3, n)
    f = np.clip(y + rng.normal(0.3, 0.6, n), -3, 3)
    settled = rng.random(n) < auto
    pi = np.where(settled, a, 1.0)
    routed = ~settled | (rng.random(n) < a)
    return f, np.where(routed, y, np.nan), routed, pi, y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_item_units_are_ppi_mean_with_inclusion(seed):
    f, y, routed, pi, _ = _items(seed)
    strata = np.random.default_rng(seed).integers(0, 3, f.size)
    w = np.array([0.5, 0.3, 0.2])
    ppi, human, ok = item_values(f, y, routed, pi)
    assert ok.all()
    r = ppi_estimate(ppi, human, pi, routed, strata, w, min_checked=2)
    ref = ppi_mean(f, y, strata=strata, weights=w, inclusion=pi)
    assert r.lam == pytest.approx(ref.lam, rel=1e-10) and 0 < r.lam < 1
    assert r.ppi.mean == pytest.approx(ref.estimate, rel=1e-10)
    assert r.ppi.std_error == pytest.approx(ref.std_error, rel=1e-10)
    assert r.human.mean == pytest.approx(ref.human_only, rel=1e-10)
    assert r.human.std_error == pytest.approx(ref.human_std_error, rel=1e-10)
    assert r.ppi.std_error < r.human.std_error and r.checked == int((routed & (pi < 1)).sum())


def test_the_tuned_lambda_beats_its_neighbours():
    f, y, routed, pi, _ = _items(5)
    s = np.zeros(f.size, dtype=np.int64)
    ppi, human, _ = item_values(f, y, routed, pi)
    tuned = ppi_estimate(ppi, human, pi, routed, s, [1.0])
    assert 0.05 < tuned.lam < 0.98
    for lam in (tuned.lam - 0.02, tuned.lam + 0.02):
        assert ppi_estimate(ppi, human, pi, routed, s, [1.0], lam=lam).ppi.std_error > tuned.ppi.std_error


def test_human_only_not_estimable_with_few_checked_units_then_lambda_is_one():
    f, y, routed, pi, truth = _items(6, n=400, a=0.05)
    s = np.zeros(f.size, dtype=np.int64)
    ppi, human, _ = item_values(f, y, routed, pi)
    r = ppi_estimate(ppi, human, pi, routed, s, [1.0], min_checked=1000)
    assert r.human is None and "judged in full by humans; at least 1000" in r.human_note and r.lam == 1.0
    assert r.ppi.mean == pytest.approx(stratified(ppi, s, [1.0]).mean)


def test_everything_human_gives_one_number_three_ways():
    rng = np.random.default_rng(7)
    y = rng.uniform(0, 1, 50)
    s = rng.integers(0, 2, 50)
    one = np.ones(50)
    r = ppi_estimate(y, y, one, np.ones(50, bool), s, [0.4, 0.6])
    plain = stratified(y, s, [0.4, 0.6])
    assert r.ppi.mean == r.human.mean == pytest.approx(plain.mean) and r.settled == 0 and r.human_note == ""


def test_coverage_of_the_query_level_estimate_on_simulated_evaluations():
    """The fixed-sample interval of the expansion covers the population's mean NDCG@5 of human labels:
    400 evaluations of 150 queries drawn from 4,000, each with its own audit draw (seeded, so the
    count is fixed; the binomial 99.9% band around 95% for 400 draws is [90.5%, 98.5%]). The
    model is biased (+0.2 grade on average), so intervals from its labels alone miss."""
    rng = np.random.default_rng(11)
    pop, per, nq = 4000, 8, 150
    truth = rng.integers(0, 4, (pop, per))
    model = np.clip(truth + rng.choice([-1, 0, 0, 0, 1], truth.shape) + (rng.random(truth.shape) < 0.2), 0, 3)
    settled = rng.random(truth.shape) < 0.6
    ranks = np.tile(np.arange(1, per + 1), nq)[None, :]
    query = np.repeat(np.arange(nq), per)
    everyone = np.repeat(np.arange(pop), per)
    target = per_query_values(everyone, truth.ravel(), np.tile(np.arange(1, per + 1), pop)[None, :], pop,
                              ["ndcg_cut_5"], max_grade=3).values["ndcg_cut_5"][0].mean()
    s = np.zeros(nq, dtype=np.int64)
    hits, model_hits = 0, 0
    for _ in range(400):
        drawn = rng.choice(pop, nq, replace=False)
        t, m, st = truth[drawn].ravel(), model[drawn].ravel(), settled[drawn].ravel()
        routed = ~st | (rng.random(st.size) < 0.25)
        v = query_values(query, m, np.where(routed, t, -1), routed, np.where(st, 0.25, 1.0), ranks, nq,
                         ["ndcg_cut_5"], max_grade=3)
        r = ppi_estimate(v.ppi["ndcg_cut_5"][0], v.human["ndcg_cut_5"][0], v.inclusion, v.labelled, s, [1.0])
        hits += r.ppi.low <= target <= r.ppi.high
        naive = stratified(v.model["ndcg_cut_5"][0], s, [1.0])
        model_hits += naive.low <= target <= naive.high
    assert 362 <= hits <= 394
    assert model_hits < 300  # the model's labels taken as truth: no valid interval


def test_the_headline_sequence_waits_for_its_burn_in_stops_on_futility_and_follows_the_order():
    from evaluators.reporting import headline_sequence

    rng = np.random.default_rng(3)
    n = 300
    s = np.repeat([0, 1], n // 2)
    d = rng.normal(0.002, 0.05, n)  # a negligible effect
    few = headline_sequence(np.where(np.arange(n) < 20, d, np.nan), s, [0.5, 0.5], order=np.arange(20))
    assert (few.looks, few.decision.stop, few.low, few.high) == (20, False, -np.inf, np.inf)
    plain = headline_sequence(d, s, [0.5, 0.5], order=np.arange(n))
    futile = headline_sequence(d, s, [0.5, 0.5], order=np.arange(n), min_effect=0.02)
    assert not plain.decision.stop and plain.low < 0 < plain.high
    assert (futile.decision.stop, futile.decision.verdict) == (True, "no effect as large as min_effect")
    assert -0.02 < futile.decision.low < futile.decision.high < 0.02
    # the same values in another completion order: another path, the same mean at the last look
    strong = np.where(s == 0, 0.08, -0.02) + rng.normal(0, 0.01, n)  # stratum 0 much better
    first_0 = headline_sequence(strong, s, [0.5, 0.5], order=np.argsort(s, kind="stable"))
    first_1 = headline_sequence(strong, s, [0.5, 0.5], order=np.argsort(-s, kind="stable"))
    assert first_0.estimate == pytest.approx(first_1.estimate) == pytest.approx(0.03, abs=0.002)
    assert first_0.decision.verdict == "candidate better" and first_1.decision.verdict == "baseline better"
