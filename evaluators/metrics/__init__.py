"""IR evaluation measures, identical to trec_eval, computed on arrays.

* :mod:`.registry` — what each measure means (names, parameters, citations);
* :mod:`.trec` — TREC qrels/run files parsed straight into numpy columns (compiled
  scanners, :mod:`.jit`), :mod:`.ranking` — trec_eval's order of each query's results;
* kernels, one per concept: :mod:`.ndcg`, :mod:`.err`, :mod:`.precision`,
  :mod:`.recall`, :mod:`.ap`, :mod:`.rr`, :mod:`.rprec`, :mod:`.judged` —
  each ``f(matrix_by_rank, [per-query stats], [k]) -> per-query array``;
* :mod:`.evaluate` — streams a run through them with trec_eval's rules.

>>> from evaluators.metrics import parse_qrels, evaluate
>>> ev = evaluate(parse_qrels(b"q1 0 d1 3\\nq1 0 d2 1\\n"),
...               b"q1 Q0 d2 1 9.5 run\\nq1 Q0 d1 2 9.1 run\\n", ["ndcg_cut.10", "map"])
>>> ev.lines()
['map                   \\tall\\t1.0000', 'ndcg_cut_10           \\tall\\t0.7967']
"""
from .evaluate import Evaluation, Options, evaluate
from .registry import REGISTRY, Measure, MeasureSpec, parse_measure, parse_measures
from .trec import (Qrels, QrelsIndex, RunBlock, TrecFormatError, index_qrels, parse_qrels, read_blocks, read_bytes,
                   scan_run_block)

__all__ = [
    "Evaluation", "Options", "evaluate", "evaluate_files",
    "REGISTRY", "Measure", "MeasureSpec", "parse_measure", "parse_measures",
    "Qrels", "QrelsIndex", "RunBlock", "TrecFormatError", "parse_qrels", "index_qrels", "scan_run_block",
    "read_blocks", "read_bytes",
]


def evaluate_files(qrels_path, run_path, measures, options: Options | None = None,
                   block_size: int = 1 << 23, window_bytes: int = 1 << 23) -> Evaluation:
    """Read and evaluate TREC files by path: both streamed in blocks, side by side.

    Memory stays bounded when both files list their queries in the same order
    (each query's lines together); otherwise the qrels are read whole (see
    :mod:`.evaluate`).
    """
    return evaluate(lambda: read_blocks(qrels_path, block_size), lambda: read_blocks(run_path, block_size),
                    measures, options, str(run_path), str(qrels_path), window_bytes)
