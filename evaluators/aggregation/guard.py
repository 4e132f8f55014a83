"""The majority-vote guard: notice when a model's labels leave majority vote behind.

Latent-class models fitted by EM can land on a degenerate solution — on real crowds,
one class for nearly every item — and report it with high confidence. Majority vote
cannot collapse that way, so it is the reference: after fitting, the guard measures

* ``departure``: the share of items whose label differs from the majority-vote label
  (large on hard crowds even for a good model: it re-weights workers), and
* ``shift``: the total-variation distance between the model's label shares and the
  majority-vote shares, i.e. the least share of items whose labels must change for
  the class shares to agree — what a collapse moves and a re-weighting barely does.
  With enough gold (:data:`MIN_GOLD_FOR_SHARES` items) the gold items' class shares
  are the reference instead: they are unbiased, the vote shares are not.

When ``shift > max_shift`` on at least :data:`MIN_ITEMS` items (on a toy table one
item is a third of it) it warns (:class:`AggregationWarning`) and, with
``mode="fallback"``, replaces the model's posteriors by the vote shares (gold kept).

Example:
    >>> import numpy as np
    >>> votes = np.tile([[2.0, 1.0], [0.0, 3.0]], (50, 1))  # 100 items, half of each class
    >>> collapsed = np.tile([0.9, 0.1], (100, 1))  # every item class 0
    >>> report = check(votes, collapsed, max_shift=0.3)
    >>> report.departure, report.shift, report.tripped
    (0.5, 0.5, True)
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

MODES = ("fallback", "warn", "off")

#: Gold items needed before their class shares replace the majority-vote shares as the
#: reference (here and as the centre of the class-share prior in :mod:`.em`).
MIN_GOLD_FOR_SHARES = 50

#: Items needed before the guard judges a fit.
MIN_ITEMS = 50


def gold_shares(gold_classes: np.ndarray, n_classes: int) -> np.ndarray | None:
    """Smoothed class shares of the gold items, or ``None`` when there are too few to trust."""
    if gold_classes.size < MIN_GOLD_FOR_SHARES:
        return None
    return (np.bincount(gold_classes, minlength=n_classes) + 1.0) / (gold_classes.size + n_classes)


class AggregationWarning(UserWarning):
    """A model's labels departed from majority vote beyond the guard's limit."""


@dataclass(frozen=True)
class GuardReport:
    departure: float  # share of items whose label differs from majority vote
    shift: float  # total-variation distance between label shares and majority-vote shares
    tripped: bool
    fell_back: bool


def check_mode(mode: str, max_shift: float) -> None:
    if mode not in MODES:
        raise ValueError(f"guard must be one of {MODES}, got {mode!r}")
    if not 0 < max_shift <= 1:
        raise ValueError(f"max_shift must lie in (0, 1], got {max_shift!r}")


def check(votes: np.ndarray, probas: np.ndarray, *, max_shift: float,
          reference: np.ndarray | None = None) -> GuardReport:
    """Compare posteriors ``probas`` with the vote counts ``votes`` (both ``items x classes``);
    ``reference`` replaces the majority-vote label shares (e.g. by :func:`gold_shares`)."""
    k = votes.shape[1]
    mv = votes.argmax(axis=1)
    model = probas.argmax(axis=1)
    n = max(votes.shape[0], 1)
    shares = np.bincount(model, minlength=k) / n
    mv_shares = np.bincount(mv, minlength=k) / n if reference is None else reference
    shift = float(0.5 * np.abs(shares - mv_shares).sum())
    return GuardReport(departure=float((mv != model).mean()), shift=shift,
                       tripped=shift > max_shift and votes.shape[0] >= MIN_ITEMS, fell_back=False)


def guard(votes: np.ndarray, probas: np.ndarray, *, mode: str, max_shift: float, name: str,
          reference: np.ndarray | None = None) -> tuple[np.ndarray, GuardReport]:
    """Run :func:`check`; warn and (``mode="fallback"``) return vote shares when it trips."""
    report = check(votes, probas, max_shift=max_shift, reference=reference)
    if mode == "off" or not report.tripped:
        return probas, report
    action = "falling back to majority vote" if mode == "fallback" else "keeping its labels (guard='warn')"
    warnings.warn(f"{name}: label shares moved {report.shift:.0%} away from majority vote's "
                  f"(limit {max_shift:.0%}; {report.departure:.0%} of items differ) — a likely "
                  f"degenerate fit; {action}", AggregationWarning, stacklevel=4)
    if mode == "warn":
        return probas, report
    return votes / votes.sum(axis=1, keepdims=True), GuardReport(report.departure, report.shift, True, True)
