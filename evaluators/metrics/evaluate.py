"""Evaluate a TREC run against qrels, trec_eval-exactly, block by block.

The run is streamed: each block of lines is scanned and joined with the
qrels in one compiled pass (:mod:`.trec`), ranked (:mod:`.ranking`), turned
into a padded ``(queries x depth)`` grades matrix and handed to the kernels;
only per-query values are kept.  A query's lines may span blocks (its bytes
are carried over to the next block).  If a query's lines are *not*
contiguous in the file (allowed by trec_eval, rare in practice) the
evaluation restarts reading the whole run at once.

The qrels are either given parsed (:class:`~.trec.Qrels`, held whole: about
50 bytes per judgement) or, like the run, as bytes or byte blocks
(:func:`evaluators.metrics.evaluate_files` does this).  Then they are
*streamed beside the run* and memory no longer grows with the judgements:

1. one pass over the qrels (:func:`~.trec.index_qrels`) reads the first
   field of each line and keeps only each query's id and the byte offset
   where its lines start (tens of bytes per query); with ``err_cut``, which
   needs the largest grade up front, it also parses (and checks) each line;
2. the run is then scanned with query ids resolved through that index; the
   judgements are parsed a window of whole queries at a time
   (``window_bytes``, 8 MB by default) from a second, forward-only read of
   the qrels (:class:`~.trec.SegmentReader`), starting at the run's current
   query; per-query tables, R and ideal DCGs exist only for the window;
   qrels queries the run skips are parsed too (so a duplicate judgement is
   an error wherever it is), then dropped.

This works when both files list their queries in the same order (each
query's lines together; queries missing from either file are fine) — what
trec_eval-style tools and :mod:`bench.gen_trec` write.  Otherwise it falls
back, exactly, to reading the qrels whole: detected when the qrels repeat a
query after another one (pass 1), or when the run reaches a query whose
judgements lie before the current window.  Peak memory then is that of
parsed qrels.  Either way the results are the same, bit for bit.  A
malformed qrels line or duplicate judgement is an error wherever it is, but
is reported when its window is parsed, so an error earlier in the run file
may be reported first.

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

import functools
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from .ap import average_precision
from .err import err
from .judged import judged
from .ndcg import ideal_from_sorted, ndcg
from .precision import precision
from .ranking import DUPLICATE, NOT_CONTIGUOUS, PAD, rank_block
from .recall import recall
from .registry import Measure, parse_measures
from .rprec import r_precision
from .rr import reciprocal_rank
from .trec import (FULL, NONPOOL, UNJUDGED, Qrels, RunBlock, SegmentReader, TrecFormatError, _Scratch, index_qrels,
                   lines_before, parse_qrels, scan_run_block)

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
    """Per-query values (queries evaluated, in trec_eval's qid order) and means.

    Query ids are kept as one numpy bytes array (``qid_names``) and decoded to
    ``qids`` (a list of str) only when asked for: a million of them as Python
    strings would be most of the memory of an evaluation that prints means.
    """

    measures: list
    qid_names: np.ndarray  # numpy bytes ("S<n>"), aligned with the per-query arrays
    per_query: dict  # measure name -> float64 array aligned with qids
    mean: dict  # measure name -> float
    n_queries: int  # divisor of the mean

    @functools.cached_property
    def qids(self) -> list:
        return [b.decode("utf-8", "replace") for b in self.qid_names.tolist()]

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


class _Fallback(Exception):
    """The files cannot be streamed side by side: evaluate with the whole qrels in memory."""


class _Engine:
    """Per-query values over query slots ``0..n_queries-1``; judgements come a window of slots at a time."""

    def __init__(self, names, n_queries: int, max_grade: int, measures: list, options: Options, source: str):
        self.names, self.measures, self.opt, self.source = names, measures, options, source
        self.n_queries, self.max_grade = n_queries, max_grade
        self.ideal_keys = []
        for m in measures:
            if m.name in ("ndcg", "ndcg_cut", "ndcg_exp_cut"):
                key = ("exp" if m.name == "ndcg_exp_cut" else "linear", None if m.name == "ndcg" else m.cutoff)
                if key not in self.ideal_keys:
                    self.ideal_keys.append(key)
        self.values = {str(m): np.zeros(n_queries) for m in measures}
        self.seen = np.zeros(n_queries, dtype=bool)
        self.lo = 0

    def window(self, lo: int, qrels: Qrels) -> None:
        """Judgements of slots ``lo .. lo + qrels.n_queries - 1`` (``qrels``' own slots shifted by lo)."""
        nq = qrels.n_queries
        self.lo = lo
        self.num_rel = np.bincount(qrels.row_query[qrels.row_grade >= self.opt.relevance_level],
                                   minlength=nq)[:nq]
        self.ideal = {(kind, k): ideal_from_sorted(qrels.grades_desc, qrels.offsets, k, kind)
                      for kind, k in self.ideal_keys}

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
            qid = self.names.qid(int(rb.query[a]))
            raise TrecFormatError(f"{self.source}:{int(max(rb.lineno[a], rb.lineno[b]))}: duplicate "
                                  f"document {rb.doc(a)!r} in the ranking of query {qid!r}")
        self._compute(grades, seg_q)

    def _compute(self, grades: np.ndarray, seg_q: np.ndarray) -> None:
        level = self.opt.relevance_level
        rel = grades >= level
        local = seg_q - self.lo
        num_rel = self.num_rel[local]
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
                v = ndcg(grades, self.ideal[("linear", None)][local], None, "linear")
            elif name == "ndcg_cut":
                v = ndcg(grades, self.ideal[("linear", m.cutoff)][local], m.cutoff, "linear")
            elif name == "ndcg_exp_cut":
                v = ndcg(grades, self.ideal[("exp", m.cutoff)][local], m.cutoff, "exp")
            elif name == "err_cut":
                v = err(grades, m.cutoff, self.max_grade)
            elif name == "judged":
                v = judged(grades, m.cutoff)
            else:  # pragma: no cover - registry and dispatch out of sync
                raise AssertionError(name)
            self.values[str(m)][seg_q] = v

    def result(self) -> Evaluation:
        evaluated = np.flatnonzero(self.seen)
        if len(evaluated) == 0:
            raise ValueError("no queries with both results and relevance judgements")
        names = self.names.qid_names(evaluated)
        order = np.argsort(names, kind="stable")  # trec_eval's qid order (strcmp)
        evaluated = evaluated[order]
        names = names[order]
        n = self.n_queries if self.opt.complete else len(evaluated)
        per_query, mean = {}, {}
        for name in list(self.values):
            per_query[name] = self.values.pop(name)[evaluated]
            # sequential sum in qid order, as trec_eval accumulates
            mean[name] = float(np.cumsum(per_query[name])[-1] / n)
        return Evaluation(self.measures, names, per_query, mean, n)


def _empty_qrels() -> Qrels:
    """No judgements: the window before the first query is read."""
    i64, i32, u64, i8 = (np.zeros(0, t) for t in (np.int64, np.int32, np.uint64, np.int8))
    return Qrels(np.zeros(0, np.uint8), i64, i32, u64, np.full(16, -1, np.int32), i32, i64, i32, u64, i8,
                 np.zeros(1, np.int64), u64, np.zeros(0, np.int32), i64, i64, i8, np.zeros(1, np.int64))


_EMPTY = _empty_qrels()
_ROWS = 1 << 18  # run rows scanned at a time (the scanner's arrays: ~19 MB)


def _blocks(data, what: str, block_size: int = 1 << 23) -> Callable[[], Iterable[bytes]]:
    if isinstance(data, (bytes, bytearray, memoryview)):
        view = memoryview(data).cast("B")
        return lambda: (bytes(view[i:i + block_size]) for i in range(0, len(view), block_size))
    if callable(data):
        return data
    raise TypeError(f"{what} must be bytes or a callable returning an iterable of byte blocks")


def evaluate(qrels, run, measures, options: Options | None = None, source: str = "<run>",
             qrels_source: str = "<qrels>", window_bytes: int = 1 << 23) -> Evaluation:
    """Evaluate ``run`` against ``qrels``; the run is bytes, or a callable giving byte blocks.

    ``qrels`` is parsed :class:`~.trec.Qrels` (held whole), or — like the run —
    bytes or a callable giving byte blocks, read twice: once to validate and
    index it, then side by side with the run, ``window_bytes`` of judgements
    at a time (see the module notes on streaming).

    >>> from evaluators.metrics.trec import parse_qrels
    >>> q = parse_qrels(b"1 0 a 1\\n1 0 b 0\\n")
    >>> ev = evaluate(q, b"1 Q0 b 1 2.0 r\\n1 Q0 a 2 1.0 r\\n", ["P.1", "recip_rank"])
    >>> ev.mean
    {'recip_rank': 0.5, 'P_1': 0.0}
    >>> evaluate(b"1 0 a 1\\n1 0 b 0\\n", b"1 Q0 b 1 2.0 r\\n1 Q0 a 2 1.0 r\\n", ["P.1", "recip_rank"]).mean
    {'recip_rank': 0.5, 'P_1': 0.0}
    """
    options = options or Options()
    ms = parse_measures(measures) if not (measures and isinstance(measures[0], Measure)) else list(measures)
    blocks = _blocks(run, "run")
    if not isinstance(qrels, Qrels):
        qblocks = _blocks(qrels, "qrels")
        try:
            return _evaluate_side_by_side(qblocks, blocks, ms, options, source, qrels_source, window_bytes)
        except (_Fallback, _NotContiguous):
            qrels = parse_qrels(b"".join(qblocks()), qrels_source)
    try:
        return _evaluate_streaming(qrels, blocks, ms, options, source)
    except _NotContiguous:
        # a query's lines are spread over the file: read it whole, group rows by query
        engine = _Engine(qrels, qrels.n_queries, qrels.max_grade, ms, options, source)
        engine.window(0, qrels)
        data = b"".join(blocks())
        rb = scan_run_block(data, qrels, True, source, capacity=data.count(b"\n") + 1)
        order = np.argsort(rb.query, kind="stable")
        rb = RunBlock(rb.buf, rb.query[order], rb.score[order], rb.code[order], rb.doc_start[order],
                      rb.doc_len[order], rb.doc_hash[order], rb.lineno[order], rb.consumed, rb.lines)
        engine.process(rb)
        return engine.result()


def _evaluate_streaming(qrels, blocks, ms, options, source) -> Evaluation:
    engine = _Engine(qrels, qrels.n_queries, qrels.max_grade, ms, options, source)
    engine.window(0, qrels)
    scratch = _Scratch()
    capacity = _ROWS
    carry = b""
    line_offset = 0
    any_text = False

    def step(data: bytes, final: bool) -> bytes:
        nonlocal line_offset, any_text
        nonlocal capacity
        start = 0
        while True:
            rb = scan_run_block(data, qrels, final, source, line_offset, scratch, capacity, start=start)
            any_text |= rb.content > 0
            engine.process(rb)
            line_offset += rb.lines
            if rb.stop == FULL and rb.consumed == start:
                capacity *= 2
            start = rb.consumed
            if rb.stop != FULL:
                return data[start:]

    for block in blocks():
        if not block:
            continue
        carry = step(carry + block if carry else block, False)
    if carry:
        step(carry, True)
    if not any_text:
        raise ValueError(f"{source}: run has no result lines")
    return engine.result()


def _evaluate_side_by_side(qblocks, blocks, ms, options, source, qsource, window_bytes) -> Evaluation:
    """Qrels and run streamed together; memory bounded by the blocks and one window of judgements."""
    need_max = any(m.name == "err_cut" for m in ms)
    index = index_qrels(qblocks(), qsource, check=need_max)
    if index is None:
        raise _Fallback("qrels not grouped by query")
    nq = index.n_queries
    seg = index.segment
    engine = _Engine(index, nq, index.max_grade if need_max else 0, ms, options, source)
    reader = SegmentReader(qblocks())
    window_bytes = max(int(window_bytes), 1)
    state = {"lo": 0, "qrels": _EMPTY}
    hi = -1  # last slot read from the qrels

    def span(a: int, last: int) -> int:
        """Last slot b in a..last with segments a..b within window_bytes (at least a)."""
        b = int(np.searchsorted(seg, seg[a] + window_bytes, side="right")) - 2
        return max(a, min(b, last))

    def load(a: int, b: int) -> Qrels:
        data = reader.read(int(seg[a]), int(seg[b + 1]))
        try:
            q = parse_qrels(data, qsource)
        except TrecFormatError:  # again, with the lines before this window counted
            parse_qrels(data, qsource, lines_before(qblocks(), int(seg[a])))
            raise
        if q.n_queries != b - a + 1:  # the file changed between the two reads
            raise _Fallback("qrels changed while read")
        return q

    def read_through(last: int) -> None:
        """Read (and check) the judgements of queries the run does not rank, up to slot ``last``."""
        nonlocal hi
        a = hi + 1
        while a <= last:
            b = span(a, last)
            load(a, b)
            a = b + 1
        hi = max(hi, last)

    def advance(g: int) -> None:
        nonlocal hi
        if g < state["lo"]:
            raise _Fallback("run and qrels list queries in different orders")
        read_through(g - 1)
        b = span(g, nq - 1)
        q = load(g, b)
        state["lo"], state["qrels"] = g, q
        hi = b
        engine.window(g, q)

    engine.window(0, _EMPTY)
    scratch = _Scratch()
    capacity = _ROWS
    line_offset = 0
    any_text = False

    def step(data: bytes, final: bool) -> bytes:
        nonlocal line_offset, any_text
        nonlocal capacity
        start = 0
        while True:
            rb = scan_run_block(data, state["qrels"], final, source, line_offset, scratch, capacity,
                                start=start, index=index, lo=state["lo"])
            any_text |= rb.content > 0
            engine.process(rb)
            line_offset += rb.lines
            if rb.stop == FULL and rb.consumed == start:
                capacity *= 2  # one query has more lines than the arrays hold
            start = rb.consumed
            if rb.stop == -1:
                return data[start:]
            if rb.stop >= 0:
                advance(rb.stop)

    carry = b""
    for block in blocks():
        if not block:
            continue
        carry = step(carry + block if carry else block, False)
    if carry:
        step(carry, True)
    if not any_text:
        raise ValueError(f"{source}: run has no result lines")
    read_through(nq - 1)
    return engine.result()
