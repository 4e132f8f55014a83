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
