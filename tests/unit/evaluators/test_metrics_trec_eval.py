"""Every measure pinned against pytrec_eval (trec_eval 9.x) on generated data.

Comparisons go both ways: every measure requested is in the output and every
output was requested, for the same queries.
"""
from __future__ import annotations

import contextlib
import io
import mmap
import sys

import numpy as np
import pytest

pytrec_eval = pytest.importorskip("pytrec_eval")

from evaluators.metrics import Options, evaluate, parse_qrels  # noqa: E402
from services.cli import main as qrelay  # noqa: E402
from services.cli.trec_eval import evaluate_paths  # noqa: E402

EV = sys.modules["evaluators.metrics.evaluate"]  # the package re-exports a function of that name

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


def _trec_order(docs: dict) -> list:
    """trec_eval's ranking of {docno: score}: score descending, then docno descending in strcmp order."""
    return [d for d, _ in sorted(docs.items(), key=lambda kv: (kv[1], kv[0].encode()), reverse=True)]


def _assert_matches(ev, ref):
    """Same queries, same measures (both ways), same values."""
    assert sorted(ev.qids) == sorted(ref)
    want_names = set().union(*(v.keys() for v in ref.values()))
    assert set(ev.per_query) == want_names, "measures missing or extra"
    assert set(ev.mean) == want_names
    for m, vals in ev.per_query.items():
        np.testing.assert_allclose(vals, [ref[q][m] for q in ev.qids], rtol=0, atol=1e-9, err_msg=m)


def _compare(qrels, run, qb, rb, level=1, measures=TREC_MEASURES, **kw):
    ev = evaluate(parse_qrels(qb), rb, measures, Options(relevance_level=level, **kw))
    ref = pytrec_eval.RelevanceEvaluator(qrels, set(measures), relevance_level=level).evaluate(run)
    _assert_matches(ev, ref)
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


def test_reference_order_is_strcmp_descending():
    # d1 is a prefix of d10: strcmp puts d1 < d10 < d2, so trec_eval ranks ties d2, d10, d1
    assert _trec_order({"d1": 1.0, "d10": 1.0, "d2": 1.0, "d3": 2.0}) == ["d3", "d2", "d10", "d1"]


def test_ties_between_prefix_docnos():
    qrels = {"q": {"d1": 1, "d10": 0, "d2": 0}}
    run = {"q": {"d1": 1.0, "d10": 1.0, "d2": 1.0}}
    qb = b"q 0 d1 1\nq 0 d10 0\nq 0 d2 0\n"
    for rb in (b"q Q0 d1 1 1 r\nq Q0 d10 2 1 r\nq Q0 d2 3 1 r\n", b"q Q0 d2 1 1 r\nq Q0 d10 2 1 r\nq Q0 d1 3 1 r\n"):
        ev = _compare(qrels, run, qb, rb, measures=["recip_rank", "P.1,2,3"])
        assert ev.mean["recip_rank"] == pytest.approx(1 / 3)  # d1, the relevant one, ranks last
    ev = evaluate(parse_qrels(qb), b"q Q0 d1 1 1 r\nq Q0 d10 2 1 r\nq Q0 d2 3 1 r\n", ["recip_rank"],
                  Options(max_depth=2))
    assert ev.mean["recip_rank"] == 0.0  # -M 2 keeps d2 and d10


@pytest.mark.parametrize("depth", [1, 3, 10])
def test_max_depth_matches_truncated_run(depth):
    qrels, run, qb, rb = _gen(30)
    ev = evaluate(parse_qrels(qb), rb, TREC_MEASURES, Options(max_depth=depth))
    # trec_eval -M D equals evaluating the top D of trec_eval's own order
    cut = {q: {d: docs[d] for d in _trec_order(docs)[:depth]} for q, docs in run.items()}
    _assert_matches(ev, pytrec_eval.RelevanceEvaluator(qrels, set(TREC_MEASURES)).evaluate(cut))


def test_judged_only_condensed_lists():
    qrels, run, qb, rb = _gen(31)
    ev = evaluate(parse_qrels(qb), rb, TREC_MEASURES, Options(judged_only=True))
    _assert_matches(ev, pytrec_eval.RelevanceEvaluator(qrels, set(TREC_MEASURES),
                                                        judged_docs_only_flag=True).evaluate(run))


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


@pytest.mark.parametrize("flags,opts", [([], {}), (["-c"], {"complete": True}), (["-J"], {"judged_only": True}),
                                         (["-l", "2"], {"relevance_level": 2}), (["-M", "4"], {"max_depth": 4})])
def test_cli_matches_pytrec_eval(tmp_path, flags, opts):
    qrels, run, qb, rb = _gen(40, n_q=12, neg=True)
    (tmp_path / "q").write_bytes(qb)
    (tmp_path / "r").write_bytes(rb)
    out = io.StringIO()
    argv = ["trec-eval", "-q", *flags, "-m", "ndcg_cut.10", "-m", "P_5", "-m", "map", str(tmp_path / "q"),
            str(tmp_path / "r")]
    with contextlib.redirect_stdout(out):
        assert qrelay(argv) == 0
    if "max_depth" in opts:
        run = {q: {d: docs[d] for d in _trec_order(docs)[:opts["max_depth"]]} for q, docs in run.items()}
    ref = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "P.5", "map"},
                                         relevance_level=opts.get("relevance_level", 1),
                                         judged_docs_only_flag=opts.get("judged_only", False)).evaluate(run)
    got = {}
    for line in out.getvalue().splitlines():
        name, qid, val = line.split("\t")
        assert len(name) >= 22 and name.strip() == name.rstrip()
        got[(name.strip(), qid)] = val
    want = {(m, q): "%6.4f" % v for q, ms in ref.items() for m, v in ms.items()}
    n = len(qrels) if opts.get("complete") else len(ref)
    for m in ("ndcg_cut_10", "P_5", "map"):
        want[(m, "all")] = "%6.4f" % (sum(ref[q][m] for q in sorted(ref)) / n)
    assert got == want  # both ways: nothing missing, nothing extra


