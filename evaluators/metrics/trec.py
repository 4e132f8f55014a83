"""TREC qrels and run files parsed straight into numpy arrays.

Formats (trec_eval's ``get_qrels.c`` / ``get_trec_results.c``):

* qrels: ``qid iter docno rel`` — exactly four whitespace-separated fields;
  ``rel`` is an integer (negative: "in the pool but unjudged").
* run: ``qid Q0 docno rank score run_id [ignored...]`` — at least six fields;
  ``Q0``, ``rank`` and ``run_id`` are ignored, ``score`` is a decimal number.

Lines whose first field starts with ``#`` and blank lines are skipped;
whitespace is C's ``isspace()``.

Everything here is a pure function over ``bytes``/numpy buffers except
:func:`read_blocks` and :func:`read_bytes`, the one place that opens files
(and :class:`SegmentReader`, which only pulls blocks it is given).

How it is fast: one compiled pass (numba, :mod:`.jit`) per block walks the
bytes once — no token is ever materialised as a Python object.  Each qrels
judgement becomes a row (query slot, docno offset/length, 64-bit FNV-1a hash
of the docno, grade) in an open-addressing hash table keyed by (query, docno);
each run line is looked up in it as it is read, so a run block leaves the scan
already joined: (query slot, score, grade code, docno offset).  Hash hits are
verified byte by byte, so a collision can cost a probe, never a wrong grade.
Scores are parsed exactly: Clinger's fast path (an integer mantissa up to
2**53 times or divided by an exact power of ten up to 1e22 is one correctly
rounded operation, which is what ``strtod`` returns); anything else goes
through Python's correctly rounded ``float``.

For qrels too large to hold, :func:`index_qrels` validates a qrels file
given as blocks and keeps only where each query's lines start; windows of
whole queries are then parsed with :func:`parse_qrels` as the run reaches
them (read forward with :class:`SegmentReader`, see :mod:`.evaluate`).

Queries are numbered by *slot*, in order of first appearance in the qrels;
``Qrels.qid_order`` lists the slots in ``strcmp`` order of their ids
(trec_eval's output order).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from .jit import njit

__all__ = [
    "TrecFormatError",
    "Qrels",
    "QrelsIndex",
    "RunBlock",
    "SegmentReader",
    "index_qrels",
    "parse_qrels",
    "scan_run_block",
    "iter_line_blocks",
    "read_blocks",
    "read_bytes",
    "NONPOOL",
    "UNJUDGED",
]

FULL = -2  # RunBlock.stop: the output arrays filled up; scan again from ``consumed``
NONPOOL = -1  # grade code: document not in the qrels of its query
UNJUDGED = -2  # grade code: in the qrels with a negative grade ("in the pool but unjudged")

_FLOAT_RE = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INT_RE = re.compile(rb"[+-]?\d+")

# error codes returned by the compiled scanners
_OK, _E_FIELDS, _E_GRADE = 0, 1, 2


class TrecFormatError(ValueError):
    """A malformed qrels/run file; the message reads ``source:line: what is wrong``."""


def _fail(source: str, lineno: int, what: str) -> None:
    raise TrecFormatError(f"{source}:{lineno}: {what}")


# --------------------------------------------------------------------------- compiled helpers

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_S32 = np.uint64(32)
_POW10 = 10.0 ** np.arange(23)
_TWO53 = 1 << 53


@njit
def _isspace(c):
    return c == 32 or (c >= 9 and c <= 13)


@njit
def _token(buf, i, n):
    """Next token of the current line from ``i``: (start, end); start == end at end of line."""
    while i < n and buf[i] != 10 and _isspace(buf[i]):
        i += 1
    s = i
    while i < n and not _isspace(buf[i]):
        i += 1
    return s, i


@njit
def _line_end(buf, i, n):
    while i < n and buf[i] != 10:
        i += 1
    return i


@njit
def _count_tokens(buf, i, n):
    count = 0
    while True:
        s, e = _token(buf, i, n)
        if s == e:
            return count
        count += 1
        i = e


@njit
def _fnv(buf, s, e):
    h = _FNV_OFFSET
    for k in range(s, e):
        h = (h ^ np.uint64(buf[k])) * _FNV_PRIME
    return h


@njit
def _same(a, a_s, a_n, b, b_s, b_n):
    if a_n != b_n:
        return False
    for k in range(a_n):
        if a[a_s + k] != b[b_s + k]:
            return False
    return True


@njit
def _pow2_above(n):
    size = 16
    while size < n:
        size *= 2
    return size


@njit
def _find_qid(buf, s, e, h, qbuf, q_s, q_l, q_h, qtab):
    mask = len(qtab) - 1
    slot = h & np.uint64(mask)
    while True:
        r = qtab[slot]
        if r < 0:
            return np.int64(-1), slot
        if q_h[r] == h and _same(buf, s, e - s, qbuf, q_s[r], q_l[r]):
            return np.int64(r), slot
        slot = (slot + np.uint64(1)) & np.uint64(mask)


@njit
def _parse_grade(buf, s, e):
    """Integer -127..127; returns (value, ok)."""
    j = s
    neg = False
    if buf[j] == 45 or buf[j] == 43:
        neg = buf[j] == 45
        j += 1
    if j == e or e - s > 4:
        return 0, False
    v = 0
    for k in range(j, e):
        d = np.int64(buf[k]) - 48
        if d < 0 or d > 9:
            return 0, False
        v = v * 10 + d
    if v > 127:
        return 0, False
    return (-v if neg else v), True


@njit
def _parse_score(buf, s, e, pow10):
    """Exact decimal parse on Clinger's fast path; (value, ok) — not ok: let Python decide."""
    j = s
    neg = False
    c = buf[j]
    if c == 45 or c == 43:
        neg = c == 45
        j += 1
    mant = 0
    ndig = 0
    nfrac = 0
    dot = False
    big = False
    while j < e:
        c = buf[j]
        if c >= 48 and c <= 57:
            if mant > _TWO53:
                big = True
            else:
                mant = mant * 10 + (c - 48)
            ndig += 1
            if dot:
                nfrac += 1
        elif c == 46 and not dot:
            dot = True
        else:
            break
        j += 1
    if ndig == 0 or big or mant > _TWO53:
        return 0.0, False
    exp = 0
    if j < e and (buf[j] == 101 or buf[j] == 69):
        j += 1
        eneg = False
        if j < e and (buf[j] == 45 or buf[j] == 43):
            eneg = buf[j] == 45
            j += 1
        if j == e or e - j > 4:
            return 0.0, False
        while j < e:
            d = np.int64(buf[j]) - 48
            if d < 0 or d > 9:
                return 0.0, False
            exp = exp * 10 + d
            j += 1
        if eneg:
            exp = -exp
    if j != e:
        return 0.0, False
    e10 = exp - nfrac
    v = float(mant)
    if mant == 0:
        v = 0.0
    elif e10 < 0:
        if e10 < -22:
            return 0.0, False
        v = v / pow10[-e10]
    elif e10 > 0:
        if e10 > 22:
            return 0.0, False
        v = v * pow10[e10]
    return (-v if neg else v), True


