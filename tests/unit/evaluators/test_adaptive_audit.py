"""Adaptive audit (issue 12): per-stratum inclusion probabilities, and the prediction-powered
estimate weighted by them stays unbiased — checked against a brute-force simulation."""
import numpy as np
import pytest

from evaluators.reporting import query_values, stratified
from evaluators.reporting.audit import audit_inclusion, verdict_inclusion


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


def test_verdict_inclusion_is_the_least_cost_times_variance():
    """Against a brute-force search of Cost(π)·Var(π) over both strata's probabilities."""
    s, u, k, a, floor = np.array([0.01, 0.03]), np.array([3.0, 5.0]), 6.0, 0.02, np.array([0.05, 0.05])
    got = verdict_inclusion(s, settled_per_query=u, human_per_query=k, variance_all_human=a, floor=floor)

    def j(pi):
        return (k + (u * pi).sum()) * (a + (u * s * s * (1 / pi - 1)).sum())

    grid = np.linspace(0.05, 1.0, 191)
    best = min((j(np.array([p, q])), p, q) for p in grid for q in grid)
    assert j(got) <= best[0] * (1 + 1e-4), (got, best)
    assert got[1] > got[0] > floor[0]  # more checks where the model's errors move the value more
    # a probability never falls below the floor given (what items already have)
    high = verdict_inclusion(s, settled_per_query=u, human_per_query=k, variance_all_human=a, floor=[0.9, 0.05])
    assert high[0] == 0.9 and j(high) <= min(j(np.array([0.9, q])) for q in grid) * (1 + 1e-4)
    # nothing learnt: the floor
    assert verdict_inclusion([0.0, 0.0], settled_per_query=u, human_per_query=k, variance_all_human=a,
                             floor=floor).tolist() == floor.tolist()


@pytest.mark.parametrize("error, k", [(0.02, 8.0), (0.05, 3.0), (0.3, 8.0)])
def test_verdict_inclusion_finds_the_audit_share_that_simulated_grading_needs_least_work_at(error, k):
    """The variance model behind it — a settled item's error enters its query's value 1/π times —
    checked on simulated audits: the chosen share's cost × variance of the per-query prediction-powered
    differences (what the sequence's width, so the judgements to a verdict, follow) is within 10 % of
    the best of a grid of shares — a low one for a model that is rarely wrong, every item for one
    that is often wrong (``k``: items per query humans judge anyway, because the model was unsure)."""
    rng = np.random.default_rng(11)
    nq, docs = 80, 6
    query = np.repeat(np.arange(nq), docs)
    truth = rng.integers(0, 4, query.size)
    # two rankers that differ a lot from query to query (per-query differences vary, as in real runs)
    ranks = np.array([np.concatenate([rng.permutation(docs) + 1 for _ in range(nq)]) for _ in range(2)])
    model = np.where(rng.random(query.size) < error, rng.integers(0, 4, query.size), truth)
    n_items = query.size

    def values(pi, reps):
        out, resid = [], []
        for _ in range(reps):
            audited = rng.random(n_items) < pi
            v = query_values(query, model, np.where(audited, truth, -1), audited, np.full(n_items, pi), ranks, nq,
                             ["ndcg_cut_10"], max_grade=3)
            y = v.ppi["ndcg_cut_10"][1] - v.ppi["ndcg_cut_10"][0]
            m = v.model["ndcg_cut_10"][1] - v.model["ndcg_cut_10"][0]
            out.append(y)
            resid.append(y - m)
        return np.concatenate(out), np.concatenate(resid)

    u = n_items / nq
    shares = [0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0]
    cost_var = {p: (k + u * p) * values(p, 100)[0].var() for p in shares}
    # what the worker knows: residuals from audits at the current share (pooled, one stratum here), and
    # the variance the values would have with every item judged by humans
    now = 0.2
    _, resid = values(now, 40)
    s = np.sqrt(now * (resid ** 2).sum() / (u * resid.size))
    full = values(1.0, 1)[0].var()
    [chosen] = verdict_inclusion([s], settled_per_query=[u], human_per_query=k, variance_all_human=full, floor=[0.05])
    at_chosen = (k + u * chosen) * values(float(chosen), 100)[0].var()
    assert at_chosen <= 1.1 * min(cost_var.values()), (chosen, at_chosen, cost_var)
