"""Evaluate a TREC run against qrels, trec_eval-exactly, on every core, in bounded memory.

The run is read front to back (:class:`~.trec.ByteStream`: a file's memory
map is read in place and the pages behind the reader are handed back;
anything else goes through one reusable buffer; nothing per line reaches
Python).
It is cut into *spans* of whole queries (about 2 MB, at line ends where the
query id changes, :func:`~.runscan.span_end`).  Every span is a task: one
compiled, GIL-free pass (:func:`~.runscan.evaluate_span`) reads its lines,
joins them with the judgements, ranks each query and writes its measures.
Tasks go to a thread pool as soon as they are planned, a few per thread in
flight, and their outcomes are taken in file order (:class:`_InOrder`): the
first error in the file is the one reported, with its line.

The qrels are either given parsed (:class:`~.trec.Qrels`, held whole: about
50 bytes per judgement, shared by every task) or, like the run, as a memory
map, bytes or byte blocks.  Then memory no longer grows with the judgements:

1. one pass over the qrels (:func:`~.trec.index_qrels`) reads the first
   field of each line and keeps only each query's id and where its lines
   start (tens of bytes per query); with ``err_cut``, which needs the largest
   grade up front, it also parses (and checks) each line;
2. the run's query ids resolve through that index; each task gets the qrels
   bytes of the queries its span ranks (its *window*, at most
   ``window_bytes`` unless one query alone is larger: spans shrink to fit)
   and parses them itself, in its thread (:func:`~.trec.parse_window`).
   Qrels queries the run skips are parsed too, in tasks of their own (so a
   duplicate judgement is an error wherever it is), then dropped.

This works when both files list their queries in the same order (each
query's lines together; queries missing from either file are fine) — what
trec_eval-style tools and :mod:`bench.gen_trec` write.  Otherwise it falls
back, exactly, to reading the qrels whole: detected when the qrels repeat a
query after another one (pass 1), or when a span reaches a query whose
judgements belong to an earlier window.  If a query's lines are *not*
contiguous in the run (allowed by trec_eval, rare in practice) the run is
read whole and its lines regrouped by query.  Either way the results are
the same, bit for bit.

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

import collections
import functools
import mmap
import os
import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .err import stop_table
from .ndcg import gain_table
from .registry import Measure, parse_measures
from .runscan import (DUPLICATE, FIELDS, KINDS, NONPOOL, NOT_CONTIGUOUS, OK, ORDER, SLOW, SPACE, UNJUDGED,
                      evaluate_span, gather_lines, line_slots, span_end, work_arrays)
from .trec import (ByteStream, Qrels, QrelsChanged, SegmentReader, TrecFormatError, index_qrels, parse_qrels,
                   parse_window)

__all__ = ["Options", "Evaluation", "evaluate", "NONPOOL", "UNJUDGED"]

_FLOAT_RE = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_BUFFER = 1 << 25  # run bytes read at a time (per 8 threads)
_SPAN = 1 << 21  # run bytes per task
_ROWS = 1 << 12  # lines of one query the scratch holds at first (it grows)


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


class _Fallback(Exception):
    """The files cannot be streamed side by side: evaluate with the whole qrels in memory."""


class _NotContiguous(Exception):
    """A query's run lines are spread over the file: regroup the whole run."""


@dataclass
class _Task:
    """A span of run bytes ``a:b`` and the judgements it is joined with (parsed in the task when ``data``)."""

    a: int
    b: int
    lo: int = 0
    hi: int = -1
    data: object = None  # the qrels bytes of slots lo..hi (bytes or a uint8 array), parsed by the task


@dataclass
class _Outcome:
    lines: int = 0  # lines in the span
    content: int = 0  # result lines read
    finished: int = 0  # queries evaluated
    error: tuple | None = None  # (line in the span, message) or (None, TrecFormatError)
    fallback: type | None = None


