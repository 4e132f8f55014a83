"""The signals a learned pre-judgement reads, as named columns (pure; arrays in, arrays out).

Per (query, result) pair:

* ``cosine`` — the bi-encoder's cosine of query and result (title + snippet);
* ``pc1`` … — the first principal components of the query–document *interaction* ``q ⊙ d``
  (the element-wise product of the unit vectors, whose sum is the cosine): which directions of
  the embedding space the agreement comes from — a brand matched, a category matched — rather
  than one number. The basis is fitted per evaluation on its pairs (no labels involved), and
  its ``k`` is small (``INTERACTION_COMPONENTS``) so that a few dozen labels can weigh it;
* ``bm25_title``, ``bm25_text`` — Elasticsearch's BM25 of the query against the title and
  against title + snippet, and ``bm25_rel`` — ``bm25_text`` over the best ``bm25_text`` among
  the query's pooled results (1: the best word match the query has);
* ``click_*`` — what the search logs say, through a click model that corrects position bias
  (:class:`evaluators.click_model.DBN`): attractiveness, satisfaction, their product (the DBN
  relevance), ``log1p`` of the expected examinations, the share of clicks longer than 30 s, and
  ``click_seen`` (1 when the logs ever showed the pair; the others are missing otherwise);
* ``rank_best``, ``rank_mrr``, ``rank_share`` — where the compared rankers put the result: its
  best rank (``depth + 1`` when absent), the mean reciprocal rank over rankers, the share of
  rankers that list it.

A model may use a subset (:data:`FEATURE_SETS`): the cosine alone (the old pre-judgement), all
but the clicks (the click signal must not be an oracle: automation is measured without it too),
or everything. Locales enter as one-hot columns (:func:`locale_columns`) when one model is
pooled over them.

>>> cols = {"cosine": np.array([0.5, 0.7]), "bm25_text": np.array([1.0, np.nan])}
>>> X, names = assemble(cols, ["cosine", "bm25_text"])
>>> X.shape, names
((2, 2), ['cosine', 'bm25_text'])
"""
from __future__ import annotations

import numpy as np

INTERACTION_COMPONENTS = 4
LONG_CLICK_MS = 30_000.0
INTERACTION = [f"pc{i + 1}" for i in range(INTERACTION_COMPONENTS)]
LEXICAL = ["bm25_title", "bm25_text", "bm25_rel"]
CLICKS = ["click_attractiveness", "click_satisfaction", "click_relevance", "click_examinations",
          "click_long_share", "click_seen"]
RANKS = ["rank_best", "rank_mrr", "rank_share"]
ALL = ["cosine", *INTERACTION, *LEXICAL, *CLICKS, *RANKS]
FEATURE_SETS = {
    "cosine": ["cosine"],
    "no_clicks": [f for f in ALL if f not in CLICKS],
    "all": ALL,
}


