"""trec_eval's ranking of each query's results, turned into a grades-by-rank matrix.

Rules (trec_eval ``form_res_rels.c``): documents are ordered by score
descending, ties broken by docno descending (``strcmp`` byte order); the rank
column of the run is ignored; a docno repeated within one query's ranking is
an error; ``max_depth`` (``-M``) keeps the first M documents of that order;
``judged_only`` (``-J``) then removes documents that are not judged (grade
code < 0) and ranks the rest again.

Input rows come from :func:`.trec.scan_run_block`, one contiguous segment per
query; runs are nearly always written in this order already, so the check is
one pass and only out-of-order queries are sorted (merge sort, stable).

>>> import numpy as np
>>> buf = np.frombuffer(b"abc", np.uint8)
>>> seen = np.zeros(1, bool)
>>> seg_q, grades, err = rank_block(buf, np.array([0, 0, 0], np.int32), np.array([1.0, 2.0, 1.0]),
...     np.array([1, 2, 0], np.int8), np.array([0, 1, 2]), np.array([1, 1, 1], np.int32),
...     np.array([1, 2, 3], np.uint64), seen, 0, False)
>>> grades.tolist()  # b (2.0), then the tie a/c by docno descending: c, a
[[2, 0, 1]]
"""
from __future__ import annotations

import numpy as np

from .jit import njit

__all__ = ["rank_block", "PAD", "OK", "NOT_CONTIGUOUS", "DUPLICATE"]

PAD = -128  # grade code past the end of a ranking
OK, NOT_CONTIGUOUS, DUPLICATE = 0, 1, 2


@njit
def _doc_cmp(buf, a_s, a_n, b_s, b_n):
    """strcmp of two docnos: <0, 0, >0."""
    n = min(a_n, b_n)
    for k in range(n):
        d = np.int64(buf[a_s + k]) - np.int64(buf[b_s + k])
        if d != 0:
            return d
    return np.int64(a_n) - np.int64(b_n)


@njit
def _before(buf, score, ds, dl, a, b):
    """Row a ranks at or before row b."""
    if score[a] != score[b]:
        return score[a] > score[b]
    return _doc_cmp(buf, ds[a], dl[a], ds[b], dl[b]) >= 0


@njit
def _merge_sort(buf, score, ds, dl, idx, tmp):
    n = len(idx)
    width = 1
    src, dst = idx, tmp
    swapped = False
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                if _before(buf, score, ds, dl, src[i], src[j]):
                    dst[k] = src[i]
                    i += 1
                else:
                    dst[k] = src[j]
                    j += 1
                k += 1
            while i < mid:
                dst[k] = src[i]
                i += 1
                k += 1
            while j < hi:
                dst[k] = src[j]
                j += 1
                k += 1
        src, dst = dst, src
        swapped = not swapped
        width *= 2
    if swapped:
        idx[:] = src


@njit
def rank_block(buf, query, score, code, doc_start, doc_len, doc_hash, seen, max_depth, judged_only):
    """Rank each query segment; returns (query slot per row of the matrix, grades matrix, error).

    ``seen`` (per query slot) is updated; a slot already seen gives
    ``(NOT_CONTIGUOUS, row, 0)``, a repeated docno ``(DUPLICATE, row_a, row_b)``.
    ``max_depth`` 0 means no limit.
    """
    n = len(query)
    nseg = 0
    longest = 0
    run = 0
    for i in range(n):
        if i == 0 or query[i] != query[i - 1]:
            nseg += 1
            run = 0
        run += 1
        longest = max(longest, run)
    seg_start = np.empty(nseg + 1, np.int64)
    seg_q = np.empty(nseg, np.int64)
    s = 0
    for i in range(n):
        if i == 0 or query[i] != query[i - 1]:
            seg_start[s] = i
            seg_q[s] = query[i]
            s += 1
    seg_start[nseg] = n
    empty = np.full((0, 0), PAD, np.int8)
    for s in range(nseg):
        q = seg_q[s]
        if seen[q]:
            return seg_q, empty, (NOT_CONTIGUOUS, seg_start[s], np.int64(0))
        seen[q] = True
    order = np.arange(n)
    tmp = np.empty(longest, np.int64)
    size = 16
    while size < 2 * longest:
        size *= 2
    stamp = np.zeros(size, np.int64)
    slots = np.empty(size, np.int64)
    mask = np.uint64(size - 1)
    depth = 0
    for s in range(nseg):
        lo, hi = seg_start[s], seg_start[s + 1]
        for i in range(lo + 1, hi):
            if not _before(buf, score, doc_start, doc_len, i - 1, i):
                _merge_sort(buf, score, doc_start, doc_len, order[lo:hi], tmp[:hi - lo])
                break
        for i in range(lo, hi):  # a docno twice in one ranking
            h = doc_hash[i]
            slot = h & mask
            while stamp[slot] == s + 1:
                r = slots[slot]
                if doc_hash[r] == h and _doc_cmp(buf, doc_start[r], doc_len[r], doc_start[i], doc_len[i]) == 0:
                    return seg_q, empty, (DUPLICATE, r, np.int64(i))
                slot = (slot + np.uint64(1)) & mask
            stamp[slot] = s + 1
            slots[slot] = i
        m = hi - lo if max_depth <= 0 else min(hi - lo, max_depth)
        if judged_only:
            d = 0
            for k in range(lo, lo + m):
                d += code[order[k]] >= 0
        else:
            d = m
        depth = max(depth, d)
    grades = np.full((nseg, depth), PAD, np.int8)
    for s in range(nseg):
        lo, hi = seg_start[s], seg_start[s + 1]
        m = hi - lo if max_depth <= 0 else min(hi - lo, max_depth)
        j = 0
        for k in range(lo, lo + m):
            c = code[order[k]]
            if judged_only and c < 0:
                continue
            grades[s, j] = c
            j += 1
    return seg_q, grades, (OK, np.int64(0), np.int64(0))
