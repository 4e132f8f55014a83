"""Evaluate a TREC run against qrels, trec_eval-exactly, block by block.

The run is streamed: each block of lines is scanned and joined with the
qrels in one compiled pass (:mod:`.trec`), ranked (:mod:`.ranking`), turned
into a padded ``(queries x depth)`` grades matrix and handed to the kernels;
only per-query values are kept, so memory stays flat however large the run.
A query's lines may span blocks (its bytes are carried over to the next
block).  If a query's lines are *not* contiguous in the file (allowed by
trec_eval, rare in practice) the evaluation restarts reading the whole run at
once.

Rules, all from trec_eval (form_res_rels.c, trec_eval.c, v9.0.x):

* documents are ranked by score descending, ties broken by docno descending
  (``strcmp`` byte order); the rank column of the run is ignored;
* a docno repeated within one query's ranking is an error;
* ``max_depth`` (``-M``) keeps the first M documents of that order;
* ``judged_only`` (``-J``; Sakai's *condensed lists*): documents that are not
  judged (absent from the qrels, or with a negative grade) are removed after
  the -M cut and the remaining documents re-ranked;
* grade codes: grade >= 0 judged; -1 not in the qrels; -2 negative grade in
  the qrels ("in the pool but unjudged");
* binary measures call a document relevant if grade >= ``relevance_level``
  (``-l``, default 1); R (num_rel) counts qrels rows with grade >= max(level, 0);
* the gain measures use the grade itself and ignore the level;
* queries in the run but not in the qrels are ignored; queries in the qrels
  but not in the run are not evaluated, and count as 0 in the mean only with
  ``complete`` (``-c``, divisor = number of qrels queries);
* means are plain sums in qid order divided by the number of queries.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from .ap import average_precision
from .err import err
from .judged import judged
from .ndcg import ideal_dcg, ndcg
from .precision import precision
from .ranking import DUPLICATE, NOT_CONTIGUOUS, PAD, rank_block
from .recall import recall
from .registry import Measure, parse_measures
from .rprec import r_precision
from .rr import reciprocal_rank
from .trec import NONPOOL, UNJUDGED, Qrels, RunBlock, TrecFormatError, _Scratch, scan_run_block

__all__ = ["Options", "Evaluation", "evaluate", "NONPOOL", "UNJUDGED", "PAD"]


@dataclass(frozen=True)
class Options:
    """trec_eval's evaluation switches."""

    relevance_level: int = 1  # -l
    max_depth: int | None = None  # -M
    judged_only: bool = False  # -J (condensed lists)
    complete: bool = False  # -c

    def __post_init__(self):
        if self.relevance_level < 0:
            raise ValueError("relevance level must be >= 0 (below 0, documents absent from the "
                             "qrels would count as relevant)")
        if self.max_depth is not None and self.max_depth < 1:
            raise ValueError("max depth (-M) must be a positive integer")


@dataclass
class Evaluation:
    """Per-query values (queries evaluated, in trec_eval's qid order) and means."""

    measures: list
    qids: list
    per_query: dict  # measure name -> float64 array aligned with qids
    mean: dict  # measure name -> float
    n_queries: int  # divisor of the mean

    def lines(self, per_query: bool = False) -> list[str]:
        """trec_eval's output lines (``%-22s\\t%s\\t%6.4f``)."""
        out = []
        names = [str(m) for m in self.measures]
        if per_query:
            cols = [self.per_query[n] for n in names]
            for i, qid in enumerate(self.qids):
                for n, col in zip(names, cols):
                    out.append("%-22s\t%s\t%6.4f" % (n, qid, col[i]))
        for n in names:
            out.append("%-22s\t%s\t%6.4f" % (n, "all", self.mean[n]))
        return out


class _NotContiguous(Exception):
    pass


