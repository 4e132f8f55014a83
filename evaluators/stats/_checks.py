"""Input validation shared by the statistics modules: one place that turns bad input into ValueError."""
from __future__ import annotations

import numpy as np


def finite_vector(values, name: str, *, min_size: int = 1) -> np.ndarray:
    """Return ``values`` as a 1-D float array, or raise ValueError naming ``name``."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size < min_size:
        raise ValueError(f"{name} needs at least {min_size} value(s), got {arr.size}")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"{name} contains {int(bad.sum())} non-finite value(s) (NaN or inf), first at index {int(np.flatnonzero(bad)[0])}")
    return arr


def finite_matrix(values, name: str) -> np.ndarray:
    """Return ``values`` as a 2-D float array (1-D becomes one column), or raise ValueError."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be one- or two-dimensional, got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains non-finite values (NaN or inf)")
    return arr


def paired(a, b, names: tuple[str, str] = ("a", "b")) -> tuple[np.ndarray, np.ndarray]:
    """Two finite vectors of the same length (one value per query for each ranker)."""
    a = finite_vector(a, names[0])
    b = finite_vector(b, names[1])
    if a.shape != b.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same length (paired by query), got {a.size} and {b.size}")
    return a, b


def level(value: float) -> float:
    value = float(value)
    if not 0.0 < value < 1.0:
        raise ValueError(f"confidence level must lie strictly between 0 and 1, got {value}")
    return value


def count(value: int, name: str) -> int:
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
