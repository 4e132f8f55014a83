"""One sentence a search engineer can paste into a launch review.

    treatment improves NDCG@10 by +0.031 [0.012, 0.050] overall, p=0.002, n=4,935;
    es-MX tail: no significant change, n=212

The overall difference comes first with its interval, randomisation p-value and count; then
the segments: a significant one (Holm-corrected) that moves against the headline is always
named; those that move with it are named when there are at most three, else summed up as a
range; the others are named one by one when there are at most three segments, else counted. A
side-by-side verdict, when there is one, closes the sentence. Every number carries its count.

>>> overall = Line("overall", 0.031, 0.012, 0.050, 0.002, 4935, True)
>>> seg = Line("es-MX tail", 0.004, -0.02, 0.03, 0.61, 212, False)
>>> summary("treatment", "ndcg_cut_10", overall, [seg])
'treatment improves NDCG@10 by +0.031 [0.012, 0.050] overall, p=0.002, n=4,935; es-MX tail: no significant change, n=212.'
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["Line", "SxSLine", "summary", "measure_label", "p_text"]

_NAMES = {"ndcg_cut": "NDCG@{k}", "ndcg_exp_cut": "NDCG(exp)@{k}", "P": "P@{k}", "recall": "Recall@{k}",
          "err_cut": "ERR@{k}", "judged": "Judged@{k}", "map": "MAP", "recip_rank": "MRR", "Rprec": "R-precision",
          "ndcg": "NDCG"}
MAX_NAMED = 3  # segments named one by one; beyond that the non-significant ones are counted


@dataclass(frozen=True)
class Line:
    """One difference: where, how much, how sure, over how many queries."""

    label: str  # "overall", or the segment's values, e.g. "es-MX tail"
    difference: float
    low: float
    high: float
    p: float  # overall: the randomisation p; segments: Holm-adjusted
    n: int
    significant: bool


@dataclass(frozen=True)
class SxSLine:
    wins: int
    ties: int
    losses: int
    p: float  # sign test
    n: int


def measure_label(name: str) -> str:
    """``ndcg_cut_10`` -> ``NDCG@10``; names without a display form are kept.

    >>> measure_label("P_10"), measure_label("recip_rank"), measure_label("foo")
    ('P@10', 'MRR', 'foo')
    """
    if name in _NAMES:
        return _NAMES[name]
    m = re.match(r"^(.*)_(\d+)$", name)
    if m and m.group(1) in _NAMES:
        return _NAMES[m.group(1)].format(k=m.group(2))
    return name


def p_text(p: float) -> str:
    """``p=0.002``, ``p<0.001``, ``p=0.61``."""
    if not math.isfinite(p):
        return "p n/a"
    if p < 0.001:
        return "p<0.001"
    return f"p={p:.3f}" if p < 0.01 else f"p={p:.2f}"


def _num(x: float, signed: bool = False) -> str:
    return f"{x:+.3f}" if signed else f"{x:.3f}"


def _ci(line: Line) -> str:
    if not (math.isfinite(line.low) and math.isfinite(line.high)):
        return ""
    return f" [{_num(line.low)}, {_num(line.high)}]"


def summary(candidate: str, measure: str, overall: Line, segments: list[Line] = (),
            sxs: SxSLine | None = None, level: float = 0.95, note: str = "") -> str:
    """The sentence (see the module notes); ``note`` follows the overall difference (how it was
    estimated), e.g. "prediction-powered"."""
    m = measure_label(measure)
    ci_note = "" if abs(level - 0.95) < 1e-9 else f" ({level:.0%} CI)"
    if overall.n == 0:
        parts = [f"{candidate} cannot be compared on {m} yet: no query is fully labelled for both rankers"]
    elif overall.significant:
        verb = "improves" if overall.difference > 0 else "lowers"
        parts = [f"{candidate} {verb} {m} by {_num(overall.difference, True)}{_ci(overall)}{ci_note} overall, "
                 f"{p_text(overall.p)}, n={overall.n:,}"]
    else:
        parts = [f"{candidate} shows no significant change in {m} overall ({_num(overall.difference, True)}"
                 f"{_ci(overall)}{ci_note}, {p_text(overall.p)}, n={overall.n:,})"]
    if note and overall.n:
        parts[0] += f" ({note})"
    usable = [s for s in segments if s.n > 0]
    quiet = [s for s in usable if not s.significant]
    direction = 1.0 if overall.difference >= 0 or not overall.significant else -1.0
    along = [s for s in usable if s.significant and s.difference * direction >= 0]
    # a segment that moves against the headline is what a launch review must see: always named
    against = [s for s in usable if s.significant and s.difference * direction < 0]
    if len(along) > MAX_NAMED:
        lo, hi = min(along, key=lambda s: s.difference), max(along, key=lambda s: s.difference)
        parts.append(f"significant in {len(along)} of {len(usable)} segments (Holm), from {_num(lo.difference, True)} "
                     f"({lo.label}, n={lo.n:,}) to {_num(hi.difference, True)} ({hi.label}, n={hi.n:,})")
        along = []
    for s in against + along:
        parts.append(f"{s.label}: {_num(s.difference, True)}{_ci(s)}, {p_text(s.p)} (Holm), n={s.n:,}")
    if len(usable) <= MAX_NAMED:
        parts += [f"{s.label}: no significant change, n={s.n:,}" for s in quiet]
    elif quiet:
        n = sum(s.n for s in quiet)
        others = "the other " if len(quiet) < len(usable) else ""
        parts.append(f"no significant change in {others}{len(quiet)} segments (Holm-corrected, n={n:,})")
    if sxs is not None and sxs.n:
        parts.append(f"side by side {candidate} wins {sxs.wins:,}, ties {sxs.ties:,} and loses {sxs.losses:,} "
                     f"of {sxs.n:,} queries (sign test {p_text(sxs.p)})")
    return "; ".join(parts) + "."
