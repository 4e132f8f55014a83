"""Dawid–Skene: per-worker confusion matrices fitted by EM."""
from __future__ import annotations

import numpy as np

from .base import Annotations, BaseAggregator, vote_counts
from .em import EMState, run_em


class DawidSkene(BaseAggregator):
    """Dawid–Skene model: worker ``w`` reports label ``l`` for an item of true class
    ``k`` with probability ``errors_[w, k, l]``; classes have priors ``priors_``.

    A. P. Dawid and A. M. Skene, "Maximum likelihood estimation of observer
    error-rates using the EM algorithm", *J. R. Stat. Soc. C* 28(1) (1979) 20–28.

    EM from majority-vote posteriors; the E-step sums log-likelihoods per item with
    ``np.add.reduceat`` over observations pre-sorted by item, the M-step sums
    posteriors per (worker, label) the same way — no Python loop over items or
    workers. ``smoothing`` adds that many pseudo-counts to every confusion cell
    (a Dirichlet prior, MAP-EM), which keeps rarely seen workers from getting
    degenerate matrices (the default 1 is Laplace smoothing; 0 reproduces
    crowd-kit's ``DawidSkene`` labels). Stops when the per-observation log-likelihood improves by
    less than ``tol`` or after ``n_iter`` iterations. ``skills_`` is each worker's
    expected accuracy ``sum_k priors_[k] * errors_[w, k, k]``.

    Example:
        >>> ds = DawidSkene(n_iter=50)
        >>> ds.fit_predict({"item": [1, 1, 1, 2, 2, 2], "worker": ["a", "b", "c"] * 2,
        ...                 "label": [0, 0, 1, 1, 1, 0]}).tolist()
        [0, 1]
    """

    def __init__(self, n_iter: int = 100, tol: float = 1e-6, smoothing: float = 1.0, classes=None):
        if int(n_iter) < 0:
            raise ValueError("n_iter must be >= 0")
        if not (tol >= 0) or not (smoothing >= 0):
            raise ValueError("tol and smoothing must be >= 0")
        self.n_iter = int(n_iter)
        self.tol = float(tol)
        self.smoothing = float(smoothing)
        self.classes = classes

    def _fit(self, ann: Annotations, gold_items, gold_classes):
        state = EMState(ann, gold_items, gold_classes)
        k = ann.n_classes
        smoothing = self.smoothing

        def m_step(sums):
            # sums[w, l, k] -> confusion counts[w, k, l] with Dirichlet pseudo-counts.
            counts = sums.transpose(0, 2, 1) + smoothing
            totals = counts.sum(axis=2, keepdims=True)
            errors = np.divide(counts, totals, out=np.full_like(counts, 1.0 / k), where=totals > 0)
            return np.log(np.maximum(errors, 1e-300))

        post, priors, log_errors, loglik, n_iter = run_em(state, vote_counts(ann), m_step,
                                                          self.n_iter, self.tol)
        errors = np.exp(log_errors)
        skills = (errors[:, np.arange(k), np.arange(k)] * priors).sum(axis=1)
        return post, skills, {"priors_": priors, "errors_": errors, "loglik_": loglik, "n_iter_": n_iter}
