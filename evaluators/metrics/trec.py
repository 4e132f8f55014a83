"""TREC qrels files parsed straight into numpy arrays, and the byte streams the files are read through.

Formats (trec_eval's ``get_qrels.c`` / ``get_trec_results.c``):

* qrels: ``qid iter docno rel`` — exactly four whitespace-separated fields;
  ``rel`` is an integer (negative: "in the pool but unjudged").
* run: ``qid Q0 docno rank score run_id [ignored...]`` — at least six fields;
  ``Q0``, ``rank`` and ``run_id`` are ignored, ``score`` is a decimal number
  (read by :mod:`.runscan`).

Lines whose first field starts with ``#`` and blank lines are skipped;
whitespace is C's ``isspace()``.

How it is fast: one compiled pass (numba, :mod:`.jit`, helpers in
:mod:`.bytescan`) walks the bytes once — no token is ever materialised as a
Python object.  Judgements become :class:`Judgements`: per query an
open-addressing hash table of its docnos (64-bit FNV-1a hashes, hits
verified byte by byte, so a collision can cost a probe, never a wrong grade)
and its grades sorted descending (the ideal ranking).

Two ways to hold them:

* :func:`parse_qrels` — the whole file (:class:`Qrels`, about 50 bytes per
  judgement); queries numbered by *slot*, in order of first appearance.
* :func:`index_qrels` then :func:`parse_window` — for qrels too large to
  hold: one pass keeps only each query's id and where its lines are
  (:class:`QrelsIndex`, tens of bytes per query; only for files that list
  each query's lines together), then windows of whole queries are parsed as
  the run reaches them (:mod:`.evaluate`).

Everything here is a pure function over ``bytes``/numpy buffers; files
come in already open (:class:`ByteStream` takes a memory map, bytes, or byte
blocks; evaluators never open a file).
"""
from __future__ import annotations

import mmap
import re
from dataclasses import dataclass

import numpy as np

from .bytescan import (FNV_OFFSET, count_tokens, fast_qrels_line, find_qid, fnv, grow, isspace, last_line_end,
                       line_end, parse_grade, same, slot0, token)
from .jit import njit

__all__ = [
    "TrecFormatError",
    "Judgements",
    "Qrels",
    "QrelsIndex",
    "ByteStream",
    "SegmentReader",
    "index_qrels",
    "parse_qrels",
    "parse_window",
]

# error codes of the compiled scanners
_OK, _E_FIELDS, _E_GRADE, _E_DUP, _E_CHANGED = 0, 1, 2, 3, 4
_SKIP = -1  # a blank or comment line
_INT_RE = re.compile(rb"[+-]?\d+")


class TrecFormatError(ValueError):
    """A malformed qrels/run file; the message reads ``source:line: what is wrong``."""


def fail(source: str, lineno: int, what: str) -> None:
    raise TrecFormatError(f"{source}:{lineno}: {what}")


def _text(data, s: int, e: int) -> str:
    return bytes(data[s:e]).decode("utf-8", "replace")


def _grade_error(data, a: int, b: int, source: str, lineno: int) -> None:
    text = _text(data, a, b)
    if _INT_RE.fullmatch(bytes(data[a:b])):
        fail(source, lineno, f"relevance grade {text!r} is outside -127..127")
    fail(source, lineno, f"relevance grade {text!r} is not an integer")


# --------------------------------------------------------------------------- one qrels line


@njit(inline="always")
def _qrels_line(buf, i, n):
    """Read the qrels line at ``i``: (code, qid start, end, docno start, end, grade, next line, a, b).

    code: ``_OK``; ``_SKIP`` (blank or comment); ``_E_FIELDS`` (a = fields
    found); ``_E_GRADE`` (grade token ``a:b``).
    """
    s0, e0 = token(buf, i, n)
    if s0 == e0 or buf[s0] == 35:
        return _SKIP, s0, e0, 0, 0, 0, line_end(buf, e0, n) + 1, 0, 0
    _, e1 = token(buf, e0, n)
    s2, e2 = token(buf, e1, n)
    s3, e3 = token(buf, e2, n)
    s4, e4 = token(buf, e3, n)
    if s3 == e3 or s4 != e4:
        return _E_FIELDS, s0, e0, s2, e2, 0, 0, count_tokens(buf, s0, n), 0
    g, ok = parse_grade(buf, s3, e3)
    if not ok:
        return _E_GRADE, s0, e0, s2, e2, 0, 0, s3, e3
    return _OK, s0, e0, s2, e2, g, line_end(buf, e4, n) + 1, 0, 0


