"""Argument checks shared by the kernels: a clear ``ValueError``, never a silent broadcast.

Kernels take a ``(queries x ranks)`` matrix — booleans (relevant or not) or
integer grade codes (grade >= 0 judged, negative: unjudged or padding) — plus
optional per-query vectors.  A per-query vector of the wrong length would
broadcast (a length-1 ``ideal`` silently normalises every query by the first
one's), so lengths are checked here.

>>> by_rank([[1, 0]], "grades_by_rank", integer=True).shape
(1, 2)
>>> per_query([1.0, 2.0], 3, "ideal")
Traceback (most recent call last):
...
ValueError: ideal has shape (2,); expected (3,): one value per query (row of the matrix)
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["by_rank", "per_query", "cutoff", "as_codes", "as_counts"]


def by_rank(x, name: str, integer: bool = False) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (queries x ranks) array, got shape {x.shape}")
    if integer and not (x.dtype == bool or np.issubdtype(x.dtype, np.integer)):
        raise ValueError(f"{name} must hold integer grades, got dtype {x.dtype}")
    if not integer and x.dtype != bool:
        if not (np.issubdtype(x.dtype, np.integer) and np.all((x == 0) | (x == 1))):
            raise ValueError(f"{name} must be boolean (relevant or not) or 0/1, got dtype {x.dtype}")
        x = x.astype(bool)
    return x


def per_query(v, n: int, name: str, nonnegative: bool = True) -> np.ndarray:
    v = np.asarray(v)
    if v.shape != (n,):
        raise ValueError(f"{name} has shape {v.shape}; expected ({n},): one value per query "
                         f"(row of the matrix)")
    if v.dtype.kind == "f" and not np.all(np.isfinite(v)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if nonnegative and np.any(v < 0):
        raise ValueError(f"{name} must be >= 0")
    return v


def cutoff(k, allow_none: bool = False):
    if k is None and allow_none:
        return None
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"cutoff k must be a positive integer, got {k!r}")
    return int(k)


def as_codes(x: np.ndarray) -> np.ndarray:
    """A checked by-rank matrix as the compiled kernels read it: C-ordered int8 grade codes (bool: 0/1)."""
    if x.dtype == bool:
        return np.ascontiguousarray(x).view(np.int8)
    if x.size and (x.min() < -128 or x.max() > 127):
        raise ValueError("grades must lie in -128..127")
    return np.ascontiguousarray(x, dtype=np.int8)


def as_counts(v: np.ndarray) -> np.ndarray:
    """A checked per-query count (R, the number of relevant documents) as int64."""
    return np.asarray(v).astype(np.int64)
