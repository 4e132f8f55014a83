"""IR evaluation measures, identical to trec_eval, computed on arrays.

* :mod:`.registry` — what each measure means (names, parameters, citations);
* :mod:`.trec` — TREC qrels parsed straight into numpy columns, and the byte
  streams files are read through; :mod:`.bytescan` — the compiled token,
  number and hash helpers (:mod:`.jit`) every scan is made of;
* kernels, one per concept: :mod:`.ndcg`, :mod:`.err`, :mod:`.precision`,
  :mod:`.recall`, :mod:`.ap`, :mod:`.rr`, :mod:`.rprec`, :mod:`.judged` —
  each a compiled ``*_row`` kernel over one ranking plus the face
  ``f(matrix_by_rank, [per-query stats], [k]) -> per-query array``;
* :mod:`.ranking` — trec_eval's order of one query's results;
* :mod:`.runscan` — one pass over a span of run lines: join, rank, compute;
* :mod:`.evaluate` — spans and windows of judgements on every core, with
  trec_eval's rules.

>>> from evaluators.metrics import parse_qrels, evaluate
>>> ev = evaluate(parse_qrels(b"q1 0 d1 3\\nq1 0 d2 1\\n"),
...               b"q1 Q0 d2 1 9.5 run\\nq1 Q0 d1 2 9.1 run\\n", ["ndcg_cut.10", "map"])
>>> ev.lines()
['map                   \\tall\\t1.0000', 'ndcg_cut_10           \\tall\\t0.7967']
"""
from .evaluate import Evaluation, Options, evaluate
from .registry import REGISTRY, Measure, MeasureSpec, parse_measure, parse_measures
from .trec import ByteStream, Judgements, Qrels, QrelsIndex, TrecFormatError, index_qrels, parse_qrels, parse_window

__all__ = [
    "Evaluation", "Options", "evaluate",
    "REGISTRY", "Measure", "MeasureSpec", "parse_measure", "parse_measures",
    "ByteStream", "Judgements", "Qrels", "QrelsIndex", "TrecFormatError", "parse_qrels", "index_qrels",
    "parse_window",
]
