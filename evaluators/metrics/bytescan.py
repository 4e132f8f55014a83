"""Compiled helpers over the bytes of a TREC file: tokens, lines, hashes, numbers, docno order.

Everything takes a ``uint8`` array and positions in it; nothing builds a
Python object per line (see :mod:`.trec` and :mod:`.runscan`, which walk
whole files with these).  Whitespace is C's ``isspace()`` (what trec_eval's
``sscanf``/``strtok`` split on); a line ends at ``\\n``.

Scores are parsed exactly: Clinger's fast path (an integer mantissa up to
2**53 times or divided by an exact power of ten up to 1e22 is one correctly
rounded operation, which is what ``strtod`` returns); anything else is left
to the caller (Python's correctly rounded ``float``).

>>> import numpy as np
>>> b = np.frombuffer(b"q1 Q0  d7 1 -2.50 run\\n", np.uint8)
>>> s, e = token(b, 0, len(b)); s, e = token(b, e, len(b)); s, e = token(b, e, len(b))
>>> bytes(b[s:e]), parse_score(b, 12, 17)
(b'd7', (-2.5, True))
>>> k = np.frombuffer(b"d10d1d2", np.uint8)  # strcmp: d1 < d10 < d2
>>> doc_cmp(k, 0, 3, 3, 2) > 0, doc_cmp(k, 5, 2, 0, 3) > 0
(True, True)
"""
from __future__ import annotations

import numpy as np

from .jit import njit

__all__ = ["isspace", "token", "line_end", "count_tokens", "fnv", "same", "find_qid", "parse_grade",
           "parse_score", "slot0", "doc_key", "doc_cmp", "grow", "fast_run_line", "fast_qrels_line", "last_line_end",
           "POW10"]

FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)
_S32 = np.uint64(32)
_TWO53 = 1 << 53
POW10 = 10.0 ** np.arange(23)  # exact doubles: the divisors and factors of the fast path


@njit
def isspace(c):
    return c <= 32 and (c == 32 or (c >= 9 and c <= 13))  # one compare for the usual byte


@njit(inline="always")
def token(buf, i, n):
    """Next token of the current line from ``i``: (start, end); start == end at the end of the line."""
    while i < n and buf[i] != 10 and isspace(buf[i]):
        i += 1
    s = i
    while i < n and not isspace(buf[i]):
        i += 1
    return s, i


@njit(inline="always")
def line_end(buf, i, n):
    """Position of the ``\\n`` ending the line that holds ``i`` (``n`` if none)."""
    while i < n and buf[i] != 10:
        i += 1
    return i


@njit
def count_tokens(buf, i, n):
    count = 0
    while True:
        s, e = token(buf, i, n)
        if s == e:
            return count
        count += 1
        i = e


@njit(inline="always")
def fnv(buf, s, e):
    """64-bit FNV-1a of ``buf[s:e]``."""
    h = FNV_OFFSET
    for k in range(s, e):
        h = (h ^ np.uint64(buf[k])) * FNV_PRIME
    return h


@njit(inline="always")
def same(a, a_s, a_n, b, b_s, b_n):
    if a_n != b_n:
        return False
    for k in range(a_n):
        if a[a_s + k] != b[b_s + k]:
            return False
    return True


@njit
def slot0(h, mask):
    """First probe of an open-addressing table (the high bits mixed in: FNV's low bits alone cluster)."""
    return (h ^ (h >> _S32)) & mask


@njit
def find_qid(buf, s, e, h, qbuf, q_s, q_l, q_h, qtab):
    """Slot of query id ``buf[s:e]`` (hash ``h``) in table ``qtab``, or -1; and the table position probed last."""
    mask = np.uint64(len(qtab) - 1)
    pos = h & mask
    while True:
        r = qtab[pos]
        if r < 0:
            return np.int64(-1), pos
        if q_h[r] == h and same(buf, s, e - s, qbuf, q_s[r], q_l[r]):
            return np.int64(r), pos
        pos = (pos + np.uint64(1)) & mask


@njit(inline="always")
def parse_grade(buf, s, e):
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


@njit(inline="always")
def parse_score(buf, s, e):
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
        v = v / POW10[-e10]
    elif e10 > 0:
        if e10 > 22:
            return 0.0, False
        v = v * POW10[e10]
    return (-v if neg else v), True


@njit(inline="always")
def doc_key(buf, s, e):
    """FNV-1a hash of docno ``buf[s:e]`` and its first 8 bytes as a big-endian integer (zero-padded).

    Keys order like ``strcmp`` on those 8 bytes, so most docno comparisons
    are one integer compare; equal keys fall back to :func:`doc_cmp`.
    """
    h = FNV_OFFSET
    key = np.uint64(0)
    for k in range(s, e):
        c = np.uint64(buf[k])
        h = (h ^ c) * FNV_PRIME
        if k - s < 8:
            key = (key << np.uint64(8)) | c
    if e - s < 8:
        key = key << np.uint64(8 * (8 - (e - s)))
    return h, key