class _Engine:
    def __init__(self, qrels: Qrels, measures: list, options: Options, source: str):
        self.qrels, self.measures, self.opt, self.source = qrels, measures, options, source
        nq = qrels.n_queries
        level = options.relevance_level
        self.num_rel = np.bincount(qrels.row_query[qrels.row_grade >= level], minlength=nq)[:nq]
        self.ideal = {}
        slots = np.repeat(np.arange(nq), np.diff(qrels.offsets))
        for m in measures:
            if m.name in ("ndcg", "ndcg_cut", "ndcg_exp_cut"):
                kind = "exp" if m.name == "ndcg_exp_cut" else "linear"
                k = None if m.name == "ndcg" else m.cutoff
                if (kind, k) not in self.ideal:
                    self.ideal[(kind, k)] = ideal_dcg(slots, qrels.grades_desc, qrels.offsets, nq, k, kind)
        self.values = {str(m): np.zeros(nq) for m in measures}
        self.seen = np.zeros(nq, dtype=bool)
        self.any_line = False

    def process(self, rb: RunBlock) -> None:
        """Rank the (whole) queries of a scanned block and compute their values."""
        if len(rb) == 0:
            return
        seg_q, grades, (code, a, b) = rank_block(
            rb.buf, rb.query, rb.score, rb.code, rb.doc_start, rb.doc_len, rb.doc_hash, self.seen,
            self.opt.max_depth or 0, self.opt.judged_only)
        if code == NOT_CONTIGUOUS:
            raise _NotContiguous()
        if code == DUPLICATE:
            qid = self.qrels.qid(int(rb.query[a]))
            raise TrecFormatError(f"{self.source}:{int(max(rb.lineno[a], rb.lineno[b]))}: duplicate "
                                  f"document {rb.doc(a)!r} in the ranking of query {qid!r}")
        self._compute(grades, seg_q)

    def _compute(self, grades: np.ndarray, seg_q: np.ndarray) -> None:
        level = self.opt.relevance_level
        rel = grades >= level
        num_rel = self.num_rel[seg_q]
        for m in self.measures:
            name = m.name
            if name == "map":
                v = average_precision(rel, num_rel)
            elif name == "Rprec":
                v = r_precision(rel, num_rel)
            elif name == "recip_rank":
                v = reciprocal_rank(rel)
            elif name == "P":
                v = precision(rel, m.cutoff)
            elif name == "recall":
                v = recall(rel, num_rel, m.cutoff)
            elif name == "ndcg":
                v = ndcg(grades, self.ideal[("linear", None)][seg_q], None, "linear")
            elif name == "ndcg_cut":
                v = ndcg(grades, self.ideal[("linear", m.cutoff)][seg_q], m.cutoff, "linear")
            elif name == "ndcg_exp_cut":
                v = ndcg(grades, self.ideal[("exp", m.cutoff)][seg_q], m.cutoff, "exp")
            elif name == "err_cut":
                v = err(grades, m.cutoff, self.qrels.max_grade)
            elif name == "judged":
                v = judged(grades, m.cutoff)
            else:  # pragma: no cover - registry and dispatch out of sync
                raise AssertionError(name)
            self.values[str(m)][seg_q] = v

    def result(self) -> Evaluation:
        evaluated = np.flatnonzero(self.seen)
        if len(evaluated) == 0:
            raise ValueError("no queries with both results and relevance judgements")
        evaluated = evaluated[np.argsort(self.qrels.qid_rank[evaluated])]  # trec_eval's qid order
        n = self.qrels.n_queries if self.opt.complete else len(evaluated)
        per_query, mean = {}, {}
        for name, vals in self.values.items():
            per_query[name] = vals[evaluated]
            # sequential sum in qid order, as trec_eval accumulates
            mean[name] = float(np.cumsum(per_query[name])[-1] / n)
        return Evaluation(self.measures, self.qrels.qid_texts(evaluated), per_query, mean, n)


def _run_blocks(run, block_size: int = 1 << 23) -> Callable[[], Iterable[bytes]]:
    if isinstance(run, (bytes, bytearray, memoryview)):
        view = memoryview(run).cast("B")
        return lambda: (bytes(view[i:i + block_size]) for i in range(0, len(view), block_size))
    if callable(run):
        return run
    raise TypeError("run must be bytes or a callable returning an iterable of byte blocks")


def evaluate(qrels: Qrels, run, measures, options: Options | None = None,
             source: str = "<run>") -> Evaluation:
    """Evaluate ``run`` (bytes, or a callable giving byte blocks) against parsed ``qrels``.

    >>> from evaluators.metrics.trec import parse_qrels
    >>> q = parse_qrels(b"1 0 a 1\\n1 0 b 0\\n")
    >>> ev = evaluate(q, b"1 Q0 b 1 2.0 r\\n1 Q0 a 2 1.0 r\\n", ["P.1", "recip_rank"])
    >>> ev.mean
    {'recip_rank': 0.5, 'P_1': 0.0}
    """
    options = options or Options()
    ms = parse_measures(measures) if not (measures and isinstance(measures[0], Measure)) else list(measures)
    blocks = _run_blocks(run)
    try:
        return _evaluate_streaming(qrels, blocks, ms, options, source)
    except _NotContiguous:
        # a query's lines are spread over the file: read it whole, group rows by query
        engine = _Engine(qrels, ms, options, source)
        data = b"".join(blocks())
        rb = scan_run_block(data, qrels, True, source, capacity=data.count(b"\n") + 1)
        order = np.argsort(rb.query, kind="stable")
        rb = RunBlock(rb.buf, rb.query[order], rb.score[order], rb.code[order], rb.doc_start[order],
                      rb.doc_len[order], rb.doc_hash[order], rb.lineno[order], rb.consumed, rb.lines)
        engine.process(rb)
        return engine.result()


def _evaluate_streaming(qrels, blocks, ms, options, source) -> Evaluation:
    engine = _Engine(qrels, ms, options, source)
    scratch = _Scratch()
    carry = b""
    line_offset = 0
    any_text = False

    def step(data: bytes, final: bool) -> bytes:
        nonlocal line_offset, any_text
        rb = scan_run_block(data, qrels, final, source, line_offset, scratch)
        any_text |= rb.content > 0
        engine.process(rb)
        line_offset += rb.lines
        return data[rb.consumed:]

    for block in blocks():
        if not block:
            continue
        carry = step(carry + block if carry else block, False)
    if carry:
        step(carry, True)
    if not any_text:
        raise ValueError(f"{source}: run has no result lines")
    return engine.result()