# --------------------------------------------------------------------------- qrels


@njit
def _count_newlines(buf):
    c = 0
    for i in range(len(buf)):
        c += buf[i] == 10
    return c


@njit
def _slot0(h, mask):
    return (h ^ (h >> _S32)) & mask


@njit
def _scan_qrels(buf, cap):
    n = len(buf)
    row_q = np.empty(cap, np.int32)
    row_ds = np.empty(cap, np.int64)
    row_dl = np.empty(cap, np.int32)
    row_h = np.empty(cap, np.uint64)
    row_g = np.empty(cap, np.int8)
    qcap = 1024
    q_s = np.empty(qcap, np.int64)
    q_l = np.empty(qcap, np.int32)
    q_h = np.empty(qcap, np.uint64)
    qtab = np.full(2 * qcap, -1, np.int32)
    nq = 0
    nr = 0
    line = 0
    i = 0
    prev_s, prev_l, prev_q = -1, 0, -1
    err = (_OK, 0, 0, 0)
    while i < n:
        s0, e0 = _token(buf, i, n)
        if s0 == e0 or buf[s0] == 35:  # blank line or comment
            i = _line_end(buf, e0, n) + 1
            line += 1
            continue
        s1, e1 = _token(buf, e0, n)
        s2, e2 = _token(buf, e1, n)
        s3, e3 = _token(buf, e2, n)
        s4, e4 = _token(buf, e3, n)
        if s3 == e3 or s4 != e4:
            err = (_E_FIELDS, line, _count_tokens(buf, s0, n), 0)
            break
        i = _line_end(buf, e4, n) + 1
        g, ok = _parse_grade(buf, s3, e3)
        if not ok:
            err = (_E_GRADE, line, s3, e3)
            break
        if prev_q >= 0 and _same(buf, s0, e0 - s0, buf, prev_s, prev_l):
            q = prev_q
        else:
            h = _fnv(buf, s0, e0)
            q, slot = _find_qid(buf, s0, e0, h, buf, q_s, q_l, q_h, qtab)
            if q < 0:
                q = nq
                if nq == qcap:  # grow the query arrays and rehash
                    qcap *= 2
                    q_s2 = np.empty(qcap, np.int64)
                    q_l2 = np.empty(qcap, np.int32)
                    q_h2 = np.empty(qcap, np.uint64)
                    q_s2[:nq] = q_s[:nq]
                    q_l2[:nq] = q_l[:nq]
                    q_h2[:nq] = q_h[:nq]
                    q_s, q_l, q_h = q_s2, q_l2, q_h2
                    qtab = np.full(2 * qcap, -1, np.int32)
                    m = np.uint64(len(qtab) - 1)
                    for r in range(nq):
                        sl = q_h[r] & m
                        while qtab[sl] >= 0:
                            sl = (sl + np.uint64(1)) & m
                        qtab[sl] = r
                    _, slot = _find_qid(buf, s0, e0, h, buf, q_s, q_l, q_h, qtab)
                q_s[nq] = s0
                q_l[nq] = e0 - s0
                q_h[nq] = h
                qtab[slot] = nq
                nq += 1
            prev_s, prev_l, prev_q = s0, e0 - s0, q
        row_q[nr] = q
        row_ds[nr] = s2
        row_dl[nr] = e2 - s2
        row_h[nr] = _fnv(buf, s2, e2)
        row_g[nr] = g
        nr += 1
        line += 1
    return (row_q[:nr], row_ds[:nr], row_dl[:nr], row_h[:nr], row_g[:nr],
            q_s[:nq], q_l[:nq], q_h[:nq], qtab, err)


