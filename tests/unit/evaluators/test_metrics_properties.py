"""Property tests: kernels against plain per-query reference implementations, and invariants.

The references below are written for reading, not speed: one query at a time,
straight from the definitions (trec_eval's m_*.c, Jarvelin & Kekalainen,
Chapelle et al.).  A ranking is a list of grade codes in rank order: a grade
>= 0 for a judged document, -1 (not in the qrels) or -2 (in the qrels with a
negative grade) for unjudged ones; ``judged`` is the list of all qrels grades
of the query (retrieved or not).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from evaluators.metrics import Options, evaluate, parse_qrels  # noqa: E402
from evaluators.metrics.ap import average_precision  # noqa: E402
from evaluators.metrics.err import err  # noqa: E402
from evaluators.metrics.judged import judged  # noqa: E402
from evaluators.metrics.ndcg import ideal_dcg, ndcg  # noqa: E402
from evaluators.metrics.precision import precision  # noqa: E402
from evaluators.metrics.ranking import PAD  # noqa: E402
from evaluators.metrics.recall import recall  # noqa: E402
from evaluators.metrics.rprec import r_precision  # noqa: E402
from evaluators.metrics.rr import reciprocal_rank  # noqa: E402

SETTINGS = settings(max_examples=60, deadline=None)


# --------------------------------------------------------------------------- references


def ref_precision(ranking, level, k):
    return sum(1 for g in ranking[:k] if g >= level) / k


def ref_num_rel(judged_grades, level):
    return sum(1 for g in judged_grades if g >= max(level, 0))


def ref_recall(ranking, judged_grades, level, k):
    r = ref_num_rel(judged_grades, level)
    return sum(1 for g in ranking[:k] if g >= level) / r if r else 0.0


def ref_rr(ranking, level):
    for rank, g in enumerate(ranking, start=1):
        if g >= level:
            return 1.0 / rank
    return 0.0


def ref_ap(ranking, judged_grades, level):
    r = ref_num_rel(judged_grades, level)
    hits, total = 0, 0.0
    for rank, g in enumerate(ranking, start=1):
        if g >= level:
            hits += 1
            total += hits / rank
    return total / r if r else 0.0


def ref_rprec(ranking, judged_grades, level):
    r = ref_num_rel(judged_grades, level)
    return sum(1 for g in ranking[:r] if g >= level) / r if r else 0.0


def _gain(g, kind):
    if g <= 0:
        return 0.0
    return float(g) if kind == "linear" else 2.0 ** g - 1.0


def ref_dcg(grades, k, kind):
    top = grades if k is None else grades[:k]
    return sum(_gain(g, kind) / math.log2(rank + 1) for rank, g in enumerate(top, start=1))


def ref_ndcg(ranking, judged_grades, k, kind="linear"):
    ideal = ref_dcg(sorted(judged_grades, reverse=True), k, kind)
    return ref_dcg(ranking, k, kind) / ideal if ideal > 0 else 0.0


def ref_err(ranking, k, max_grade):
    total, go_on = 0.0, 1.0
    for rank, g in enumerate(ranking[:k], start=1):
        stop = (2.0 ** g - 1) / 2.0 ** max(max_grade, 1) if g > 0 else 0.0
        total += go_on * stop / rank
        go_on *= 1 - stop
    return total


def ref_judged(ranking, k):
    return sum(1 for g in ranking[:k] if g >= 0) / k


# --------------------------------------------------------------------------- generated queries


@st.composite
def query(draw):
    """(ranking codes, all qrels grades of the query): ranked judged docs are a subset of the qrels."""
    judged_grades = draw(st.lists(st.integers(-1, 3), max_size=12))
    idx = draw(st.permutations(range(len(judged_grades))))
    retrieved = idx[: draw(st.integers(0, len(idx)))]
    codes = [judged_grades[i] if judged_grades[i] >= 0 else -2 for i in retrieved]
    for _ in range(draw(st.integers(0, 6))):  # unjudged documents anywhere in the ranking
        codes.insert(draw(st.integers(0, len(codes))), -1)
    return codes, judged_grades


queries = st.lists(query(), min_size=1, max_size=8)


def _matrix(rankings):
    depth = max((len(r) for r in rankings), default=0)
    m = np.full((len(rankings), depth), PAD, dtype=np.int8)
    for i, r in enumerate(rankings):
        m[i, : len(r)] = r
    return m


def _ideal(judged_lists, k, kind="linear"):
    grades = [sorted(j, reverse=True) for j in judged_lists]
    query = np.repeat(np.arange(len(grades)), [len(g) for g in grades])
    offsets = np.concatenate(([0], np.cumsum([len(g) for g in grades]))).astype(np.int64)
    flat = np.array([g for gs in grades for g in gs], dtype=np.int8)
    return ideal_dcg(query, flat, offsets, len(grades), k, kind)


# --------------------------------------------------------------------------- kernels == references


@SETTINGS
@given(qs=queries, level=st.integers(1, 3), k=st.integers(1, 12))
def test_binary_kernels_equal_reference(qs, level, k):
    rankings, judged_lists = zip(*qs)
    rel = _matrix(rankings) >= level
    num_rel = np.array([ref_num_rel(j, level) for j in judged_lists])
    checks = [
        (average_precision(rel, num_rel), [ref_ap(r, j, level) for r, j in qs]),
        (r_precision(rel, num_rel), [ref_rprec(r, j, level) for r, j in qs]),
        (reciprocal_rank(rel), [ref_rr(r, level) for r, _ in qs]),
        (precision(rel, k), [ref_precision(r, level, k) for r, _ in qs]),
        (recall(rel, num_rel, k), [ref_recall(r, j, level, k) for r, j in qs]),
    ]
    for got, want in checks:
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


@SETTINGS
@given(qs=queries, k=st.one_of(st.none(), st.integers(1, 12)), kind=st.sampled_from(["linear", "exp"]))
def test_ndcg_kernel_equals_reference(qs, k, kind):
    rankings, judged_lists = zip(*qs)
    got = ndcg(_matrix(rankings), _ideal(judged_lists, k, kind), k, kind)
    np.testing.assert_allclose(got, [ref_ndcg(r, j, k, kind) for r, j in qs], rtol=0, atol=1e-12)


@SETTINGS
@given(qs=queries, k=st.integers(1, 12), max_grade=st.integers(0, 3))
def test_err_and_judged_kernels_equal_reference(qs, k, max_grade):
    rankings = [r for r, _ in qs]
    np.testing.assert_allclose(err(_matrix(rankings), k, max_grade),
                               [ref_err(r, k, max_grade) for r in rankings], rtol=0, atol=1e-12)
    np.testing.assert_allclose(judged(_matrix(rankings), k), [ref_judged(r, k) for r in rankings],
                               rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- invariants


@SETTINGS
@given(qs=queries, k=st.one_of(st.none(), st.integers(1, 12)), kind=st.sampled_from(["linear", "exp"]))
def test_ndcg_between_0_and_1(qs, k, kind):
    rankings, judged_lists = zip(*qs)
    v = ndcg(_matrix(rankings), _ideal(judged_lists, k, kind), k, kind)
    assert np.all(v >= 0) and np.all(v <= 1 + 1e-12)


@SETTINGS
@given(judged_lists=st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=12), min_size=1, max_size=8),
       k=st.one_of(st.none(), st.integers(1, 12)))
def test_perfect_ranking_scores_one(judged_lists, k):
    rankings = [sorted(j, reverse=True) for j in judged_lists]
    has_rel = np.array([max(j) > 0 for j in judged_lists])
    grades = _matrix(rankings)
    v = ndcg(grades, _ideal(judged_lists, k), k)
    np.testing.assert_allclose(v[has_rel], 1.0, rtol=0, atol=1e-12)
    assert np.all(v[~has_rel] == 0)
    rel = grades >= 1
    num_rel = np.array([ref_num_rel(j, 1) for j in judged_lists])
    for kernel in (average_precision(rel, num_rel), r_precision(rel, num_rel), reciprocal_rank(rel)):
        np.testing.assert_allclose(kernel[has_rel], 1.0, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- end to end (TREC bytes)


MEASURES = ["map", "Rprec", "recip_rank", "P.1,3,10", "recall.5", "ndcg", "ndcg_cut.3,10", "judged.5"]


@st.composite
def trec_files(draw):
    """Per query: qrels lines and run lines (scores with ties, unjudged docs, qids of varied length)."""
    n_q = draw(st.integers(1, 6))
    qids = draw(st.lists(st.from_regex(r"[a-z0-9]{1,6}", fullmatch=True), min_size=n_q, max_size=n_q,
                         unique=True))
    per_query = []
    for qid in qids:
        docs = draw(st.lists(st.from_regex(r"d[0-9a-z]{0,9}", fullmatch=True), min_size=1, max_size=15,
                             unique=True))
        grades = {d: draw(st.integers(0, 3)) for d in docs if draw(st.booleans())}
        scores = {d: draw(st.sampled_from([0.0, 1.0, 2.5, -1.25, 3.0, 1e-3])) for d in docs}
        per_query.append((qid, grades, scores))
    return per_query


def _trec_bytes(per_query):
    qlines = [f"{q} 0 {d} {g}" for q, grades, _ in per_query for d, g in grades.items()]
    rlines = [f"{q} Q0 {d} 0 {s!r} r" for q, _, scores in per_query for d, s in scores.items()]
    return ("\n".join(qlines) + "\n").encode(), ("\n".join(rlines) + "\n").encode()


def _trec_order(scores):
    """trec_eval: score descending, then docno descending (strcmp)."""
    return sorted(scores, key=lambda d: (scores[d], d.encode()), reverse=True)


@SETTINGS
@given(per_query=trec_files())
def test_evaluate_equals_reference_on_trec_files(per_query):
    if not any(grades for _, grades, _ in per_query):
        return
    qb, rb = _trec_bytes(per_query)
    ev = evaluate(parse_qrels(qb), rb, MEASURES)
    want = {}
    for q, grades, scores in per_query:
        if not grades:
            continue  # not in the qrels: not evaluated
        ranking = [grades.get(d, -1) for d in _trec_order(scores)]
        j = list(grades.values())
        want[q] = {"map": ref_ap(ranking, j, 1), "Rprec": ref_rprec(ranking, j, 1),
                   "recip_rank": ref_rr(ranking, 1), "P_1": ref_precision(ranking, 1, 1),
                   "P_3": ref_precision(ranking, 1, 3), "P_10": ref_precision(ranking, 1, 10),
                   "recall_5": ref_recall(ranking, j, 1, 5), "ndcg": ref_ndcg(ranking, j, None),
                   "ndcg_cut_3": ref_ndcg(ranking, j, 3), "ndcg_cut_10": ref_ndcg(ranking, j, 10),
                   "judged_5": ref_judged(ranking, 5)}
    assert ev.qids == sorted(want, key=str.encode)
    for m, vals in ev.per_query.items():
        np.testing.assert_allclose(vals, [want[q][m] for q in ev.qids], rtol=0, atol=1e-12, err_msg=m)


@SETTINGS
@given(per_query=trec_files(), seed=st.integers(0, 2**32 - 1))
def test_mean_invariant_to_query_order(per_query, seed):
    if not any(grades for _, grades, _ in per_query):
        return
    qb, rb = _trec_bytes(per_query)
    shuffled = [per_query[i] for i in np.random.default_rng(seed).permutation(len(per_query))]
    qb2, rb2 = _trec_bytes(shuffled)
    a = evaluate(parse_qrels(qb), rb, MEASURES)
    b = evaluate(parse_qrels(qb2), rb2, MEASURES)
    assert a.qids == b.qids
    assert a.mean == b.mean  # the mean is summed in qid order, whatever the file order
    for m in a.per_query:
        np.testing.assert_array_equal(a.per_query[m], b.per_query[m])


@SETTINGS
@given(per_query=trec_files(), block=st.integers(1, 64))
def test_any_block_size_gives_the_same_values(per_query, block):
    if not any(grades for _, grades, _ in per_query):
        return
    qb, rb = _trec_bytes(per_query)
    whole = evaluate(parse_qrels(qb), rb, MEASURES, Options(max_depth=7))
    part = evaluate(parse_qrels(qb), lambda: [rb[i:i + block] for i in range(0, len(rb), block)],
                    MEASURES, Options(max_depth=7))
    assert part.qids == whole.qids and part.mean == whole.mean
    # the qrels streamed beside the run too, in blocks and windows of the same size
    both = evaluate(lambda: [qb[i:i + block] for i in range(0, len(qb), block)],
                    lambda: [rb[i:i + block] for i in range(0, len(rb), block)],
                    MEASURES, Options(max_depth=7), window_bytes=block)
    assert both.qids == whole.qids and both.mean == whole.mean
    for m in whole.per_query:
        np.testing.assert_array_equal(both.per_query[m], whole.per_query[m])
