"""Generate a synthetic TREC run + qrels: N queries, 100 ranked docs each, ~30 judged, grades 0-3.

Scores have 4 decimals so ties occur (written in rank order, ties in random docno order).
Qrels: ~20 of the retrieved docs and ~10 unretrieved ones per query.

    python bench/gen_trec.py --queries 10000 --out /tmp/trec10k

Lines are formatted with numpy (digits into a byte matrix, then the padding
squeezed out), not one f-string per line: 1,000,000 queries (100 M run lines,
3.5 GB) take minutes rather than most of an hour.  The output is byte-for-byte
what ``f"{qid} Q0 D{doc} {rank} {score:.4f} bench"`` would write.
"""
from __future__ import annotations

import argparse
import os

import numpy as np


def _digits(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decimal digits of non-negative integers, left-aligned: (n, width) uint8 and lengths."""
    x = np.asarray(x, dtype=np.int64)
    width = max(len(str(int(x.max()))) if len(x) else 1, 1)
    nd = np.ones(len(x), dtype=np.int64)
    for p in range(1, width):
        nd += x >= 10 ** p
    out = np.zeros((len(x), width), dtype=np.uint8)
    for j in range(width):
        e = nd - 1 - j
        ok = e >= 0
        out[:, j] = np.where(ok, (x // 10 ** np.maximum(e, 0)) % 10 + 48, 0)
    return out, nd


def _text(n: int, s: str) -> tuple[np.ndarray, np.ndarray]:
    b = np.frombuffer(s.encode(), dtype=np.uint8)
    return np.broadcast_to(b, (n, len(b))), np.full(n, len(b), dtype=np.int64)


def _lines(fields: list) -> bytes:
    """Concatenate (matrix, length) fields row by row into one byte string."""
    mats = [np.ascontiguousarray(m) for m, _ in fields]
    masks = [np.arange(m.shape[1]) < ln[:, None] for m, ln in fields]
    return np.hstack(mats)[np.hstack(masks)].tobytes()


def _score_fields(scores: np.ndarray) -> list:
    """``f"{s:.4f}"`` for non-negative scores already rounded to 4 decimals."""
    k = np.rint(scores * 10000).astype(np.int64)
    whole, frac = _digits(k // 10000)
    f = k % 10000
    fr = np.stack([(f // 10 ** p) % 10 + 48 for p in (3, 2, 1, 0)], axis=1).astype(np.uint8)
    return [(whole, frac), _text(len(k), "."), (fr, np.full(len(k), 4))]


def generate(n_queries: int, out_dir: str, docs: int = 100, judged_ret: int = 20, judged_unret: int = 10,
             seed: int = 0, block: int = 20000) -> tuple[str, str]:
    os.makedirs(out_dir, exist_ok=True)
    run_path, qrels_path = os.path.join(out_dir, "run.txt"), os.path.join(out_dir, "qrels.txt")
    rng = np.random.default_rng(seed)
    grade_p = [0.5, 0.25, 0.15, 0.10]
    with open(run_path, "wb") as run, open(qrels_path, "wb") as qrels:
        for b0 in range(0, n_queries, block):
            nb = min(block, n_queries - b0)
            width = docs + judged_unret  # distinct ids per query: one id per stride bucket, shuffled
            stride = 50_000_000 // width
            doc_ids = np.arange(width) * stride + rng.integers(0, stride, size=(nb, width))
            doc_ids = np.take_along_axis(doc_ids, np.argsort(rng.random((nb, width)), axis=1), axis=1)
            scores = np.sort(np.round(rng.gamma(2.0, 3.0, size=(nb, docs)), 4), axis=1)[:, ::-1]
            judged_pos = np.argsort(rng.random((nb, docs)), axis=1)[:, :judged_ret]
            grades = rng.choice(4, p=grade_p, size=(nb, judged_ret + judged_unret))
            qid = np.arange(b0 + 1, b0 + nb + 1)
            n = nb * docs
            run.write(_lines([
                _digits(np.repeat(qid, docs)), _text(n, " Q0 D"), _digits(doc_ids[:, :docs].ravel()),
                _text(n, " "), _digits(np.tile(np.arange(1, docs + 1), nb)), _text(n, " "),
                *_score_fields(scores.ravel()), _text(n, " bench\n")]))
            jd = np.concatenate([np.take_along_axis(doc_ids[:, :docs], judged_pos, axis=1),
                                 doc_ids[:, docs:]], axis=1)
            m = jd.size
            qrels.write(_lines([
                _digits(np.repeat(qid, jd.shape[1])), _text(m, " 0 D"), _digits(jd.ravel()),
                _text(m, " "), _digits(grades.ravel()), _text(m, "\n")]))
    return qrels_path, run_path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--queries", type=int, default=10000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    print(*generate(a.queries, a.out, seed=a.seed))


if __name__ == "__main__":
    main()
