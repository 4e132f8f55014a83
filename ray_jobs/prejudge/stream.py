"""The order in which the pre-judgement job scores items when it streams (issue 12).

Graders are served by priority, then deadline, then the query's order key (whole queries in a
random order within strata, :mod:`services.store.queue`). The job scores in that same order, a
*wave* at a time, and writes each wave before encoding the next, so grading starts on the first
queries while the rest are still being encoded; an item is never served before it is scored
(``scored`` false until then).

* Items of one query are always in the same wave, so a query is complete only once all its
  items could be judged — the partial report's complete queries stay a random sample.
* The calibration sample (priority raised, a few items of many queries, served first) is all in
  the first wave.
* The first wave holds ``first`` queries, each next one ``growth`` times the last: grading starts
  early, and the per-wave overhead (a refresh, a counts update) stays a handful of writes.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def plan(queries: Sequence[tuple], priority: np.ndarray, order: np.ndarray, first_wave: np.ndarray,
         first: int, growth: float) -> list[np.ndarray]:
    """Waves of item positions (each sorted): ``queries[i]`` is item i's query (any hashable key),
    ``priority`` and ``order`` its place in the grading order (higher priority first, then lower
    order key; ``inf``: no key), ``first_wave`` the items that must be in the first wave whatever
    their query (the calibration sample). ``first < 1`` or no items: one wave of everything.

    >>> q = [("a",), ("a",), ("b",), ("c",), ("c",), ("d",)]
    >>> waves = plan(q, np.zeros(6), np.array([.4, .4, .1, .3, .3, .2]), np.array([0, 0, 0, 0, 0, 1], bool), 1, 2)
    >>> [w.tolist() for w in waves]
    [[2, 5], [0, 1, 3, 4]]
    """
    n = len(queries)
    if n == 0 or first < 1:
        return [np.arange(n)]
    rest = np.flatnonzero(~np.asarray(first_wave, bool))
    # a query's place: its items' highest priority, then their lowest order key, then the key itself
    best: dict[tuple, tuple[float, float, str]] = {}
    for i in rest.tolist():
        key = queries[i]
        place = (-float(priority[i]), float(order[i]), repr(key))
        if key not in best or place < best[key]:
            best[key] = place
    ranked = sorted(best, key=best.__getitem__)
    rank = {key: r for r, key in enumerate(ranked)}
    wave_of_rank = np.zeros(len(ranked), np.int64)
    start, size, w = 0, float(first), 0
    while start < len(ranked):
        end = start + max(1, int(round(size)))
        wave_of_rank[start:end] = w
        start, size, w = end, size * max(growth, 1.0), w + 1
    wave = np.zeros(n, np.int64)
    if len(rest):
        wave[rest] = wave_of_rank[[rank[queries[i]] for i in rest.tolist()]]
    return [np.flatnonzero(wave == k) for k in range(int(wave.max()) + 1)]
