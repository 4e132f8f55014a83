"""Can a client predict a hidden label (SxS side, gold) from what it receives better than chance?

A predictor is a yes/no guess per task; it counts as "better than chance" when its accuracy —
or its negation's, so a leak is caught whichever way round it points — is improbable for a coin
(exact two-sided binomial test). Labels are balanced by the tests (half gold, and SxS sides are a
fair coin), so chance is 50%.

>>> round(chance_bound(60, 1e-4), 3), round(power(60, 1e-4, 0.6), 3)
(0.767, 0.005)
>>> better_than_chance(60, 60, 1e-4), better_than_chance(31, 60, 1e-4)
(True, False)
"""
from __future__ import annotations

from typing import Sequence

from scipy.stats import binom


def _p_two_sided(correct: int, n: int) -> float:
    k = max(correct, n - correct)
    return min(1.0, 2 * float(binom.sf(k - 1, n, 0.5)))


def better_than_chance(correct: int, n: int, alpha: float) -> bool:
    return bool(_p_two_sided(correct, n) < alpha)


def chance_bound(n: int, alpha: float) -> float:
    """The accuracy from which :func:`better_than_chance` says yes (on ``n`` tasks)."""
    k = next(k for k in range(n // 2, n + 1) if better_than_chance(k, n, alpha))
    return k / n


def power(n: int, alpha: float, accuracy: float) -> float:
    """Probability that a predictor of true ``accuracy`` is caught on ``n`` tasks."""
    k = round(chance_bound(n, alpha) * n)
    return float(binom.sf(k - 1, n, accuracy))


def accuracy(guesses: Sequence[bool], truth: Sequence[bool]) -> tuple[int, int]:
    """(correct, n) of a predictor."""
    assert len(guesses) == len(truth)
    return sum(g == t for g, t in zip(guesses, truth)), len(truth)