@njit
def _doc_tables(buf, row_q, row_ds, row_dl, row_h, nq):
    """One small open-addressing table per query (load <= 1/2), all in one array.

    A run's lines come query by query, so the ~100 lookups of one query hit
    one table of a few hundred bytes: it stays in cache.  Returns (offsets,
    hashes, rows, (dup_row_a, dup_row_b)).
    """
    count = np.zeros(nq, np.int64)
    for r in range(len(row_q)):
        count[row_q[r]] += 1
    off = np.zeros(nq + 1, np.int64)
    for q in range(nq):
        size = 4
        while size < 2 * count[q]:
            size *= 2
        off[q + 1] = off[q] + size
    tab_h = np.zeros(off[nq], np.uint64)
    tab_r = np.full(off[nq], -1, np.int32)
    for r in range(len(row_q)):
        q = row_q[r]
        base = off[q]
        mask = np.uint64(off[q + 1] - base - 1)
        h = row_h[r]
        slot = _slot0(h, mask)
        while tab_r[base + slot] >= 0:
            o = tab_r[base + slot]
            if tab_h[base + slot] == h and _same(buf, row_ds[r], row_dl[r], buf, row_ds[o], row_dl[o]):
                return off, tab_h, tab_r, (np.int64(o), np.int64(r))
            slot = (slot + np.uint64(1)) & mask
        tab_h[base + slot] = h
        tab_r[base + slot] = r
    return off, tab_h, tab_r, (np.int64(-1), np.int64(-1))


@njit
def _content_line(buf, row):
    """0-based physical line number of the ``row``-th judgement (error messages only)."""
    n = len(buf)
    i = 0
    line = 0
    seen = 0
    while i < n:
        s0, e0 = _token(buf, i, n)
        if not (s0 == e0 or buf[s0] == 35):
            if seen == row:
                return line
            seen += 1
        i = _line_end(buf, e0, n) + 1
        line += 1
    return line


@njit
def _qid_matrix(buf, q_s, q_l, width):
    out = np.zeros((len(q_s), width), np.uint8)
    for r in range(len(q_s)):
        for k in range(q_l[r]):
            out[r, k] = buf[q_s[r] + k]
    return out


@njit
def _group_by_query(row_q, row_g, nq):
    """Grades grouped by query slot, each group sorted descending; and group offsets."""
    offsets = np.zeros(nq + 1, np.int64)
    for r in range(len(row_q)):
        offsets[row_q[r] + 1] += 1
    for q in range(nq):
        offsets[q + 1] += offsets[q]
    fill = offsets[:-1].copy()
    grades = np.empty(len(row_q), np.int8)
    for r in range(len(row_q)):
        grades[fill[row_q[r]]] = row_g[r]
        fill[row_q[r]] += 1
    for q in range(nq):  # insertion sort, descending: groups are short (tens of judgements)
        lo, hi = offsets[q], offsets[q + 1]
        for i in range(lo + 1, hi):
            g = grades[i]
            j = i - 1
            while j >= lo and grades[j] < g:
                grades[j + 1] = grades[j]
                j -= 1
            grades[j + 1] = g
    return grades, offsets


class _QidTexts:
    """Query ids held as bytes ``buf[qid_start[s]:+qid_len[s]]`` per slot."""

    def qid(self, slot: int) -> str:
        s = int(self.qid_start[slot])
        return self.buf[s:s + int(self.qid_len[slot])].tobytes().decode("utf-8", "replace")

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


