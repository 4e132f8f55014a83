"""Inter-rater agreement of an evaluation from each item's vote counts.

Krippendorff's alpha depends on which values each unit received, not on who gave them (the
coincidence matrix sums over pairs of values within a unit), so the per-item vote counts the
consensus index keeps are enough: each unit's votes are laid out as a column of a
``(max votes, units)`` matrix and handed to :func:`evaluators.agreement.krippendorff_alpha`.
Units with fewer than two votes carry no pairable values and are left out of the count.

>>> r = alpha_from_votes([0, 0, 1, 1, 2], [3, 2, 1, 1, 0], [1, 1, 2, 1, 1], "ordinal")
>>> round(r.alpha, 4), r.units, r.judgements
(0.9, 2, 5)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluators.agreement import krippendorff_alpha

__all__ = ["RaterAgreement", "alpha_from_votes"]


@dataclass(frozen=True)
class RaterAgreement:
    alpha: float | None  # None when undefined (no unit with two votes, or a single value seen)
    units: int  # units with at least two votes
    judgements: int  # votes in those units


def alpha_from_votes(unit, value, count, level: str = "ordinal") -> RaterAgreement:
    """Alpha over units with >= 2 votes; ``(unit[i], value[i])`` received ``count[i]`` votes."""
    unit = np.asarray(unit, dtype=np.int64)
    value = np.asarray(value, dtype=np.float64)
    count = np.asarray(count, dtype=np.int64)
    if not (unit.shape == value.shape == count.shape) or unit.ndim != 1:
        raise ValueError("unit, value and count must be 1-D of one length")
    if (count < 0).any() or not np.isfinite(value).all():
        raise ValueError("counts must be non-negative and values finite")
    keep = count > 0
    unit, value, count = unit[keep], value[keep], count[keep]
    if unit.size == 0:
        return RaterAgreement(None, 0, 0)
    _, unit = np.unique(unit, return_inverse=True)
    per_unit = np.bincount(unit, weights=count).astype(np.int64)
    pairable = per_unit >= 2
    units, votes = int(pairable.sum()), int(per_unit[pairable].sum())
    sel = pairable[unit]
    unit, value, count = unit[sel], value[sel], count[sel]
    if units == 0:
        return RaterAgreement(None, 0, 0)
    _, column = np.unique(unit, return_inverse=True)
    # one vote per row: repeat each (unit, value) by its count, then number votes within a unit
    col = np.repeat(column, count)
    val = np.repeat(value, count)
    order = np.argsort(col, kind="stable")
    col, val = col[order], val[order]
    start = np.concatenate(([0], np.cumsum(np.bincount(col))[:-1]))
    row = np.arange(col.size) - start[col]
    matrix = np.full((int(row.max()) + 1, units), np.nan)
    matrix[row, col] = val
    try:
        alpha = krippendorff_alpha(matrix, level)
    except ValueError:  # a single value throughout: no expected disagreement
        alpha = None
    return RaterAgreement(alpha, units, votes)
