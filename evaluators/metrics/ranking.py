"""trec_eval's ranking of one query's results, as grade codes by rank.

Rules (trec_eval ``form_res_rels.c``): documents are ordered by score
descending, ties broken by docno descending (``strcmp`` byte order); the rank
column of the run is ignored; a docno repeated within one query's ranking is
an error; ``max_depth`` (``-M``) keeps the first M documents of that order;
``judged_only`` (``-J``) then removes documents that are not judged (grade
code < 0) and ranks the rest again.

A query's rows are columns (score, grade code, docno offset and length,
docno hash and 8-byte key) filled by :mod:`.runscan`.  Runs are nearly
always written in rank order already, so the check is one pass and only
out-of-order queries are sorted (merge sort on (score, docno key), stable).

>>> import numpy as np
>>> from evaluators.metrics.bytescan import doc_key
>>> buf = np.frombuffer(b"d1d10d2", np.uint8)
>>> ds, dl = np.array([0, 2, 5]), np.array([2, 3, 2])
>>> keys = np.array([doc_key(buf, s, s + n)[1] for s, n in zip(ds, dl)], np.uint64)
>>> order = np.arange(3)
>>> rank_order(buf, np.zeros(3), keys, ds, dl, 3, order, np.empty(3, np.int64))
>>> order.tolist()  # all tied: docno descending (strcmp) is d2, d10, d1
[2, 1, 0]
"""
from __future__ import annotations

import numpy as np

from .bytescan import doc_cmp, same, slot0
from .jit import njit

__all__ = ["rank_order", "first_duplicate", "grades_by_rank", "PAD"]

PAD = -128  # grade code past the end of a ranking (by-rank matrices)


@njit(inline="always")
def _before(buf, score, key, ds, dl, a, b):
    """Row a ranks at or before row b: higher score, or equal score and docno not smaller."""
    if score[a] != score[b]:
        return score[a] > score[b]
    if key[a] != key[b]:
        return key[a] > key[b]
    return doc_cmp(buf, ds[a], dl[a], ds[b], dl[b]) >= 0


@njit
def _merge_sort(buf, score, key, ds, dl, idx, tmp):
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
                if _before(buf, score, key, ds, dl, src[i], src[j]):
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
def rank_order(buf, score, key, ds, dl, n, order, tmp):
    """Put rows ``0..n-1`` in trec_eval's order into ``order[:n]`` (``tmp``: scratch of >= n)."""
    for i in range(n):
        order[i] = i
    for i in range(1, n):
        if score[i - 1] > score[i]:  # the usual case, no call
            continue
        if not _before(buf, score, key, ds, dl, i - 1, i):
            _merge_sort(buf, score, key, ds, dl, order[:n], tmp[:n])
            return


@njit
def first_duplicate(buf, h, ds, dl, n, table, stamp, gen):
    """First pair of rows (a, b), a < b, with the same docno, or (-1, -1).

    ``table``/``stamp`` (one length, a power of two >= max(2n, 16)) are
    reused from query to query: a slot is in use when its stamp equals
    ``gen``.  Only the first power of two >= max(2n, 16) slots are used, so a
    short ranking stays in a few cache lines.
    """
    size = 16
    while size < 2 * n:
        size *= 2
    mask = np.uint64(size - 1)
    for i in range(n):
        hi = h[i]
        pos = slot0(hi, mask)
        while stamp[pos] == gen:
            r = table[pos]
            if h[r] == hi and same(buf, ds[r], dl[r], buf, ds[i], dl[i]):
                return r, np.int64(i)
            pos = (pos + np.uint64(1)) & mask
        stamp[pos] = gen
        table[pos] = i
    return np.int64(-1), np.int64(-1)


@njit
def grades_by_rank(code, order, n, max_depth, judged_only, out):
    """Grade codes in rank order into ``out``; returns their number (after -M, then -J)."""
    m = n if max_depth <= 0 else min(n, max_depth)
    d = 0
    for k in range(m):
        c = code[order[k]]
        if judged_only and c < 0:
            continue
        out[d] = c
        d += 1
    return d