class _Engine:
    """Per-query values over query slots ``0..n_queries-1`` of ``names``, filled span by span."""

    def __init__(self, names, max_grade: int, measures: list, options: Options, source: str, qsource: str):
        self.names, self.measures, self.opt, self.source, self.qsource = names, measures, options, source, qsource
        self.n_queries = names.n_queries
        self.index = names.index_arrays()
        missing = sorted({m.name for m in measures} - set(KINDS))
        if missing:  # pragma: no cover - registry and kernels out of sync
            raise ValueError(f"no kernel computes {', '.join(missing)}")
        self.params = (options.relevance_level, options.max_depth or 0, int(options.judged_only))
        self.measure_arrays = (np.array([KINDS[m.name] for m in measures], np.int64),
                               np.array([m.cutoff for m in measures], np.int64),
                               gain_table("linear"), gain_table("exp"), stop_table(max(max_grade, 0)))
        self._local = threading.local()
        self.values = np.zeros((len(measures), self.n_queries))
        self.seen = np.zeros(self.n_queries, dtype=bool)
        self.judgements = None  # (Judgements arrays) shared by every task, when held whole
        self.any_text = False

    # ----------------------------------------------------------------- one task (runs in a worker thread)

    def _work_arrays(self, longest_judged: int, rows: int = 0) -> tuple:
        """This thread's scratch for :func:`~.runscan.evaluate_span` (kept from task to task)."""
        work = getattr(self._local, "work", None)
        rows = max(rows, len(work[0]) if work else _ROWS)
        if work is None or len(work[0]) < rows or len(work[12]) < longest_judged:
            work = self._local.work = work_arrays(rows, longest_judged)
        return work

    def span(self, buf, a: int, b: int, judgements: tuple, lo: int, hi: int, check_only: bool = False) -> _Outcome:
        """Evaluate ``buf[a:b]`` (whole queries); scores off the fast path are parsed here and the scan resumed."""
        out = _Outcome()
        offsets = judgements[8]
        longest = int(np.diff(offsets).max()) if len(offsets) > 1 else 0
        work = self._work_arrays(longest)
        patch_pos, patch_val = np.zeros(0, np.int64), np.zeros(0)
        line0 = 0
        while True:
            status, line, x, y, z, content, finished, nslow = evaluate_span(
                buf, a, b, check_only, self.index, judgements, lo, hi, self.params, self.measure_arrays, work,
                self.values, self.seen, (patch_pos, patch_val))
            out.content = max(out.content, int(content))
            out.finished += int(finished)
            if status == SPACE:  # a query longer than the scratch: again from where it starts, with more room
                work = self._work_arrays(longest, 2 * len(work[0]))
                keep = patch_pos >= x
                patch_pos, patch_val = patch_pos[keep], patch_val[keep]
                a, line0 = int(x), line0 + int(y)
                continue
            if status == SLOW:
                starts, ends, lines = (w[:nslow].copy() for w in work[13:16])
                values = np.empty(nslow)
                for k in range(nslow):
                    text = bytes(buf[starts[k]:ends[k]])
                    why = _bad_score(text)
                    if why:
                        out.error = (line0 + int(lines[k]), why)
                        return out
                    values[k] = float(text)
                if z >= 0:
                    out.error = (line0 + int(line), f"expected at least 6 whitespace-separated fields, found {z}")
                    return out
                if check_only:
                    if nslow == len(work[13]):  # more slow scores than room: again, with more
                        work = self._work_arrays(longest, 2 * len(work[0]))
                        continue
                    status = OK
                else:  # again from the query of the first one, with all of them parsed
                    keep = patch_pos >= x
                    patch_pos = np.concatenate([patch_pos[keep], starts])
                    patch_val = np.concatenate([patch_val[keep], values])
                    a, line0 = int(x), line0 + int(y)
                    continue
            if status == OK:
                out.lines = line0 + int(line)
            elif status == FIELDS:
                out.error = (line0 + int(line), f"expected at least 6 whitespace-separated fields, found {x}")
            elif status == DUPLICATE:
                doc = bytes(buf[x:x + y]).decode("utf-8", "replace")
                out.error = (line0 + int(line),
                             f"duplicate document {doc!r} in the ranking of query {self.names.qid(int(z))!r}")
            elif status == ORDER:
                out.fallback = _Fallback
            else:
                assert status == NOT_CONTIGUOUS
                out.fallback = _NotContiguous
            return out

    def check(self, o: "_Outcome", line_offset: int, line_map=None) -> int:
        """Raise what a task's outcome holds (its lines follow ``line_offset``); else the lines after it."""
        if o.fallback is not None:
            raise o.fallback()
        if o.error is not None:
            where, what = o.error
            if where is None:
                raise what
            lineno = line_offset + where
            lineno = int(line_map[lineno]) if line_map is not None else lineno
            raise TrecFormatError(f"{self.source}:{lineno + 1}: {what}")
        self.any_text |= o.content > 0
        return line_offset + o.lines

    def result(self, finished: int) -> Evaluation:
        """The evaluation, once ``finished`` queries were evaluated by the tasks."""
        if not self.any_text:
            raise ValueError(f"{self.source}: run has no result lines")
        evaluated = np.flatnonzero(self.seen)
        if len(evaluated) != finished:
            raise _NotContiguous()  # one query evaluated by two tasks
        if len(evaluated) == 0:
            raise ValueError("no queries with both results and relevance judgements")
        names = self.names.qid_names(evaluated)
        order = np.argsort(names, kind="stable")  # trec_eval's qid order (strcmp)
        evaluated = evaluated[order]
        names = names[order]
        n = self.n_queries if self.opt.complete else len(evaluated)
        per_query, mean = {}, {}
        for i, m in enumerate(self.measures):
            per_query[str(m)] = self.values[i][evaluated]
            # sequential sum in qid order, as trec_eval accumulates
            mean[str(m)] = float(np.cumsum(per_query[str(m)])[-1] / n)
        return Evaluation(self.measures, names, per_query, mean, n)