@njit
def doc_cmp(buf, a_s, a_n, b_s, b_n):
    """``strcmp`` of two docnos in ``buf``: <0, 0, >0 (bytes unsigned; a prefix sorts first)."""
    n = min(a_n, b_n)
    for k in range(n):
        d = np.int64(buf[a_s + k]) - np.int64(buf[b_s + k])
        if d != 0:
            return d
    return np.int64(a_n) - np.int64(b_n)


@njit
def grow(a, n):
    """A copy of ``a`` with room for ``n`` items."""
    out = np.empty(n, a.dtype)
    out[:len(a)] = a
    return out


# --------------------------------------------------------------------------- the usual line, in one go
#
# Nearly every line of a real file is fields separated by single spaces,
# ending in "\n".  These read such a line in one pass, hashing the docno and
# parsing a plain decimal score on the way, and answer ok=False for anything
# else (tabs, runs of spaces, comments, exponents, ...): the caller then
# reads the line with the general helpers above.  They do not check bounds:
# the caller guarantees that the line at ``i`` ends in "\n" inside the buffer.


@njit(inline="always")
def _two_fields(buf, i):
    """A query id and one more field at ``i``, each followed by one space: (qid end, third field's start or -1)."""
    s0 = i
    while buf[i] > 32:
        i += 1
    e0 = i
    if buf[i] != 32 or e0 == s0 or buf[s0] == 35:
        return e0, -1
    i += 1
    s1 = i
    while buf[i] > 32:
        i += 1
    if buf[i] != 32 or i == s1:
        return e0, -1
    return e0, i + 1


@njit(inline="always")
def fast_run_line(buf, i):
    """``qid Q0 docno rank score tag\\n`` at ``i``: (ok, qid end, docno start, end, docno hash, docno key,
    score parsed, score, score start, end, next line)."""
    e0, s2 = _two_fields(buf, i)
    if s2 < 0:
        return False, e0, i, i, FNV_OFFSET, np.uint64(0), False, 0.0, i, i, i
    i = s2
    h = FNV_OFFSET
    key = np.uint64(0)
    while buf[i] > 32:
        c = np.uint64(buf[i])
        h = (h ^ c) * FNV_PRIME
        if i - s2 < 8:
            key = (key << np.uint64(8)) | c
        i += 1
    e2 = i
    if e2 - s2 < 8:
        key = key << np.uint64(8 * (8 - (e2 - s2)))
    if buf[i] != 32 or e2 == s2:
        return False, e0, i, i, FNV_OFFSET, np.uint64(0), False, 0.0, i, i, i
    i += 1
    s3 = i
    while buf[i] > 32:
        i += 1
    if buf[i] != 32 or i == s3:
        return False, e0, i, i, FNV_OFFSET, np.uint64(0), False, 0.0, i, i, i
    i += 1
    s4 = i
    neg = buf[i] == 45
    if neg:
        i += 1
    mant = 0
    digits = 0
    dot = -1
    while buf[i] > 32:  # [-]digits[.digits], at most 15 digits: the mantissa and 10**k are exact doubles
        d = np.int64(buf[i]) - 48
        if d >= 0 and d <= 9:
            mant = mant * 10 + d
            digits += 1
        elif d == -2 and dot < 0:
            dot = digits
        else:
            break
        i += 1
    parsed = buf[i] <= 32 and digits > 0 and digits <= 15
    while buf[i] > 32:
        i += 1
    e4 = i
    v = 0.0
    if parsed:
        v = float(mant)
        if dot >= 0 and digits > dot:
            v = v / POW10[digits - dot]  # one correctly rounded division: strtod's answer
        if neg:
            v = -v
    if buf[i] != 32 or e4 == s4:
        return False, e0, i, i, FNV_OFFSET, np.uint64(0), False, 0.0, i, i, i
    i += 1
    s5 = i
    while buf[i] > 32:
        i += 1
    if buf[i] != 10 or i == s5:
        return False, e0, i, i, FNV_OFFSET, np.uint64(0), False, 0.0, i, i, i
    return True, e0, s2, e2, h, key, parsed, v, s4, e4, i + 1


@njit(inline="always")
def fast_qrels_line(buf, i):
    """``qid iter docno grade\\n`` at ``i``: (ok, qid end, docno start, end, docno hash, grade, next line)."""
    e0, s2 = _two_fields(buf, i)
    if s2 < 0:
        return False, e0, i, i, FNV_OFFSET, 0, i
    i = s2
    h = FNV_OFFSET
    while buf[i] > 32:
        h = (h ^ np.uint64(buf[i])) * FNV_PRIME
        i += 1
    e2 = i
    if buf[i] != 32 or e2 == s2:
        return False, e0, i, i, FNV_OFFSET, 0, i
    i += 1
    s3 = i
    while buf[i] > 32:
        i += 1
    if buf[i] != 10 or i == s3:
        return False, e0, i, i, FNV_OFFSET, 0, i
    g, ok = parse_grade(buf, s3, i)
    if not ok:
        return False, e0, i, i, FNV_OFFSET, 0, i
    return True, e0, s2, e2, h, g, i + 1


@njit
def last_line_end(buf, a, b):
    """Just past the last ``\\n`` in ``buf[a:b]`` (``a`` if none): lines before it all end in one."""
    j = b
    while j > a and buf[j - 1] != 10:
        j -= 1
    return j