def _raise_line_error(data, code: int, a: int, b: int, source: str, lineno: int) -> None:
    if code == _E_FIELDS:
        fail(source, lineno, f"expected exactly 4 whitespace-separated fields, found {a}")
    _grade_error(data, a, b, source, lineno)


@njit(inline="always")
def _insert(buf, s, e, h, g, r, base, size, t_h, t_r, row_ds, row_dl):
    """Put row ``r`` (docno ``buf[s:e]``, hash ``h``) in one query's table; returns the row it repeats, or -1."""
    mask = np.uint64(size - 1)
    pos = slot0(h, mask)
    while t_r[base + pos] >= 0:
        o = t_r[base + pos]
        if t_h[base + pos] == h and same(buf, s, e - s, buf, row_ds[o], row_dl[o]):
            return np.int64(o)
        pos = (pos + np.uint64(1)) & mask
    t_h[base + pos] = h
    t_r[base + pos] = r
    return np.int64(-1)


@njit
def _table_offsets(counts):
    """Per query a table of a power of two >= 2 x its judgements (load <= 1/2), all in one array."""
    off = np.zeros(len(counts) + 1, np.int64)
    for q in range(len(counts)):
        size = 4
        while size < 4 * counts[q]:
            size *= 2
        off[q + 1] = off[q] + size
    return off


@njit
def _sort_desc(a, lo, hi):
    """Insertion sort of ``a[lo:hi]``, descending: one query's grades (tens of judgements)."""
    for i in range(lo + 1, hi):
        g = a[i]
        j = i - 1
        while j >= lo and a[j] < g:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = g


@dataclass
class Judgements:
    """The judgements of query slots ``lo, lo + 1, ...``: what the run is joined and ranked against.

    Row ``i``: docno bytes ``buf[row_doc_start[i]:+row_doc_len[i]]`` and
    ``row_grade[i]``.  Slot ``lo + j``'s docnos are in the hash table
    ``table_hash/table_row[table_offsets[j]:table_offsets[j+1]]``;
    ``grades_desc[offsets[j]:offsets[j+1]]`` are its grades, descending
    (ideal rankings read straight off it).
    """

    buf: np.ndarray
    row_doc_start: np.ndarray
    row_doc_len: np.ndarray
    row_grade: np.ndarray
    table_offsets: np.ndarray
    table_hash: np.ndarray
    table_row: np.ndarray
    grades_desc: np.ndarray
    offsets: np.ndarray

    def arrays(self) -> tuple:
        """The fields in order, as the compiled kernels take them."""
        return (self.buf, self.row_doc_start, self.row_doc_len, self.row_grade, self.table_offsets,
                self.table_hash, self.table_row, self.grades_desc, self.offsets)


# --------------------------------------------------------------------------- whole qrels


@njit
def _scan_qrels(buf, cap):
    n = len(buf)
    row_q = np.empty(cap, np.int32)
    row_ds = np.empty(cap, np.int64)
    row_dl = np.empty(cap, np.int64)
    row_g = np.empty(cap, np.int8)
    row_line = np.empty(cap, np.int64)
    qcap = 1024
    q_s = np.empty(qcap, np.int64)
    q_l = np.empty(qcap, np.int64)
    q_h = np.empty(qcap, np.uint64)
    qtab = np.full(2 * qcap, -1, np.int32)
    nq = 0
    nr = 0
    line = 0
    i = 0
    prev_s, prev_l, prev_q = -1, 0, -1
    err = (_OK, 0, 0, 0)
    while i < n:
        code, s0, e0, s2, e2, g, nxt, a, b = _qrels_line(buf, i, n)
        if code == _SKIP:
            i = nxt
            line += 1
            continue
        if code != _OK:
            err = (code, line, a, b)
            break
        i = nxt
        if prev_q >= 0 and same(buf, s0, e0 - s0, buf, prev_s, prev_l):
            q = prev_q
        else:
            h = fnv(buf, s0, e0)
            q, pos = find_qid(buf, s0, e0, h, buf, q_s, q_l, q_h, qtab)
            if q < 0:
                q = nq
                if nq == qcap:  # grow the query arrays and rehash
                    qcap *= 2
                    q_s, q_l, q_h = grow(q_s, qcap), grow(q_l, qcap), grow(q_h, qcap)
                    qtab = np.full(2 * qcap, -1, np.int32)
                    _rehash(q_h, nq, qtab)
                    _, pos = find_qid(buf, s0, e0, h, buf, q_s, q_l, q_h, qtab)
                q_s[nq] = s0
                q_l[nq] = e0 - s0
                q_h[nq] = h
                qtab[pos] = nq
                nq += 1
            prev_s, prev_l, prev_q = s0, e0 - s0, q
        row_q[nr] = q
        row_ds[nr] = s2
        row_dl[nr] = e2 - s2
        row_g[nr] = g
        row_line[nr] = line
        nr += 1
        line += 1
    return (row_q[:nr], row_ds[:nr], row_dl[:nr], row_g[:nr], row_line[:nr], q_s[:nq], q_l[:nq], q_h[:nq], qtab,
            err)