@dataclass
class Qrels(_QidTexts):
    """Judgements as columnar arrays plus the hash tables the run is joined through.

    Query *slots* number queries in order of first appearance; ``qid_order``
    lists slots in ``strcmp`` order of their ids, ``qid_rank`` is its inverse.
    Row ``i`` of the judgement arrays: ``row_query[i]`` (slot), docno bytes
    ``buf[row_doc_start[i]:+row_doc_len[i]]`` and their hash, ``row_grade[i]``.
    Query ``q``'s docnos are in the hash table
    ``table_hash/table_row[table_offsets[q]:table_offsets[q+1]]``.
    ``grades_desc[offsets[q]:offsets[q+1]]`` are query ``q``'s grades, descending
    (ideal rankings read straight off it).
    """

    buf: np.ndarray
    qid_start: np.ndarray
    qid_len: np.ndarray
    qid_hash: np.ndarray
    qid_table: np.ndarray
    row_query: np.ndarray
    row_doc_start: np.ndarray
    row_doc_len: np.ndarray
    row_doc_hash: np.ndarray
    row_grade: np.ndarray
    table_offsets: np.ndarray
    table_hash: np.ndarray
    table_row: np.ndarray
    qid_order: np.ndarray
    qid_rank: np.ndarray
    grades_desc: np.ndarray
    offsets: np.ndarray

    @property
    def n_queries(self) -> int:
        return len(self.qid_start)

    @property
    def max_grade(self) -> int:
        return int(self.row_grade.max()) if len(self.row_grade) else 0

    @property
    def qids(self) -> list:
        """Query ids in ``strcmp`` order."""
        return self.qid_texts(self.qid_order)

    @property
    def grade(self) -> np.ndarray:
        """All grades, by query in ``strcmp`` order, descending within a query."""
        return np.concatenate([self.grades_desc[self.offsets[q]:self.offsets[q + 1]]
                               for q in self.qid_order])


def _grade_error(data: bytes, a: int, b: int, source: str, lineno: int) -> None:
    text = data[a:b].decode(errors="replace")
    if _INT_RE.fullmatch(data[a:b]):
        _fail(source, lineno, f"relevance grade {text!r} is outside -127..127")
    _fail(source, lineno, f"relevance grade {text!r} is not an integer")


def parse_qrels(data: bytes, source: str = "<qrels>", line_offset: int = 0) -> Qrels:
    """Parse a whole qrels file given as bytes (``line_offset``: lines before ``data`` in its file).

    >>> q = parse_qrels(b"1 0 d1 2\\n1 0 d2 0\\n")
    >>> q.qids, q.grade.tolist()
    (['1'], [2, 0])
    """
    data = bytes(data)
    buf = np.frombuffer(data, dtype=np.uint8)
    if not data.strip():
        raise TrecFormatError(f"{source}: no judgements (empty file)")
    (row_q, row_ds, row_dl, row_h, row_g, q_s, q_l, q_h, qtab,
     err) = _scan_qrels(buf, _count_newlines(buf) + 1)
    code, line, a, b = err
    if code == _E_FIELDS:
        _fail(source, line_offset + line + 1, f"expected exactly 4 whitespace-separated fields, found {a}")
    if code == _E_GRADE:
        _grade_error(data, a, b, source, line_offset + line + 1)
    if len(row_q) == 0:
        raise TrecFormatError(f"{source}: no judgements (only comments/blank lines)")
    nq = len(q_s)
    width = int(q_l.max())
    names = _qid_matrix(buf, q_s, q_l, width).view(f"S{width}").ravel()
    order = np.argsort(names, kind="stable")
    rank = np.empty(nq, np.int64)
    rank[order] = np.arange(nq)
    t_off, t_h, t_r, (dup_a, dup_b) = _doc_tables(buf, row_q, row_ds, row_dl, row_h, nq)
    if dup_b >= 0:
        q = row_q[dup_b]
        qid = data[q_s[q]:q_s[q] + q_l[q]].decode("utf-8", "replace")
        doc = data[row_ds[dup_b]:row_ds[dup_b] + row_dl[dup_b]].decode("utf-8", "replace")
        _fail(source, line_offset + int(_content_line(buf, dup_b)) + 1,
              f"duplicate judgement for query {qid!r} document {doc!r}")
    grades_desc, offsets = _group_by_query(row_q, row_g, nq)
    return Qrels(buf, q_s, q_l, q_h, qtab, row_q, row_ds, row_dl, row_h, row_g, t_off, t_h, t_r,
                 order, rank, grades_desc, offsets)


# --------------------------------------------------------------------------- qrels index (streaming)

_I_DONE, _I_GROW, _I_REPEAT = 0, 1, 2


