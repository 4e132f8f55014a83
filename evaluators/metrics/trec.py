"""TREC qrels and run files parsed straight into numpy arrays.

Formats (trec_eval's ``get_qrels.c`` / ``get_trec_results.c``):

* qrels: ``qid iter docno rel`` — exactly four whitespace-separated fields;
  ``rel`` is an integer (negative: "in the pool but unjudged").
* run: ``qid Q0 docno rank score run_id [ignored...]`` — at least six fields;
  ``rank`` and ``run_id`` are ignored, ``score`` is a decimal number.

Lines whose first field starts with ``#`` and blank lines are skipped.

Everything here is a pure function over ``bytes``/numpy buffers except
:func:`read_blocks` and :func:`read_bytes`, the one place that opens files.

How it is fast: a whole block of the file is tokenised at once.  The usual
file has one separator byte between fields, so the positions of all
whitespace bytes reshape into an ``(n_lines, n_fields)`` table (one
``flatnonzero``); anything else (tabs+spaces runs, CRLF, comments, extra
fields) takes a general vectorised path.  Strings are never materialised:
each qid/docno becomes a few big-endian ``uint64`` words read with an
unaligned 8-byte view of the buffer, so comparing words compares strings the
way ``strcmp`` does, and hashing them gives join keys.  Scores are parsed by a
vectorised decimal parser that is exact (Clinger's fast path: an integer
mantissa below 2**53 divided by an exact power of ten is correctly rounded,
which is what ``strtod`` returns); the rare score outside that path goes
through Python's correctly rounded ``float``.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np

__all__ = [
    "TrecFormatError",
    "Qrels",
    "RunLines",
    "parse_qrels",
    "parse_run_block",
    "iter_line_blocks",
    "read_blocks",
    "read_bytes",
    "words_hash",
]

PAD = 64  # zero bytes after the data so 8-byte reads never run off the end
_WS = np.zeros(256, dtype=bool)
_WS[[9, 10, 11, 12, 13, 32]] = True  # C isspace()
_MASKS = np.array([(1 << (8 * i)) - 1 for i in range(8)] + [0xFFFFFFFFFFFFFFFF], dtype=np.uint64)
_POW10 = 10.0 ** np.arange(23)
_FLOAT_RE = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INT_RE = re.compile(rb"[+-]?\d+")


class TrecFormatError(ValueError):
    """A malformed qrels/run file; the message reads ``source:line: what is wrong``."""


def _fail(source: str, lineno: int, what: str) -> None:
    raise TrecFormatError(f"{source}:{lineno}: {what}")


# --------------------------------------------------------------------------- buffers


def _as_buffer(data: bytes | bytearray | memoryview) -> np.ndarray:
    """Copy ``data`` into a uint8 array ending in a newline plus PAD zero bytes."""
    n = len(data)
    buf = np.zeros(n + 1 + PAD, dtype=np.uint8)
    buf[:n] = np.frombuffer(data, dtype=np.uint8)
    if n and buf[n - 1] != 10:
        buf[n] = 10
        n += 1
    return buf[: n + PAD], n


def _u64_view(buf: np.ndarray) -> np.ndarray:
    """uint64 little-endian word starting at every byte offset (unaligned view)."""
    return np.ndarray(shape=(len(buf) - 8,), dtype="<u8", buffer=buf, offset=0, strides=(1,))


def _words(u64: np.ndarray, starts: np.ndarray, lengths: np.ndarray, nwords: int) -> np.ndarray:
    """Token bytes as ``(n, nwords)`` big-endian uint64, zero padded (strcmp order)."""
    out = np.empty((len(starts), nwords), dtype=np.uint64)
    for w in range(nwords):
        word = u64[starts + 8 * w]
        nb = np.clip(lengths - 8 * w, 0, 8)
        np.bitwise_and(word, _MASKS[nb], out=word)
        out[:, w] = word.byteswap()
    return out


def words_hash(words: np.ndarray, seed: int = 0) -> np.ndarray:
    """64-bit mix of each row of a uint64 word matrix (for joins; verified after)."""
    h = np.full(words.shape[0], np.uint64(0x9E3779B97F4A7C15 ^ seed), dtype=np.uint64)
    c = np.uint64(0xBF58476D1CE4E5B9)
    with np.errstate(over="ignore"):
        for w in range(words.shape[1]):
            h ^= words[:, w]
            h *= c
            h ^= h >> np.uint64(31)
    return h


# --------------------------------------------------------------------------- tokeniser


@dataclass
class _Fields:
    starts: list  # per requested field: int64 array of token starts
    ends: list
    lineno: np.ndarray  # 1-based physical line number within the block


def _tokenize(buf: np.ndarray, n: int, n_fields: int, exact: bool, want: tuple,
              source: str, line_offset: int) -> _Fields:
    """Locate fields ``want`` of every content line of ``buf[:n]`` (which ends in '\\n')."""
    data = buf[:n]
    if n == 0:
        e = np.zeros(0, np.int64)
        return _Fields([e] * len(want), [e] * len(want), e)
    # ---- fast path: one separator byte between fields, nothing else on the line
    ws = np.flatnonzero(data <= 32)
    if len(ws) % n_fields == 0 and len(ws):
        tab = ws.reshape(-1, n_fields)
        line_start = np.empty(len(tab), dtype=np.int64)
        line_start[0] = 0
        line_start[1:] = tab[:-1, -1] + 1
        seps = data[tab]
        ok = (
            np.all(seps[:, -1] == 10)
            and np.all((seps[:, :-1] == 32) | (seps[:, :-1] == 9))
            and np.all(tab[:, 0] > line_start)
            and np.all(np.diff(tab, axis=1) > 1)
            and data[0] != 35
            and not np.any(data[line_start] == 35)
        )
        if ok:
            starts, ends = [], []
            for f in want:
                starts.append(line_start if f == 0 else tab[:, f - 1] + 1)
                ends.append(tab[:, f])
            lineno = np.arange(1, len(tab) + 1, dtype=np.int64) + line_offset
            return _Fields(starts, ends, lineno)
    # ---- general path
    sp = _WS[data]
    nonsp = ~sp
    tok_start = np.flatnonzero(nonsp[1:] & sp[:-1]) + 1
    if nonsp[0]:
        tok_start = np.concatenate(([0], tok_start))
    tok_end = np.flatnonzero(nonsp[:-1] & sp[1:]) + 1
    newlines = np.flatnonzero(data == 10)
    n_lines = len(newlines)
    tok_line = np.searchsorted(newlines, tok_start)
    counts = np.bincount(tok_line, minlength=n_lines)
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    has = counts > 0
    lines = np.flatnonzero(has)
    comment = data[tok_start[first[lines]]] == 35
    lines = lines[~comment]
    cnt = counts[lines]
    bad = (cnt < n_fields) if not exact else (cnt != n_fields)
    if np.any(bad):
        i = int(np.argmax(bad))
        lineno = int(lines[i]) + 1 + line_offset
        need = f"exactly {n_fields}" if exact else f"at least {n_fields}"
        _fail(source, lineno, f"expected {need} whitespace-separated fields, found {int(cnt[i])}")
    f0 = first[lines]
    starts = [tok_start[f0 + f] for f in want]
    ends = [tok_end[f0 + f] for f in want]
    return _Fields(starts, ends, lines.astype(np.int64) + 1 + line_offset)


# --------------------------------------------------------------------------- numbers


def _byte_matrix(u64: np.ndarray, starts: np.ndarray, lengths: np.ndarray, width: int) -> np.ndarray:
    nw = (width + 7) // 8
    mat = np.empty((len(starts), nw), dtype=np.uint64)
    for w in range(nw):
        word = u64[starts + 8 * w]
        nb = np.clip(lengths - 8 * w, 0, 8)
        mat[:, w] = word & _MASKS[nb]
    return mat.view(np.uint8).reshape(len(starts), nw * 8)[:, :width]


def _token_text(buf: np.ndarray, s: int, e: int) -> bytes:
    return buf[s:e].tobytes()


def _parse_floats(buf, u64, starts, ends, linenos, source) -> np.ndarray:
    """Exact decimal parse of score tokens; error on non-numbers, NaN and inf."""
    lengths = ends - starts
    n = len(starts)
    out = np.empty(n, dtype=np.float64)
    if n == 0:
        return out
    width = int(min(lengths.max(), 24))
    mat = _byte_matrix(u64, starts, np.minimum(lengths, width), width).T  # (width, n), row = column
    mat = np.ascontiguousarray(mat)
    neg = mat[0] == 45
    signed = neg | (mat[0] == 43)
    mant = np.zeros(n, dtype=np.int64)
    ndig = np.zeros(n, dtype=np.int64)
    nfrac = np.zeros(n, dtype=np.int64)
    ndot = np.zeros(n, dtype=np.int64)
    badchar = lengths > width
    for j in range(width):
        col = mat[j]
        d = col - np.uint8(48)
        isdig = d < 10
        inside = j < lengths
        if j == 0:
            isdig &= ~signed
        isdot = col == 46
        if j == 0:
            badchar |= ~(isdig | isdot | signed)
        else:
            badchar |= inside & ~(isdig | isdot)
        ndot += isdot
        np.multiply(mant, 10, out=mant, where=isdig)
        np.add(mant, d, out=mant, where=isdig, casting="unsafe")
        ndig += isdig
        nfrac += isdig & (ndot > 0)
    slow = badchar | (ndot > 1) | (ndig == 0) | (ndig > 18) | (mant > (1 << 53)) | (nfrac > 22)
    np.divide(mant.astype(np.float64), _POW10[np.minimum(nfrac, 22)], out=out)
    np.negative(out, out=out, where=neg)
    for i in np.flatnonzero(slow):
        text = buf[starts[i]:ends[i]].tobytes()
        if not _FLOAT_RE.fullmatch(text):
            low = text.lower().lstrip(b"+-")
            if low in (b"nan", b"inf", b"infinity"):
                _fail(source, int(linenos[i]), f"score {text.decode(errors='replace')!r} is not finite")
            _fail(source, int(linenos[i]), f"score {text.decode(errors='replace')!r} is not a number")
        v = float(text)
        if not np.isfinite(v):
            _fail(source, int(linenos[i]), f"score {text.decode(errors='replace')!r} is not finite")
        out[i] = v
    return out


def _parse_ints(buf, u64, starts, ends, linenos, source, what) -> np.ndarray:
    """Integer tokens (qrels grades), -127..127; error on anything else."""
    lengths = ends - starts
    n = len(starts)
    if n == 0:
        return np.zeros(0, np.int64)
    width = int(min(lengths.max(), 8))
    mat = np.ascontiguousarray(_byte_matrix(u64, starts, np.minimum(lengths, width), width).T)
    neg = mat[0] == 45
    signed = neg | (mat[0] == 43)
    val = np.zeros(n, dtype=np.int64)
    ok = (lengths <= 4) & (lengths > signed)
    for j in range(width):
        d = (mat[j] - np.uint8(48)).astype(np.int64)
        inside = j < lengths
        skip = (j == 0) & signed
        isdig = d < 10
        ok &= ~inside | isdig | skip
        use = inside & isdig & ~skip
        val = np.where(use, val * 10 + d, val)
    val = np.where(neg, -val, val)
    bad = ~ok | (val < -127) | (val > 127)
    if np.any(bad):
        i = int(np.argmax(bad))
        text = buf[starts[i]:ends[i]].tobytes().decode(errors="replace")
        if _INT_RE.fullmatch(text.encode()):
            _fail(source, int(linenos[i]), f"{what} {text!r} is outside -127..127")
        _fail(source, int(linenos[i]), f"{what} {text!r} is not an integer")
    return val


# --------------------------------------------------------------------------- qrels


@dataclass
class Qrels:
    """Judgements as columnar arrays, sorted by (query, grade descending).

    ``qid_words[q]`` are the big-endian words of query ``q``'s id (queries are
    numbered in ``strcmp`` order, trec_eval's output order); ``qids[q]`` its
    text.  Row ``i`` of the judgement arrays: ``query[i]``, ``doc_words[i]``,
    ``grade[i]``.  ``offsets`` delimits each query's rows.
    """

    qids: list
    qid_words: np.ndarray
    query: np.ndarray
    doc_words: np.ndarray
    grade: np.ndarray
    offsets: np.ndarray

    @property
    def n_queries(self) -> int:
        return len(self.qids)

    @property
    def max_grade(self) -> int:
        return int(self.grade.max()) if len(self.grade) else 0


def parse_qrels(data: bytes, source: str = "<qrels>") -> Qrels:
    """Parse a whole qrels file given as bytes.

    >>> q = parse_qrels(b"1 0 d1 2\\n1 0 d2 0\\n")
    >>> q.qids, q.grade.tolist()
    (['1'], [2, 0])
    """
    buf, n = _as_buffer(data)
    if n == 0 or not np.any(~_WS[buf[:n]]):
        raise TrecFormatError(f"{source}: no judgements (empty file)")
    fields = _tokenize(buf, n, 4, True, (0, 2, 3), source, 0)
    u64 = _u64_view(buf)
    (qs, ds, gs), (qe, de, ge) = fields.starts, fields.ends
    if len(qs) == 0:
        raise TrecFormatError(f"{source}: no judgements (only comments/blank lines)")
    grade = _parse_ints(buf, u64, gs, ge, fields.lineno, source, "relevance grade").astype(np.int8)
    qlen, dlen = qe - qs, de - ds
    qw = _words(u64, qs, qlen, int((qlen.max() + 7) // 8))
    dw = _words(u64, ds, dlen, int((dlen.max() + 7) // 8))
    # number queries in strcmp order
    order = np.lexsort(qw.T[::-1])
    qws = qw[order]
    newq = np.ones(len(order), dtype=bool)
    newq[1:] = np.any(qws[1:] != qws[:-1], axis=1)
    qidx_sorted = np.cumsum(newq) - 1
    query = np.empty(len(order), dtype=np.int64)
    query[order] = qidx_sorted
    firsts = order[newq]
    qid_words = qw[firsts]
    qids = [buf[qs[i]:qe[i]].tobytes().decode("utf-8", "replace") for i in firsts]
    # duplicates (same query, same doc) are an error, as in trec_eval
    key_order = np.lexsort(tuple(dw.T[::-1]) + (query,))
    dq, ddw = query[key_order], dw[key_order]
    dup = (dq[1:] == dq[:-1]) & np.all(ddw[1:] == ddw[:-1], axis=1)
    if np.any(dup):
        i = key_order[int(np.argmax(dup)) + 1]
        doc = buf[ds[i]:de[i]].tobytes().decode("utf-8", "replace")
        _fail(source, int(fields.lineno[i]),
              f"duplicate judgement for query {qids[query[i]]!r} document {doc!r}")
    # final order: by query, grade descending (ideal rankings read straight off it)
    final = np.lexsort((-grade.astype(np.int64), query))
    query, dw, grade = query[final], dw[final], grade[final]
    offsets = np.searchsorted(query, np.arange(len(qids) + 1))
    return Qrels(qids, qid_words, query, dw, grade, offsets)


# --------------------------------------------------------------------------- run


@dataclass
class RunLines:
    """Run lines of one block as columns (before joining with qrels)."""

    qid_words: np.ndarray  # (n, w) big-endian words
    doc_words: np.ndarray  # (n, w)
    score: np.ndarray  # float64
    lineno: np.ndarray  # int64, 1-based line number in the file
    qid_text: callable  # i -> str
    doc_text: callable  # i -> str

    def __len__(self) -> int:
        return len(self.score)


def parse_run_block(data: bytes, source: str = "<run>", line_offset: int = 0) -> RunLines:
    """Parse a block of complete run lines (``data`` ends at a line boundary).

    >>> r = parse_run_block(b"1 Q0 d1 1 2.5 x\\n1 Q0 d2 2 -1e3 x\\n")
    >>> r.score.tolist()
    [2.5, -1000.0]
    """
    buf, n = _as_buffer(data)
    fields = _tokenize(buf, n, 6, False, (0, 2, 4), source, line_offset)
    u64 = _u64_view(buf)
    (qs, ds, ss), (qe, de, se) = fields.starts, fields.ends
    if len(qs) == 0:
        e = np.zeros((0, 1), np.uint64)
        return RunLines(e, e, np.zeros(0), np.zeros(0, np.int64), None, None)
    score = _parse_floats(buf, u64, ss, se, fields.lineno, source)
    qlen, dlen = qe - qs, de - ds
    qw = _words(u64, qs, qlen, int((qlen.max() + 7) // 8))
    dw = _words(u64, ds, dlen, int((dlen.max() + 7) // 8))

    def qid_text(i, buf=buf, qs=qs, qe=qe):
        return buf[qs[i]:qe[i]].tobytes().decode("utf-8", "replace")

    def doc_text(i, buf=buf, ds=ds, de=de):
        return buf[ds[i]:de[i]].tobytes().decode("utf-8", "replace")

    return RunLines(qw, dw, score, fields.lineno, qid_text, doc_text)


def iter_line_blocks(blocks: Iterable[bytes]) -> Iterator[tuple[bytes, int]]:
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
