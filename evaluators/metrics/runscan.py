"""Scan a byte range of a TREC run and evaluate each query as its last line is read.

One compiled pass (:func:`evaluate_span`, ``nogil``: :mod:`.evaluate` runs
ranges of one file on several threads at once) reads each line's fields,
resolves the query id to its slot in the qrels, looks the docno up in that
query's judgements, and keeps the query's rows; when the query's lines end
it ranks them (:mod:`.ranking`) and writes every requested measure (the
``*_row`` kernels of :mod:`.ap`, :mod:`.ndcg`, ...) to ``values[measure,
slot]``.  Nothing per line or per query reaches Python.

Lines of queries the qrels do not know are checked (fields, score) and
dropped.  What the scan cannot decide alone comes back as a status:

* ``FIELDS``: a line with fewer than 6 fields;
* ``SLOW``: scores off the exact fast path (:func:`.bytescan.parse_score`)
  were found; their positions come back, the caller parses them with
  Python's ``float`` and scans again from ``resume`` with them as
  ``patch_pos``/``patch_val`` (positions ascending);
* ``DUPLICATE``: a docno twice in one query's ranking;
* ``ORDER``: a known query outside the slots ``lo..hi`` whose judgements the
  caller supplied (the run and qrels list queries in different orders);
* ``NOT_CONTIGUOUS``: a query's lines come back after another query's;
* ``SPACE``: a query has more lines than the work arrays hold (the caller
  gives bigger ones and scans again from where the query starts).

Line numbers are counted from ``a`` (0 = the first line of the range).
"""
from __future__ import annotations

import numpy as np

from .ap import ap_row
from .bytescan import (FNV_OFFSET, count_tokens, doc_key, fast_run_line, find_qid, fnv, grow, last_line_end, line_end,
                       parse_score, same, slot0, token)
from .err import err_row
from .jit import njit
from .judged import judged_row
from .ndcg import dcg_row, discounts, ideal_row
from .precision import precision_row
from .ranking import first_duplicate, grades_by_rank, rank_order
from .recall import recall_row
from .rprec import rprec_row
from .rr import rr_row

__all__ = ["evaluate_span", "work_arrays", "span_end", "line_slots", "gather_lines", "KINDS", "OK", "FIELDS", "SLOW",
           "DUPLICATE", "ORDER", "NOT_CONTIGUOUS", "SPACE", "NONPOOL", "UNJUDGED"]

OK, FIELDS, SLOW, DUPLICATE, ORDER, NOT_CONTIGUOUS, SPACE = range(7)
NONPOOL = -1  # grade code: document not in the qrels of its query
UNJUDGED = -2  # grade code: in the qrels with a negative grade ("in the pool but unjudged")

# measure name (registry) -> code the kernel dispatches on; a measure declared without one is refused up front
KINDS = {name: i for i, name in enumerate(
    ["map", "Rprec", "recip_rank", "P", "recall", "ndcg", "ndcg_cut", "ndcg_exp_cut", "err_cut", "judged"])}
_MAP, _RPREC, _RR, _P, _RECALL, _NDCG, _NDCG_CUT, _NDCG_EXP_CUT, _ERR_CUT, _JUDGED = range(10)


@njit
def _measure(kind, k, g, d, level, num_rel, grades_desc, o0, o1, gain_lin, gain_exp, stop_of, disc):
    """One measure of one ranking (grade codes ``g[:d]``) by its code (:data:`KINDS`); NaN for no code."""
    if kind == _MAP:
        return ap_row(g, d, level, num_rel)
    if kind == _RPREC:
        return rprec_row(g, d, level, num_rel)
    if kind == _RR:
        return rr_row(g, d, level)
    if kind == _P:
        return precision_row(g, d, level, k)
    if kind == _RECALL:
        return recall_row(g, d, level, num_rel, k)
    if kind == _ERR_CUT:
        return err_row(g, d, k, stop_of)
    if kind == _JUDGED:
        return judged_row(g, d, k)
    if kind == _NDCG or kind == _NDCG_CUT or kind == _NDCG_EXP_CUT:
        gain_of = gain_exp if kind == _NDCG_EXP_CUT else gain_lin
        ideal = ideal_row(grades_desc, o0, o1, k, gain_of, disc)
        if ideal <= 0.0:
            return 0.0
        return dcg_row(g, d, k, gain_of, disc) / ideal
    return np.nan


