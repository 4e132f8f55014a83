"""Evaluate a TREC run against qrels, trec_eval-exactly, block by block.

The run is streamed: blocks of lines are parsed into columns, joined with
the qrels, ranked, turned into a padded ``(queries x depth)`` grades matrix
and handed to the kernels; only per-query values are kept, so memory stays
flat however large the run.  A query's lines may span blocks (its lines are
carried over to the next block).  If a query's lines are *not* contiguous in
the file (allowed by trec_eval, rare in practice) the evaluation restarts
reading the whole run at once.

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

from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from .ap import average_precision
from .err import err
from .judged import judged
from .ndcg import ideal_dcg, ndcg
from .precision import precision
from .recall import recall
from .registry import Measure, parse_measures
from .rprec import r_precision
from .rr import reciprocal_rank
from .trec import Qrels, RunLines, TrecFormatError, iter_line_blocks, parse_run_block, words_hash

__all__ = ["Options", "Evaluation", "evaluate", "NONPOOL", "UNJUDGED", "PAD"]

NONPOOL = -1
UNJUDGED = -2
PAD = -128
_HASH_BITS = 40


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


# --------------------------------------------------------------------------- joins


class _Table:
    """Exact lookup of word rows: hash -> sorted keys -> verify the words."""

    def __init__(self, words: np.ndarray, prefix: np.ndarray | None = None):
        self.words = words
        self.prefix = prefix
        for seed in range(8):
            keys = self._keys(words, prefix, seed)
            order = np.argsort(keys, kind="stable")
            sk = keys[order]
            if len(sk) < 2 or not np.any(sk[1:] == sk[:-1]):
                self.seed, self.order, self.sorted_keys = seed, order, sk
                return
        raise RuntimeError("could not build a collision-free hash table")  # pragma: no cover

    @staticmethod
    def _keys(words, prefix, seed):
        h = words_hash(words, seed)
        if prefix is None:
            return h
        return (prefix.astype(np.uint64) << np.uint64(_HASH_BITS)) | (h >> np.uint64(64 - _HASH_BITS))

    def lookup(self, words: np.ndarray, prefix: np.ndarray | None = None) -> np.ndarray:
        """Row index of each query row in the table, -1 if absent."""
        n = len(words)
        if n == 0 or len(self.sorted_keys) == 0:
            return np.full(n, -1, dtype=np.int64)
        w_table = self.words.shape[1]
        w = words.shape[1]
        too_long = None
        if w > w_table:  # longer than any table entry: can only match if the extra words are 0
            too_long = np.any(words[:, w_table:] != 0, axis=1)
            words = words[:, :w_table]
        keys = self._keys(_pad(words, w_table), prefix, self.seed)
        pos = np.searchsorted(self.sorted_keys, keys)
        pos[pos >= len(self.sorted_keys)] = 0
        hit = self.sorted_keys[pos] == keys
        row = self.order[pos]
        hit &= np.all(self.words[row] == _pad(words, w_table), axis=1)
        if prefix is not None:
            hit &= self.prefix[row] == prefix
        if too_long is not None:
            hit &= ~too_long
        return np.where(hit, row, -1)


def _pad(words: np.ndarray, width: int) -> np.ndarray:
    if words.shape[1] == width:
        return words
    out = np.zeros((len(words), width), dtype=np.uint64)
    out[:, : words.shape[1]] = words
    return out


def _text(words_row: np.ndarray) -> str:
    return words_row.byteswap().tobytes().rstrip(b"\0").decode("utf-8", "replace")


# --------------------------------------------------------------------------- the engine


@dataclass
class _Chunk:
    query: np.ndarray  # int64 qrels query index
    doc_words: np.ndarray
    score: np.ndarray
    code: np.ndarray  # int8 grade code
    lineno: np.ndarray

    def __len__(self):
        return len(self.query)

    @staticmethod
    def concat(parts: list) -> "_Chunk":
        parts = [p for p in parts if len(p)]
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return _Chunk(np.zeros(0, np.int64), np.zeros((0, 1), np.uint64), np.zeros(0),
                          np.zeros(0, np.int8), np.zeros(0, np.int64))
        w = max(p.doc_words.shape[1] for p in parts)
        return _Chunk(np.concatenate([p.query for p in parts]),
                      np.concatenate([_pad(p.doc_words, w) for p in parts]),
                      np.concatenate([p.score for p in parts]),
                      np.concatenate([p.code for p in parts]),
                      np.concatenate([p.lineno for p in parts]))

    def take(self, idx) -> "_Chunk":
        return _Chunk(self.query[idx], self.doc_words[idx], self.score[idx], self.code[idx],
                      self.lineno[idx])


class _NotContiguous(Exception):
    pass


class _Engine:
    def __init__(self, qrels: Qrels, measures: list, options: Options, source: str):
        self.qrels, self.measures, self.opt, self.source = qrels, measures, options, source
        nq = qrels.n_queries
        if nq >= 1 << (64 - _HASH_BITS - 1):
            raise ValueError("too many queries in the qrels")
        self.qid_table = _Table(qrels.qid_words)
        self.doc_table = _Table(qrels.doc_words, qrels.query)
        level = options.relevance_level
        self.num_rel = np.bincount(qrels.query[qrels.grade >= level], minlength=nq)[:nq]
        self.ideal = {}
        for m in measures:
            if m.name in ("ndcg", "ndcg_cut", "ndcg_exp_cut"):
                kind = "exp" if m.name == "ndcg_exp_cut" else "linear"
                k = None if m.name == "ndcg" else m.cutoff
                if (kind, k) not in self.ideal:
                    self.ideal[(kind, k)] = ideal_dcg(qrels.query, qrels.grade, qrels.offsets, nq, k, kind)
        self.values = {str(m): np.zeros(nq) for m in measures}
        self.seen = np.zeros(nq, dtype=bool)

    # -- block -> chunk (joined with the qrels)
    def join(self, lines: RunLines) -> _Chunk:
        n = len(lines)
        if n == 0:
            return _Chunk.concat([])
        qw = lines.qid_words
        head = np.ones(n, dtype=bool)
        head[1:] = np.any(qw[1:] != qw[:-1], axis=1)
        heads = np.flatnonzero(head)
        seg_q = self.qid_table.lookup(qw[heads])
        query = np.repeat(seg_q, np.diff(np.append(heads, n)))
        keep = query >= 0
        if not keep.all():
            idx = np.flatnonzero(keep)
            query = query[idx]
            dw, score, lineno = lines.doc_words[idx], lines.score[idx], lines.lineno[idx]
        else:
            dw, score, lineno = lines.doc_words, lines.score, lines.lineno
        row = self.doc_table.lookup(dw, query)
        code = np.full(len(query), NONPOOL, dtype=np.int8)
        hit = row >= 0
        g = self.qrels.grade[row[hit]]
        code[hit] = np.where(g >= 0, g, UNJUDGED)
        return _Chunk(query, dw, score, code, lineno)

    # -- chunk of whole queries -> per-query values
    def process(self, c: _Chunk) -> None:
        n = len(c)
        if n == 0:
            return
        q = c.query
        head = np.ones(n, dtype=bool)
        head[1:] = q[1:] != q[:-1]
        heads = np.flatnonzero(head)
        seg_q = q[heads]
        if len(np.unique(seg_q)) != len(seg_q):  # a query's lines are split within the block
            c = c.take(np.argsort(q, kind="stable"))
            q = c.query
            head[:] = True
            head[1:] = q[1:] != q[:-1]
            heads = np.flatnonzero(head)
            seg_q = q[heads]
        if np.any(self.seen[seg_q]):
            raise _NotContiguous()
        self.seen[seg_q] = True
        c = self._rank(c, head)
        self._check_duplicates(c, head)
        q = c.query
        pos = np.arange(n) - np.repeat(heads, np.diff(np.append(heads, n)))
        code = c.code
        seg = np.cumsum(head) - 1
        if self.opt.max_depth is not None:
            k = pos < self.opt.max_depth
            code, pos, seg = code[k], pos[k], seg[k]
        if self.opt.judged_only:
            k = code >= 0
            code, seg = code[k], seg[k]
            counts = np.bincount(seg, minlength=len(seg_q))
            starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
            pos = np.arange(len(seg)) - starts[seg]
        depth = int(pos.max()) + 1 if len(pos) else 0
        grades = np.full((len(seg_q), depth), PAD, dtype=np.int8)
        grades[seg, pos] = code
        self._compute(grades, seg_q)

    def _rank(self, c: _Chunk, head: np.ndarray) -> _Chunk:
        """Order each query's lines by score desc, docno desc (comp_sim_docno)."""
        n = len(c)
        s, w = c.score, c.doc_words
        same = ~head[1:]
        lower = s[1:] < s[:-1]
        tie = s[1:] == s[:-1]
        ok = lower.copy()
        if np.any(tie & same):
            t = np.flatnonzero(tie & same)
            ok[t] = _words_less(w[t + 1], w[t])
        bad = same & ~ok
        if not np.any(bad):
            return c
        # re-sort only the queries that are out of order
        seg = np.cumsum(head) - 1
        bad_seg = np.unique(seg[1:][bad])
        rows = np.flatnonzero(np.isin(seg, bad_seg))
        keys = [~w[rows, j] for j in range(w.shape[1] - 1, -1, -1)]
        keys += [-s[rows], seg[rows]]
        order = rows[np.lexsort(keys)]
        perm = np.arange(n)
        perm[rows] = order
        return c.take(perm)

    def _check_duplicates(self, c: _Chunk, head: np.ndarray) -> None:
        seg = (np.cumsum(head) - 1).astype(np.uint64)
        keys = (seg << np.uint64(_HASH_BITS)) | (words_hash(c.doc_words) >> np.uint64(64 - _HASH_BITS))
        order = np.argsort(keys)
        sk = keys[order]
        eq = np.flatnonzero(sk[1:] == sk[:-1])
        for i in eq:  # equal keys: same query; a duplicate if the words agree too (else a collision)
            a, b = order[i], order[i + 1]
            if np.array_equal(c.doc_words[a], c.doc_words[b]):
                line = int(max(c.lineno[a], c.lineno[b]))
                qid = self.qrels.qids[int(c.query[a])]
                raise TrecFormatError(f"{self.source}:{line}: duplicate document "
                                      f"{_text(c.doc_words[a])!r} in the ranking of query {qid!r}")

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
        n = self.qrels.n_queries if self.opt.complete else len(evaluated)
        per_query, mean = {}, {}
        for name, vals in self.values.items():
            per_query[name] = vals[evaluated]
            # sequential sum in qid order, as trec_eval accumulates
            mean[name] = float(np.cumsum(per_query[name])[-1] / n)
        return Evaluation(self.measures, [self.qrels.qids[i] for i in evaluated], per_query, mean, n)