def _bad_score(text: bytes) -> str | None:
    shown = text.decode(errors="replace")
    if not _FLOAT_RE.fullmatch(text):
        if text.lower().lstrip(b"+-") in (b"nan", b"inf", b"infinity"):
            return f"score {shown!r} is not finite"
        return f"score {shown!r} is not a number"
    if not np.isfinite(float(text)):
        return f"score {shown!r} is not finite"
    return None


def _threads(threads: int | None) -> int:
    if threads is None:
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, int(threads))


def _source(data, what: str):
    if isinstance(data, (bytes, bytearray, memoryview, mmap.mmap)) or callable(data):
        return data
    raise TypeError(f"{what} must be bytes, a memory map, or a callable returning an iterable of byte blocks")


def evaluate(qrels, run, measures, options: Options | None = None, source: str = "<run>",
             qrels_source: str = "<qrels>", window_bytes: int = 1 << 23, threads: int | None = None) -> Evaluation:
    """Evaluate ``run`` against ``qrels``; the run is bytes, a file's ``mmap.mmap``, or a callable giving byte blocks.

    ``qrels`` is parsed :class:`~.trec.Qrels` (held whole), or — like the run —
    bytes, a memory map, or a callable giving byte blocks, read twice: once
    to index it, then side by side with the run, ``window_bytes`` of
    judgements per task (see the module notes).  A memory map is the way to
    pass a file: read in place, in bounded memory.  ``threads``: tasks run at
    once (default: the cores this process may use).

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
    run = _source(run, "run")
    n_threads = _threads(threads)
    with ThreadPoolExecutor(n_threads - 1) if n_threads > 1 else _NoPool() as pool:
        if not isinstance(qrels, Qrels):
            qrels = _source(qrels, "qrels")
            try:
                return _side_by_side(pool, qrels, run, ms, options, source, qrels_source, window_bytes, n_threads)
            except (_Fallback, _NotContiguous, QrelsChanged):
                with ByteStream(qrels) as s:
                    qrels = parse_qrels(_read_all(s), qrels_source)
        try:
            return _whole_qrels(pool, qrels, run, ms, options, source, n_threads)
        except _NotContiguous:
            return _regrouped(pool, qrels, run, ms, options, source, n_threads)


class _NoPool:
    """One thread: tasks run in the caller."""

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _read_all(stream: ByteStream) -> bytes:
    while stream.fill() and not stream.eof:
        stream.consume(0)  # grow until the whole file is in
    return stream.buf[:stream.end].tobytes()


class _InOrder:
    """Tasks on the pool as soon as they are planned, outcomes taken in file order.

    At most ``limit`` tasks wait on the pool (the windows of judgements they
    bring are all that is held of the qrels); when that many do, the caller
    runs the next one itself instead of waiting (the pool has one thread
    fewer than the cores: the caller is the last one).  Outcomes are checked
    in the order the tasks were planned, so the first error in the file is
    the one reported, with its line.
    """

    def __init__(self, engine: _Engine, pool, limit: int, work=None, line_map=None):
        self.engine, self.pool, self.limit, self.line_map = engine, pool, limit, line_map
        self.work = work or _work
        self.inflight = collections.deque()
        self.line_offset = 0  # lines of the run before the oldest task in flight
        self.finished = 0  # queries evaluated

    def put(self, buf, task: _Task) -> None:
        while self.inflight and self.inflight[0][1].done():
            self.take()
        if self.pool is not None and len(self.inflight) < self.limit:
            future = self.pool.submit(self.work, self.engine, buf, task)
        else:
            future = Future()
            future.set_result(self.work(self.engine, buf, task))
        self.inflight.append((task, future))
        if len(self.inflight) > 2 * self.limit:  # outcomes held behind a slow task: wait for it
            self.take()

    def take(self) -> None:
        _, future = self.inflight.popleft()
        outcome = future.result()
        self.line_offset = self.engine.check(outcome, self.line_offset, self.line_map)
        self.finished += outcome.finished

    def drain(self) -> None:
        while self.inflight:
            self.take()

    def oldest(self) -> _Task | None:
        return self.inflight[0][0] if self.inflight else None

    def abandon(self) -> None:
        """After an error: drop what has not started, wait for what has."""
        for _, future in self.inflight:
            future.cancel()
        for _, future in self.inflight:
            if not future.cancelled():
                future.exception()
        self.inflight.clear()


def _stream_spans(order: _InOrder, run, n_threads: int, plan, release=None) -> None:
    """Read the run front to back; ``plan(buf, a, n, final)`` gives (end, tasks) for the span from ``a``.

    ``release(oldest task in flight)`` follows each task planned.
    """
    try:
        with ByteStream(run, _BUFFER * max(1, (n_threads + 7) // 8)) as stream:
            while stream.fill():
                buf, final, n = stream.buf, stream.eof, stream.whole_lines()
                a = stream.start
                while a < n:
                    end, tasks = plan(buf, a, n, final)
                    if end == a:  # less than one whole query left: read on
                        break
                    for t in tasks:
                        order.put(buf, t)
                    a = end
                    oldest = order.oldest()
                    stream.release(min(a, oldest.a) if oldest is not None and oldest.b > oldest.a else a)
                    if release is not None:
                        release(oldest)
                if not stream.mapped:
                    order.drain()  # the buffer moves
                stream.consume(a)
            order.drain()
    except BaseException:
        order.abandon()
        raise


def _work(engine: _Engine, buf, task: _Task) -> _Outcome:
    """One task, in a worker thread: parse its window of judgements if it brings one, evaluate its span."""
    try:
        judgements = engine.judgements
        if task.data is not None:
            judgements = parse_window(engine.names, task.lo, task.hi, task.data, engine.qsource).arrays()
        if task.a == task.b:
            return _Outcome()
        return engine.span(buf, task.a, task.b, judgements, task.lo, task.hi)
    except TrecFormatError as exc:
        return _Outcome(error=(None, exc))
    except QrelsChanged:
        return _Outcome(fallback=_Fallback)


def _whole_spans(engine: _Engine, hi: int):
    """Planner for judgements held whole: spans of about ``_SPAN`` bytes, every slot known to every task."""
    def plan(buf, a, n, final):
        end, _, _ = span_end(buf, a, n, final, _SPAN, engine.index)
        return end, [_Task(a, end, 0, hi)]
    return plan


def _whole_qrels(pool, qrels: Qrels, run, ms, options, source, n_threads) -> Evaluation:
    engine = _Engine(qrels, qrels.max_grade, ms, options, source, "<qrels>")
    engine.judgements = qrels.judgements.arrays()
    order = _InOrder(engine, pool, 4 * n_threads)
    _stream_spans(order, run, n_threads, _whole_spans(engine, qrels.n_queries - 1))
    return engine.result(order.finished)


def _side_by_side(pool, qsrc, run, ms, options, source, qsource, window_bytes, n_threads) -> Evaluation:
    """Qrels and run streamed together; memory bounded by the buffers and the windows of judgements in flight."""
    need_max = any(m.name == "err_cut" for m in ms)
    index = index_qrels(qsrc, qsource, check=need_max)
    if index is None:
        raise _Fallback("qrels not grouped by query")
    engine = _Engine(index, index.max_grade if need_max else 0, ms, options, source, qsource)
    seg = index.segment
    window_bytes = max(int(window_bytes), 1)
    reader = SegmentReader(qsrc)
    pending = [0]  # first slot not yet given to a task

    def skipped(lo: int, hi: int) -> list:
        """Tasks that parse (and so check) the judgements of slots lo..hi, which the run does not rank."""
        tasks = []
        while lo <= hi:
            b = max(lo, min(hi, int(np.searchsorted(seg, seg[lo] + window_bytes, side="right")) - 2))
            tasks.append(_Task(0, 0, lo, b, reader.read(int(seg[lo]), int(seg[b + 1]))))
            lo = b + 1
        return tasks

    def plan(buf, a, n, final):
        size = _SPAN
        while True:
            end, first, last = span_end(buf, a, n, final, size, engine.index)
            if first < 0 or seg[last + 1] - seg[first] <= window_bytes or size == 0:
                break
            size //= 2  # the judgements of this span would not fit in one window
        if end == a:
            return a, []
        if first < 0:  # no query the qrels know
            return end, [_Task(a, end, pending[0], pending[0] - 1, b"")]
        if first < pending[0] or last < first:
            raise _Fallback("run and qrels list queries in different orders")
        tasks = skipped(pending[0], first - 1)
        tasks.append(_Task(a, end, first, last, reader.read(int(seg[first]), int(seg[last + 1]))))
        pending[0] = last + 1
        return end, tasks

    def release(oldest: _Task | None) -> None:
        """Hand back the qrels pages before the oldest window still in use."""
        reader.release(int(seg[oldest.lo]) if oldest is not None and oldest.data is not None else None)

    order = _InOrder(engine, pool, 4 * n_threads)
    try:
        _stream_spans(order, run, n_threads, plan, release)
        for t in skipped(pending[0], index.n_queries - 1):
            order.put(None, t)
        order.drain()
    except BaseException:
        order.abandon()
        raise
    finally:
        reader.close()
    return engine.result(order.finished)


def _regrouped(pool, qrels: Qrels, run, ms, options, source, n_threads) -> Evaluation:
    """A query's lines are spread over the run: check it in file order, then evaluate its lines grouped by query."""
    with ByteStream(run) as s:
        data = _read_all(s)
    buf = np.frombuffer(data, np.uint8)
    engine = _Engine(qrels, qrels.max_grade, ms, options, source, "<qrels>")
    engine.judgements = qrels.judgements.arrays()
    engine.check(engine.span(buf, 0, len(buf), engine.judgements, 0, -1, check_only=True), 0)
    starts, ends, slots, lines = line_slots(buf, len(buf), engine.index)
    by_query = np.argsort(slots, kind="stable")
    grouped = gather_lines(buf, starts[by_query], ends[by_query])
    order = _InOrder(engine, pool, 4 * n_threads, line_map=lines[by_query])
    _stream_spans(order, grouped.tobytes(), n_threads, _whole_spans(engine, qrels.n_queries - 1))
    return engine.result(order.finished)