@njit
def _finish(buf, q, n, work, gen, judgements, lo, params, measures, values):
    """Rank one query's ``n`` rows and write its measures; returns the row of a repeated docno, or -1."""
    r_score, r_code, r_ds, r_dl, r_key, r_h, _, order, tmp, g, dup_table, dup_stamp, disc = work[:13]
    level, max_depth, judged_only = params
    kinds, cutoffs, gain_lin, gain_exp, stop_of = measures
    grades_desc, offsets = judgements[7], judgements[8]
    rank_order(buf, r_score, r_key, r_ds, r_dl, n, order, tmp)
    _, dup = first_duplicate(buf, r_h, r_ds, r_dl, n, dup_table, dup_stamp, gen)
    if dup >= 0:
        return dup
    d = grades_by_rank(r_code, order, n, max_depth, judged_only != 0, g)
    o0, o1 = offsets[q - lo], offsets[q - lo + 1]
    num_rel = 0
    for r in range(o0, o1):  # descending: the relevant ones come first
        if grades_desc[r] < level:
            break
        num_rel += 1
    for m in range(len(kinds)):
        values[m, q] = _measure(kinds[m], cutoffs[m], g, d, level, num_rel, grades_desc, o0, o1, gain_lin,
                                gain_exp, stop_of, disc)
    return np.int64(-1)


def work_arrays(rows: int, longest_judged: int = 0) -> tuple:
    """Scratch for :func:`evaluate_span`: room for queries of up to ``rows`` lines (a power of two).

    (score, grade code, docno start, length, key, hash, line) per row; rank
    order, merge scratch, grades by rank; the repeated-docno table and its
    stamps; discounts for ``max(rows, longest_judged)`` ranks; slow score
    starts, ends and lines.
    """
    rows = 1 << max(int(rows) - 1, 7).bit_length()  # a power of two >= 8: first_duplicate's table fits in 2 x rows
    return (np.empty(rows), np.empty(rows, np.int8), np.empty(rows, np.int64), np.empty(rows, np.int64),
            np.empty(rows, np.uint64), np.empty(rows, np.uint64), np.empty(rows, np.int64),
            np.empty(rows, np.int64), np.empty(rows, np.int64), np.empty(rows, np.int8),
            np.empty(2 * rows, np.int64), np.zeros(2 * rows, np.int64), discounts(max(rows, longest_judged)),
            np.empty(rows, np.int64), np.empty(rows, np.int64), np.empty(rows, np.int64))