@njit
def _group(buf, row_q, row_ds, row_dl, row_g, row_line, nq):
    """Judgement rows grouped by query slot, with their tables; and the line of a repeated judgement (or -1)."""
    counts = np.zeros(nq, np.int64)
    for r in range(len(row_q)):
        counts[row_q[r]] += 1
    offsets = np.zeros(nq + 1, np.int64)
    for q in range(nq):
        offsets[q + 1] = offsets[q] + counts[q]
    fill = offsets[:-1].copy()
    order = np.empty(len(row_q), np.int64)
    for r in range(len(row_q)):  # stable: a query's rows keep their file order
        order[fill[row_q[r]]] = r
        fill[row_q[r]] += 1
    g_ds, g_dl, g_g = row_ds[order], row_dl[order], row_g[order]
    t_off = _table_offsets(counts)
    t_h = np.zeros(t_off[nq], np.uint64)
    t_r = np.full(t_off[nq], -1, np.int32)
    dup_line = np.int64(-1)
    for q in range(nq):
        for r in range(offsets[q], offsets[q + 1]):
            h = fnv(buf, g_ds[r], g_ds[r] + g_dl[r])
            if _insert(buf, g_ds[r], g_ds[r] + g_dl[r], h, g_g[r], r, t_off[q], t_off[q + 1] - t_off[q], t_h, t_r,
                       g_ds, g_dl) >= 0:
                line = row_line[order[r]]
                if dup_line < 0 or line < dup_line:
                    dup_line = line
    grades_desc = g_g.copy()
    for q in range(nq):
        _sort_desc(grades_desc, offsets[q], offsets[q + 1])
    return g_ds, g_dl, g_g, t_off, t_h, t_r, grades_desc, offsets, dup_line


@njit
def _qid_matrix(buf, q_s, q_l, width):
    out = np.zeros((len(q_s), width), np.uint8)
    for r in range(len(q_s)):
        for k in range(q_l[r]):
            out[r, k] = buf[q_s[r] + k]
    return out


@njit
def _rehash(q_h, nq, qtab):
    m = np.uint64(len(qtab) - 1)
    for r in range(nq):
        pos = q_h[r] & m
        while qtab[pos] >= 0:
            pos = (pos + np.uint64(1)) & m
        qtab[pos] = r


class _QidTexts:
    """Query ids held as bytes ``buf[qid_start[s]:+qid_len[s]]`` per slot, with a hash table resolving them."""

    def qid(self, slot: int) -> str:
        s = int(self.qid_start[slot])
        return _text(self.buf, s, s + int(self.qid_len[slot]))

    def qid_texts(self, slots: np.ndarray) -> list:
        """Query ids of many slots at once."""
        names = self.qid_names(slots)
        return [b.decode("utf-8", "replace") for b in names.tolist()]

    def qid_names(self, slots: np.ndarray) -> np.ndarray:
        """Query ids of ``slots`` as a numpy bytes array (sorts in ``strcmp`` order)."""
        slots = np.asarray(slots, dtype=np.int64)
        if len(slots) == 0:
            return np.zeros(0, "S1")
        width = int(self.qid_len[slots].max())
        return _qid_matrix(self.buf, self.qid_start[slots], self.qid_len[slots], width).view(f"S{width}").ravel()

    def index_arrays(self) -> tuple:
        """(qid bytes, start, length, hash, table), as the compiled kernels take them."""
        return self.buf, self.qid_start, self.qid_len, self.qid_hash, self.qid_table


