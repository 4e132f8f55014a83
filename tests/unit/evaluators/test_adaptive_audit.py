"""Adaptive audit (issue 12): per-stratum inclusion probabilities, and the prediction-powered
estimate weighted by them stays unbiased — checked against a brute-force simulation."""
import numpy as np

from evaluators.reporting import query_values, stratified
from evaluators.reporting.audit import audit_inclusion


def _world(rng, queries=60, docs=5):
    """Two strata; ranker 0 lists the better documents first; the model is right in the head and
    often over-rates documents in the tail (which flatters ranker 1, who lists the worse ones first)."""
    query = np.repeat(np.arange(queries), docs)
    stratum = (np.arange(queries) >= queries // 2).astype(np.int64)
    position = np.tile(np.arange(docs), queries)
    truth = np.clip(3 - position + rng.integers(-1, 2, query.size), 0, 3)
    wrong = rng.random(query.size) < np.where(stratum[query] == 1, 0.5, 0.05)
    model = np.where(wrong, 3, truth)
    ranks = np.array([np.tile(np.arange(1, docs + 1), queries), np.tile(np.arange(docs, 0, -1), queries)])
    return query, stratum, truth, model, ranks


def _estimate(query, stratum, truth, model, ranks, pi, draws, n_queries, recorded=None):
    audited = draws < pi
    human = np.where(audited, truth, -1)
    v = query_values(query, model, human, audited, pi if recorded is None else recorded, ranks, n_queries,
                     ["ndcg_cut_10"], max_grade=3)
    d = v.ppi["ndcg_cut_10"][1] - v.ppi["ndcg_cut_10"][0]
    return stratified(d, stratum, np.array([0.3, 0.7])).mean


def test_the_weighted_estimate_is_unbiased_with_per_stratum_inclusion_and_biased_if_it_ignored_them():
    rng = np.random.default_rng(5)
    query, stratum, truth, model, ranks = _world(rng)
    nq = int(query.max()) + 1
    pi_h = audit_inclusion([0.3, 0.7], [0.02, 0.2], settled=[150, 150], queries=[30, 30], audit_share=0.1,
                           extra_share=0.2)
    assert pi_h[1] > pi_h[0] >= 0.1 and np.isclose((pi_h * 150).sum(), 0.3 * 300)  # the budget, spent on the tail
    pi = pi_h[stratum[query]]
    everything = np.ones(query.size)
    true = _estimate(query, stratum, truth, truth, ranks, everything, np.zeros(query.size), nq)
    reps = 3000
    got = np.array([_estimate(query, stratum, truth, model, ranks, pi, rng.random(query.size), nq)
                    for _ in range(reps)])
    se = got.std() / np.sqrt(reps)
    assert abs(got.mean() - true) < 4 * se, (got.mean(), true, se)
    # the same draws, but each audit weighted as if the uniform share had drawn it: off by far more
    flat = np.full(query.size, pi.mean())
    naive = np.array([_estimate(query, stratum, truth, model, ranks, pi, rng.random(query.size), nq, recorded=flat)
                      for _ in range(reps // 3)])
    assert abs(naive.mean() - true) > 4 * naive.std() / np.sqrt(reps // 3)