@njit
def _index_block(buf, start, base, qbuf, qn, q_s, q_l, q_h, seg, qtab, nq, cur, gmax, check):
    """One pass over line-aligned qrels bytes: note each query's first byte.

    Only the query id of each line is read, unless ``check``: then every line
    is validated and the grades parsed (for their maximum).

    New queries get the next slot: their id is copied to ``qbuf`` and
    ``seg[slot]`` is the file offset (``base`` + position) of their first
    line.  Stops with ``_I_GROW`` (before the line) when the arrays are full,
    with ``_I_REPEAT`` when a query seen earlier comes back after another
    (the qrels are not grouped by query).  Returns (position, lines read,
    status, error, nq, cur, qn, gmax, judgements, comment lines).
    """
    n = len(buf)
    i = start
    line = 0
    rows = 0
    comments = 0
    status = _I_DONE
    err = (_OK, 0, 0, 0)
    while i < n:
        ls = i
        s0, e0 = _token(buf, i, n)
        if s0 == e0 or buf[s0] == 35:  # blank line or comment
            comments += s0 != e0
            i = _line_end(buf, e0, n) + 1
            line += 1
            continue
        g = 0
        e4 = e0
        if check:
            s1, e1 = _token(buf, e0, n)
            s2, e2 = _token(buf, e1, n)
            s3, e3 = _token(buf, e2, n)
            s4, e4 = _token(buf, e3, n)
            if s3 == e3 or s4 != e4:
                err = (_E_FIELDS, line, _count_tokens(buf, s0, n), 0)
                break
            g, ok = _parse_grade(buf, s3, e3)
            if not ok:
                err = (_E_GRADE, line, s3, e3)
                break
        if cur < 0 or not _same(buf, s0, e0 - s0, qbuf, q_s[cur], q_l[cur]):
            h = _fnv(buf, s0, e0)
            q, slot = _find_qid(buf, s0, e0, h, qbuf, q_s, q_l, q_h, qtab)
            if q >= 0:
                status = _I_REPEAT
                i = ls
                break
            if nq == len(q_s) or qn + (e0 - s0) > len(qbuf):
                status = _I_GROW
                i = ls
                break
            for k in range(e0 - s0):
                qbuf[qn + k] = buf[s0 + k]
            q_s[nq] = qn
            q_l[nq] = e0 - s0
            q_h[nq] = h
            seg[nq] = base + ls
            qtab[slot] = nq
            qn += e0 - s0
            cur = nq
            nq += 1
        if check and g > gmax:
            gmax = g
        rows += 1
        i = _line_end(buf, e4, n) + 1
        line += 1
    return i, line, status, err, nq, cur, qn, gmax, rows, comments


@njit
def _rehash(q_h, nq, qtab):
    m = np.uint64(len(qtab) - 1)
    for r in range(nq):
        sl = q_h[r] & m
        while qtab[sl] >= 0:
            sl = (sl + np.uint64(1)) & m
        qtab[sl] = r


@dataclass
class QrelsIndex(_QidTexts):
    """Where each query's judgements lie in a qrels file, from one validating pass.

    Slots number queries in file order; query ``s``'s lines are the bytes
    ``segment[s]:segment[s + 1]`` of the file (``segment[n_queries]`` is the
    file size).  Only built for files grouped by query (each query's lines
    together), which is what makes the segments contiguous.  ``buf`` holds
    the query ids only (a few bytes per query), not the judgements.
    """

    buf: np.ndarray
    qid_start: np.ndarray
    qid_len: np.ndarray
    qid_hash: np.ndarray
    qid_table: np.ndarray
    segment: np.ndarray
    max_grade: int | None  # None unless indexed with check=True
    n_lines: int  # non-blank, non-comment lines

    @property
    def n_queries(self) -> int:
        return len(self.qid_start)


