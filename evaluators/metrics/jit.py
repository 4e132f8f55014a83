"""The one place that compiles: numba's ``njit`` with an on-disk cache when possible.

Parsing TREC files is a byte-by-byte state machine, the one job numpy cannot
vectorise without many passes over the data (see :mod:`.trec`).  Compiled
functions are cached next to this package (or in numba's user-wide cache, or
``$NUMBA_CACHE_DIR``) so only the very first run pays the compile time; where
no cache directory is writable they are compiled once per process instead.
"""
from __future__ import annotations

import warnings

import numba

__all__ = ["njit"]


def njit(fn):
    """``numba.njit(cache=True, nogil=True)``, falling back to no cache."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", numba.NumbaWarning)
            return numba.njit(cache=True, nogil=True)(fn)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return numba.njit(nogil=True)(fn)