def interaction(q: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``q ⊙ d`` of unit vectors, one row per pair."""
    return np.asarray(q, dtype=np.float64) * np.asarray(d, dtype=np.float64)


def interaction_basis(q: np.ndarray, d: np.ndarray, k: int = INTERACTION_COMPONENTS) -> dict:
    """Principal axes of the pairs' interactions: ``{"mean": (dim,), "components": (k, dim)}``
    (fewer rows when there are fewer pairs). Signs are fixed (largest loading positive), so
    the same pairs give the same basis."""
    x = interaction(q, d)
    mean = x.mean(axis=0) if len(x) else np.zeros(x.shape[1])
    if len(x) < 2:
        return {"mean": mean, "components": np.zeros((0, x.shape[1]))}
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    comps = vt[:k]
    flip = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])
    return {"mean": mean, "components": comps * flip[:, None]}


def interaction_components(q: np.ndarray, d: np.ndarray, basis: dict) -> dict[str, np.ndarray]:
    """``pc1..pck`` of each pair in ``basis`` (missing components are NaN)."""
    x = interaction(q, d) - basis["mean"]
    proj = x @ basis["components"].T
    return {name: proj[:, i] if i < proj.shape[1] else np.full(len(x), np.nan) for i, name in enumerate(INTERACTION)}


def relative_to_group_max(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """``values`` over the largest value of their group (0 where the group's largest is 0).

    >>> relative_to_group_max(np.array([2.0, 1.0, 0.0, 0.0]), np.array([0, 0, 1, 1])).tolist()
    [1.0, 0.5, 0.0, 0.0]
    """
    v = np.asarray(values, dtype=float)
    g = np.asarray(group, dtype=np.int64)
    top = np.zeros(g.max() + 1 if len(g) else 0)
    np.maximum.at(top, g, np.nan_to_num(v))
    t = top[g]
    return np.divide(v, t, out=np.zeros_like(v), where=t > 0)


def rank_features(ranks: np.ndarray, depth: int) -> dict[str, np.ndarray]:
    """From ``ranks`` ``(pairs, rankers)`` (1-based, 0 where the ranker does not list the result).

    >>> f = rank_features(np.array([[1, 0], [3, 2]]), depth=10)
    >>> f["rank_best"].tolist(), f["rank_mrr"].tolist(), f["rank_share"].tolist()
    ([1.0, 2.0], [0.5, 0.41666666666666663], [0.5, 1.0])
    """
    r = np.asarray(ranks, dtype=float)
    if r.ndim != 2 or r.shape[1] == 0:
        n = len(r)
        return {"rank_best": np.full(n, depth + 1.0), "rank_mrr": np.zeros(n), "rank_share": np.zeros(n)}
    listed = r > 0
    best = np.where(listed, r, np.inf).min(axis=1)
    return {
        "rank_best": np.where(np.isfinite(best), best, depth + 1.0),
        "rank_mrr": np.where(listed, 1.0 / np.where(listed, r, 1.0), 0.0).mean(axis=1),
        "rank_share": listed.mean(axis=1),
    }


def click_features(attractiveness: np.ndarray, satisfaction: np.ndarray, examinations: np.ndarray,
                   clicks: np.ndarray, long_clicks: np.ndarray, seen: np.ndarray) -> dict[str, np.ndarray]:
    """The ``click_*`` columns of pairs from a fitted click model's per-pair values; pairs the
    logs never showed (``seen`` false) get NaN, never the prior's made-up values."""
    seen = np.asarray(seen, dtype=bool)

    def gap(x):
        return np.where(seen, np.asarray(x, dtype=float), np.nan)

    a, s = gap(attractiveness), gap(satisfaction)
    clicks = np.asarray(clicks, dtype=float)
    long_share = np.divide(np.asarray(long_clicks, dtype=float), clicks, out=np.zeros_like(clicks), where=clicks > 0)
    return {
        "click_attractiveness": a, "click_satisfaction": s, "click_relevance": a * s,
        "click_examinations": gap(np.log1p(examinations)), "click_long_share": gap(long_share),
        "click_seen": seen.astype(float),
    }


def assemble(columns: dict[str, np.ndarray], names: list[str]) -> tuple[np.ndarray, list[str]]:
    """The matrix of ``names``' columns (a column nobody computed is all NaN)."""
    n = len(next(iter(columns.values()))) if columns else 0
    X = np.column_stack([np.asarray(columns.get(k, np.full(n, np.nan)), dtype=float) for k in names]) if names \
        else np.zeros((n, 0))
    return X, list(names)


def locale_columns(locales: np.ndarray, known: list[str]) -> np.ndarray:
    """One-hot columns of ``locales`` over ``known`` (an unknown locale is all zeros).

    >>> locale_columns(np.array(["en", "es", "xx"]), ["en", "es"]).tolist()
    [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]
    """
    loc = np.asarray(locales, dtype=object)
    return np.column_stack([(loc == k).astype(float) for k in known]) if known else np.zeros((len(loc), 0))
