"""evaluators.reporting: per-query values against `evaluate` on the same data written as TREC
files, the stratified estimator against evaluators.stats and hand computations, the paired
tests against scipy and evaluators.stats, verdicts, segments and the summary sentence."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from evaluators.metrics import evaluate, parse_qrels
from evaluators.reporting import (
    Line, SxSLine, coefficients, oriented, parse_segment_key, parse_stratum, per_query_values, segment, sign_flip,
    stratified, summary, sxs_verdict, trec_mean, weighted_difference,
)
from evaluators.agreement import krippendorff_alpha, reliability_matrix
from evaluators.reporting import alpha_from_votes
from evaluators.stats import permutation_test, sign_test, stratified_mean

MEASURES = ["map", "Rprec", "recip_rank", "P.1,5,10", "recall.5,10", "ndcg", "ndcg_cut.3,10", "ndcg_exp_cut.10",
            "err_cut.10", "judged.10"]


def pooled_world(seed: int, n_queries: int = 60, depth: int = 10):
    """Two rankers' top-k over overlapping candidates, pooled into items; some labels missing,
    some rank gaps (a repeated doc dropped by pooling), a query one ranker returned nothing for."""
    rng = np.random.default_rng(seed)
    query, doc, label, ranks = [], [], [], [[], []]
    for q in range(n_queries):
        cands = rng.choice(200, size=int(rng.integers(depth, 2 * depth)), replace=False)
        lists = [list(rng.permutation(cands)[: int(rng.integers(1, depth + 1))]) for _ in range(2)]
        if q == 5:
            lists[1] = []
        pooled = list(dict.fromkeys(lists[0] + lists[1]))
        missing = q % 4 == 1  # every fourth query is not complete
        for i, d in enumerate(pooled):
            query.append(q)
            doc.append(f"d{d}")
            label.append(-1 if (missing and i == 0) else int(rng.integers(0, 4)))
            for r in range(2):
                rank = lists[r].index(d) + 1 if d in lists[r] else 0
                ranks[r].append(rank + (rank > 3 and q % 3 == 0))  # a gap after rank 3 in some lists
    return np.array(query), np.array(doc), np.array(label), np.array(ranks)


def trec_files(query, doc, label, ranks, complete, r):
    qids = [f"q{q:03d}" for q in range(int(query.max()) + 1)]
    qrels = "".join(f"{qids[q]} 0 {d} {g}\n" for q, d, g in zip(query, doc, label) if complete[q])
    rows = sorted((qids[q], rk, d) for q, d, rk in zip(query, doc, ranks[r]) if rk > 0)
    run = "".join(f"{qid} Q0 {d} {rk} {100 - rk} run\n" for qid, rk, d in rows)
    return qrels.encode(), run.encode()


@pytest.mark.parametrize("seed", [1, 2])
def test_per_query_values_equal_evaluate_on_the_exported_files(seed):
    query, doc, label, ranks = pooled_world(seed)
    pm = per_query_values(query, label, ranks, int(query.max()) + 1, MEASURES)
    assert pm.complete.sum() == 45 and not pm.retrieved[1, 5]
    for r in range(2):
        qrels, run = trec_files(query, doc, label, ranks, pm.complete, r)
        ev = evaluate(parse_qrels(qrels), run, MEASURES)
        evaluated = np.flatnonzero(pm.evaluated(r))
        assert [int(q[1:]) for q in ev.qids] == evaluated.tolist()
        for name, values in ev.per_query.items():
            assert np.array_equal(pm.values[name][r, evaluated], values), name  # bit for bit
            assert trec_mean(pm.values[name][r, evaluated]) == ev.mean[name], name
        not_evaluated = np.setdiff1d(np.arange(len(pm.complete)), evaluated)
        assert np.isnan(pm.values["map"][r, not_evaluated]).all()
    assert pm.max_grade == 3


def test_labelled_and_listed_count_the_rankers_top_k():
    query, _, label, ranks = pooled_world(3, n_queries=10)
    pm = per_query_values(query, label, ranks, 10, ["P.5"])
    for r in range(2):
        assert pm.listed[r].tolist() == np.bincount(query[ranks[r] > 0], minlength=10).tolist()
        assert pm.labelled[r].tolist() == np.bincount(query[(ranks[r] > 0) & (label >= 0)], minlength=10).tolist()


def test_per_query_values_bad_input():
    with pytest.raises(ValueError, match="same items"):
        per_query_values([0, 1], [1], [[1, 1]], 2, ["map"])
    with pytest.raises(ValueError, match="0..1"):
        per_query_values([0, 2], [1, 1], [[1, 1]], 2, ["map"])
    with pytest.raises(ValueError, match="unknown measure"):
        per_query_values([0], [1], [[1]], 1, ["ndgc"])


# --------------------------------------------------------------------------- stratified means

RNG = np.random.default_rng(11)
Y = RNG.uniform(0, 1, 90)
S = np.repeat([0, 1, 2], 30)
W = np.array([0.5, 0.3, 0.2])


def test_one_stratum_is_the_plain_mean_with_a_t_interval():
    e = stratified(Y, np.zeros(90, int), [1.0])
    assert e.mean == pytest.approx(Y.mean()) and e.df == 89
    assert e.std_error == pytest.approx(sps.sem(Y))
    lo, hi = sps.t.interval(0.95, 89, loc=Y.mean(), scale=sps.sem(Y))
    assert (e.low, e.high) == pytest.approx((lo, hi))


def test_strata_agree_with_evaluators_stats():
    ours = stratified(Y, S, W)
    ref = stratified_mean(Y, S, W)
    assert ours.mean == pytest.approx(ref.mean) and ours.std_error == pytest.approx(ref.std_error)
    assert ours.df == 87 and ours.strata == 3 and ours.thin == 0 and ours.traffic_covered == pytest.approx(1.0)
    assert coefficients(S, W) @ Y == pytest.approx(ours.mean)


def test_empty_stratum_drops_out_and_the_rest_is_renormalised():
    keep = S != 1
    e = stratified(Y[keep], S[keep], W)
    assert e.traffic_covered == pytest.approx(0.7)
    assert e.mean == pytest.approx((0.5 * Y[S == 0].mean() + 0.2 * Y[S == 2].mean()) / 0.7)
    assert e.strata == 2


def test_a_thin_stratum_borrows_the_variance_of_all_values():
    y = np.array([0.2, 0.4, 0.6, 0.1, 0.3, 0.9])
    s = np.array([0, 0, 0, 1, 1, 2])
    w = np.array([0.5, 0.3, 0.2])
    e = stratified(y, s, w)
    s0, s1 = y[:3].var(ddof=1), y[3:5].var(ddof=1)
    pooled = y.var(ddof=1)  # strata collapsed: never 0 by the chance of a few equal values
    se = np.sqrt(0.25 * s0 / 3 + 0.09 * s1 / 2 + 0.04 * pooled / 1)
    assert e.mean == pytest.approx(0.5 * 0.4 + 0.3 * 0.2 + 0.2 * 0.9)
    assert e.std_error == pytest.approx(se) and e.thin == 1 and e.df == 3
    # a thin stratum next to strata without variance still has some
    assert stratified([0.5, 0.5, 0.5, 0.5, 0.9], [0, 0, 1, 1, 2], w).std_error > 0
    # only thin strata: the variance of all values, n - 1 degrees of freedom
    e = stratified([0.1, 0.5, 0.9], [0, 1, 2], w)
    assert e.df == 2 and e.std_error == pytest.approx(np.sqrt(np.sum(w ** 2) * np.var([0.1, 0.5, 0.9], ddof=1)))
    # one query: a mean without a standard error
    e = stratified([0.3], [0], [1.0])
    assert e.mean == 0.3 and np.isnan(e.std_error) and np.isnan(e.low)


def test_unique_query_sampling_weights_each_query_by_its_traffic():
    t = RNG.integers(1, 50, 90).astype(float)
    e = stratified(Y, S, W, traffic=t)
    want = sum(W[h] * np.sum(t[S == h] * Y[S == h]) / np.sum(t[S == h]) for h in range(3))
    assert e.mean == pytest.approx(want)
    assert coefficients(S, W, t) @ Y == pytest.approx(want)
    # the ratio estimator's variance (Cochran 6.11), by hand
    var = 0.0
    for h in range(3):
        yh, th = Y[S == h], t[S == h]
        r = np.sum(th * yh) / th.sum()
        var += W[h] ** 2 * np.sum((th / th.mean()) ** 2 * (yh - r) ** 2) / (len(yh) - 1) / len(yh)
    assert e.std_error == pytest.approx(np.sqrt(var))
    # equal traffic is traffic-weighted sampling
    assert stratified(Y, S, W, traffic=np.full(90, 7.0)).std_error == pytest.approx(stratified(Y, S, W).std_error)


def test_stratified_bad_input():
    with pytest.raises(ValueError, match="one weight per stratum"):
        stratified([1.0], [3], [1.0])
    with pytest.raises(ValueError, match="finite"):
        stratified([np.nan], [0], [1.0])
    with pytest.raises(ValueError, match="confidence level"):
        stratified([1.0], [0], [1.0], level=1.0)


# --------------------------------------------------------------------------- paired differences

A = RNG.uniform(0, 1, 40)
B = np.clip(A + RNG.normal(0.05, 0.1, 40), 0, 1)


def test_one_stratum_is_scipys_paired_t_test():
    r = weighted_difference(A, B, np.zeros(40, int), [1.0])
    ref = sps.ttest_rel(B, A)
    assert r.p_t == pytest.approx(ref.pvalue) and r.df == 39
    lo, hi = ref.confidence_interval(0.95)
    assert (r.low, r.high) == pytest.approx((lo, hi))
    assert r.difference == pytest.approx((B - A).mean()) == pytest.approx(r.candidate_mean - r.baseline_mean)


def test_weighted_difference_is_the_difference_of_weighted_means():
    s = np.arange(40) % 3
    r = weighted_difference(A, B, s, W)
    assert r.difference == pytest.approx(stratified(B, s, W).mean - stratified(A, s, W).mean)
    assert r.baseline_mean == pytest.approx(stratified(A, s, W).mean)
    assert r.unweighted_difference == pytest.approx((B - A).mean())


def test_exact_randomisation_equals_evaluators_stats():
    a, b = A[:12], B[:12]
    r = weighted_difference(a, b, np.zeros(12, int), [1.0])
    assert r.randomisation_exact and r.p_randomisation == permutation_test(a, b).pvalue


def test_monte_carlo_randomisation_is_close_to_the_exact_p():
    x = RNG.normal(0.04, 0.3, 20)
    exact = permutation_test(np.zeros(20), x, n_permutations=2 ** 20).pvalue
    r = sign_flip(x, n_permutations=20_000, seed=3)
    assert not r.exact and 0.02 < exact < 0.9
    assert abs(r.pvalue - exact) < 4 * np.sqrt(exact * (1 - exact) / 20_000)
    assert sign_flip(x, 20_000, seed=3) == r  # seeded: reproducible
    assert sign_flip(np.zeros(50)).pvalue == 1.0


def test_weighted_randomisation_flips_the_weighted_contributions():
    t = RNG.integers(1, 9, 12).astype(float)
    s = np.arange(12) % 2
    r = weighted_difference(A[:12], B[:12], s, [0.6, 0.4], traffic=t)
    c = coefficients(s, [0.6, 0.4], t)
    assert r.p_randomisation == permutation_test(np.zeros(12), c * (B[:12] - A[:12])).pvalue


# --------------------------------------------------------------------------- side by side

def test_sxs_verdict_counts_tests_and_weights():
    p = np.array([1.0, 2.0, 0.3, -1.0, 3.0, 1.0, -0.4, 0.0, 2.5, -2.0])
    v = sxs_verdict(p, np.zeros(10, int), [1.0])
    assert (v.wins, v.ties, v.losses) == (5, 3, 2)
    assert v.p_sign == pytest.approx(sps.binomtest(5, 7).pvalue) == sign_test(5, 2)
    decided = p[np.abs(p) >= 0.5]
    assert v.p_wilcoxon == pytest.approx(sps.wilcoxon(decided).pvalue)
    assert v.mean_preference == pytest.approx(p.mean())
    v = sxs_verdict(p, np.arange(10) % 2, [0.9, 0.1])
    assert v.mean_preference == pytest.approx(0.9 * p[::2].mean() + 0.1 * p[1::2].mean())


def test_orientation_follows_the_rankers():
    assert oriented([2.0], ["control"], ["treatment"], "treatment", "control").tolist() == [-2.0]


# --------------------------------------------------------------------------- segments and the sentence

def test_segments_group_whole_strata():
    fields = ["band", "locale"]
    keys = ["head|en-US", "tail|en-US", "head|es-MX", "tail|es-MX"]
    seg = segment([parse_stratum(k, fields) for k in keys], [0.4, 0.2, 0.3, 0.1], ["locale", "band"])
    assert seg.keys == ["locale=en-US,band=head", "locale=en-US,band=tail", "locale=es-MX,band=head",
                        "locale=es-MX,band=tail"]
    assert seg.values[3] == {"locale": "es-MX", "band": "tail"}
    seg = segment([parse_stratum(k, fields) for k in keys], [0.4, 0.2, 0.3, 0.1], ["band"])
    assert seg.traffic_share.tolist() == pytest.approx([0.7, 0.3])
    assert seg.members(np.array([0, 1, 2, 2]), 0).tolist() == [True, False, True, True]
    with pytest.raises(ValueError, match="2 parts"):
        parse_stratum("tail", fields)
    with pytest.raises(ValueError, match="field=value"):
        parse_segment_key("locale")


def test_summary_says_it_plainly():
    overall = Line("overall", -0.02, -0.035, -0.005, 0.004, 900, True)
    segs = [Line(f"seg{i}", 0.01, -0.01, 0.03, 0.5, 100, False) for i in range(4)]
    segs.append(Line("es-MX tail", -0.06, -0.09, -0.03, 0.0004, 120, True))
    text = summary("treatment", "P_10", overall, segs, SxSLine(40, 50, 30, 0.37, 120), level=0.9)
    assert text == ("treatment lowers P@10 by -0.020 [-0.035, -0.005] (90% CI) overall, p=0.004, n=900; "
                    "es-MX tail: -0.060 [-0.090, -0.030], p<0.001 (Holm), n=120; "
                    "no significant change in the other 4 segments (Holm-corrected, n=400); "
                    "side by side treatment wins 40, ties 50 and loses 30 of 120 queries (sign test p=0.37).")
    up = [Line(f"up{i}", 0.02 + i / 100, 0.01, 0.05, 0.001, 100 + i, True) for i in range(4)]
    down = Line("es-MX tail", -0.05, -0.08, -0.02, 0.003, 90, True)
    text = summary("treatment", "ndcg_cut_10", Line("overall", 0.03, 0.02, 0.04, 0.0001, 800, True), up + [down])
    assert text == ("treatment improves NDCG@10 by +0.030 [0.020, 0.040] overall, p<0.001, n=800; significant in 4 "
                    "of 5 segments (Holm), from +0.020 (up0, n=100) to +0.050 (up3, n=103); es-MX tail: -0.050 "
                    "[-0.080, -0.020], p=0.003 (Holm), n=90.")
    quiet = summary("b", "map", Line("overall", 0.001, -0.01, 0.012, 0.8, 50, False))
    assert quiet == "b shows no significant change in MAP overall (+0.001 [-0.010, 0.012], p=0.80, n=50)."


# --------------------------------------------------------------------------- inter-rater agreement

@pytest.mark.parametrize("level", ["ordinal", "interval"])
def test_alpha_from_vote_counts_equals_alpha_from_the_judgements(level):
    rng = np.random.default_rng(4)
    item = np.repeat(np.arange(300), 3)
    truth = rng.integers(0, 4, 300)
    grade = np.clip(truth[item] + rng.choice([-1, 0, 0, 0, 1], item.size), 0, 3)
    worker = rng.permuted(np.tile(np.arange(30), 30))[: item.size]
    worker = np.array([f"w{w}-{i % 3}" for i, w in enumerate(worker)])  # no worker rates an item twice
    keep = np.ones(item.size, bool)
    keep[::7] = False  # some items end up with 2 votes, a few with 1
    want = krippendorff_alpha(reliability_matrix(item[keep], worker[keep], grade[keep])[0], level)
    cells, counts = np.unique(np.stack([item[keep], grade[keep]]), axis=1, return_counts=True)
    got = alpha_from_votes(cells[0], cells[1], counts, level)
    assert got.alpha == pytest.approx(want, rel=1e-12)
    per_item = np.bincount(item[keep])
    assert got.units == int((per_item >= 2).sum()) and got.judgements == int(per_item[per_item >= 2].sum())
    assert alpha_from_votes([0, 1], [2, 2], [1, 1]).alpha is None  # nothing pairable
    assert alpha_from_votes([0, 1], [2, 2], [2, 3]).alpha is None  # one value throughout