@dataclass
class Qrels(_QidTexts):
    """A whole qrels file: query ids (slots in order of first appearance) and the judgements of every slot.

    ``qid_order`` lists slots in ``strcmp`` order of their ids (trec_eval's
    output order), ``qid_rank`` is its inverse.  ``judgements`` are those of
    slots ``0..n_queries-1``, docnos in ``buf`` too.
    """

    buf: np.ndarray
    qid_start: np.ndarray
    qid_len: np.ndarray
    qid_hash: np.ndarray
    qid_table: np.ndarray
    judgements: Judgements
    qid_order: np.ndarray
    qid_rank: np.ndarray

    @property
    def n_queries(self) -> int:
        return len(self.qid_start)

    @property
    def max_grade(self) -> int:
        g = self.judgements.row_grade
        return int(g.max()) if len(g) else 0

    @property
    def qids(self) -> list:
        """Query ids in ``strcmp`` order."""
        return self.qid_texts(self.qid_order)

    @property
    def grade(self) -> np.ndarray:
        """All grades, by query in ``strcmp`` order, descending within a query."""
        j = self.judgements
        return np.concatenate([j.grades_desc[j.offsets[q]:j.offsets[q + 1]] for q in self.qid_order])


def parse_qrels(data: bytes, source: str = "<qrels>") -> Qrels:
    """Parse a whole qrels file given as bytes.

    >>> q = parse_qrels(b"1 0 d1 2\\n1 0 d2 0\\n")
    >>> q.qids, q.grade.tolist()
    (['1'], [2, 0])
    """
    data = bytes(data)
    buf = np.frombuffer(data, dtype=np.uint8)
    if not data.strip():
        raise TrecFormatError(f"{source}: no judgements (empty file)")
    (row_q, row_ds, row_dl, row_g, row_line, q_s, q_l, q_h, qtab,
     err) = _scan_qrels(buf, data.count(b"\n") + 1)
    code, line, a, b = err
    if code != _OK:
        _raise_line_error(data, code, a, b, source, line + 1)
    if len(row_q) == 0:
        raise TrecFormatError(f"{source}: no judgements (only comments/blank lines)")
    nq = len(q_s)
    *tables, dup_line = _group(buf, row_q, row_ds, row_dl, row_g, row_line, nq)
    if dup_line >= 0:
        r = int(np.flatnonzero(row_line == dup_line)[0])
        q = row_q[r]
        fail(source, int(dup_line) + 1, f"duplicate judgement for query {_text(data, q_s[q], q_s[q] + q_l[q])!r} "
             f"document {_text(data, row_ds[r], row_ds[r] + row_dl[r])!r}")
    width = int(q_l.max())
    order = np.argsort(_qid_matrix(buf, q_s, q_l, width).view(f"S{width}").ravel(), kind="stable")
    rank = np.empty(nq, np.int64)
    rank[order] = np.arange(nq)
    return Qrels(buf, q_s, q_l, q_h, qtab, Judgements(buf, *tables), order, rank)


# --------------------------------------------------------------------------- qrels index and windows

_I_DONE, _I_GROW, _I_REPEAT = 0, 1, 2


