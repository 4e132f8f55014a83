"""The one place that compiles: numba's ``njit`` (GIL released) with an on-disk cache that outlives the process.

Parsing TREC files is a byte-by-byte state machine, the one job numpy cannot
vectorise without many passes over the data (see :mod:`.runscan`).  The
first run compiles (tens of seconds); every later process loads the machine
code from the cache instead (:func:`warm` compiles ahead, e.g. in CI or an
image build: ``python -m evaluators.metrics``).

Where the cache lives is numba's choice, per module: ``$NUMBA_CACHE_DIR`` if
set; else this package's ``__pycache__`` when writable (a checkout, a
virtualenv); else the user's cache directory (``~/.cache/numba``), so a
read-only installed package still compiles once per user.  In CI, point
``NUMBA_CACHE_DIR`` at a cached directory.  Where nothing is writable,
functions compile once per process.

Numba keys each function's cache on its own source file only, but the
kernels here inline helpers from sibling modules (:mod:`.bytescan`): a
changed helper would leave stale machine code behind.  So the cache
directories of this package carry a hash of the source of every module that
compiles, and their cached functions are dropped when it changes.
"""
from __future__ import annotations

import glob
import hashlib
import os
import warnings

import numba

__all__ = ["njit", "warm"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
_STAMP = "qrelay-metrics.stamp"
_checked: set = set()


def _package_stamp() -> str:
    """A hash of the source of every module here that compiles something."""
    h = hashlib.sha1()
    for name in sorted(os.listdir(_PACKAGE)):
        if name.endswith(".py") and name != "jit.py":
            with open(os.path.join(_PACKAGE, name), "rb") as fh:
                text = fh.read()
            if b"@njit" in text:
                h.update(name.encode() + b"\0" + text)
    return h.hexdigest()


def _drop_stale(cache_dir: str) -> None:
    """Drop this package's cached functions in ``cache_dir`` if they were compiled from other sources."""
    if cache_dir in _checked:
        return
    _checked.add(cache_dir)
    stamp = _package_stamp()
    path = os.path.join(cache_dir, _STAMP)
    try:
        with open(path) as fh:
            if fh.read() == stamp:
                return
    except OSError:
        pass
    modules = [n[:-3] for n in os.listdir(_PACKAGE) if n.endswith(".py")]
    try:
        for m in modules:
            for f in glob.glob(os.path.join(glob.escape(cache_dir), f"{m}.*.nb[ic]")):
                os.remove(f)
        os.makedirs(cache_dir, exist_ok=True)
        with open(path, "w") as fh:
            fh.write(stamp)
    except OSError:  # not ours to clean (read-only): numba recompiles what it cannot load
        pass


def njit(fn=None, **options):
    """``numba.njit(cache=True, nogil=True, **options)``, falling back to no cache."""
    if fn is None:
        return lambda f: njit(f, **options)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", numba.NumbaWarning)
            dispatcher = numba.njit(cache=True, nogil=True, **options)(fn)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return numba.njit(nogil=True, **options)(fn)
    _drop_stale(dispatcher._cache.cache_path)
    return dispatcher


def warm() -> None:
    """Compile (or load) every kernel: a small evaluation down each path, and each measure's matrix face."""
    import numpy as np

    from . import ap, err, judged, ndcg, precision, recall, rprec, rr
    from .evaluate import Options, evaluate
    from .trec import parse_qrels

    qrels = b"q1 0 a 2\nq1 0 b 0\nq2 0 a 1\n"
    run = b"q1 Q0 b 1 0.5 r\nq1 Q0 a 2 0.12345678901234567 r\nq2 Q0 a 1 1 r\n"
    measures = ["map", "Rprec", "recip_rank", "P.5", "recall.5", "ndcg", "ndcg_cut.5", "ndcg_exp_cut.5",
                "err_cut.5", "judged.5"]
    evaluate(qrels, run, measures, threads=1)  # qrels streamed beside the run
    evaluate(parse_qrels(qrels), run, measures, Options(judged_only=True), threads=1)  # qrels held whole
    evaluate(parse_qrels(qrels), run + b"q1 Q0 c 3 0 r\n", measures, threads=1)  # a query split: regrouped
    rel = np.array([[True, False]])
    grades = np.array([[1, 0]], np.int8)
    n = np.array([1])
    ap.average_precision(rel, n), rprec.r_precision(rel, n), rr.reciprocal_rank(rel), precision.precision(rel, 1)
    recall.recall(rel, n, 1), judged.judged(grades, 1), err.err(grades, 1, 1)
    ndcg.ndcg(grades, ndcg.ideal_dcg(np.array([0]), np.array([1]), np.array([0, 1]), 1, 1), 1)

