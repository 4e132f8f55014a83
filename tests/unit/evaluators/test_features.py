"""Feature assembly for the learned pre-judgement."""
from __future__ import annotations

import numpy as np

from evaluators import features as F


def unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_interaction_components_are_a_deterministic_basis_of_the_pairs():
    rng = np.random.default_rng(0)
    q, d = unit(rng.normal(size=(50, 16))), unit(rng.normal(size=(50, 16)))
    b = F.interaction_basis(q, d)
    comps = b["components"]
    assert comps.shape == (F.INTERACTION_COMPONENTS, 16)
    assert np.allclose(comps @ comps.T, np.eye(len(comps)), atol=1e-9)
    again = F.interaction_basis(q, d)["components"]
    assert np.array_equal(comps, again)
    pcs = F.interaction_components(q, d, b)
    assert list(pcs) == F.INTERACTION and np.isclose(pcs["pc1"].mean(), 0.0)
    assert pcs["pc1"].var() >= pcs["pc2"].var() >= pcs["pc3"].var()
    # too few pairs for k components: the missing ones are NaN, not zeros
    small = F.interaction_components(q[:3], d[:3], F.interaction_basis(q[:3], d[:3]))
    assert np.isnan(small["pc4"]).all() and not np.isnan(small["pc1"]).any()


def test_lexical_ranks_and_clicks():
    rel = F.relative_to_group_max(np.array([4.0, 2.0, 0.0, 3.0]), np.array([0, 0, 0, 1]))
    assert rel.tolist() == [1.0, 0.5, 0.0, 1.0]
    r = F.rank_features(np.array([[1, 3], [0, 5], [0, 0]]), depth=5)
    assert r["rank_best"].tolist() == [1.0, 5.0, 6.0] and r["rank_share"].tolist() == [1.0, 0.5, 0.0]
    c = F.click_features(np.array([0.4, 0.9]), np.array([0.5, 0.5]), np.array([10.0, 0.0]),
                         np.array([4.0, 0.0]), np.array([1.0, 0.0]), np.array([True, False]))
    assert c["click_relevance"][0] == 0.2 and c["click_long_share"][0] == 0.25 and c["click_seen"].tolist() == [1, 0]
    # a pair the logs never showed carries no made-up click values
    assert all(np.isnan(c[k][1]) for k in F.CLICKS if k != "click_seen")


def test_assembly_and_feature_sets():
    X, names = F.assemble({"cosine": np.array([0.1, 0.2])}, ["cosine", "bm25_rel"])
    assert names == ["cosine", "bm25_rel"] and np.isnan(X[:, 1]).all()
    assert F.FEATURE_SETS["cosine"] == ["cosine"]
    assert not set(F.CLICKS) & set(F.FEATURE_SETS["no_clicks"]) and set(F.FEATURE_SETS["all"]) == set(F.ALL)
    assert F.locale_columns(np.array(["a", "b"]), ["b"]).tolist() == [[0.0], [1.0]]