@njit
def _index_block(buf, n, state, qbuf, q_s, q_l, q_h, seg, seg_line, seg_row, qtab, check):
    """One pass over line-aligned qrels bytes ``buf[state[0]:n]``: note where each query's lines start.

    Only the query id of each line is read, unless ``check``: then every line
    is validated and the grades parsed (for their maximum).  ``state`` holds
    (position, file offset of buf[0], lines, judgements, comment lines,
    queries, current slot, qid bytes used, largest grade) and is updated.

    New queries get the next slot: their id is copied to ``qbuf``;
    ``seg``/``seg_line``/``seg_row`` get the file offset, line and judgement
    number of their first line.  Stops with ``_I_GROW`` (before the line)
    when the arrays are full, with ``_I_REPEAT`` when a query seen earlier
    comes back after another (the qrels are not grouped by query).  Returns
    (status, error code, a, b).
    """
    i, base, line, rows, comments, nq, cur, qn, gmax = state
    status = _I_DONE
    err = (_OK, 0, 0)
    safe = last_line_end(buf, i, n)  # lines before this end in "\n": the fast path may read them
    while i < n:
        ls = i
        code, s0, e0, g, nxt = _SKIP, i, i, 0, i
        if i < safe and buf[i] > 32 and buf[i] != 35:  # the usual line: a query id right at its start
            e0 = i
            while buf[e0] > 32:
                e0 += 1
            if isspace(buf[e0]):
                code = _OK
                if check:
                    fast, _, _, _, _, g, nxt = fast_qrels_line(buf, i)
                    code = _OK if fast else _SKIP
                else:
                    nxt = e0
                    while buf[nxt] != 10:
                        nxt += 1
                    nxt += 1
        if code == _SKIP:  # anything else: field by field
            if check:
                code, s0, e0, _, _, g, nxt, a, b = _qrels_line(buf, i, n)
                if code != _OK and code != _SKIP:
                    err = (code, a, b)
                    break
            else:
                s0, e0 = token(buf, i, n)
                code = _SKIP if s0 == e0 or buf[s0] == 35 else _OK
                g = 0
                nxt = line_end(buf, e0, n) + 1
        if code == _SKIP:
            comments += s0 != e0
            i = nxt
            line += 1
            continue
        if cur < 0 or not same(buf, s0, e0 - s0, qbuf, q_s[cur], q_l[cur]):
            h = fnv(buf, s0, e0)
            q, pos = find_qid(buf, s0, e0, h, qbuf, q_s, q_l, q_h, qtab)
            if q >= 0:
                status = _I_REPEAT
                break
            if nq == len(q_s) or qn + (e0 - s0) > len(qbuf):
                status = _I_GROW
                break
            for k in range(e0 - s0):
                qbuf[qn + k] = buf[s0 + k]
            q_s[nq] = qn
            q_l[nq] = e0 - s0
            q_h[nq] = h
            seg[nq] = base + ls
            seg_line[nq] = line
            seg_row[nq] = rows
            qtab[pos] = nq
            qn += e0 - s0
            cur = nq
            nq += 1
        if g > gmax:
            gmax = g
        rows += 1
        i = nxt
        line += 1
    state[:] = (i, base, line, rows, comments, nq, cur, qn, gmax)
    return status, err[0], err[1], err[2]


@dataclass
class QrelsIndex(_QidTexts):
    """Where each query's judgements lie in a qrels file, from one pass.

    Slots number queries in file order; query ``s``'s lines are the bytes
    ``segment[s]:segment[s + 1]`` of the file (``segment[n_queries]`` is the
    file size), starting at (0-based) line ``segment_line[s]`` with judgement
    number ``segment_row[s]``.  Only built for files grouped by query (each
    query's lines together), which is what makes the segments contiguous.
    ``buf`` holds the query ids only (a few bytes per query), not the
    judgements.
    """

    buf: np.ndarray
    qid_start: np.ndarray
    qid_len: np.ndarray
    qid_hash: np.ndarray
    qid_table: np.ndarray
    segment: np.ndarray
    segment_line: np.ndarray
    segment_row: np.ndarray
    max_grade: int | None  # None unless indexed with check=True

    @property
    def n_queries(self) -> int:
        return len(self.qid_start)


