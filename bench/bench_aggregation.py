"""Dawid–Skene (ours) beside crowd-kit's, on generated graded labels.

    .venv/bin/python bench/bench_aggregation.py [--items 100000] [--workers-per-item 3] [--seed 0]

Generates a 0–3 graded task: true grades with skewed priors, a pool of workers of
varied quality who mostly err to an adjacent grade (some lenient, some harsh, a few
near-random), each item labelled by ``--workers-per-item`` distinct workers.
Prints accuracy vs the truth and wall time for each method, and the time ratio;
then a second, sparse table (20,000 items, 500 workers with ~120 labels each)
where the structured models (one-coin, ordinal) beat full Dawid–Skene.
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from evaluators.aggregation import DawidSkene, MajorityVote, OneCoinDawidSkene, OrdinalDawidSkene  # noqa: E402


def generate(n_items: int, n_workers: int, per_item: int, seed: int):
    """(item, worker, label, truth): graded 0..3 labels from workers who err mostly to adjacent grades."""
    rng = np.random.default_rng(seed)
    k = 4
    truth = rng.choice(k, size=n_items, p=[0.4, 0.3, 0.2, 0.1])
    # Per worker: sharpness (how often exactly right) and leniency (bias up/down).
    sharp = rng.uniform(0.3, 2.5, n_workers)
    sharp[rng.random(n_workers) < 0.1] = 0.05  # a few near-random workers
    bias = rng.normal(0.0, 0.4, n_workers)
    grades = np.arange(k)
    d = grades[None, :] - grades[:, None]  # d[true, label]
    logits = -sharp[:, None, None] * np.abs(d)[None] * 2.0 + bias[:, None, None] * d[None]
    conf = np.exp(logits)
    conf /= conf.sum(axis=2, keepdims=True)  # (workers, true, label)
    # per_item distinct workers per item.
    workers = np.sort(np.argpartition(rng.random((n_items, n_workers)), per_item - 1, axis=1)[:, :per_item], axis=1)
    item = np.repeat(np.arange(n_items), per_item)
    worker = workers.ravel()
    cum = conf[worker, truth[item]].cumsum(axis=1)
    label = (rng.random(item.size)[:, None] > cum).sum(axis=1)
    return item, worker, np.minimum(label, k - 1), truth


def _timed(fn, repeat: int):
    best = np.inf
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return out, best


def table(n_items: int, n_workers: int, per_item: int, seed: int, repeat: int) -> None:
    item, worker, label, truth = generate(n_items, n_workers, per_item, seed)
    data = {"item": item, "worker": worker, "label": label}
    rows = []

    def ours(name, model):
        labels, secs = _timed(lambda: model.fit_predict(data), repeat)
        rows.append((name, float((labels == truth).mean()), secs))

    ours("qrelay MajorityVote", MajorityVote())
    ours("qrelay MajorityVote(median)", MajorityVote(tie="median"))
    ours("qrelay DawidSkene", DawidSkene())
    ours("qrelay OneCoinDawidSkene", OneCoinDawidSkene())
    ours("qrelay OrdinalDawidSkene", OrdinalDawidSkene(classes=[0, 1, 2, 3]))
    try:
        import pandas as pd
        from crowdkit.aggregation import DawidSkene as CKDawidSkene
        from crowdkit.aggregation import MajorityVote as CKMajorityVote
    except ImportError:
        print("crowd-kit not installed: peer rows skipped", file=sys.stderr)
    else:
        df = pd.DataFrame({"task": item, "worker": worker, "label": label})
        for name, model in (("crowd-kit MajorityVote", CKMajorityVote()),
                            ("crowd-kit DawidSkene", CKDawidSkene(n_iter=100))):
            res, secs = _timed(lambda m=model: m.fit_predict(df), repeat)
            rows.append((name, float((res.sort_index().to_numpy() == truth).mean()), secs))
    print(f"\n{n_items} items x {per_item} labels, {n_workers} workers "
          f"(~{n_items * per_item // n_workers} labels each), grades 0-3, best of {repeat}")
    print(f"{'method':28s} {'accuracy':>9s} {'seconds':>9s}")
    for name, acc, secs in rows:
        print(f"{name:28s} {acc:9.4f} {secs:9.3f}")
    times = {name: secs for name, _, secs in rows}
    if "crowd-kit DawidSkene" in times:
        print(f"DawidSkene speed-up vs crowd-kit: {times['crowd-kit DawidSkene'] / times['qrelay DawidSkene']:.1f}x")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=50)
    ap.add_argument("--workers-per-item", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-sparse", action="store_true",
                    help="skip the second table (many workers with few labels each)")
    args = ap.parse_args(argv)
    table(args.items, args.workers, args.workers_per_item, args.seed, args.repeat)
    if not args.no_sparse:
        # The regime of a long tail of vendor graders: full confusion matrices overfit.
        table(20_000, 500, args.workers_per_item, args.seed, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