def index_qrels(blocks, source: str = "<qrels>", check: bool = False) -> QrelsIndex | None:
    """Index the queries of a qrels file given as byte blocks; ``None`` if not grouped by query.

    Reads the first field of each line only: the lines are validated when
    their segments are parsed (:func:`parse_qrels`).  With ``check`` every
    line is validated here (:class:`TrecFormatError` as from
    :func:`parse_qrels`, duplicate judgements aside) and ``max_grade`` is set
    (else it is None).  Memory: a few tens of bytes per query, none per
    judgement.

    >>> ix = index_qrels([b"a 0 d1 1\\nb 0 d", b"1 0\\nb 0 d2 3\\n"], check=True)
    >>> ix.qid_texts([0, 1]), ix.segment.tolist(), ix.max_grade
    (['a', 'b'], [0, 9, 27], 3)
    >>> index_qrels([b"a 0 d1 1\\nb 0 d1 0\\na 0 d2 1\\n"]) is None
    True
    """
    cap = 1024
    qbuf = np.empty(16 * cap, np.uint8)
    q_s = np.empty(cap, np.int64)
    q_l = np.empty(cap, np.int32)
    q_h = np.empty(cap, np.uint64)
    seg = np.empty(cap + 1, np.int64)
    qtab = np.full(2 * cap, -1, np.int32)
    nq, cur, qn, gmax, rows, comments = 0, -1, 0, -128, 0, 0
    base = 0
    for data, line_offset in iter_line_blocks(blocks):
        buf = np.frombuffer(data, np.uint8)
        pos = 0
        lines = 0
        while True:
            pos, ln, status, err, nq, cur, qn, gmax, r, c = _index_block(
                buf, pos, base, qbuf, qn, q_s, q_l, q_h, seg, qtab, nq, cur, gmax, check)
            lines += ln
            rows += r
            comments += c
            code, eline, a, b = err
            if code == _E_FIELDS:
                _fail(source, line_offset + lines + 1, f"expected exactly 4 whitespace-separated fields, found {a}")
            if code == _E_GRADE:
                _grade_error(data, a, b, source, line_offset + lines + 1)
            if status == _I_REPEAT:
                return None
            if status == _I_DONE:
                break
            if nq == len(q_s):  # grow the query arrays and rehash
                cap *= 2
                q_s, q_l, q_h = (np.concatenate([x[:nq], np.empty(cap - nq, x.dtype)]) for x in (q_s, q_l, q_h))
                seg = np.concatenate([seg[:nq], np.empty(cap + 1 - nq, seg.dtype)])
                qtab = np.full(2 * cap, -1, np.int32)
                _rehash(q_h, nq, qtab)
            if qn + len(data) > len(qbuf):
                qbuf = np.concatenate([qbuf[:qn], np.empty(max(len(qbuf), len(data) + 1), np.uint8)])
        base += len(data)
    if rows == 0:
        if comments == 0:
            raise TrecFormatError(f"{source}: no judgements (empty file)")
        raise TrecFormatError(f"{source}: no judgements (only comments/blank lines)")
    seg = seg[:nq + 1].copy()
    seg[nq] = base
    return QrelsIndex(qbuf[:qn].copy(), q_s[:nq].copy(), q_l[:nq].copy(), q_h[:nq].copy(), qtab, seg,
                      int(gmax) if check else None, int(rows))


class SegmentReader:
    """Reads byte ranges of a file given as blocks, front to back, holding only what is asked for.

    ``read(s, e)`` returns bytes ``s:e`` (``e=None``: to the end); ranges
    must not go backwards.

    >>> r = SegmentReader([b"ab\\nc", b"d\\nef"])
    >>> r.read(1, 4), r.read(5, None)
    (b'b\\nc', b'\\nef')
    """

    def __init__(self, blocks):
        self._it = iter(blocks)
        self._buf = bytearray()
        self._pos = 0  # file offset of _buf[0]

    def read(self, s: int, e: int | None) -> bytes:
        if s < self._pos or (e is not None and e < s):
            raise ValueError(f"segment {s}:{e} is behind the reader (at {self._pos})")
        while e is None or self._pos + len(self._buf) < e:
            block = next(self._it, None)
            if block is None:
                break
            self._buf += block
        skip = min(s - self._pos, len(self._buf))
        del self._buf[:skip]
        self._pos += skip
        k = len(self._buf) if e is None else min(e - s, len(self._buf))
        with memoryview(self._buf) as mv:
            out = bytes(mv[:k])
        del self._buf[:k]
        self._pos += k
        return out


def lines_before(blocks, offset: int) -> int:
    """Newlines in the first ``offset`` bytes of a file given as blocks (for error messages)."""
    count = 0
    for block in blocks:
        if offset <= 0:
            break
        count += block.count(b"\n", 0, offset)
        offset -= len(block)
    return count


# --------------------------------------------------------------------------- run


@njit
def _last_newline(buf, end):
    i = end - 1
    while i >= 0 and buf[i] != 10:
        i -= 1
    return i + 1