@njit
def evaluate_span(buf, a, b, check_only, index, judgements, lo, hi, params, measures, work, values, seen, patches):
    """Evaluate the run lines ``buf[a:b]`` (whole queries); see the module notes.

    ``index``: (qid bytes, start, length, hash, table) resolving query ids to
    slots.  ``judgements``: the tables of slots ``lo..hi`` (``Judgements``
    fields of :mod:`.trec`, in order).  ``params``: (relevance level, max
    depth or 0, judged only 0/1).  ``measures``: codes (:data:`KINDS`) and
    cutoffs of the measures, then linear gains, exponential gains and ERR
    stop probabilities by grade code + 128.  ``work``: :func:`work_arrays`
    (no array is allocated or replaced here: loop-carried arrays cost
    reference counting on every line).  ``patches``: (positions, values) of
    slow scores parsed by the caller.  With ``check_only`` lines are only
    checked (and slow scores collected), nothing is evaluated.

    Returns (status, line, x, y, z, content lines, queries evaluated, slow
    scores collected): see the module notes for x, y, z; ``SPACE``: a query
    has more lines than ``work`` holds, x, y = where its lines start.
    """
    qbuf, q_s, q_l, q_h, qtab = index
    dbuf, row_ds, row_dl, row_g, t_off, t_h, t_r, _, _ = judgements
    r_score, r_code, r_ds, r_dl, r_key, r_h, r_line = work[:7]
    dup_stamp = work[11]
    slow_s, slow_e, slow_l = work[13], work[14], work[15]
    patch_pos, patch_val = patches
    cap = len(r_score)
    dup_stamp[:] = 0
    gen = 0
    nslow = 0
    pc = 0
    collecting = check_only
    resume, resume_line = np.int64(a), np.int64(0)
    i = a
    line = 0
    content = 0
    finished = 0
    q = np.int64(-1)
    n = 0
    prev_s, prev_l = np.int64(-1), np.int64(0)
    first_s, first_line = np.int64(a), np.int64(0)
    base, mask = np.int64(0), np.uint64(0)
    safe = last_line_end(buf, a, b)  # lines before this end in "\n": the fast path may read them
    while i < b:
        ls = i
        fast, e0, s2, e2, h, key, parsed, v, s4, e4, nxt = False, i, i, i, FNV_OFFSET, np.uint64(0), False, 0.0, i, i, i
        if i < safe:
            fast, e0, s2, e2, h, key, parsed, v, s4, e4, nxt = fast_run_line(buf, i)
        s0 = i
        if not fast:  # anything but single spaces: field by field
            s0, e0 = token(buf, i, b)
            if s0 == e0 or buf[s0] == 35:  # blank line or comment
                i = line_end(buf, e0, b) + 1
                line += 1
                continue
            _, e1 = token(buf, e0, b)  # Q0: ignored
            s2, e2 = token(buf, e1, b)  # docno
            _, e3 = token(buf, e2, b)  # rank: ignored
            s4, e4 = token(buf, e3, b)  # score
            s5, e5 = token(buf, e4, b)  # run tag: ignored, and anything after it
            if s5 == e5:
                found = np.int64(count_tokens(buf, s0, b))
                if nslow > 0:  # the scores before this line may hold an earlier error
                    return (SLOW, np.int64(line), resume, resume_line, found, np.int64(content), np.int64(finished),
                            nslow)
                return (FIELDS, np.int64(line), found, np.int64(0), np.int64(0), np.int64(content),
                        np.int64(finished), 0)
            h, key = doc_key(buf, s2, e2)
            nxt = line_end(buf, e5, b) + 1
        if prev_s < 0 or not same(buf, s0, e0 - s0, buf, prev_s, prev_l):
            if q >= 0 and n > 0 and not collecting:
                gen += 1
                dup = _finish(buf, q, n, work, gen, judgements, lo, params, measures, values)
                if dup >= 0:
                    return (DUPLICATE, r_line[dup], r_ds[dup], r_dl[dup], q, np.int64(content), np.int64(finished),
                            0)
                seen[q] = True
                finished += 1
            n = 0
            q, _ = find_qid(buf, s0, e0, fnv(buf, s0, e0), qbuf, q_s, q_l, q_h, qtab)
            if q >= 0 and not collecting:
                if q < lo or q > hi:
                    return ORDER, np.int64(line), q, np.int64(0), np.int64(0), np.int64(content), np.int64(finished), 0
                if seen[q]:
                    return (NOT_CONTIGUOUS, np.int64(line), q, np.int64(0), np.int64(0), np.int64(content),
                            np.int64(finished), 0)
            prev_s, prev_l = s0, e0 - s0
            first_s, first_line = np.int64(ls), np.int64(line)
            if q >= 0 and not collecting:  # this query's table of judged docnos
                base = t_off[q - lo]
                mask = np.uint64(t_off[q - lo + 1] - base - 1)
        ok = parsed
        if not ok:
            v, ok = parse_score(buf, s4, e4)
        if not ok:
            if pc < len(patch_pos) and patch_pos[pc] == s4:
                v = patch_val[pc]
                pc += 1
            else:
                if not collecting:  # from here on only collect: the caller parses these and scans again
                    collecting = True
                    resume, resume_line = first_s, first_line
                slow_s[nslow], slow_e[nslow], slow_l[nslow] = s4, e4, line
                nslow += 1
                if nslow == len(slow_s):
                    return SLOW, np.int64(line), resume, resume_line, np.int64(-1), np.int64(content), \
                        np.int64(finished), nslow
        if q >= 0 and not collecting:
            if n == cap:
                return SPACE, np.int64(line), first_s, first_line, np.int64(0), np.int64(content), \
                    np.int64(finished), 0
            pos = slot0(h, mask)
            code = NONPOOL
            while t_r[base + pos] >= 0:
                r = t_r[base + pos]
                if t_h[base + pos] == h and same(buf, s2, e2 - s2, dbuf, row_ds[r], row_dl[r]):
                    code = row_g[r] if row_g[r] >= 0 else UNJUDGED
                    break
                pos = (pos + np.uint64(1)) & mask
            r_score[n] = v
            r_code[n] = code
            r_ds[n] = s2
            r_dl[n] = e2 - s2
            r_key[n] = key
            r_h[n] = h
            r_line[n] = line
            n += 1
        i = nxt
        line += 1
        content += 1
    if nslow > 0:
        return SLOW, np.int64(line), resume, resume_line, np.int64(-1), np.int64(content), np.int64(finished), nslow
    if q >= 0 and n > 0 and not collecting:
        gen += 1
        dup = _finish(buf, q, n, work, gen, judgements, lo, params, measures, values)
        if dup >= 0:
            return DUPLICATE, r_line[dup], r_ds[dup], r_dl[dup], q, np.int64(content), np.int64(finished), 0
        seen[q] = True
        finished += 1
    return OK, np.int64(line), np.int64(0), np.int64(0), np.int64(0), np.int64(content), np.int64(finished), 0


# --------------------------------------------------------------------------- where spans of whole queries end


@njit(inline="always")
def _qid_token(buf, i, n):
    """Query id of the line at ``i`` (start == end: blank or comment) and the start of the next line."""
    s0, e0 = token(buf, i, n)
    if s0 != e0 and buf[s0] == 35:
        e0 = s0
    return s0, e0, line_end(buf, s0 if s0 == e0 else e0, n) + 1


@njit(inline="always")
def _line_start(buf, a, i):
    """Start of the line ending just before ``i`` (``i`` a line start > a)."""
    j = i - 1
    while j > a and buf[j - 1] != 10:
        j -= 1
    return j


