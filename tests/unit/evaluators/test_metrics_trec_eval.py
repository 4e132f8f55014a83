"""Every measure pinned against pytrec_eval (trec_eval 9.x) on generated data."""
from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

pytrec_eval = pytest.importorskip("pytrec_eval")

from evaluators.metrics import Options, evaluate, parse_qrels  # noqa: E402

TREC_MEASURES = ["map", "Rprec", "recip_rank", "P.1,5,10", "recall.5,10", "ndcg", "ndcg_cut.3,10"]


def _gen(seed, n_q=40, tie_rate=0.3, unjudged=0.4, neg=False):
    rng = np.random.default_rng(seed)
    qrels, run = {}, {}
    qlines, rlines = [], []
    for q in range(n_q):
        qid = f"q{rng.integers(0, 10**rng.integers(1, 4))}_{q}"
        docs = [f"d{x}" for x in rng.choice(200, size=rng.integers(1, 40), replace=False)]
        in_qrels = q % 7 != 3  # some run queries are not in the qrels
        in_run = q % 5 != 2  # some qrels queries are not in the run
        if in_qrels:
            judged = [d for d in docs if rng.random() > unjudged] + [f"x{q}_{i}" for i in range(3)]
            qrels[qid] = {}
            for d in judged:
                g = int(rng.integers(-1 if neg else 0, 4))
                qrels[qid][d] = g
                qlines.append(f"{qid} 0 {d} {g}")
        if in_run:
            run[qid] = {}
            for d in docs:
                s = float(rng.integers(0, 5)) if rng.random() < tie_rate else round(float(rng.normal()), 3)
                run[qid][d] = s
                rlines.append(f"{qid} Q0 {d} 0 {s!r} r")
    rng.shuffle(rlines[: len(rlines) // 3])
    return qrels, run, ("\n".join(qlines) + "\n").encode(), ("\n".join(rlines) + "\n").encode()


def _compare(qrels, run, qb, rb, level=1, measures=TREC_MEASURES, **kw):
    ev = evaluate(parse_qrels(qb), rb, measures, Options(relevance_level=level, **kw))
    names = {m.split(".")[0] for m in measures}
    ref = pytrec_eval.RelevanceEvaluator(qrels, set(measures), relevance_level=level).evaluate(run)
    assert sorted(ev.qids) == sorted(ref)
    for m, vals in ev.per_query.items():
        assert m.split("_")[0] in {n.split("_")[0] for n in names}
        want = np.array([ref[q][m] for q in ev.qids])
        np.testing.assert_allclose(vals, want, rtol=0, atol=1e-9, err_msg=m)
    return ev


@pytest.mark.parametrize("seed", range(6))
def test_agrees_with_pytrec_eval(seed):
    _compare(*_gen(seed))


@pytest.mark.parametrize("level", [1, 2, 3])  # pytrec_eval refuses level 0
def test_relevance_levels(level):
    _compare(*_gen(10 + level), level=level)


def test_negative_grades_are_unjudged():
    _compare(*_gen(20, neg=True))


def test_all_ties():
    _compare(*_gen(21, tie_rate=1.0))


@pytest.mark.parametrize("depth", [1, 3, 10])
def test_max_depth_matches_truncated_run(depth):
    qrels, run, qb, rb = _gen(30)
    ev = evaluate(parse_qrels(qb), rb, TREC_MEASURES, Options(max_depth=depth))
    # trec_eval -M D equals evaluating the top D of trec_eval's own order
    cut = {q: dict(sorted(d.items(), key=lambda kv: (-kv[1], tuple(-b for b in kv[0].encode())))[:depth])
           for q, d in run.items()}
    ref = pytrec_eval.RelevanceEvaluator(qrels, set(TREC_MEASURES)).evaluate(cut)
    for m, vals in ev.per_query.items():
        np.testing.assert_allclose(vals, [ref[q][m] for q in ev.qids], atol=1e-9, err_msg=m)


def test_judged_only_condensed_lists():
    qrels, run, qb, rb = _gen(31)
    ev = evaluate(parse_qrels(qb), rb, TREC_MEASURES, Options(judged_only=True))
    ref = pytrec_eval.RelevanceEvaluator(qrels, set(TREC_MEASURES), judged_docs_only_flag=True).evaluate(run)
    for m, vals in ev.per_query.items():
        np.testing.assert_allclose(vals, [ref[q][m] for q in ev.qids], atol=1e-9, err_msg=m)


def test_streaming_blocks_equal_whole():
    qrels, run, qb, rb = _gen(32, n_q=60)
    whole = evaluate(parse_qrels(qb), rb, TREC_MEASURES)
    blocks = lambda: [rb[i:i + 97] for i in range(0, len(rb), 97)]  # noqa: E731
    part = evaluate(parse_qrels(qb), blocks, TREC_MEASURES)
    assert part.qids == whole.qids
    for m in whole.per_query:
        np.testing.assert_array_equal(part.per_query[m], whole.per_query[m])


def test_complete_flag_divides_by_qrels_queries():
    qrels, run, qb, rb = _gen(33)
    ev = evaluate(parse_qrels(qb), rb, ["map"], Options(complete=True))
    assert ev.n_queries == len(qrels)
    assert ev.mean["map"] == pytest.approx(ev.per_query["map"].sum() / len(qrels))


def test_cli_matches_pytrec_eval(tmp_path, monkeypatch):
    qrels, run, qb, rb = _gen(40, n_q=12)
    (tmp_path / "q").write_bytes(qb)
    (tmp_path / "r").write_bytes(rb)
    out = io.StringIO()
    argv = ["trec-eval", "-q", "-m", "ndcg_cut.10", "-m", "P_5", "-m", "map", str(tmp_path / "q"),
            str(tmp_path / "r")]
    with contextlib.redirect_stdout(out):
        rc = _cli_main(argv)
    assert rc == 0
    ref = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "P.5", "map"}).evaluate(run)
    lines = out.getvalue().splitlines()
    got = {}
    for line in lines:
        name, qid, val = line.split("\t")
        assert len(name) >= 22 and name.strip() == name.rstrip()
        got[(name.strip(), qid)] = val
    for q, ms in ref.items():
        for m, v in ms.items():
            assert got[(m, q)] == "%6.4f" % v
    assert got[("map", "all")] == "%6.4f" % np.mean([ref[q]["map"] for q in sorted(ref)])