def index_qrels(source, name: str = "<qrels>", check: bool = False, block_size: int = 1 << 23) -> QrelsIndex | None:
    """Index the queries of a qrels file; ``None`` if not grouped by query.

    ``source`` as for :class:`ByteStream` (a path, bytes, or a callable giving
    byte blocks).  Reads the first field of each line only: the lines are
    validated when their windows are parsed (:func:`parse_window`).  With
    ``check`` every line is validated here (:class:`TrecFormatError` as from
    :func:`parse_qrels`, repeated judgements aside) and ``max_grade`` is set
    (else it is None).  Memory: a few tens of bytes per query, none per
    judgement.

    >>> ix = index_qrels(lambda: [b"a 0 d1 1\\nb 0 d", b"1 0\\nb 0 d2 3\\n"], check=True)
    >>> ix.qid_texts([0, 1]), ix.segment.tolist(), ix.segment_line.tolist(), ix.max_grade
    (['a', 'b'], [0, 9, 27], [0, 1, 3], 3)
    >>> index_qrels(b"a 0 d1 1\\nb 0 d1 0\\na 0 d2 1\\n") is None
    True
    """
    cap = 1024
    qbuf = np.empty(16 * cap, np.uint8)
    q_s, q_l = np.empty(cap, np.int64), np.empty(cap, np.int64)
    q_h = np.empty(cap, np.uint64)
    seg, seg_line, seg_row = (np.empty(cap + 1, np.int64) for _ in range(3))
    qtab = np.full(2 * cap, -1, np.int32)
    state = np.array([0, 0, 0, 0, 0, 0, -1, 0, -128], np.int64)
    with ByteStream(source, block_size) as stream:
        while stream.fill():
            buf, n = stream.buf, stream.whole_lines()
            state[0], state[1] = stream.start, stream.offset
            while True:
                status, code, a, b = _index_block(buf, n, state, qbuf, q_s, q_l, q_h, seg, seg_line, seg_row,
                                                  qtab, check)
                if code != _OK:
                    lineno = int(state[2]) + 1
                    _raise_line_error(buf, code, a, b, name, lineno)
                if status == _I_REPEAT:
                    return None
                if status == _I_DONE:
                    break
                nq = int(state[5])
                if nq == len(q_s):  # grow the query arrays and rehash
                    cap *= 2
                    q_s, q_l, q_h = (np.concatenate([x[:nq], np.empty(cap - nq, x.dtype)]) for x in (q_s, q_l, q_h))
                    seg, seg_line, seg_row = (np.concatenate([x[:nq], np.empty(cap + 1 - nq, x.dtype)])
                                              for x in (seg, seg_line, seg_row))
                    qtab = np.full(2 * cap, -1, np.int32)
                    _rehash(q_h, nq, qtab)
                if int(state[7]) + n - stream.start > len(qbuf):
                    qbuf = np.concatenate([qbuf[:int(state[7])], np.empty(max(len(qbuf), n - stream.start + 1),
                                                                          np.uint8)])
            stream.consume(n)
            stream.release()
        size = stream.offset + stream.end
    _, _, line, rows, comments, nq, _, qn, gmax = (int(x) for x in state)
    if rows == 0:
        if comments == 0:
            raise TrecFormatError(f"{name}: no judgements (empty file)")
        raise TrecFormatError(f"{name}: no judgements (only comments/blank lines)")
    seg, seg_line, seg_row = seg[:nq + 1].copy(), seg_line[:nq + 1].copy(), seg_row[:nq + 1].copy()
    seg[nq], seg_line[nq], seg_row[nq] = size, line, rows
    qbuf = qbuf[:qn].copy()
    qbuf.flags.writeable = False  # as parse_qrels' buffer: one compiled variant of the kernels serves both
    return QrelsIndex(qbuf, q_s[:nq].copy(), q_l[:nq].copy(), q_h[:nq].copy(), qtab, seg, seg_line,
                      seg_row, gmax if check else None)


@njit
def _parse_window(buf, seg, counts):
    """Judgements of consecutive query segments ``buf[seg[j]:seg[j+1]]`` holding ``counts[j]`` judgements each.

    Returns the :class:`Judgements` arrays (docnos in ``buf``) and (error
    code, local line, a, b); ``_E_DUP``: row a repeats row b; ``_E_CHANGED``:
    the counts do not match the lines (the file changed since it was indexed).
    """
    nq = len(counts)
    nr = 0
    for j in range(nq):
        nr += counts[j]
    offsets = np.zeros(nq + 1, np.int64)
    for j in range(nq):
        offsets[j + 1] = offsets[j] + counts[j]
    row_ds = np.empty(nr, np.int64)
    row_dl = np.empty(nr, np.int64)
    row_g = np.empty(nr, np.int8)
    t_off = _table_offsets(counts)
    t_h = np.zeros(t_off[nq], np.uint64)
    t_r = np.full(t_off[nq], -1, np.int32)
    err = (_OK, np.int64(0), np.int64(0), np.int64(0))
    line = 0
    r = 0
    safe = last_line_end(buf, 0, len(buf))  # lines before this end in "\n": the fast path may read them
    for j in range(nq):
        i, end = seg[j], seg[j + 1]
        while i < end:
            fast, _, s2, e2, h, g, nxt = False, i, i, i, FNV_OFFSET, 0, i
            if i < safe:
                fast, _, s2, e2, h, g, nxt = fast_qrels_line(buf, i)
            if not fast:  # anything but single spaces: field by field
                code, _, _, s2, e2, g, nxt, a, b = _qrels_line(buf, i, end)
                if code == _SKIP:
                    i = nxt
                    line += 1
                    continue
                if code != _OK:
                    err = (code, np.int64(line), np.int64(a), np.int64(b))
                    break
                h = fnv(buf, s2, e2)
            if r == offsets[j + 1]:  # more lines than the index counted: the file changed
                err = (_E_CHANGED, np.int64(line), np.int64(0), np.int64(0))
                break
            row_ds[r], row_dl[r], row_g[r] = s2, e2 - s2, g
            o = _insert(buf, s2, e2, h, g, r, t_off[j], t_off[j + 1] - t_off[j], t_h, t_r, row_ds, row_dl)
            if o >= 0:
                err = (_E_DUP, np.int64(line), np.int64(r), o)
                break
            r += 1
            i = nxt
            line += 1
        if err[0] != _OK:
            break
        if r != offsets[j + 1]:
            err = (_E_CHANGED, np.int64(line), np.int64(0), np.int64(0))
            break
    grades_desc = row_g.copy()
    if err[0] == _OK:
        for j in range(nq):
            _sort_desc(grades_desc, offsets[j], offsets[j + 1])
    return row_ds, row_dl, row_g, t_off, t_h, t_r, grades_desc, offsets, err