@njit
def _scan_run(buf, start, end, final, qbuf, q_s, q_l, q_h, qtab, dbuf, lo, hi, row_ds, row_dl, row_g,
              t_off, t_h, t_r, pow10, out_q, out_s, out_code, out_ds, out_dl, out_h, out_line,
              slow_row, slow_s, slow_e, slow_line):
    """Scan run lines from ``start``; query ids resolve through (qbuf, q_s, q_l, q_h, qtab) to slots.

    Documents are looked up in the per-query tables of slots ``lo..hi`` (table
    index ``slot - lo``, docno bytes in ``dbuf``).  A line that starts the
    ranking of a known query outside ``lo..hi`` stops the scan before it:
    the last value returned is that slot (-1 when the scan did not stop).
    When the output arrays are full the scan stops where the current query
    started, returning :data:`FULL` (-2).
    """
    cap = len(out_q)
    lim = end if final else _last_newline(buf, end)
    lim = max(lim, start)
    i = start
    line = 0
    nout = 0
    nslow = 0
    prev_s, prev_l, prev_q = -1, 0, -1
    seg_byte, seg_line, seg_out, seg_slow = -1, 0, 0, 0
    content = 0
    err = (_OK, 0, 0)
    while i < lim:
        ls = i
        s0, e0 = _token(buf, i, lim)
        if s0 == e0 or buf[s0] == 35:  # blank line or comment
            i = _line_end(buf, e0, lim) + 1
            line += 1
            continue
        s1, e1 = _token(buf, e0, lim)  # Q0: skipped
        s2, e2 = _token(buf, e1, lim)  # docno
        s3, e3 = _token(buf, e2, lim)  # rank: skipped
        s4, e4 = _token(buf, e3, lim)  # score
        s5, e5 = _token(buf, e4, lim)  # run tag: skipped
        if s5 == e5:
            err = (_E_FIELDS, line, _count_tokens(buf, s0, lim))
            break
        if prev_s < 0 or not _same(buf, s0, e0 - s0, buf, prev_s, prev_l):
            q, _ = _find_qid(buf, s0, e0, _fnv(buf, s0, e0), qbuf, q_s, q_l, q_h, qtab)
            if q >= 0 and (q < lo or q > hi):
                return nout, nslow, ls, line, content, err, q
            seg_byte, seg_line, seg_out, seg_slow = ls, line, nout, nslow
            prev_s, prev_l, prev_q = s0, e0 - s0, q
        if nout == cap or nslow == cap:  # no room for this line: stop before its query
            return seg_out, seg_slow, seg_byte, seg_line, content, err, np.int64(FULL)
        i = _line_end(buf, e5, lim) + 1
        content += 1
        q = prev_q
        v, ok = _parse_score(buf, s4, e4, pow10)
        if not ok:
            slow_row[nslow] = nout if q >= 0 else -1
            slow_s[nslow] = s4
            slow_e[nslow] = e4
            slow_line[nslow] = line
            nslow += 1
        if q >= 0:
            h = _fnv(buf, s2, e2)
            base = t_off[q - lo]
            mask = np.uint64(t_off[q - lo + 1] - base - 1)
            slot = _slot0(h, mask)
            code = NONPOOL
            while t_r[base + slot] >= 0:
                r = t_r[base + slot]
                if t_h[base + slot] == h and _same(buf, s2, e2 - s2, dbuf, row_ds[r], row_dl[r]):
                    code = row_g[r] if row_g[r] >= 0 else UNJUDGED
                    break
                slot = (slot + np.uint64(1)) & mask
            out_q[nout] = q
            out_s[nout] = v
            out_code[nout] = code
            out_ds[nout] = s2
            out_dl[nout] = e2 - s2
            out_h[nout] = h
            out_line[nout] = line
            nout += 1
        line += 1
    if final or seg_byte < 0 or err[0] != _OK:
        return nout, nslow, lim, line, content, err, np.int64(-1)
    # hold back the last query's lines: they may continue in the next block
    return seg_out, seg_slow, seg_byte, seg_line, content, err, np.int64(-1)


@dataclass
class RunBlock:
    """Run lines of one block, already joined with the qrels (lines of unknown queries dropped).

    ``query`` slot, ``score``, grade ``code`` (grade >= 0, :data:`NONPOOL`,
    :data:`UNJUDGED`), docno ``buf[doc_start:+doc_len]`` and its ``doc_hash``,
    ``lineno`` (1-based, in the file).  ``consumed``: the scan ended at this
    byte of the block (absolute, whatever ``start`` was); ``lines`` newlines
    lie between ``start`` and there; ``content`` result lines were read (of
    any query, held-back ones included).  ``stop``: the slot of a known query
    outside the tables' window whose first line ended the scan (-1: none;
    :data:`FULL`: ``capacity`` rows were reached, the scan ended where the
    last query began).
    """

    buf: np.ndarray
    query: np.ndarray
    score: np.ndarray
    code: np.ndarray
    doc_start: np.ndarray
    doc_len: np.ndarray
    doc_hash: np.ndarray
    lineno: np.ndarray
    consumed: int
    lines: int
    content: int = 0
    stop: int = -1

    def __len__(self) -> int:
        return len(self.query)

    def doc(self, i: int) -> str:
        s = int(self.doc_start[i])
        return self.buf[s:s + int(self.doc_len[i])].tobytes().decode("utf-8", "replace")


class _Scratch:
    """Output arrays of the run scanner, reused from block to block."""

    def __init__(self):
        self.cap = -1

    def ensure(self, cap: int):
        if cap > self.cap:
            self.cap = cap
            self.arrays = (np.empty(cap, np.int32), np.empty(cap, np.float64), np.empty(cap, np.int8),
                           np.empty(cap, np.int64), np.empty(cap, np.int32), np.empty(cap, np.uint64),
                           np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap, np.int64),
                           np.empty(cap, np.int64), np.empty(cap, np.int64))
        return self.arrays


