"""Label aggregation on simulated crowds: qrelay's methods beside crowd-kit's.

    .venv/bin/python bench/bench_aggregation.py [--items 5000] [--seeds 2] [--kinds realistic,spammers]
                                               [--no-glad]

For each crowd kind of :mod:`fixtures.crowd` (``simple``: the first generator, equal
volumes and independent errors; ``realistic``: most workers label a handful of items and
a few label thousands, class imbalance, item difficulty, spammers, strict/lenient graders
and adversaries; and variations that stress one failure each) prints accuracy against the
truth and seconds for qrelay's MajorityVote, DawidSkene, OneCoinDawidSkene and
OrdinalDawidSkene (and, as "before:", the configurations that collapsed), beside crowd-kit's
MV, DS, GLAD and MACE; how often qrelay's guard fell back to majority vote; and, with 10% of
the items' true labels given as gold, the accuracy on the other 90% with and without gold.
Averages over ``--seeds`` crowds per kind.
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from evaluators.aggregation import (  # noqa: E402
    AggregationWarning,
    DawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
    OrdinalDawidSkene,
)
from fixtures.crowd import KINDS, simulate_crowd  # noqa: E402

OURS = {
    "qrelay MajorityVote": MajorityVote,
    "qrelay DawidSkene": DawidSkene,
    "qrelay OneCoinDawidSkene": OneCoinDawidSkene,
    "qrelay OrdinalDawidSkene": lambda: OrdinalDawidSkene(classes=[0, 1, 2, 3]),
    # Before issue 12: plain maximum-likelihood DS (crowd-kit's model), and the structured
    # models without their priors, spam component and guard — the configurations that collapsed.
    "before: DawidSkene (plain ML)": lambda: DawidSkene(smoothing=0, pooled_prior=0, prior_strength=0, guard="off"),
    "before: OneCoinDawidSkene": lambda: OneCoinDawidSkene(pooled_prior=0, prior_strength=0, spam=False,
                                                           guard="off"),
    "before: OrdinalDawidSkene": lambda: OrdinalDawidSkene(classes=[0, 1, 2, 3], pooled_prior=0, prior_strength=0,
                                                           spam=False, guard="off"),
}


def _peers(glad: bool):
    try:
        import crowdkit.aggregation as ck
    except ImportError:
        print("crowd-kit not installed: peer rows skipped", file=sys.stderr)
        return {}
    peers = {"crowd-kit MV": ck.MajorityVote, "crowd-kit DS": lambda: ck.DawidSkene(n_iter=100),
             "crowd-kit MACE": ck.MACE}
    if glad:
        peers["crowd-kit GLAD"] = ck.GLAD
    return peers


def run_kind(kind: str, n_items: int, seeds: int, peers: dict) -> list[tuple]:
    import pandas as pd

    acc: dict[str, list] = {}
    secs: dict[str, list] = {}
    fell_back: dict[str, int] = {}
    gold_gain: dict[str, list] = {}
    for seed in range(seeds):
        crowd = simulate_crowd(kind, n_items=n_items, seed=seed)
        data, truth = crowd.columns(), crowd.truth
        gold = crowd.gold(0.10, seed=seed)
        rest = np.setdiff1d(np.arange(n_items), np.fromiter(gold, int, len(gold)))
        for name, make in OURS.items():
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", AggregationWarning)
                model = make().fit(data)
            secs.setdefault(name, []).append(time.perf_counter() - t)
            acc.setdefault(name, []).append(float((model.labels_ == truth).mean()))
            report = getattr(model, "guard_", None)
            fell_back[name] = fell_back.get(name, 0) + int(bool(report and report.fell_back))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", AggregationWarning)
                with_gold = make().fit(data, gold=gold)
            gold_gain.setdefault(name, []).append(float((with_gold.labels_[rest] == truth[rest]).mean()
                                                        - (model.labels_[rest] == truth[rest]).mean()))
        frame = pd.DataFrame({"task": crowd.item, "worker": crowd.worker, "label": crowd.label})
        for name, make in peers.items():
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                labels = make().fit_predict(frame).sort_index()
            secs.setdefault(name, []).append(time.perf_counter() - t)
            got = np.full(n_items, -1)
            got[labels.index.to_numpy(dtype=int)] = labels.to_numpy(dtype=int)
            acc.setdefault(name, []).append(float((got == truth).mean()))
    return [(name, np.mean(acc[name]), np.mean(secs[name]), fell_back.get(name),
             np.mean(gold_gain[name]) if name in gold_gain else None) for name in acc]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=5000)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--no-glad", action="store_true", help="skip crowd-kit's GLAD (the slowest peer)")
    args = ap.parse_args(argv)
    peers = _peers(glad=not args.no_glad)
    print(f"{args.items} items per crowd, mean of {args.seeds} crowd(s) per kind; "
          "gold gain: accuracy on the 90% non-gold items with 10% gold minus without")
    for kind in args.kinds.split(","):
        c = simulate_crowd(kind, n_items=args.items, seed=0)
        volume = np.bincount(c.worker)
        volume = volume[volume > 0]
        print(f"\n[{kind}] {c.label.size} labels, {volume.size} workers, labels per worker: median "
              f"{np.median(volume):.0f}, max {volume.max()}")
        print(f"{'method':30s} {'accuracy':>9s} {'seconds':>8s} {'fell back':>9s} {'gold gain':>9s}")
        rows = run_kind(kind, args.items, args.seeds, peers)
        for name, acc, secs, fb, gain in rows:
            fb_s = "" if fb is None or name.endswith("MajorityVote") or name.startswith("before") \
                else f"{fb}/{args.seeds}"
            gain_s = "" if gain is None else f"{gain:+.4f}"
            print(f"{name:30s} {acc:9.4f} {secs:8.3f} {fb_s:>9s} {gain_s:>9s}")
        best = dict((r[0], r) for r in rows)
        if "crowd-kit DS" in best:
            ours, ck = best["qrelay DawidSkene"], best["crowd-kit DS"]
            print(f"qrelay DS - crowd-kit DS: {100 * (ours[1] - ck[1]):+.2f} points, {ck[2] / ours[2]:.0f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
