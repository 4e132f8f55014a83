"""A spammer component for the structured worker models (one-coin, ordinal).

A structured confusion model (one accuracy per worker, or a grade-distance shape) cannot
represent a one-grade spammer — a worker who gives the same grade whatever the item — so
EM explains such workers by moving the truth toward their grade, and on real crowds ends
with one class for nearly every item. MACE (D. Hovy, T. Berg-Kirkpatrick, A. Vaswani and
E. Hovy, "Learning whom to trust with MACE", NAACL 2013) lets each worker spam with
probability ``ε_w`` from a label distribution ``m_w`` of their own. Here that component is
mixed into any structured model::

    P_w(l | k) = (1 − ε_w) · M_w(l | k) + ε_w · m_w(l)

and fitted by generalised EM on the expected counts ``S[w, l, k]``: the share of each
count that the spam component explains (its responsibility under the current
parameters) fits ``ε_w`` (Beta(``a``, ``b``) prior) and ``m_w`` (``smoothing``
pseudo-counts), the rest fits the structured model.

Example:
    >>> import numpy as np
    >>> sums = np.zeros((1, 2, 2)); sums[0, 0] = [50.0, 50.0]  # says 0 whatever the truth
    >>> mix = SpamMixture(a=2.0, b=8.0)
    >>> for _ in range(20):
    ...     log_p = mix.m_step(sums, lambda s: np.log(np.full((1, 2, 2), 0.5)))
    >>> bool(mix.eps[0] > 0.5)
    True
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np


class SpamMixture:
    """Mixes a per-worker spam distribution into a structured model's M-step (see module doc)."""

    def __init__(self, a: float = 2.0, b: float = 8.0, smoothing: float = 1.0):
        if not (a >= 1 and b >= 1 and smoothing > 0):
            raise ValueError("spam prior needs a >= 1, b >= 1 and smoothing > 0")
        self.a, self.b, self.smoothing = float(a), float(b), float(smoothing)
        self.eps: np.ndarray | None = None
        self.spam: np.ndarray | None = None  # (workers, labels)
        self._log_structured: np.ndarray | None = None  # (workers, true, label)

    def m_step(self, sums: np.ndarray, structured: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """From ``sums[w, l, k]``: refit ε, m and (through ``structured``) the model; return the
        mixture's ``log P(l | k)`` of shape ``(workers, k, l)``."""
        n_w = sums.sum(axis=(1, 2))
        if self._log_structured is None:
            # First call: every count equally likely to be spam at the prior's mode.
            resp = np.full_like(sums, (self.a - 1) / max(self.a + self.b - 2, 1e-12))
        else:
            spam_part = (self.eps[:, None] * self.spam)[:, :, None]  # (w, l, 1)
            struct_part = (1 - self.eps)[:, None, None] * np.exp(self._log_structured).transpose(0, 2, 1)
            resp = spam_part / np.maximum(spam_part + struct_part, 1e-300)
        spammed = sums * resp
        self.eps = (spammed.sum(axis=(1, 2)) + self.a - 1) / (n_w + self.a + self.b - 2)
        counts = spammed.sum(axis=2) + self.smoothing
        self.spam = counts / counts.sum(axis=1, keepdims=True)
        self._log_structured = structured(sums - spammed)
        mixed = (1 - self.eps)[:, None, None] * np.exp(self._log_structured) + \
            (self.eps[:, None] * self.spam)[:, None, :]
        return np.log(np.maximum(mixed, 1e-300))


def with_spam(m_step: Callable[[np.ndarray], np.ndarray], enabled: bool):
    """``(m_step, mixture)``: ``m_step`` wrapped in a fresh :class:`SpamMixture` when ``enabled``,
    else unchanged with ``mixture = None``."""
    if not enabled:
        return m_step, None
    mixture = SpamMixture()
    return (lambda sums: mixture.m_step(sums, m_step)), mixture
