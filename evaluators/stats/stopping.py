"""When may grading stop? A decision rule over an anytime-valid confidence sequence.

With a confidence sequence (:mod:`.confidence_sequence`) the first look at which the interval
settles the question is a valid stopping time: the error rate stays at ``1 - level`` however
often the report is looked at (Howard, Ramdas, McAuliffe and Sekhon, "Time-uniform,
nonparametric, nonasymptotic confidence sequences", *Ann. Statist.* 49(2) 2021, §1). For the
headline difference (candidate − baseline):

* ``rule="zero"``: stop when the interval excludes 0 — ``"candidate better"`` /
  ``"baseline better"``; with ``min_effect > 0`` also stop when the interval lies inside
  ``(-min_effect, min_effect)`` — ``"no effect as large as min_effect"`` (futility);
* ``rule="min_effect"``: stop when the interval lies above ``min_effect`` or below
  ``-min_effect`` (an effect at least that large) or inside ``(-min_effect, min_effect)``;
* ``rule="excludes_min_effect"``: stop when the interval excludes ``+min_effect`` — wholly above,
  ``"candidate gains at least min_effect"``, or wholly below, ``"candidate gains less than
  min_effect"`` (a launch bar: one value tested, from either side). If the true difference is
  ``min_effect`` the sequence covers it at every look with probability ``level``, so the rule
  decides at all in at most ``1 - level`` of runs.

Example:
    >>> d = stop_when([-0.2, -0.05, 0.01, 0.02], [0.3, 0.2, 0.09, 0.05])
    >>> d.stop, d.verdict, d.look
    (True, 'candidate better', 3)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RULES = ("zero", "min_effect", "excludes_min_effect")


@dataclass(frozen=True)
class StopDecision:
    stop: bool
    # "candidate better", "baseline better", "no effect as large as min_effect", "candidate gains at least
    # min_effect", "candidate gains less than min_effect" (rule "excludes_min_effect"), "continue"
    verdict: str
    look: int | None  # 1-based look at which it stopped (None: not yet)
    low: float  # the interval at that look (at the last look when not stopped)
    high: float


def stop_when(low, high, *, min_effect: float = 0.0, rule: str = "zero") -> StopDecision:
    """The first look at which the sequence ``(low[t], high[t])`` settles the question (see module doc)."""
    lo = np.asarray(low, dtype=float)
    hi = np.asarray(high, dtype=float)
    if lo.ndim != 1 or lo.shape != hi.shape or lo.size == 0:
        raise ValueError("low and high must be non-empty 1-D arrays of equal length (one entry per look)")
    if np.isnan(lo).any() or np.isnan(hi).any() or (lo > hi).any():
        raise ValueError("each look needs low <= high (no NaN)")
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    if not (min_effect >= 0) or (rule != "zero" and min_effect == 0):
        raise ValueError(f"min_effect must be >= 0 (and > 0 for rule={rule!r})")
    if rule == "excludes_min_effect":
        verdicts = (("candidate gains at least min_effect", lo > min_effect),
                    ("candidate gains less than min_effect", hi < min_effect))
    else:
        edge = 0.0 if rule == "zero" else min_effect
        verdicts = (("candidate better", lo > edge), ("baseline better", hi < -edge))
        if min_effect > 0:
            verdicts += (("no effect as large as min_effect", (lo > -min_effect) & (hi < min_effect)),)
    first = [(int(np.argmax(hit)), name) for name, hit in verdicts if hit.any()]
    if not first:
        return StopDecision(False, "continue", None, float(lo[-1]), float(hi[-1]))
    t, name = min(first)
    return StopDecision(True, name, t + 1, float(lo[t]), float(hi[t]))
