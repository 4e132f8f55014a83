"""The headline difference watched while grading goes on: an anytime-valid confidence sequence
over the queries in the order they became complete, and the stop decision.

Each sampled query ``q`` carries a per-query difference ``d_q`` (candidate − baseline) once it
is complete; re-weighted to traffic it enters as ``x_q = n · c_q · d_q`` with ``c_q`` the
stratified coefficients of *all* ``n`` eligible queries (:func:`.strata.coefficients`, known
before any label: strata weights and, for unique-query sampling, each query's traffic), so the
mean of ``x`` over every eligible query is the stratified difference. If queries complete in a
random order, the running mean of the ``x`` that arrived estimates it at every look, and the
asymptotic confidence sequence of :func:`evaluators.stats.confidence_sequence` (valid over
every look at once; unbounded values, so asymptotic) covers it; the first look at which the
sequence excludes 0 — or, with a declared minimum effect, lies inside ``(−min, +min)``; under
``rule="excludes_min_effect"``, the first that excludes ``+min`` — is a valid stopping time
(:func:`evaluators.stats.stop_when`). The sequence is tightest at
``t_opt = n`` looks, fixed before the first look.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> d = rng.normal(0.05, 0.1, 400)
>>> s = headline_sequence(d, np.zeros(400, dtype=np.int64), [1.0], order=np.arange(400))
>>> s.decision.stop, s.decision.verdict, s.looks
(True, 'candidate better', 400)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluators.stats import StopDecision, confidence_sequence, stop_when
from evaluators.stats.confidence_sequence import BURN_IN

from .strata import coefficients

__all__ = ["Sequence", "arrival_order", "headline_sequence"]


@dataclass(frozen=True)
class Sequence:
    eligible: int  # queries that can ever enter (both rankers listed something)
    looks: int  # of those, complete so far (one look per query, in completion order)
    estimate: float  # running mean at the last look
    low: float  # the sequence at the last look (-inf/inf before the burn-in)
    high: float
    level: float
    decision: StopDecision
    method: str
    burn_in: int


def headline_sequence(differences, stratum, weights, traffic=None, *, order, level: float = 0.95,
                      min_effect: float = 0.0, rule: str = "zero") -> Sequence:
    """The sequence and decision (see the module notes). ``differences``: per eligible query, NaN
    while incomplete; ``order``: the complete queries' indices in the order they completed;
    ``rule``: :func:`evaluators.stats.stop_when`'s."""
    d = np.asarray(differences, dtype=np.float64)
    s = np.asarray(stratum, dtype=np.int64)
    idx = np.asarray(order, dtype=np.int64)
    if d.ndim != 1 or s.shape != d.shape:
        raise ValueError("differences and stratum need one entry per eligible query")
    if idx.size and (np.isnan(d[idx]).any() or np.unique(idx).size != idx.size):
        raise ValueError("order must list distinct complete queries")
    n = d.size
    nan = float("nan")
    if idx.size == 0:
        return Sequence(n, 0, nan, -np.inf, np.inf, level, StopDecision(False, "continue", None, -np.inf, np.inf),
                        "asymptotic", BURN_IN)
    x = n * coefficients(s, weights, traffic)[idx] * d[idx]
    cs = confidence_sequence(x, method="asymptotic", bounds=None, level=level, t_opt=float(n))
    decision = stop_when(cs.low, cs.high, min_effect=min_effect, rule=rule)
    return Sequence(n, int(idx.size), float(cs.estimate[-1]), float(cs.low[-1]), float(cs.high[-1]), level,
                    decision, cs.method, BURN_IN)


def arrival_order(complete, human_work, finished, draw) -> np.ndarray:
    """The order complete queries enter the sequence: a random order when grading serves whole
    queries in a random order, whatever the model settled.

    Per query: ``complete``, every item labelled; ``human_work``, at least one item is for humans;
    ``finished``, when the last of those got its first human label (read where ``complete`` and
    ``human_work``); ``draw``, a uniform number in [0, 1) fixed per query before any label.

    Queries with human work enter as they finish (ties in index order). A query the model settled
    whole is complete from the start, so its finishing time says nothing: putting all of them first
    (as ordering by finishing time alone would) feeds the sequence a block that is not a random
    sample — the easy queries, with the model's low-variance values — and an early, too narrow
    interval there, kept by the running intersection, decided a verdict that missed the truth (bench
    run, issue 12). Instead each enters right after the ``ceil(draw · M)``-th query with human work
    finishes (``M``: queries with human work, finished or not), so these queries are spread
    uniformly through the sequence, at places fixed by their draws alone.

    >>> arrival_order(np.array([True, True, True, False, True]), np.array([True, True, False, True, False]),
    ...               np.array([5.0, 3.0, np.nan, np.nan, np.nan]), np.array([0.0, 0.0, 0.1, 0.0, 0.9]))
    array([1, 2, 0])
    """
    complete = np.asarray(complete, bool)
    human = np.asarray(human_work, bool)
    finished = np.asarray(finished, np.float64)
    draw = np.asarray(draw, np.float64)
    if not (complete.shape == human.shape == finished.shape == draw.shape) or complete.ndim != 1:
        raise ValueError("complete, human_work, finished and draw need one entry per query")
    if ((draw < 0) | (draw >= 1) | ~np.isfinite(draw)).any():
        raise ValueError("draws must lie in [0, 1)")
    done_h = np.flatnonzero(complete & human)
    if np.isnan(finished[done_h]).any():
        raise ValueError("a finished query with human work needs its finishing time")
    done_h = done_h[np.lexsort((done_h, finished[done_h]))]
    auto = np.flatnonzero(complete & ~human)
    m = int(human.sum())
    if m == 0:  # nothing for humans anywhere: the draws alone order the queries
        return auto[np.lexsort((auto, draw[auto]))]
    # slot k: enters after the k-th finished query with human work (k = 1..M); not yet if k > finished
    slot = np.clip(np.ceil(draw[auto] * m), 1, m).astype(np.int64)
    auto, slot = auto[slot <= done_h.size], slot[slot <= done_h.size]
    # positions: the k-th human query at 2k, the queries of slot k after it (by draw)
    key = np.r_[2 * np.arange(1, done_h.size + 1), 2 * slot + 1].astype(np.float64)
    tie = np.r_[np.zeros(done_h.size), draw[auto]]
    both = np.r_[done_h, auto]
    return both[np.lexsort((both, tie, key))]
