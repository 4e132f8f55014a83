"""Coverage of qrelay's interval estimators on synthetic evaluations with known truth (issue 12 §4).

    .venv/bin/python bench/bench_coverage.py [--repetitions 4000] [--seed 0] [--labelled-share 0.25]

Each repetition draws a 1,000-query evaluation in three strata (head, torso, tail; the tail
over-sampled against its traffic share), per-query metric values in [0, 1], a model biased
and noisy (worse in the tail) and human values on an audit sample (see
:mod:`fixtures.coverage`). Prints, per method, the share of repetitions whose 95% interval
covered the true traffic-weighted mean — for the confidence sequences, at every look — its
binomial standard error, and the mean width.
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from fixtures.coverage import coverage_table  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repetitions", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--labelled-share", type=float, default=0.25)
    args = ap.parse_args(argv)
    t = time.perf_counter()
    table = coverage_table(args.repetitions, seed=args.seed, labelled_share=args.labelled_share)
    secs = time.perf_counter() - t
    se = np.sqrt(0.95 * 0.05 / args.repetitions)
    print(f"{args.repetitions} repetitions, {args.labelled_share:.0%} of queries labelled, "
          f"target 95% (binomial SE {100 * se:.2f} points), {secs:.0f} s")
    print(f"{'method':16s} {'coverage':>9s} {'mean width':>11s}  kind")
    for name, row in table.items():
        kind = "anytime (all looks)" if name.startswith("cs") else "fixed-sample"
        print(f"{name:16s} {100 * row.coverage:8.2f}% {row.mean_width:11.4f}  {kind}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