def test_cli_reports_bad_input_with_file_and_line(tmp_path, capsys):
    (tmp_path / "q").write_bytes(b"1 0 d1 1\n")
    (tmp_path / "r").write_bytes(b"1 Q0 d1 1 1 r\n1 Q0 d2 2 x r\n")
    assert qrelay(["trec-eval", str(tmp_path / "q"), str(tmp_path / "r")]) == 2
    assert capsys.readouterr().err == f"qrelay trec-eval: {tmp_path / 'r'}:2: score 'x' is not a number\n"


# --------------------------------------------------------------------------- qrels streamed beside the run

ALL_MEASURES = TREC_MEASURES + ["ndcg_exp_cut.5", "err_cut.5,20", "judged.10"]


def _blocks97(data, size=97):
    return lambda: [data[i:i + size] for i in range(0, len(data), size)]


def _whole_path_calls(monkeypatch):
    """Count evaluations that fell back to the whole-qrels path."""
    calls = []
    real = EV._whole_qrels

    def spy(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(EV, "_whole_qrels", spy)
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
@pytest.mark.parametrize("threads", [1, 3])
def test_buffers_spans_and_scratch_smaller_than_a_query(monkeypatch, streamed_qrels, threads):
    qrels, run, qb, rb = _gen(39, n_q=20)
    whole = evaluate(parse_qrels(qb), rb, ALL_MEASURES, threads=1)
    monkeypatch.setattr(EV, "_ROWS", 2)  # queries have up to 40 lines: the scratch grows
    monkeypatch.setattr(EV, "_BUFFER", 64)  # shorter than one query: the buffer grows
    monkeypatch.setattr(EV, "_SPAN", 100)  # a task per query or two
    part = evaluate(_blocks97(qb) if streamed_qrels else parse_qrels(qb), _blocks97(rb, 500), ALL_MEASURES,
                    window_bytes=300, threads=threads)
    _assert_same(part, whole)


@pytest.mark.parametrize("threads", [1, 2])
def test_scores_off_the_fast_path(monkeypatch, threads):
    # 17 significant digits (Python's repr) are parsed by Python's float, exactly; in batches
    qrels, run, qb, _ = _gen(41, n_q=30, tie_rate=0.0)
    rng = np.random.default_rng(0)
    run = {q: {d: float(rng.normal()) for d in docs} for q, docs in run.items()}
    rb = "".join(f"{q} Q0 {d} 0 {s!r} r\n" for q, docs in run.items() for d, s in docs.items()).encode()
    monkeypatch.setattr(EV, "_ROWS", 4)  # room for 4 slow scores at a time
    for qrels_in in (parse_qrels(qb), qb):
        ev = evaluate(qrels_in, rb, TREC_MEASURES, threads=threads)
        _assert_matches(ev, pytrec_eval.RelevanceEvaluator(qrels, set(TREC_MEASURES)).evaluate(run))


def test_files_without_a_final_newline():
    qb, rb = b"q 0 a 1\nq 0 b 0", b"q Q0 b 1 2 r\nq Q0 a 2 1 r"
    for q in (parse_qrels(qb), qb):
        assert evaluate(q, rb, ["recip_rank"]).mean == {"recip_rank": 0.5}


@pytest.mark.parametrize("threads", [1, 3])
def test_files_are_mapped_and_read_in_pieces(tmp_path, monkeypatch, threads):
    qrels, run, qb, rb = _gen(42, n_q=40, neg=True)
    (tmp_path / "q").write_bytes(qb)
    (tmp_path / "r").write_bytes(rb)
    whole = evaluate(parse_qrels(qb), rb, ALL_MEASURES, threads=1)
    monkeypatch.setattr(EV, "_BUFFER", 256)  # the mapped run is brought in 256 bytes at a time
    monkeypatch.setattr(EV, "_SPAN", 64)
    with open(tmp_path / "q", "rb") as q, open(tmp_path / "r", "rb") as r:
        maps = [mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) for f in (q, r)]
    ev = evaluate(*maps, ALL_MEASURES, window_bytes=128, threads=threads)
    _assert_same(ev, whole)


def test_an_empty_run_file_is_read_not_mapped(tmp_path):
    (tmp_path / "q").write_bytes(b"q 0 a 1\n")
    (tmp_path / "r").write_bytes(b"")
    with pytest.raises(ValueError, match=r"r: run has no result lines"):
        evaluate_paths(tmp_path / "q", tmp_path / "r", ["map"])


@pytest.mark.parametrize("threads", [1, 3])
def test_the_first_error_in_the_file_is_reported_with_its_line(monkeypatch, threads):
    monkeypatch.setattr(EV, "_SPAN", 40)  # a task per query or two: errors in many tasks at once
    qb = "".join(f"q{i} 0 d{i} 1\n" for i in range(60)).encode()
    lines = [f"q{i} Q0 d{j} {j} {j}.5 r" for i in range(60) for j in range(3)]
    for bad in (7, 100, 150):
        lines[bad] = lines[bad].replace(".5 r", ".5")  # five fields
    rb = ("\n".join(lines) + "\n").encode()
    for qrels_in in (qb, parse_qrels(qb)):
        with pytest.raises(Exception, match=r"^run:8: expected at least 6 whitespace-separated fields, found 5"):
            evaluate(qrels_in, rb, ["map"], source="run", threads=threads)
