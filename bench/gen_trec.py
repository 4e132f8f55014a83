"""Generate a synthetic TREC run + qrels: N queries, 100 ranked docs each, ~30 judged, grades 0-3.

Scores have 4 decimals so ties occur (written in rank order, ties in random docno order).
Qrels: ~20 of the retrieved docs and ~10 unretrieved ones per query.

    python bench/gen_trec.py --queries 10000 --out /tmp/trec10k
"""
from __future__ import annotations

import argparse
import os

import numpy as np


def generate(n_queries: int, out_dir: str, docs: int = 100, judged_ret: int = 20, judged_unret: int = 10,
             seed: int = 0, block: int = 20000) -> tuple[str, str]:
    os.makedirs(out_dir, exist_ok=True)
    run_path, qrels_path = os.path.join(out_dir, "run.txt"), os.path.join(out_dir, "qrels.txt")
    rng = np.random.default_rng(seed)
    grade_p = [0.5, 0.25, 0.15, 0.10]
    with open(run_path, "w") as run, open(qrels_path, "w") as qrels:
        for b0 in range(0, n_queries, block):
            nb = min(block, n_queries - b0)
            width = docs + judged_unret  # distinct ids per query: one id per stride bucket, shuffled
            stride = 50_000_000 // width
            doc_ids = np.arange(width) * stride + rng.integers(0, stride, size=(nb, width))
            doc_ids = np.take_along_axis(doc_ids, np.argsort(rng.random((nb, width)), axis=1), axis=1)
            scores = np.sort(np.round(rng.gamma(2.0, 3.0, size=(nb, docs)), 4), axis=1)[:, ::-1]
            judged_pos = np.argsort(rng.random((nb, docs)), axis=1)[:, :judged_ret]
            grades = rng.choice(4, p=grade_p, size=(nb, judged_ret + judged_unret))
            run_lines, qrel_lines = [], []
            for i in range(nb):
                qid = str(b0 + i + 1)
                ids = doc_ids[i]
                run_lines.extend(f"{qid} Q0 D{ids[r]} {r + 1} {scores[i, r]:.4f} bench\n" for r in range(docs))
                jd = list(ids[judged_pos[i]]) + list(ids[docs:])
                qrel_lines.extend(f"{qid} 0 D{d} {g}\n" for d, g in zip(jd, grades[i]))
            run.write("".join(run_lines))
            qrels.write("".join(qrel_lines))
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