def _words_less(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise a < b for big-endian word rows (strcmp order)."""
    less = np.zeros(len(a), dtype=bool)
    decided = np.zeros(len(a), dtype=bool)
    for j in range(a.shape[1]):
        lt = a[:, j] < b[:, j]
        ne = a[:, j] != b[:, j]
        less |= lt & ~decided
        decided |= ne
    return less


def _run_blocks(run) -> Callable[[], Iterable[bytes]]:
    if isinstance(run, (bytes, bytearray, memoryview)):
        return lambda: [bytes(run)]
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
        engine = _Engine(qrels, ms, options, source)
        parts = [engine.join(parse_run_block(b, source, off)) for b, off in iter_line_blocks(blocks())]
        whole = _Chunk.concat(parts)
        engine.process(whole.take(np.argsort(whole.query, kind="stable")))
        return engine.result()


def _evaluate_streaming(qrels, blocks, ms, options, source) -> Evaluation:
    engine = _Engine(qrels, ms, options, source)
    carry = None
    any_line = False
    for data, offset in iter_line_blocks(blocks()):
        lines = parse_run_block(data, source, offset)
        any_line |= len(lines) > 0
        chunk = engine.join(lines)
        if carry is not None and len(carry):
            chunk = _Chunk.concat([carry, chunk])
        if len(chunk) == 0:
            continue
        # hold back the last query: its lines may continue in the next block
        cut = _last_run_start(chunk.query)
        engine.process(chunk.take(slice(0, cut)))
        carry = chunk.take(slice(cut, None))
    if not any_line:
        raise ValueError(f"{source}: run has no result lines")
    if carry is not None:
        engine.process(carry)
    return engine.result()


def _last_run_start(query: np.ndarray) -> int:
    diff = np.flatnonzero(query[1:] != query[:-1])
    return int(diff[-1]) + 1 if len(diff) else 0
