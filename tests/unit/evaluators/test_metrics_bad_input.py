"""Bad input gives a ValueError naming the problem (and file:line when parsing), never a number."""
from __future__ import annotations

import argparse

import numpy as np
import pytest

from evaluators.metrics import Options, TrecFormatError, evaluate, parse_qrels
from evaluators.metrics.ap import average_precision
from evaluators.metrics.err import err
from evaluators.metrics.judged import judged
from evaluators.metrics.ndcg import ideal_dcg, ndcg
from evaluators.metrics.precision import precision
from evaluators.metrics.recall import recall
from evaluators.metrics.rr import reciprocal_rank

QRELS = b"1 0 d1 1\n1 0 d2 0\n2 0 d1 2\n"


def _run(lines: str) -> bytes:
    return lines.encode()


def _eval(run: bytes, qrels: bytes = QRELS, measures=("map",), **kw):
    return evaluate(parse_qrels(qrels, "qrels.txt"), run, list(measures), Options(**kw), "run.txt")


# --------------------------------------------------------------------------- scores


@pytest.mark.parametrize("score", ["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e999"])
def test_non_finite_scores(score):
    with pytest.raises(ValueError, match=rf"^run\.txt:2: score '{score}' is not finite"):
        _eval(_run(f"1 Q0 d1 1 1.0 r\n1 Q0 d2 2 {score} r\n"))


@pytest.mark.parametrize("score", ["abc", "1.2.3", "0x10", "1,5", "--1", "1e"])
def test_scores_that_are_not_numbers(score):
    with pytest.raises(TrecFormatError, match=rf"^run\.txt:1: score '{score}' is not a number"):
        _eval(_run(f"1 Q0 d1 1 {score} r\n"))


def test_bad_score_in_a_query_missing_from_the_qrels_is_still_an_error():
    with pytest.raises(TrecFormatError, match=r"^run\.txt:2: score 'nan' is not finite"):
        _eval(_run("1 Q0 d1 1 1 r\n9 Q0 d1 1 nan r\n"))


def test_error_line_counts_across_blocks():
    good = "".join(f"1 Q0 d{i} 1 {i}.5 r\n" for i in range(500))
    data = _run(good + "2 Q0 d1 1 inf r\n")
    blocks = lambda: [data[i:i + 97] for i in range(0, len(data), 97)]  # noqa: E731
    with pytest.raises(TrecFormatError, match=r"^run\.txt:501: score 'inf' is not finite"):
        evaluate(parse_qrels(QRELS), blocks, ["map"], source="run.txt")


# --------------------------------------------------------------------------- duplicates


def test_duplicate_document_in_a_run():
    with pytest.raises(TrecFormatError, match=r"^run\.txt:3: duplicate document 'd1' in the ranking of "
                                              r"query '1'"):
        _eval(_run("1 Q0 d1 1 3 r\n1 Q0 d2 2 2 r\n1 Q0 d1 3 1 r\n"))


def test_duplicate_document_with_equal_scores_out_of_order():
    with pytest.raises(TrecFormatError, match="duplicate document 'd1'"):
        _eval(_run("1 Q0 d1 1 1 r\n1 Q0 d2 2 5 r\n1 Q0 d1 3 1 r\n"))


def test_duplicate_judgement_in_qrels():
    with pytest.raises(TrecFormatError, match=r"^qrels\.txt:3: duplicate judgement for query '1' document 'd1'"):
        parse_qrels(b"1 0 d1 1\n1 0 d2 0\n1 0 d1 2\n", "qrels.txt")


# --------------------------------------------------------------------------- grades


@pytest.mark.parametrize("grade,what", [("1.5", "is not an integer"), ("x", "is not an integer"),
                                        ("2e1", "is not an integer"), ("", None),
                                        ("300", "is outside -127..127"), ("-200", "is outside -127..127")])
def test_non_integer_or_out_of_range_grades(grade, what):
    data = f"1 0 d1 1\n1 0 d2 {grade}\n".encode()
    if what is None:  # a missing grade is a missing field
        with pytest.raises(TrecFormatError, match=r"^qrels\.txt:2: expected exactly 4 .* found 3"):
            parse_qrels(data, "qrels.txt")
        return
    with pytest.raises(TrecFormatError, match=rf"^qrels\.txt:2: relevance grade '{grade}' {what}"):
        parse_qrels(data, "qrels.txt")


def test_negative_grades_are_allowed_in_qrels_and_mean_unjudged():
    ev = _eval(_run("1 Q0 d1 1 2 r\n1 Q0 d3 2 1 r\n"), b"1 0 d1 1\n1 0 d3 -1\n", ["judged.2", "P.2"])
    assert ev.mean == {"P_2": 0.5, "judged_2": 0.5}


def test_negative_relevance_level_is_refused():
    with pytest.raises(ValueError, match="relevance level must be >= 0"):
        Options(relevance_level=-1)


@pytest.mark.parametrize("depth", [0, -3])
def test_bad_max_depth(depth):
    with pytest.raises(ValueError, match="max depth"):
        Options(max_depth=depth)


@pytest.mark.parametrize("grades", [np.array([[1.5, 0.0]]), np.array([[1.0, 2.0]])])
def test_kernels_refuse_non_integer_grades(grades):
    with pytest.raises(ValueError, match="must hold integer grades"):
        judged(grades, 2)
    with pytest.raises(ValueError, match="must hold integer grades"):
        ndcg(grades, np.ones(1), 2)
    with pytest.raises(ValueError, match="must hold integer grades"):
        err(grades, 2, 3)