class QrelsChanged(Exception):
    """The qrels file no longer matches its index (changed between the two reads)."""


def parse_window(index: QrelsIndex, lo: int, hi: int, data, source: str = "<qrels>") -> Judgements:
    """Parse the judgements of slots ``lo..hi`` from ``data`` (bytes or a uint8 array), the file's bytes
    ``segment[lo]:segment[hi+1]``.

    >>> data = b"a 0 d1 1\\nb 0 d1 0\\nb 0 d2 3\\n"
    >>> ix = index_qrels(data)
    >>> w = parse_window(ix, 1, 1, data[ix.segment[1]:])
    >>> w.grades_desc.tolist(), w.offsets.tolist()
    ([3, 0], [0, 2])
    """
    buf = np.frombuffer(data, np.uint8)
    seg = index.segment[lo:hi + 2] - index.segment[lo]
    counts = np.diff(index.segment_row[lo:hi + 2])
    *arrays, (code, line, a, b) = _parse_window(buf, seg, counts)
    if code == _E_CHANGED:
        raise QrelsChanged(source)
    if code != _OK:
        lineno = int(index.segment_line[lo]) + int(line) + 1
        if code == _E_DUP:
            slot = lo + int(np.searchsorted(arrays[7], a, side="right")) - 1
            ds, dl = arrays[0], arrays[1]
            fail(source, lineno, f"duplicate judgement for query {index.qid(slot)!r} "
                 f"document {_text(buf, ds[a], ds[a] + dl[a])!r}")
        _raise_line_error(buf, code, a, b, source, lineno)
    return Judgements(buf, *arrays)


# --------------------------------------------------------------------------- reading (the only I/O)


class _BlockReader:
    """``readinto`` over an iterable of byte blocks."""

    def __init__(self, blocks):
        self._it = iter(blocks)
        self._pending = memoryview(b"")

    def readinto(self, out: memoryview) -> int:
        n = 0
        while n < len(out):
            if not len(self._pending):
                block = next(self._it, None)
                if block is None:
                    break
                self._pending = memoryview(block).cast("B")
                continue
            k = min(len(self._pending), len(out) - n)
            out[n:n + k] = self._pending[:k]
            self._pending = self._pending[k:]
            n += k
        return n

    def close(self) -> None:
        pass