def scan_run_block(data: bytes, qrels: Qrels, final: bool = True, source: str = "<run>",
                   line_offset: int = 0, scratch: _Scratch | None = None,
                   capacity: int | None = None, start: int = 0, index=None, lo: int = 0) -> RunBlock:
    """Scan run lines from ``data[start:]`` and join them with ``qrels``.

    With ``final=False`` only whole lines are read and the last query's lines
    are held back (``consumed`` stops where they start): the caller prepends
    ``data[consumed:]`` to the next block.

    ``index`` (a :class:`QrelsIndex` of the whole qrels) resolves query ids to
    its slots; ``qrels`` then holds only the judgements of slots
    ``lo .. lo + qrels.n_queries - 1`` (a window of the file), and the scan
    stops at the first line of a known query outside the window
    (``RunBlock.stop``).  Without ``index`` the slots are ``qrels``' own.
    ``capacity`` (default: enough for any line count the bytes can hold)
    bounds the rows returned; a scan that reaches it stops early with
    ``stop ==`` :data:`FULL`.

    >>> q = parse_qrels(b"1 0 d1 2\\n")
    >>> r = scan_run_block(b"1 Q0 d1 1 2.5 x\\n1 Q0 d2 2 -1e3 x\\n2 Q0 d1 1 0 x\\n", q)
    >>> r.score.tolist(), r.code.tolist()
    ([2.5, -1000.0], [2, -1])
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    scratch = scratch or _Scratch()
    # a run line has at least 12 bytes; callers with long blocks may count lines instead
    out = scratch.ensure(capacity if capacity is not None else (len(data) - start) // 12 + 2)
    oq, os_, oc, ods, odl, oh, oline, slow_row, slow_s, slow_e, slow_line = out
    ix = qrels if index is None else index
    hi = lo + qrels.n_queries - 1
    nout, nslow, consumed, lines, content, err, stop = _scan_run(
        buf, start, len(buf), final, ix.buf, ix.qid_start, ix.qid_len, ix.qid_hash, ix.qid_table,
        qrels.buf, lo, hi, qrels.row_doc_start, qrels.row_doc_len, qrels.row_grade,
        qrels.table_offsets, qrels.table_hash, qrels.table_row, _POW10, oq, os_, oc, ods, odl, oh, oline,
        slow_row, slow_s, slow_e, slow_line)
    code, line, found = err
    if code == _E_FIELDS:
        _fail(source, line_offset + line + 1,
              f"expected at least 6 whitespace-separated fields, found {found}")
    score = os_[:nout]
    for k in range(nslow):  # off the fast path: validate, then Python's float
        text = data[slow_s[k]:slow_e[k]]
        lineno = line_offset + int(slow_line[k]) + 1
        shown = text.decode(errors="replace")
        if not _FLOAT_RE.fullmatch(text):
            if text.lower().lstrip(b"+-") in (b"nan", b"inf", b"infinity"):
                _fail(source, lineno, f"score {shown!r} is not finite")
            _fail(source, lineno, f"score {shown!r} is not a number")
        v = float(text)
        if not np.isfinite(v):
            _fail(source, lineno, f"score {shown!r} is not finite")
        if slow_row[k] >= 0:
            score[slow_row[k]] = v
    return RunBlock(buf, oq[:nout], score, oc[:nout], ods[:nout], odl[:nout], oh[:nout],
                    oline[:nout] + (line_offset + 1), int(consumed), int(lines), int(content), int(stop))


def iter_line_blocks(blocks) -> Iterator[tuple[bytes, int]]:
    """Re-cut arbitrary byte blocks at line boundaries.

    Yields ``(block, line_offset)`` where ``line_offset`` counts the newlines
    before the block, so parse errors can name the file line.

    >>> list(iter_line_blocks([b"a\\nb", b"c\\nd"]))
    [(b'a\\n', 0), (b'bc\\n', 1), (b'd', 2)]
    """
    carry = b""
    lines = 0
    for block in blocks:
        if not block:
            continue
        cut = block.rfind(b"\n")
        if cut < 0:
            carry += block
            continue
        out = carry + block[: cut + 1] if carry else block[: cut + 1]
        carry = block[cut + 1:]
        yield out, lines
        lines += out.count(b"\n")
    if carry:
        yield carry, lines


# --------------------------------------------------------------------------- file I/O (the only I/O)


def read_blocks(path: str | os.PathLike, block_size: int = 1 << 23) -> Iterator[bytes]:
    """Yield the file at ``path`` in blocks of ``block_size`` bytes."""
    with open(path, "rb") as fh:
        while True:
            block = fh.read(block_size)
            if not block:
                return
            yield block


def read_bytes(path: str | os.PathLike) -> bytes:
    """Whole file as bytes (qrels are small next to runs)."""
    with open(path, "rb") as fh:
        return fh.read()