def test_ideal_refuses_non_integer_grades():
    with pytest.raises(ValueError, match="grades must be integers"):
        ideal_dcg(np.array([0]), np.array([1.5]), np.array([0, 1]), 1, 10)


def test_relevance_matrix_must_be_boolean():
    with pytest.raises(ValueError, match="must be boolean"):
        precision(np.array([[0, 2, 1]]), 2)
    with pytest.raises(ValueError, match="must be boolean"):
        reciprocal_rank(np.array([[0.5, 1.0]]))


def test_err_refuses_negative_max_grade():
    with pytest.raises(ValueError, match="max_grade must be >= 0"):
        err(np.array([[1]], dtype=np.int8), 1, -1)


# --------------------------------------------------------------------------- empty inputs


@pytest.mark.parametrize("data", [b"", b"\n\n", b"   \n"])
def test_empty_qrels(data):
    with pytest.raises(TrecFormatError, match=r"^qrels\.txt: no judgements \(empty file\)"):
        parse_qrels(data, "qrels.txt")


def test_qrels_with_only_comments():
    with pytest.raises(TrecFormatError, match="no judgements"):
        parse_qrels(b"# nothing here\n\n", "qrels.txt")


@pytest.mark.parametrize("data", [b"", b"\n", b"# comment only\n"])
def test_empty_run(data):
    with pytest.raises(ValueError, match=r"^run\.txt: run has no result lines"):
        _eval(data)


def test_run_sharing_no_query_with_the_qrels():
    with pytest.raises(ValueError, match="no queries with both results and relevance judgements"):
        _eval(_run("7 Q0 d1 1 1 r\n"))


def test_no_measures():
    with pytest.raises(ValueError, match="no measures requested"):
        _eval(_run("1 Q0 d1 1 1 r\n"), measures=[])


def test_unknown_measure():
    with pytest.raises(ValueError, match="unknown measure 'ndcg_at_10'"):
        _eval(_run("1 Q0 d1 1 1 r\n"), measures=["ndcg_at_10"])


@pytest.mark.parametrize("k", [0, -1, 2.5, None])
def test_bad_cutoffs(k):
    rel = np.array([[True, False]])
    with pytest.raises(ValueError, match="cutoff k must be a positive integer"):
        precision(rel, k)


# --------------------------------------------------------------------------- shapes


def test_run_line_with_too_few_fields():
    with pytest.raises(TrecFormatError, match=r"^run\.txt:2: expected at least 6 whitespace-separated "
                                              r"fields, found 5"):
        _eval(_run("1 Q0 d1 1 1 r\n1 Q0 d2 2 1\n"))


def test_qrels_line_with_extra_fields():
    with pytest.raises(TrecFormatError, match=r"^qrels\.txt:2: expected exactly 4 whitespace-separated "
                                              r"fields, found 5"):
        parse_qrels(b"1 0 d1 1\n1 0 d2 1 x\n", "qrels.txt")


def test_mismatched_per_query_vector():
    grades = np.array([[1, 0], [2, 1], [0, 0]], dtype=np.int8)
    with pytest.raises(ValueError, match=r"ideal has shape \(1,\); expected \(3,\)"):
        ndcg(grades, np.array([1.0]), 2)  # would otherwise broadcast one ideal over every query
    with pytest.raises(ValueError, match=r"num_rel has shape \(2,\); expected \(3,\)"):
        average_precision(grades > 0, np.array([1, 1]))
    with pytest.raises(ValueError, match=r"num_rel has shape"):
        recall(grades > 0, np.array([1, 1, 1, 1]), 2)


def test_matrix_must_be_2d():
    with pytest.raises(ValueError, match=r"must be a 2-D \(queries x ranks\) array, got shape \(3,\)"):
        precision(np.array([True, False, True]), 2)


def test_nan_or_negative_per_query_values():
    grades = np.array([[1, 0]], dtype=np.int8)
    with pytest.raises(ValueError, match="ideal contains NaN"):
        ndcg(grades, np.array([np.nan]), 2)
    with pytest.raises(ValueError, match="num_rel must be >= 0"):
        average_precision(grades > 0, np.array([-1]))


def test_ideal_offsets_must_match_queries():
    with pytest.raises(ValueError, match="offsets has 2 entries; expected n_queries \\+ 1 = 3"):
        ideal_dcg(np.array([0, 0]), np.array([2, 1], np.int8), np.array([0, 2]), 2, 10)


# --------------------------------------------------------------------------- the command


def test_cli_reports_file_and_line(tmp_path):
    from services.cli import CommandError
    from services.cli import trec_eval

    (tmp_path / "q").write_bytes(QRELS)
    (tmp_path / "r").write_bytes(b"1 Q0 d1 1 1 r\n1 Q0 d2 2 nan r\n")
    args = argparse.Namespace(measures=None, level=1, depth=None, judged_only=False, complete=False,
                              per_query=False, qrels=str(tmp_path / "q"), run=str(tmp_path / "r"))
    with pytest.raises(CommandError, match=rf"^{tmp_path / 'r'}:2: score 'nan' is not finite"):
        trec_eval.run(args)