class ByteStream:
    """A file read front to back as whole lines, in bounded memory.

    ``source``: a file's ``mmap.mmap``, bytes, or a callable returning an
    iterable of byte blocks.  A map is read in place: nothing is copied, and
    the pages behind the reader are handed back (``MADV_DONTNEED``), so
    resident memory stays about one ``size`` whatever the file's size.
    Anything else is read into one reusable buffer of ``size`` bytes
    (doubled when one record is longer).

    ``buf[start:end]`` are the bytes not yet consumed (file offset of
    ``buf[0]``: ``offset``; read-only, as the compiled kernels take them);
    ``fill()`` brings in more after ``consume(n)`` and answers whether
    anything is left; ``eof``: ``end`` is the end of the file.

    >>> with ByteStream(lambda: [b"ab\\nc", b"d\\ne"], 4) as s:
    ...     while s.fill():
    ...         n = s.whole_lines(); print(s.offset + s.start, bytes(s.buf[s.start:n])); s.consume(n)
    0 b'ab\\n'
    3 b'cd\\n'
    6 b'e'
    """

    def __init__(self, source, size: int = 1 << 23):
        self._size = max(int(size), 1)
        self._map = None
        self._reader = None
        if isinstance(source, mmap.mmap):
            self._map = source
        elif isinstance(source, (bytes, bytearray, memoryview)):
            self._reader = _BlockReader([source])
        elif callable(source):
            self._reader = _BlockReader(source())
        else:
            raise TypeError("expected a memory map, bytes, or a callable returning byte blocks")
        if self._map is not None:
            self.buf = np.frombuffer(self._map, np.uint8)
            self._store = None
        else:
            self._store = np.empty(self._size, np.uint8)
            self.buf = _readonly(self._store)
        self.offset = 0  # file offset of buf[0]
        self.start = 0  # buf[:start] is consumed
        self.end = 0
        self.eof = False
        self._released = 0  # mapped: pages before this offset are handed back

    def __enter__(self) -> "ByteStream":
        return self

    def __exit__(self, *exc) -> None:
        if self._reader is not None:
            self._reader.close()

    def consume(self, n: int) -> None:
        """Mark ``buf[:n]`` as done with."""
        self.start = n

    @property
    def mapped(self) -> bool:
        """Whether ``buf`` is the file mapped (it never moves) rather than a buffer refilled in place."""
        return self._map is not None

    def release(self, upto: int | None = None) -> None:
        """Mapped: hand back the pages before ``upto`` (default ``start``), no longer looked at.

        In steps of at least 16 MB (each call makes every core running this
        process drop the mappings) unless at the end of the file.  Pages
        touched again are read back from the page cache: correct, only slower.
        """
        upto = self.start if upto is None else min(upto, self.start)
        cut = upto - upto % mmap.PAGESIZE
        if cut - self._released < _RELEASE_STEP and not (self.eof and self.start == self.end):
            return
        if self._map is not None and cut > self._released:
            self._map.madvise(mmap.MADV_DONTNEED, self._released, cut - self._released)
            self._released = cut

    def fill(self) -> bool:
        """Keep what is not consumed, bring in more; False when nothing is left."""
        if self._map is not None:
            self.end = min(len(self._map), max(self.end, self.start) + self._size)
            self.eof = self.end == len(self._map)
            return self.start < self.end
        keep = self.start
        if keep == 0 and self.end == len(self._store) and not self.eof:
            grown = np.empty(2 * len(self._store), np.uint8)
            grown[:self.end] = self._store[:self.end]
            self._store = grown
            self.buf = _readonly(grown)
        elif keep:
            self._store[:self.end - keep] = self._store[keep:self.end]
            self.offset += keep
            self.end -= keep
            self.start = 0
        view = memoryview(self._store)
        while not self.eof and self.end < len(self._store):
            k = self._reader.readinto(view[self.end:])
            if not k:
                self.eof = True
            self.end += k
        return self.start < self.end

    def whole_lines(self) -> int:
        """End of the last whole line in ``buf[start:end]`` (all of it at the end of the file)."""
        if self.eof:
            return self.end
        hi = self.end
        while hi > self.start:  # lines are short: the last newline is nearly always in the last 64 KB
            lo = max(self.start, hi - (1 << 16))
            nl = np.flatnonzero(self.buf[lo:hi] == 10)
            if len(nl):
                return lo + int(nl[-1]) + 1
            hi = lo
        return self.start

    def read(self, s: int, e: int):
        """The file's bytes ``s:e`` (``s`` not before ``offset + start``), consumed: bytes, or a view of the map."""
        if s < self.offset + self.start:
            raise ValueError(f"segment {s}:{e} is behind the reader (at {self.offset + self.start})")
        while True:
            self.start = min(s - self.offset, self.end)
            if self.offset + self.end >= e or self.eof:
                break
            if self._map is not None:  # no pages are handed back here: windows read earlier may still be in use
                self.end = min(len(self._map), e)
                self.eof = self.end == len(self._map)
            else:
                self.fill()
        a, b = s - self.offset, min(e - self.offset, self.end)
        out = self.buf[a:b] if self._map is not None else self.buf[a:b].tobytes()
        self.start = b
        return out


_RELEASE_STEP = 1 << 24


def _readonly(a: np.ndarray) -> np.ndarray:
    view = a.view()
    view.flags.writeable = False
    return view


class SegmentReader:
    """Reads byte ranges of a file front to back (:class:`ByteStream` ``source``), holding only what is asked for.

    >>> r = SegmentReader(lambda: [b"ab\\nc", b"d\\nef"], 2)
    >>> bytes(r.read(1, 4)), bytes(r.read(5, 8))
    (b'b\\nc', b'\\nef')
    """

    def __init__(self, source, size: int = 1 << 23):
        self._stream = ByteStream(source, size)

    def read(self, s: int, e: int):
        return self._stream.read(s, e)

    def release(self, upto: int | None = None) -> None:
        """Hand back what was read before file offset ``upto`` (default: all; see :meth:`ByteStream.release`)."""
        self._stream.release(upto)

    def close(self) -> None:
        self._stream.__exit__()

