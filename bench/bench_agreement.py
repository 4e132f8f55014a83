"""Krippendorff's alpha (ours) beside the ``krippendorff`` package.

    .venv/bin/python bench/bench_agreement.py [--raters 20] [--units 100000] [--missing 0.3]

Generated 0–3 grades (raters agree with a latent truth 60% of the time), a share
of ratings missing. Prints wall time (best of ``--repeat``) per level of
measurement, the ratio, and the absolute difference of the two alphas.
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from evaluators.agreement import fleiss_kappa, krippendorff_alpha  # noqa: E402


def generate(raters: int, units: int, missing: float, seed: int, values=(0, 1, 2, 3)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = np.asarray(values, dtype=float)
    truth = rng.choice(values, size=units)
    x = rng.choice(values, size=(raters, units))
    agree = rng.random((raters, units)) < 0.6
    x[agree] = np.broadcast_to(truth, x.shape)[agree]
    x[rng.random(x.shape) < missing] = np.nan
    return x


def best_of(fn, repeat):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return out, best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raters", type=int, default=20)
    ap.add_argument("--units", type=int, default=100_000)
    ap.add_argument("--missing", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    x = generate(args.raters, args.units, args.missing, args.seed)
    try:
        import krippendorff
    except ImportError:
        krippendorff = None
        print("krippendorff package not installed: peer column skipped", file=sys.stderr)
    print(f"{args.raters} raters x {args.units} units, grades 0-3, {args.missing:.0%} missing (best of {args.repeat})")
    print(f"{'level':10s} {'qrelay s':>9s} {'krippendorff s':>15s} {'speed-up':>9s} {'|diff|':>9s}")
    for level in ("nominal", "ordinal", "interval", "ratio"):
        ours, t_ours = best_of(lambda: krippendorff_alpha(x, level), args.repeat)
        if krippendorff is None:
            print(f"{level:10s} {t_ours:9.4f}")
            continue
        ref, t_ref = best_of(lambda: krippendorff.alpha(x, level_of_measurement=level), args.repeat)
        print(f"{level:10s} {t_ours:9.4f} {t_ref:15.4f} {t_ref / t_ours:8.1f}x {abs(ours - ref):9.1e}")
    _, t_fleiss = best_of(lambda: fleiss_kappa(x), args.repeat)
    print(f"(Fleiss' kappa, same data: {t_fleiss:.4f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