@njit
def _last_query_start(buf, a, n):
    """Start of the lines of the last query in ``buf[a:n]`` (whole lines); ``a`` if it is the only one."""
    q_s, q_e = np.int64(-1), np.int64(-1)
    i = n
    while i > a:
        ls = _line_start(buf, a, i)
        s0, e0, _ = _qid_token(buf, ls, n)
        if s0 != e0:
            if q_s < 0:
                q_s, q_e = s0, e0
            elif not same(buf, s0, e0 - s0, buf, q_s, q_e - q_s):
                return i
        i = ls
    return np.int64(a)


@njit(inline="always")
def _known_slot(buf, s0, e0, index):
    qbuf, q_s, q_l, q_h, qtab = index
    q, _ = find_qid(buf, s0, e0, fnv(buf, s0, e0), qbuf, q_s, q_l, q_h, qtab)
    return q


@njit
def span_end(buf, a, n, final, size, index):
    """Plan the span of whole queries that starts at ``a``: (end, first known slot, last known slot).

    The span ends at the first query boundary at or after ``a + size``
    (size 0: after the first query); when none lies in ``buf[a:n]`` it ends
    at ``n`` if ``final``, else where the last query begins (its lines may
    go on past ``n``).  ``end == a``: the buffer holds less than one whole
    query.  The known slots are those of the first and last query of the
    span that ``index`` knows (-1: none).
    """
    i = min(a + size, n)
    if i > a and buf[i - 1] != 10:
        i = line_end(buf, i, n) + 1
    end = np.int64(-1)
    q_s, q_e = np.int64(-1), np.int64(-1)
    while i < n:
        s0, e0, nxt = _qid_token(buf, i, n)
        if s0 != e0:
            if q_s < 0:
                q_s, q_e = s0, e0
            elif not same(buf, s0, e0 - s0, buf, q_s, q_e - q_s):
                end = np.int64(i)
                break
        i = nxt
    if end < 0:
        end = np.int64(n) if final else _last_query_start(buf, a, n)
    first = np.int64(-1)
    i = a
    p_s, p_e = np.int64(-1), np.int64(-1)
    while i < end and first < 0:
        s0, e0, nxt = _qid_token(buf, i, end)
        if s0 != e0 and (p_s < 0 or not same(buf, s0, e0 - s0, buf, p_s, p_e - p_s)):
            first = _known_slot(buf, s0, e0, index)
            p_s, p_e = s0, e0
        i = nxt
    last = np.int64(-1)
    i = end
    p_s, p_e = np.int64(-1), np.int64(-1)
    while i > a and first >= 0 and last < 0:
        ls = _line_start(buf, a, i)
        s0, e0, _ = _qid_token(buf, ls, end)
        if s0 != e0 and (p_s < 0 or not same(buf, s0, e0 - s0, buf, p_s, p_e - p_s)):
            last = _known_slot(buf, s0, e0, index)
            p_s, p_e = s0, e0
        i = ls
    return end, first, last


# --------------------------------------------------------------------------- regrouping a run (the rare case)


@njit
def line_slots(buf, n, index):
    """Start, end (past the ``\\n``), query slot and line number of every line of a known query."""
    starts = np.empty(1024, np.int64)
    ends = np.empty(1024, np.int64)
    slots = np.empty(1024, np.int64)
    lines = np.empty(1024, np.int64)
    k = 0
    i = 0
    line = 0
    p_s, p_e, q = np.int64(-1), np.int64(-1), np.int64(-1)
    while i < n:
        s0, e0, nxt = _qid_token(buf, i, n)
        if s0 != e0:
            if p_s < 0 or not same(buf, s0, e0 - s0, buf, p_s, p_e - p_s):
                q = _known_slot(buf, s0, e0, index)
                p_s, p_e = s0, e0
            if q >= 0:
                if k == len(starts):
                    starts, ends, slots, lines = (grow(starts, 2 * k), grow(ends, 2 * k), grow(slots, 2 * k),
                                                  grow(lines, 2 * k))
                starts[k], ends[k], slots[k], lines[k] = i, min(nxt, n), q, line
                k += 1
        i = nxt
        line += 1
    return starts[:k], ends[:k], slots[:k], lines[:k]


@njit
def gather_lines(buf, starts, ends):
    """The lines ``buf[starts[i]:ends[i]]`` one after another, each ending in ``\\n``."""
    total = 0
    for i in range(len(starts)):
        total += ends[i] - starts[i] + 1
    out = np.empty(total, np.uint8)
    k = 0
    for i in range(len(starts)):
        e = ends[i]
        if e > starts[i] and buf[e - 1] == 10:
            e -= 1
        for j in range(starts[i], e):
            out[k] = buf[j]
            k += 1
        out[k] = 10
        k += 1
    return out[:k]