def _cli_main(argv):
    """services.cli.main, or just our subcommand while sibling commands are not written yet."""
    import argparse

    from services.cli import CommandError

    try:
        from services.cli import main
        from services.cli import build_parser
        build_parser()
        return main(argv)
    except ImportError:
        from services.cli import trec_eval
        parser = argparse.ArgumentParser(prog="qrelay")
        trec_eval.register(parser.add_subparsers(dest="command"))
        args = parser.parse_args(argv)
        try:
            return args.func(args)
        except CommandError as exc:
            print(exc)
            return exc.exit_code


# --------------------------------------------------------------------------- qrels streamed beside the run

ALL_MEASURES = TREC_MEASURES + ["ndcg_exp_cut.5", "err_cut.5,20", "judged.10"]


def _blocks97(data, size=97):
    return lambda: [data[i:i + size] for i in range(0, len(data), size)]


def _whole_path_calls(monkeypatch):
    """Count evaluations that fell back to the whole-qrels path."""
    import sys

    ev_mod = sys.modules["evaluators.metrics.evaluate"]  # the package re-exports a function of that name
    calls = []
    real = ev_mod._evaluate_streaming

    def spy(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(ev_mod, "_evaluate_streaming", spy)
    return calls


def _assert_same(a, b):
    assert a.qids == b.qids and a.n_queries == b.n_queries
    assert a.mean == b.mean
    for m in b.per_query:
        np.testing.assert_array_equal(a.per_query[m], b.per_query[m], err_msg=m)


def _regroup(qb, order):
    """The qrels lines of ``qb`` grouped by query, queries in the given order (a permutation)."""
    groups = {}
    for line in qb.decode().splitlines():
        groups.setdefault(line.split()[0], []).append(line)
    qids = list(groups)
    return ("\n".join(line for i in order for line in groups[qids[i]]) + "\n").encode()


@pytest.mark.parametrize("window", [1, 97, 1 << 23])
@pytest.mark.parametrize("opts", [{}, {"complete": True}, {"max_depth": 5}, {"judged_only": True},
                                  {"relevance_level": 2}])
def test_qrels_streamed_beside_the_run_equal_whole(monkeypatch, window, opts):
    # same query order in both files, queries missing from either, 97-byte blocks of both
    qrels, run, qb, rb = _gen(34, n_q=60, neg=True)
    whole = evaluate(parse_qrels(qb), rb, ALL_MEASURES, Options(**opts))
    calls = _whole_path_calls(monkeypatch)
    part = evaluate(_blocks97(qb), _blocks97(rb), ALL_MEASURES, Options(**opts), window_bytes=window)
    assert calls == []  # streamed side by side, no fallback
    _assert_same(part, whole)
    assert evaluate(qb, rb, ALL_MEASURES, Options(**opts), window_bytes=window).mean == whole.mean


def test_qrels_streamed_agree_with_pytrec_eval():
    qrels, run, qb, rb = _gen(35, n_q=50)
    ev = evaluate(_blocks97(qb), _blocks97(rb), TREC_MEASURES, window_bytes=200)
    ref = pytrec_eval.RelevanceEvaluator(qrels, set(TREC_MEASURES)).evaluate(run)
    assert sorted(ev.qids) == sorted(ref)
    for m, vals in ev.per_query.items():
        np.testing.assert_allclose(vals, [ref[q][m] for q in ev.qids], rtol=0, atol=1e-9, err_msg=m)


@pytest.mark.parametrize("how", ["reversed", "shuffled", "swap_last_two"])
def test_qrels_in_another_query_order_fall_back_to_whole(monkeypatch, how):
    qrels, run, qb, rb = _gen(36, n_q=60)
    n = len(qrels)
    ranked = [i for i, q in enumerate(qrels) if q in run]  # qrels queries the run ranks
    swapped = list(range(n))
    swapped[ranked[-2]], swapped[ranked[-1]] = swapped[ranked[-1]], swapped[ranked[-2]]
    order = {"reversed": list(range(n))[::-1],
             "shuffled": list(np.random.default_rng(1).permutation(n)),
             "swap_last_two": swapped}[how]
    qb2 = _regroup(qb, order)
    whole = evaluate(parse_qrels(qb2), rb, ALL_MEASURES)
    calls = _whole_path_calls(monkeypatch)
    part = evaluate(_blocks97(qb2), _blocks97(rb), ALL_MEASURES, window_bytes=97)
    assert calls == [1]
    _assert_same(part, whole)


def test_qrels_not_grouped_by_query_fall_back_to_whole(monkeypatch):
    qrels, run, qb, rb = _gen(37, n_q=30)
    lines = qb.decode().splitlines()
    lines.append(lines.pop(0))  # the first query's first judgement moves to the end
    qb2 = ("\n".join(lines) + "\n").encode()
    whole = evaluate(parse_qrels(qb2), rb, ALL_MEASURES)
    calls = _whole_path_calls(monkeypatch)
    part = evaluate(_blocks97(qb2), _blocks97(rb), ALL_MEASURES)
    assert calls == [1]
    _assert_same(part, whole)
    _assert_same(part, evaluate(parse_qrels(qb), rb, ALL_MEASURES))


def test_run_query_split_in_two_falls_back(monkeypatch):
    qrels, run, qb, rb = _gen(38, n_q=30)
    lines = rb.decode().splitlines()
    lines.append(lines.pop(0))  # first query's first line at the end of the run
    rb2 = ("\n".join(lines) + "\n").encode()
    whole = evaluate(parse_qrels(qb), rb2, ALL_MEASURES)
    part = evaluate(_blocks97(qb), _blocks97(rb2), ALL_MEASURES, window_bytes=97)
    _assert_same(part, whole)


def test_streamed_qrels_comments_and_blank_lines():
    qb = b"# judged by A\n\n1 0 a 1\n1 0 b 0\n# B\n2 0 a 2\n\n2 0 c 1\n# end\n"
    rb = b"1 Q0 b 1 2.0 r\n1 Q0 a 2 1.0 r\n3 Q0 a 1 1 r\n2 Q0 a 1 1 r\n2 Q0 c 2 0.5 r\n"
    whole = evaluate(parse_qrels(qb), rb, ALL_MEASURES)
    for size in (1, 5, 97):
        for window in (1, 10, 1000):
            _assert_same(evaluate(_blocks97(qb, size), _blocks97(rb, size), ALL_MEASURES,
                                  window_bytes=window), whole)


@pytest.mark.parametrize("where", [0, 1, 2])  # in a ranked query, between ranked queries, after the last
def test_streamed_qrels_duplicate_judgement_names_the_line(where):
    from evaluators.metrics import TrecFormatError

    qb = [b"1 0 a 1", b"1 0 b 0", b"2 0 a 1", b"3 0 a 1", b"3 0 b 1", b"4 0 x 1"]
    dup = {0: (2, b"1 0 a 2"), 1: (4, b"2 0 a 0"), 2: (6, b"4 0 x 3")}[where]
    qb.insert(*dup)
    data = b"\n".join(qb) + b"\n"
    rb = b"1 Q0 a 1 1 r\n3 Q0 a 1 1 r\n"
    line = dup[0] + 1
    for window in (1, 1000):
        with pytest.raises(TrecFormatError, match=rf"^qrels\.txt:{line}: duplicate judgement"):
            evaluate(_blocks97(data, 7), rb, ["map"], qrels_source="qrels.txt", window_bytes=window)


@pytest.mark.parametrize("measures", [["map"], ["map", "err_cut.10"]])  # err_cut: checked in the index pass
def test_streamed_qrels_bad_line_across_blocks(measures):
    from evaluators.metrics import TrecFormatError

    data = "".join(f"q{i} 0 d{i} 1\n" for i in range(300)).encode() + b"q9 0 dx 1 extra\n"
    with pytest.raises(TrecFormatError, match=r"^qrels\.txt:301: expected exactly 4"):
        evaluate(_blocks97(data), b"q1 Q0 d1 1 1 r\n", measures, qrels_source="qrels.txt")
    bad_grade = data.replace(b"q9 0 dx 1 extra", b"q299 0 dx 1.5")
    with pytest.raises(TrecFormatError, match=r"^qrels\.txt:301: relevance grade '1.5' is not an integer"):
        evaluate(_blocks97(bad_grade), b"q1 Q0 d1 1 1 r\n", measures, qrels_source="qrels.txt",
                 window_bytes=50)
    with pytest.raises(TrecFormatError, match=r"^qrels\.txt: no judgements \(empty file\)"):
        evaluate(b" \n", b"q1 Q0 d1 1 1 r\n", ["map"], qrels_source="qrels.txt")


@pytest.mark.parametrize("streamed_qrels", [False, True])
def test_scanner_arrays_smaller_than_a_query(monkeypatch, streamed_qrels):
    import sys

    qrels, run, qb, rb = _gen(39, n_q=20)
    whole = evaluate(parse_qrels(qb), rb, ALL_MEASURES)
    monkeypatch.setattr(sys.modules["evaluators.metrics.evaluate"], "_ROWS", 2)  # queries have up to 40 lines
    part = evaluate(_blocks97(qb) if streamed_qrels else parse_qrels(qb), _blocks97(rb, 500), ALL_MEASURES,
                    window_bytes=300)
    _assert_same(part, whole)
